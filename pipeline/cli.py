"""build-corpus: Reddit links x Common Crawl WARCs -> WebText-style Parquet shards, on Apache Beam.

    build-corpus                                         # the embedded demo, into ./webtext-demo
    build-corpus --warcs 'crawl/*.warc.gz' --reddit 'RS_*.zst' --out corpus/
    build-corpus ... --direct_running_mode=multi_processing --direct_num_workers=8
    build-corpus --cc-index 'cdx-*.gz' --cc-base https://data.commoncrawl.org --reddit 'RS_*.zst' --out corpus/
    build-corpus --crawl CC-MAIN-2024-22 --max-warcs 10 --reddit 'RS_*.zst' --out corpus/
    build-corpus ... --runner DataflowRunner --project P --region R --temp_location gs://...
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

# Beam's GCP module warns at import that an optional client library is missing; it is not needed here.
logging.getLogger().addFilter(lambda record: not str(record.msg).startswith("apitools not found"))

import apache_beam as beam  # noqa: E402
from apache_beam.options.pipeline_options import StandardOptions  # noqa: E402

from webtext.errors import UserError  # noqa: E402
from webtext.pipeline import inputs, manifest  # noqa: E402
from webtext.pipeline.beam_options import pipeline_options  # noqa: E402
from webtext.pipeline.config import load_config  # noqa: E402
from webtext.pipeline.lang import parse_langs  # noqa: E402
from webtext.pipeline.pipeline import STAGES, CorpusJob, build  # noqa: E402
from webtext.pipeline.writer import shard_count  # noqa: E402

DEMO_OUT = "webtext-demo"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="build-corpus",
        description="Build a WebText-style corpus: outbound Reddit links with karma, their pages from WARCs, "
        "main text extracted, Wikipedia removed, filtered and de-duplicated, written as Parquet shards. "
        "With no --warcs/--reddit it runs on a small embedded demo. Any other --flag is passed to Apache Beam.",
        allow_abbrev=False,
    )
    src = p.add_argument_group("inputs")
    src.add_argument("--warcs", nargs="+", metavar="PATH", help="WARC files or globs (.warc.gz, .warc; local, gs://, s3://)")
    src.add_argument("--reddit", nargs="+", metavar="PATH", help="Pushshift/Arctic Shift submission dumps or globs (.zst, .xz, .gz, .bz2, plain NDJSON)")
    src.add_argument("--no-links", action="store_true", help="no Reddit join: every HTML page of the WARCs (GPT-3's filtered-CC path)")
    src.add_argument("--crawl", metavar="CC-MAIN-YYYY-WW", help="read the WARCs of this Common Crawl crawl (its warc.paths.gz, from --cc-base)")
    src.add_argument("--max-warcs", type=int, metavar="N", help="with --crawl: only the first N WARC files")
    src.add_argument("--cc-index", nargs="+", metavar="PATH", help="index mode: Common Crawl index files (CDXJ, .gz, or columnar .parquet); "
                     "only the linked records are read, by byte range")
    src.add_argument("--cc-base", default=inputs.CC_BASE, metavar="URL/DIR", help=f"where crawl-data/... lives (default {inputs.CC_BASE}; "
                     "a local folder, https://, s3://commoncrawl, gs://...)")
    out = p.add_argument_group("output")
    out.add_argument("--out", metavar="DIR", help=f"corpus folder (default for the demo: ./{DEMO_OUT})")
    out.add_argument("--docs-per-shard", type=int, default=50_000, metavar="N", help="target documents per Parquet shard (default 50000)")
    out.add_argument("--keep-dropped", action="store_true", help="also write dropped documents, with drop_reason, under OUT/dropped/")
    stages = p.add_argument_group("stages")
    stages.add_argument("--min-karma", type=int, default=3, metavar="N", help="keep links whose submission score >= N (default 3, as WebText)")
    stages.add_argument("--skip", default="", metavar="STAGES", help=f"comma-separated stages to switch off: {', '.join(STAGES)}")
    stages.add_argument("--langs", default="en", metavar="LANGS", help="languages to keep, comma-separated lid.176 codes, or 'all' (default en)")
    stages.add_argument("--lang-threshold", type=float, default=0.65, metavar="P", help="minimum language-ID probability (default 0.65)")
    stages.add_argument("--quality-model", metavar="MODEL", help="fastText quality classifier (webtext train-quality-classifier) to score documents")
    stages.add_argument("--quality-threshold", type=float, metavar="P", help="keep documents whose quality score >= P (default: GPT-3's Pareto rule)")
    stages.add_argument("--config", metavar="TOML", help="stage thresholds overriding the defaults (see pipeline/default_config.toml)")
    p.add_argument("--verbose", "-v", action="store_true", help="log Beam's progress")
    return p


def _parse_skip(value: str) -> frozenset:
    names = frozenset(s.strip() for s in value.split(",") if s.strip())
    unknown = sorted(names - set(STAGES))
    if unknown:
        raise UserError(f"--skip: unknown stage {unknown[0]!r} (choose from {', '.join(STAGES)})")
    return names


def _job_from_args(args) -> tuple[CorpusJob, dict]:
    demo = not (args.warcs or args.reddit or args.crawl or args.cc_index)
    if demo:
        from webtext.pipeline.demo import write_demo_inputs

        out = args.out or DEMO_OUT
        warcs, dumps = write_demo_inputs(Path(out) / "demo-inputs")
        cc_index = []
    else:
        if not args.out:
            raise UserError("--out DIR is required")
        if sum(map(bool, (args.warcs, args.crawl, args.cc_index))) != 1:
            raise UserError("give exactly one source of pages: --warcs, --crawl or --cc-index")
        if not args.reddit and not args.no_links:
            raise UserError("--reddit is required (or --no-links to keep every page of the WARCs)")
        if args.cc_index and args.no_links:
            raise UserError("--cc-index reads the records Reddit links to; it needs --reddit, not --no-links")
        if args.max_warcs is not None and (not args.crawl or args.max_warcs < 1):
            raise UserError("--max-warcs N (N >= 1) goes with --crawl")
        out = args.out
        if args.crawl:
            warcs = inputs.crawl_warcs(args.crawl, args.cc_base, args.max_warcs)
        else:
            warcs = inputs.expand(args.warcs, "WARC") if args.warcs else []
        cc_index = inputs.expand(args.cc_index, "Common Crawl index") if args.cc_index else []
        dumps = [] if args.no_links else inputs.expand(args.reddit, "Reddit dump")
        for dump in dumps:
            inputs.probe_readable(dump, "Reddit dump")
    for name, value in (("--min-karma", args.min_karma), ("--docs-per-shard", args.docs_per_shard)):
        if value < (1 if name == "--docs-per-shard" else 0):
            raise UserError(f"{name} must be positive, got {value}")
    if not 0.0 <= args.lang_threshold <= 1.0:
        raise UserError(f"--lang-threshold must lie in [0, 1], got {args.lang_threshold}")
    if args.quality_threshold is not None and not 0.0 <= args.quality_threshold <= 1.0:
        raise UserError(f"--quality-threshold must lie in [0, 1], got {args.quality_threshold}")
    if args.quality_model and not Path(args.quality_model).is_file():
        raise UserError(f"quality model not found: {args.quality_model}")
    job = CorpusJob(
        warcs=warcs,
        reddit=dumps,
        cc_index=cc_index,
        cc_base=args.cc_base,
        out=out.rstrip("/"),
        config=load_config(args.config),
        min_karma=args.min_karma,
        no_links=args.no_links,
        skip=_parse_skip(args.skip),
        langs=parse_langs(args.langs),
        lang_threshold=args.lang_threshold,
        quality_model=args.quality_model,
        quality_threshold=args.quality_threshold,
        keep_dropped=args.keep_dropped,
        docs_per_shard=args.docs_per_shard,
    )
    return job, {"demo": demo}


def _prepare_out(out: str) -> None:
    try:
        if "://" not in out:
            os.makedirs(out, exist_ok=True)
            probe = os.path.join(out, f".write-test-{os.getpid()}")
            open(probe, "wb").close()
            os.remove(probe)
        # A manifest marks a complete corpus: remove the old one before anything changes underneath it.
        path = f"{out}/manifest.json"
        if beam.io.filesystems.FileSystems.exists(path):
            beam.io.filesystems.FileSystems.delete([path])
    except OSError as e:
        raise UserError(f"cannot write to --out {out}: {e.strerror or e}") from None


def _print_summary(job: CorpusJob, m: dict) -> None:
    c = m["counters"]
    width = max(map(len, c)) if c else 10
    print(f"\nfunnel ({m['elapsed_s']:.1f}s):")
    for name, value in c.items():
        print(f"  {name:<{width}}  {value:>12,}")
    print(f"\n{m['documents']:,} documents in {len(m['shards'])} shard(s) under {job.out}/")
    for s in m["shards"][:5]:
        print(f"  {s['path']}  {s['rows']:,} rows  {s['bytes']:,} bytes")
    if len(m["shards"]) > 5:
        print(f"  ... and {len(m['shards']) - 5} more")
    print(f"manifest: {job.out}/manifest.json")


def main(argv: list[str] | None = None) -> int:
    args, beam_args = _parser().parse_known_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s", force=True)
    options = pipeline_options(beam_args)
    job, extra = _job_from_args(args)
    if extra["demo"]:
        print(f"build-corpus: no inputs given, running the embedded demo ({job.out}/demo-inputs/)")
    _prepare_out(job.out)

    start = time.time()
    p = beam.Pipeline(options=options)
    build(p, job)
    result = p.run()
    result.wait_until_finish()
    elapsed = time.time() - start

    stages = {"links"} if not job.no_links else set()
    stages |= set(STAGES) - job.skip
    counters = manifest.read_counters(result, stages)
    n_shards = shard_count(counters.get("docs.written", 0), job.docs_per_shard)
    manifest.remove_stale(job.out, f"-of-{n_shards:05d}.parquet" if counters.get("docs.written") else None)
    dropped = None
    if job.keep_dropped:
        n_dropped = shard_count(counters.get("docs.dropped_written", 0), job.docs_per_shard)
        manifest.remove_stale(f"{job.out}/dropped", f"-of-{n_dropped:05d}.parquet" if counters.get("docs.dropped_written") else None)
        dropped = manifest.list_shards(f"{job.out}/dropped")
    m = manifest.build_manifest(
        counters=counters,
        shards=manifest.list_shards(job.out),
        dropped=dropped,
        options={
            "min_karma": job.min_karma,
            "no_links": job.no_links,
            "skip": sorted(job.skip),
            "langs": job.langs or "all",
            "lang_threshold": job.lang_threshold,
            "quality_model": job.quality_model,
            "quality_threshold": job.quality_threshold,
            "keep_dropped": job.keep_dropped,
            "docs_per_shard": job.docs_per_shard,
            "config": job.config,
            "runner": str(options.view_as(StandardOptions).runner),
            "beam_args": beam_args,
        },
        inputs={"warcs": job.warcs, "reddit": job.reddit, "cc_index": job.cc_index, "cc_base": job.cc_base if job.cc_index else None,
                "demo": extra["demo"]},
        elapsed_s=elapsed,
    )
    manifest.write_json_atomic(f"{job.out}/manifest.json", m)
    _print_summary(job, m)
    return 0
