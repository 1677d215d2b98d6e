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
from apache_beam.io.filesystems import FileSystems  # noqa: E402
from apache_beam.options.pipeline_options import StandardOptions  # noqa: E402

from webtext.corpus_layout import DEMO_INPUTS, DROPPED_DIR, DROPPED_PREFIX, SHARD_PREFIX  # noqa: E402
from webtext.errors import UserError  # noqa: E402
from webtext.pipeline.filters.lang import parse_langs  # noqa: E402
from webtext.pipeline.io import files, object_store  # noqa: E402
from webtext.pipeline.run import config as config_io  # noqa: E402
from webtext.pipeline.run import progress  # noqa: E402
from webtext.pipeline.run.beam_options import local_workers_have_a_spare_core, pipeline_options  # noqa: E402
from webtext.pipeline.run.graph import CorpusJob, Inputs, build, run_blocks  # noqa: E402
from webtext.pipeline.run.funnel import failed_inputs, funnel, render  # noqa: E402
from webtext.pipeline.run.stages import switchable  # noqa: E402
from webtext.pipeline.sinks import manifest  # noqa: E402
from webtext.pipeline.sinks.parquet import shard_count  # noqa: E402
from webtext.pipeline.sources.crawl import CC_BASE, crawl_warcs  # noqa: E402

DEMO_OUT = "webtext-demo"


def _parser() -> argparse.ArgumentParser:
    d = config_io.default_config()  # the defaults shown in --help are the config's, never restated
    p = argparse.ArgumentParser(
        prog="build-corpus",
        description="Build a WebText-style corpus: outbound Reddit links with karma, their pages from WARCs, "
        "main text extracted, Wikipedia removed, filtered and de-duplicated, written as Parquet shards. "
        "With no --warcs/--reddit it runs on a small embedded demo. Any other --flag is passed to Apache Beam.",
        allow_abbrev=False,
    )
    src = p.add_argument_group("inputs")
    src.add_argument("--warcs", nargs="+", metavar="PATH", help="WARC files or globs (.warc.gz, .warc; local, https://, gs://, s3://)")
    src.add_argument("--reddit", nargs="+", metavar="PATH", help="Pushshift/Arctic Shift submission dumps or globs (.zst, .xz, .gz, .bz2, plain NDJSON)")
    src.add_argument("--no-links", action="store_true", help="no Reddit join: every HTML page of the WARCs (GPT-3's filtered-CC path)")
    src.add_argument("--crawl", metavar="CC-MAIN-YYYY-WW", help="read the WARCs of this Common Crawl crawl (its warc.paths.gz, from --cc-base)")
    src.add_argument("--max-warcs", type=int, metavar="N", help="with --crawl: only the first N WARC files")
    src.add_argument("--cc-index", nargs="+", metavar="PATH", help="index mode: Common Crawl index files (CDXJ, .gz, or columnar .parquet); "
                     "only the linked records are read, by byte range")
    src.add_argument("--cc-base", default=CC_BASE, metavar="URL/DIR", help=f"where crawl-data/... lives (default {CC_BASE}; "
                     "a local folder, https://, s3://commoncrawl, gs://...)")
    out = p.add_argument_group("output")
    out.add_argument("--out", metavar="DIR", help=f"corpus folder (default for the demo: ./{DEMO_OUT})")
    out.add_argument("--docs-per-shard", type=int, metavar="N", help=f"target documents per Parquet shard (default {d['write']['docs_per_shard']})")
    out.add_argument("--keep-dropped", action="store_true", help="also write dropped documents, with drop_reason, under OUT/_dropped/")
    stages = p.add_argument_group("stages (each flag writes its stage's config section; --config sets any key)")
    stages.add_argument("--min-karma", type=int, metavar="N", help=f"keep links whose submission score >= N (default {d['reddit']['min_karma']}, as WebText)")
    stages.add_argument("--keep-nsfw", action="store_true", help="also count submissions marked over_18 (GPT-2's rule, the default, drops them)")
    stages.add_argument("--exclude-subreddits", metavar="FILE", help="a file of subreddits (one a line, case-insensitive) whose submissions are not counted")
    stages.add_argument("--skip", default="", metavar="STAGES", help=f"comma-separated stages to switch off: {', '.join(switchable(d))}")
    stages.add_argument("--langs", metavar="LANGS", help=f"languages to keep, comma-separated lid.176 codes, or 'all' (default {','.join(d['lang']['langs']) or 'all'})")
    stages.add_argument("--lang-threshold", type=float, metavar="P", help=f"minimum language-ID probability (default {d['lang']['threshold']})")
    stages.add_argument("--quality-model", metavar="MODEL", help="fastText quality classifier (webtext train-quality-classifier) to score documents")
    stages.add_argument("--quality-threshold", type=float, metavar="P", help="keep documents whose quality score >= P (default: GPT-3's Pareto rule)")
    stages.add_argument("--decontaminate", nargs="+", metavar="PATH", help=f"eval sets (JSONL, Parquet or text; the file stem names the set): drop documents "
                        f"sharing a word {d['decontam']['n']}-gram with one of their passages, or cut them ([decontam] mode = \"cut\")")
    stages.add_argument("--config", metavar="TOML", help="stage settings overriding the defaults (see pipeline/run/default_config.toml)")
    p.add_argument("--verbose", "-v", action="store_true", help="log Beam's progress")
    p.add_argument("--quiet", "-q", action="store_true", help="no live progress line (for logs; without a terminal "
                   "the line is printed every 30 s instead of redrawn)")
    p.add_argument("--no-report", dest="report", action="store_false", help="do not write OUT/_report/ "
                   "(report.md, plots, dataset card; webtext report OUT writes it later)")
    return p


def _skip_names(args) -> list[str]:
    return sorted({s.strip() for s in args.skip.split(",") if s.strip()})


def _overrides(args, defaults: dict) -> dict:
    """The config sections the stage flags write (only the flags given)."""
    o: dict = {}

    def put(section: str, key: str, value):
        o.setdefault(section, {})[key] = value

    if args.min_karma is not None:
        put("reddit", "min_karma", args.min_karma)
    if args.keep_nsfw:
        put("reddit", "nsfw", "keep")
    if args.exclude_subreddits is not None:
        put("reddit", "exclude_subreddits_file", args.exclude_subreddits)
    if args.decontaminate is not None:
        put("decontam", "eval", args.decontaminate)
    if args.langs is not None:
        put("lang", "langs", parse_langs(args.langs))
        put("prelang", "langs", parse_langs(args.langs))
    if args.lang_threshold is not None:
        put("lang", "threshold", args.lang_threshold)
    if args.quality_model is not None or args.quality_threshold is not None:
        cls = o.setdefault("quality", {}).setdefault("classifier", {})
        if args.quality_model is not None:
            cls["model"] = args.quality_model
        if args.quality_threshold is not None:
            cls.update(keep_rule="threshold", threshold=args.quality_threshold)
    if args.docs_per_shard is not None:
        put("write", "docs_per_shard", args.docs_per_shard)
    if args.keep_dropped:
        put("write", "keep_dropped", True)
    known = switchable(defaults)
    for name in _skip_names(args):
        if name not in known:
            raise UserError(f"--skip: unknown stage {name!r} (choose from {', '.join(known)})")
        put(name, "enabled", False)
    return o


def _inputs_from_args(args) -> tuple[Inputs, str]:
    demo = not (args.warcs or args.reddit or args.crawl or args.cc_index)
    if demo:
        from webtext.pipeline.demo.inputs import write_demo_inputs

        out = args.out or DEMO_OUT
        warcs, dumps = write_demo_inputs(Path(out) / DEMO_INPUTS)
        return Inputs(warcs, dumps, demo=True), out
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
    remote = [*(args.warcs or []), *(args.reddit or []), *(args.cc_index or []), args.out]
    object_store.check_schemes(remote + ([args.cc_base] if args.crawl or args.cc_index else []))
    if args.crawl:
        warcs = crawl_warcs(args.crawl, args.cc_base, args.max_warcs)
    else:
        warcs = files.expand(args.warcs, "WARC") if args.warcs else []
    cc_index = files.expand(args.cc_index, "Common Crawl index") if args.cc_index else []
    dumps = [] if args.no_links else files.expand(args.reddit, "Reddit dump")
    for dump in dumps:
        files.probe_readable(dump, "Reddit dump")
    return Inputs(warcs, dumps, cc_index, args.cc_base), args.out


def _job_from_args(args) -> CorpusJob:
    defaults = config_io.default_config()
    overrides = _overrides(args, defaults)  # flag mistakes first: they need no input read
    inputs, out = _inputs_from_args(args)
    config = config_io.load_config(args.config, overrides)
    return CorpusJob(inputs=inputs, out=out.rstrip("/"), config=config)


def _prepare_out(out: str) -> None:
    try:
        if "://" not in out:
            os.makedirs(out, exist_ok=True)
            probe = os.path.join(out, f".write-test-{os.getpid()}")
            open(probe, "wb").close()
            os.remove(probe)
        # A manifest marks a complete corpus: remove the old one before anything changes underneath it,
        # and what a run of the previous folder layout left (its shards would read as corpus).
        path = manifest.manifest_path(out)
        if beam.io.filesystems.FileSystems.exists(path):
            beam.io.filesystems.FileSystems.delete([path])
        manifest.remove_legacy(out)
    except OSError as e:
        raise UserError(f"cannot write to --out {out}: {e.strerror or e}") from None


def _print_summary(job: CorpusJob, m: dict) -> None:
    print()
    print(render(funnel(m), f"funnel ({m['elapsed_s']:.1f}s)", color=sys.stdout.isatty()))
    print(f"\n{m['documents']:,} documents in {len(m['shards'])} shard(s) under {job.out}/")
    for s in m["shards"][:5]:
        print(f"  {s['path']}  {s['rows']:,} rows  {s['bytes']:,} bytes")
    if len(m["shards"]) > 5:
        print(f"  ... and {len(m['shards']) - 5} more")
    print(f"manifest: {manifest.manifest_path(job.out)}")


def main(argv: list[str] | None = None) -> int:
    args, beam_args = _parser().parse_known_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s", force=True)
    options = pipeline_options(beam_args)
    FileSystems.set_options(options)  # s3:// and gs:// inputs are listed before the pipeline exists
    job = _job_from_args(args)
    extract = job.config["extract"]
    if extract["metadata_process"] == "auto":  # settled here, where the runner is known; the manifest shows which
        extract["metadata_process"] = "own" if local_workers_have_a_spare_core(options) else "shared"
    if job.inputs.demo:
        print(f"build-corpus: no inputs given, running the embedded demo ({job.out}/{DEMO_INPUTS}/); its WARC holds "
              "one deliberately broken record, so expect one warning about it and warc.errors 1", flush=True)
    _prepare_out(job.out)

    start = time.time()
    p = beam.Pipeline(options=options)
    build(p, job)
    runner = options.view_as(StandardOptions).runner
    with progress.maybe(not args.quiet and progress.is_local(runner), len(job.inputs.warcs) if not job.inputs.cc_index else 0):
        result = p.run()
        result.wait_until_finish()
    elapsed = time.time() - start

    blocks = run_blocks(job)
    try:
        counters = manifest.read_counters(result, blocks)
    except Exception as e:  # noqa: BLE001 - a runner that cannot report metrics: say so, lose nothing else
        logging.warning("the runner reports no counters (%s: %s); the manifest says so", type(e).__name__, e)
        counters = None
    write = job.config["write"]
    folders = [(job.out, "docs.written", SHARD_PREFIX)]
    if write["keep_dropped"]:
        folders.append((f"{job.out}/{DROPPED_DIR}", "docs.dropped_written", DROPPED_PREFIX))
    for folder, written, prefix in folders:
        if counters is not None:
            manifest.remove_stale(folder, f"-of-{shard_count(counters.get(written, 0), write['docs_per_shard']):05d}.parquet", prefix)
        else:
            manifest.remove_stale_before(folder, start, prefix)
    dropped = manifest.list_shards(f"{job.out}/{DROPPED_DIR}", DROPPED_PREFIX) if write["keep_dropped"] else None
    stage_names = [b.name for b in blocks]
    m = manifest.build_manifest(
        counters=counters if counters is not None else {},
        counters_available=counters is not None,
        shards=manifest.list_shards(job.out),
        dropped=dropped,
        options={
            "stages": stage_names,
            "skip": _skip_names(args),
            "no_links": job.no_links,
            "config": job.config,
            "runner": str(options.view_as(StandardOptions).runner),
            "beam_args": beam_args,
        },
        inputs=job.inputs.as_dict(),
        elapsed_s=elapsed,
    )
    manifest.write_manifest(job.out, m)
    _print_summary(job, m)
    failed = failed_inputs(funnel(m)) if counters is not None else None
    if failed:
        print(f"build-corpus: error: {failed}", file=sys.stderr)
        return 1
    if args.report and "://" in job.out:
        # the report reads the shards with local files; copy the corpus (or mount it) and run it there
        print(f"report: not written for {job.out} (a local folder only): run 'webtext report' on a local copy")
    elif args.report:
        from webtext.pipeline.report.report import write_report

        print(f"report: {write_report(job.out, m)}")
    return 0
