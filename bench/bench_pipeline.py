"""build-corpus against raw trafilatura on the same real pages: every figure of the extraction work in one run.

    python bench/bench_pipeline.py [--copies 1 4] [--skip-scaling]

The real article pages of ../shared/data/extraction (ScrapingHub AEB, 181 pages) are written into a
WARC, each page several times under different URLs, with a Pushshift dump linking every URL. Each copy
gets an HTML comment of its own (`<!-- copy N -->`: trafilatura's output is unchanged), so no two
payloads are equal and the digest shortcut has nothing to save where the overhead is measured.

  raw trafilatura      trafilatura.extract(html, url=url, ...) in a loop (what a hand-written script does),
                       under the same [extract] settings as the pipeline (the reference of the ratios:
                       tests/test_extract.py's trafilatura_text), and with trafilatura's defaults
  build-corpus         the whole Beam pipeline (read WARC + dump, join, extract in an isolated worker,
                       write Parquet), FnApiRunner in_memory, one worker; no filter stages, then with
                       lang + quality + dedup

The pipeline runs at two corpus sizes: the difference is its cost per further document, free of the
fixed start-up cost (Beam graph, worker process, trafilatura import). Wall time and CPU time (this
process and its children: the extractor worker) are both shown; CPU time is the figure to trust on a
machine shared with other work.

Then, on the same machine in the same run:
  digest shortcut      the copies with *identical* payloads, [extract] same_payload_once on vs off
  prelang pre-filter   --no-links over every real crawl of ../shared/data/warc plus the AEB pages (8
                       languages), [prelang] on vs off: pages spared, extractor time saved, and the
                       English documents kept relative to the run without it
  parallel scaling     multi_processing with 1 and 2 workers, docs/s per further document
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq
import trafilatura
import zstandard

from webtext.corpus_layout import MANIFEST
from webtext.pipeline.extract.settings import ExtractSettings
from webtext.pipeline.run.config import load_config

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from helpers import write_warc  # a gzipped WARC of (url, html) response records, as the tests write them
from test_extract import trafilatura_text  # the configured settings spelled with trafilatura.extract calls only

DATA = Path(os.environ.get("WEBTEXT_TEST_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def load_pages(copies: int, distinct: bool) -> list[tuple[str, bytes]]:
    truth = json.loads((DATA / "extraction/scrapinghub-aeb/ground-truth.json").read_text())
    base = [(item["url"], gzip.decompress((DATA / f"extraction/scrapinghub-aeb/html/{pid}.html.gz").read_bytes())) for pid, item in sorted(truth.items())]
    return [(f"{url}{'&' if '?' in url else '?'}copy={c}", html + (f"\n<!-- copy {c} -->".encode() if distinct else b""))
            for c in range(copies) for url, html in base]


def write_inputs(pages, directory: Path) -> tuple[str, str]:
    directory.mkdir(parents=True, exist_ok=True)
    dump = directory / "RS_bench.zst"
    lines = "\n".join(json.dumps({"url": url, "score": 10, "subreddit": "bench", "is_self": False}) for url, _ in pages)
    dump.write_bytes(zstandard.ZstdCompressor().compress(lines.encode()))
    return write_warc(directory / "pages.warc.gz", pages), str(dump)


def cpu_seconds() -> float:
    """CPU time of this process and of its reaped children (the extractor workers, Beam's workers)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


SETTINGS = ExtractSettings.from_config(load_config(None)["extract"])  # what build-corpus runs with by default


def time_raw(pages, configured: bool = True) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), cpu_seconds()
    for url, html in pages:
        if configured:
            trafilatura_text(html, url, SETTINGS)
        else:
            trafilatura.extract(html, url=url)
    return time.perf_counter() - wall, cpu_seconds() - cpu


def build_corpus(args: list[str], out: Path, config: str = "") -> tuple[float, float, dict, list]:
    """One build-corpus run in a fresh process (so each run pays its own start-up, as a user's does):
    (wall s, CPU s, counters, rows' (id, language))."""
    cmd = [sys.executable, "-m", "webtext.cli", "build-corpus", *args, "--out", str(out)]
    if config:
        cfg = out.parent / f"{out.name}.toml"
        cfg.write_text(config)
        cmd += ["--config", str(cfg)]
    wall, cpu = time.perf_counter(), cpu_seconds()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
    manifest = json.loads((out / MANIFEST).read_text())
    rows = [r for s in manifest["shards"] for r in pq.read_table(out / s["path"], columns=["id", "language"]).to_pylist()]
    return wall, cpu, manifest["counters"], rows


def _ids(rows) -> list:
    return sorted((r["id"], r["language"] or "") for r in rows)


IN_MEMORY = ["--direct_running_mode=in_memory", "--direct_num_workers=1"]
NO_STAGES = ["--skip", "lang,quality,dedup"]


def marginal(tmp: Path, name: str, pages, n_small: int, extra: list[str]) -> dict:
    """Two runs, n_small and all pages: per further document (wall, CPU) and the whole large run."""
    runs = {}
    for n in (n_small, len(pages)):
        warc, dump = write_inputs(pages[:n], tmp / f"{name}-{n}")
        runs[n] = build_corpus(["--warcs", warc, "--reddit", dump, *extra], tmp / f"{name}-{n}" / "corpus")
    (w0, c0, _, _), (w1, c1, counters, rows) = runs[n_small], runs[len(pages)]
    dn = len(pages) - n_small
    return {"wall": (w1 - w0) / dn, "cpu": (c1 - c0) / dn, "whole": w1, "docs": len(rows), "counters": counters}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--copies", type=int, nargs=2, default=(1, 4), metavar=("SMALL", "LARGE"),
                    help="two corpus sizes (copies of the 181 pages); their difference gives the per-document cost")
    ap.add_argument("--skip-scaling", action="store_true", help="leave out the 1 vs 2 workers runs")
    args = ap.parse_args()
    logging.disable(logging.WARNING)
    started = time.perf_counter()
    small, large = args.copies
    pages = load_pages(large, distinct=True)
    n = len(pages)
    n_small = n * small // large
    trafilatura.extract(pages[0][1])  # imports warm for the raw loop
    raw_wall, raw_cpu = time_raw(pages)
    raw_wall, raw_cpu = raw_wall / n, raw_cpu / n
    dflt_wall, dflt_cpu = time_raw(pages, configured=False)
    dflt_wall, dflt_cpu = dflt_wall / n, dflt_cpu / n
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        none = marginal(tmp, "none", pages, n_small, [*NO_STAGES, *IN_MEMORY])
        full = marginal(tmp, "all", pages, n_small, IN_MEMORY)

        same = load_pages(large, distinct=False)  # every page `large` times, byte for byte
        warc, dump = write_inputs(same, tmp / "same")
        digest = {on: build_corpus(["--warcs", warc, "--reddit", dump, *NO_STAGES, *IN_MEMORY], tmp / "same" / f"corpus-{on}",
                                   f"[extract]\nsame_payload_once = {str(on).lower()}\n") for on in (True, False)}

        crawls = [str(p) for p in sorted(DATA.glob("warc/**/*.warc*"))] + [write_warc(tmp / "aeb.warc.gz", load_pages(1, False))]
        pre = {on: build_corpus(["--warcs", *crawls, "--no-links", *IN_MEMORY], tmp / f"pre-{on}",
                                f"[prelang]\nenabled = {str(on).lower()}\n[quality]\nenabled = false\n[dedup]\nenabled = false\n")
               for on in (False, True)}

        scaling = {} if args.skip_scaling else {
            w: marginal(tmp, f"w{w}", pages, n_small, [*NO_STAGES, "--direct_running_mode=multi_processing", f"--direct_num_workers={w}"])
            for w in (1, 2)}

    print(f"\nreal pages: the {n // large} AEB articles x {large} under different URLs (x {small} for the small run); "
          f"raw loop and in-memory pipeline on one worker")
    print(f"{'':<44} {'ms/doc':>8} {'docs/s':>8} {'vs raw':>8} {'CPU ms/doc':>11} {'CPU vs raw':>11}")

    def row(name, wall, cpu=None):
        cpu_part = f" {cpu * 1000:>11.2f} {cpu / raw_cpu:>10.3f}x" if cpu is not None else ""
        print(f"{name:<44} {wall * 1000:>8.2f} {1 / wall:>8.1f} {wall / raw_wall:>7.3f}x{cpu_part}")

    row("raw trafilatura.extract, configured settings", raw_wall, raw_cpu)
    row("raw trafilatura.extract, its defaults", dflt_wall, dflt_cpu)
    row("build-corpus, no filters, per further doc", none["wall"], none["cpu"])
    row("build-corpus, lang+quality+dedup, per further", full["wall"], full["cpu"])
    row(f"build-corpus, no filters, whole run ({n})", none["whole"] / n)
    row(f"build-corpus, lang+quality+dedup, whole ({n})", full["whole"] / n)
    print(f"overhead per further document over raw trafilatura.extract: no filters {none['wall'] / raw_wall - 1:+.1%} "
          f"(CPU {none['cpu'] / raw_cpu - 1:+.1%}), lang+quality+dedup {full['wall'] / raw_wall - 1:+.1%} "
          f"(CPU {full['cpu'] / raw_cpu - 1:+.1%}); whole {n}-page run, start-up included: {none['whole'] / (raw_wall * n):.2f}x")
    c = none["counters"]
    print(f"documents written (no filters): {none['docs']} of {n} (extract.empty {c.get('extract.empty', 0)}, "
          f"extract.errors {c.get('extract.errors', 0)}); time inside the extractor: {c.get('extract.ms', 0) / 1000:.1f}s "
          f"of {none['whole']:.1f}s (raw loop: {raw_wall * n:.1f}s)")

    (w_on, _, c_on, rows_on), (w_off, _, c_off, rows_off) = digest[True], digest[False]
    print(f"\ndigest shortcut, {len(same)} pages = {n // large} payloads x {large}: extractions {c_on['extract.pages'] - c_on.get('extract.same_payload', 0)} "
          f"vs {c_off['extract.pages']}; extractor time {c_on.get('extract.ms', 0) / 1000:.1f}s vs {c_off.get('extract.ms', 0) / 1000:.1f}s; "
          f"whole run {w_on:.1f}s vs {w_off:.1f}s = {w_on / w_off:.2f}x; same documents: {_ids(rows_on) == _ids(rows_off)}")

    (w_off, _, c_off, rows_off), (w_on, _, c_on, rows_on) = pre[False], pre[True]
    en_off = {r["id"] for r in rows_off if r["language"] == "en"}
    en_on = {r["id"] for r in rows_on if r["language"] == "en"}
    skipped = c_on.get("prelang.dropped.other_language", 0)
    pages_in = c_off["extract.pages"]
    print(f"prelang pre-filter, --no-links over {len(crawls) - 1} real crawls + the AEB pages ({pages_in} pages): "
          f"{skipped} pages not extracted ({skipped / pages_in:.1%}); extractor time {c_on.get('extract.ms', 0) / 1000:.1f}s vs "
          f"{c_off.get('extract.ms', 0) / 1000:.1f}s ({1 - c_on.get('extract.ms', 0) / max(c_off.get('extract.ms', 1), 1):.1%} saved); "
          f"whole run {w_on:.1f}s vs {w_off:.1f}s; English documents kept {len(en_on & en_off)} of {len(en_off)} "
          f"({len(en_on & en_off) / max(len(en_off), 1):.2%})")

    if scaling:
        one, two = scaling[1], scaling[2]
        print(f"parallel scaling (multi_processing, no filters, per further doc): 1 worker {1 / one['wall']:.1f} docs/s, "
              f"2 workers {1 / two['wall']:.1f} docs/s = {one['wall'] / two['wall']:.2f}x; whole {n}-page runs "
              f"{one['whole']:.1f}s vs {two['whole']:.1f}s = {one['whole'] / two['whole']:.2f}x")
    print(f"\nbench took {time.perf_counter() - started:.0f}s; load average now {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
