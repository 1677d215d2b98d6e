"""build-corpus against raw trafilatura on the same real pages: every figure of the extraction work in one run.

    python bench/bench_pipeline.py [--copies 1 4] [--runs 3] [--skip-scaling] [--scaling-copies 8]

The real article pages of ../shared/data/extraction (ScrapingHub AEB, 181 pages) are written into a
WARC, each page several times under different URLs, with a Pushshift dump linking every URL. Each copy
gets an HTML comment of its own (`<!-- copy N -->`: trafilatura's output is unchanged), so no two
payloads are equal and the digest shortcut has nothing to save where the overhead is measured.

  raw trafilatura      trafilatura.extract(html, url=url, ...) in a loop (what a hand-written script does),
                       under the same [extract] settings as the pipeline (the reference of the ratios:
                       tests/test_extract.py's trafilatura_text), and with trafilatura's defaults
  build-corpus         the whole Beam pipeline (read WARC + dump, join, extract in isolated worker
                       processes, write Parquet, the report), FnApiRunner in_memory, one worker; no
                       filter stages with title and date in their own process ([extract]
                       metadata_process = "own": what "auto" picks there on two cores or more) and in
                       the text's process ("shared"), then with lang + quality + dedup

Each round runs the raw loop and then every pipeline arm, so every ratio compares figures taken
minutes apart; `--runs` rounds (default 3) give the min-max printed.

The pipeline runs at two corpus sizes: the difference is its cost per further document, free of the
fixed start-up cost (Beam graph, worker process, trafilatura import). Wall time and CPU time (this
process and its children: the extractor worker) are both shown; CPU time is the figure to trust on a
machine shared with other work.

Then, on the same machine in the same run:
  digest shortcut      the copies with *identical* payloads, [extract] same_payload_once on vs off
  prelang pre-filter   --no-links over every real crawl of ../shared/data/warc plus the AEB pages (8
                       languages), [prelang] on vs off: pages spared, extractor time saved, and the
                       English documents kept relative to the run without it
  parallel scaling     multi_processing with 1 and 2 workers, docs/s per further document (in each round)
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

from webtext.corpus_layout import MANIFEST
from webtext.pipeline.extract.settings import ExtractSettings
from webtext.pipeline.run.config import load_config

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from helpers import write_dump, write_warc  # a WARC of (url, html) responses and a dump linking them, as the tests write them
from test_extract import trafilatura_text  # the configured settings spelled with trafilatura.extract calls only

DATA = Path(os.environ.get("WEBTEXT_TEST_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def load_pages(copies: int, distinct: bool) -> list[tuple[str, bytes]]:
    truth = json.loads((DATA / "extraction/scrapinghub-aeb/ground-truth.json").read_text())
    base = [(item["url"], gzip.decompress((DATA / f"extraction/scrapinghub-aeb/html/{pid}.html.gz").read_bytes())) for pid, item in sorted(truth.items())]
    return [(f"{url}{'&' if '?' in url else '?'}copy={c}", html + (f"\n<!-- copy {c} -->".encode() if distinct else b""))
            for c in range(copies) for url, html in base]


def write_inputs(pages, directory: Path) -> tuple[str, str]:
    directory.mkdir(parents=True, exist_ok=True)
    return write_warc(directory / "pages.warc.gz", pages), write_dump(directory / "RS_bench.zst", [url for url, _ in pages])


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
OWN, SHARED = '[extract]\nmetadata_process = "own"\n', '[extract]\nmetadata_process = "shared"\n'


def marginal(tmp: Path, name: str, pages, n_small: int, extra: list[str], config: str = "") -> dict:
    """Two runs, n_small and all pages: per further document (wall, CPU) and the whole large run."""
    runs = {}
    for n in (n_small, len(pages)):
        warc, dump = write_inputs(pages[:n], tmp / f"{name}-{n}")
        runs[n] = build_corpus(["--warcs", warc, "--reddit", dump, *extra], tmp / f"{name}-{n}" / "corpus", config)
    (w0, c0, _, _), (w1, c1, counters, rows) = runs[n_small], runs[len(pages)]
    dn = len(pages) - n_small
    return {"wall": (w1 - w0) / dn, "cpu": (c1 - c0) / dn, "whole": w1, "docs": len(rows), "counters": counters}


def spread(values, scale: float = 1.0, fmt: str = "{:.2f}") -> str:
    """min-max of the runs (one value: itself)."""
    lo, hi = min(values) * scale, max(values) * scale
    return fmt.format(lo) if len(values) == 1 else f"{fmt.format(lo)}-{fmt.format(hi)}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--copies", type=int, nargs=2, default=(1, 4), metavar=("SMALL", "LARGE"),
                    help="two corpus sizes (copies of the 181 pages); their difference gives the per-document cost")
    ap.add_argument("--runs", type=int, default=3, help="rounds of the raw loop and the pipeline runs, interleaved; figures are their min-max")
    ap.add_argument("--skip-scaling", action="store_true", help="leave out the 1 vs 2 workers runs")
    ap.add_argument("--scaling-copies", type=int, default=8,
                    help="copies of the 181 pages in the large run of the 1 vs 2 workers arms (the small run: SMALL copies); "
                         "more than LARGE, since 2 workers finish the same pages in half the time and the difference gets noisy")
    args = ap.parse_args()
    logging.disable(logging.WARNING)
    started = time.perf_counter()
    small, large = args.copies
    pages = load_pages(large, distinct=True)
    n = len(pages)
    n_small = n * small // large
    trafilatura.extract(pages[0][1])  # imports warm for the raw loop
    arms = {  # name: (build-corpus flags, config): each arm runs once a round, right after the raw loop
        "own": ([*NO_STAGES, *IN_MEMORY], OWN),
        "shared": ([*NO_STAGES, *IN_MEMORY], SHARED),
        "full": (IN_MEMORY, ""),  # lang + quality + dedup, metadata_process as build-corpus settles "auto"
    }
    scaling_pages = [] if args.skip_scaling else load_pages(args.scaling_copies, distinct=True)
    if not args.skip_scaling:
        # metadata shared in both (what "auto" picks for 2 workers on 2 cores): Beam's scaling at equal work per document
        arms.update({f"w{w}": ([*NO_STAGES, "--direct_running_mode=multi_processing", f"--direct_num_workers={w}"], SHARED) for w in (1, 2)})
    raw, got = [], {name: [] for name in arms}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for _ in range(args.runs):
            wall, cpu = time_raw(pages)
            raw.append({"wall": wall / n, "cpu": cpu / n})
            for name, (flags, config) in arms.items():
                arm_pages = scaling_pages if name.startswith("w") else pages
                got[name].append(marginal(tmp, name, arm_pages, n_small, flags, config))
        dflt_wall, dflt_cpu = time_raw(pages, configured=False)

        same = load_pages(large, distinct=False)  # every page `large` times, byte for byte
        warc, dump = write_inputs(same, tmp / "same")
        digest = {on: build_corpus(["--warcs", warc, "--reddit", dump, *NO_STAGES, *IN_MEMORY], tmp / "same" / f"corpus-{on}",
                                   f"[extract]\nsame_payload_once = {str(on).lower()}\n") for on in (True, False)}

        crawls = [str(p) for p in sorted(DATA.glob("warc/**/*.warc*"))] + [write_warc(tmp / "aeb.warc.gz", load_pages(1, False))]
        pre = {on: build_corpus(["--warcs", *crawls, "--no-links", *IN_MEMORY], tmp / f"pre-{on}",
                                f"[prelang]\nenabled = {str(on).lower()}\n[quality]\nenabled = false\n[dedup]\nenabled = false\n")
               for on in (False, True)}

    print(f"\nreal pages: the {n // large} AEB articles x {large} under different URLs (x {small} for the small run); "
          f"raw loop and in-memory pipeline on one worker; {args.runs} rounds, min-max")
    print(f"{'':<62} {'ms/doc':>13} {'vs raw':>13} {'CPU ms/doc':>13} {'CPU vs raw':>13}")
    raw_wall, raw_cpu = [r["wall"] for r in raw], [r["cpu"] for r in raw]

    def row(name, walls, cpus=None):
        """A figure of each round against the raw loop of the same round."""
        ratio = spread([w / r for w, r in zip(walls, raw_wall)], fmt="{:.3f}x")
        cpu_part = f" {spread(cpus, 1000):>13} {spread([c / r for c, r in zip(cpus, raw_cpu)], fmt='{:.3f}x'):>13}" if cpus else ""
        print(f"{name:<62} {spread(walls, 1000):>13} {ratio:>13}{cpu_part}")

    row("raw trafilatura.extract, configured settings", raw_wall, raw_cpu)
    print(f"{'raw trafilatura.extract, its defaults (one round)':<62} {dflt_wall / n * 1000:>13.2f} {dflt_wall / n / raw_wall[-1]:>12.3f}x")
    labels = {"own": "no filters, metadata own process", "shared": "no filters, metadata shared",
              "full": "lang+quality+dedup, metadata auto"}
    for name, label in labels.items():
        row(f"build-corpus per further doc, {label}", [g["wall"] for g in got[name]], [g["cpu"] for g in got[name]])
    for name, label in labels.items():
        row(f"build-corpus whole {n}-page run, {label}", [g["whole"] / n for g in got[name]])
    c = got["own"][-1]["counters"]
    print(f"documents written (no filters): {got['own'][-1]['docs']} of {n} (extract.empty {c.get('extract.empty', 0)}, "
          f"extract.errors {c.get('extract.errors', 0)}); time inside the extractor processes (text + metadata): "
          f"{c.get('extract.ms', 0) / 1000:.1f}s of {got['own'][-1]['whole']:.1f}s (raw loop: {raw_wall[-1] * n:.1f}s)")

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

    if not args.skip_scaling:
        one, two = got["w1"], got["w2"]
        print(f"parallel scaling (multi_processing, no filters, metadata shared in both), per further doc: "
              f"1 worker {spread([1 / g['wall'] for g in one], fmt='{:.1f}')} docs/s, 2 workers {spread([1 / g['wall'] for g in two], fmt='{:.1f}')} "
              f"docs/s = {spread([a['wall'] / b['wall'] for a, b in zip(one, two)], fmt='{:.2f}x')} (round by round, "
              f"{len(scaling_pages)} vs {n_small} pages); whole {len(scaling_pages)}-page runs "
              f"{spread([a['whole'] / b['whole'] for a, b in zip(one, two)], fmt='{:.2f}x')}")
    print(f"\nbench took {time.perf_counter() - started:.0f}s; load average now {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
