"""build-corpus end to end vs raw trafilatura on the same real pages, one core each.

    python bench/bench_pipeline.py [--copies 1 4] [--stages none|all]

The real article pages of ../shared/data/extraction (ScrapingHub AEB, 181 pages) are written into a
WARC (each page several times under different URLs, so there is enough work to time) with a
Pushshift dump linking every URL. Then, in one run:

  raw trafilatura      trafilatura.extract(html) in a loop (what a hand-written script does)
  raw + metadata       trafilatura.bare_extraction(html, with_metadata=True): text, title and date,
                       the same work the extract stage does
  build-corpus         the whole Beam pipeline (read WARC + dump, join, extract in an isolated worker,
                       write Parquet), FnApiRunner in_memory, one worker

The pipeline runs at two corpus sizes: the difference is its cost per further document, free of
the fixed start-up cost (Beam graph, worker process, trafilatura import) that a real run amortises
over millions of pages. Its overhead is that per-document cost over the raw loop's, as a ratio.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import io
import json
import logging
import os
import tempfile
import time
from pathlib import Path

import trafilatura
import zstandard
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from webtext.cli import main as webtext_main
from webtext.corpus_layout import MANIFEST

DATA = Path(os.environ.get("WEBTEXT_TEST_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def load_pages(copies: int) -> list[tuple[str, bytes]]:
    truth = json.loads((DATA / "extraction/scrapinghub-aeb/ground-truth.json").read_text())
    base = [(item["url"], gzip.decompress((DATA / f"extraction/scrapinghub-aeb/html/{pid}.html.gz").read_bytes())) for pid, item in sorted(truth.items())]
    return [(f"{url}{'&' if '?' in url else '?'}copy={c}", html) for c in range(copies) for url, html in base]


def write_inputs(pages, directory: Path) -> tuple[str, str]:
    warc = directory / "pages.warc.gz"
    with open(warc, "wb") as f:
        writer = WARCWriter(f, gzip=True)
        for url, html in pages:
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/html"), ("Content-Length", str(len(html)))], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(html), http_headers=http))
    dump = directory / "RS_bench.zst"
    lines = "\n".join(json.dumps({"url": url, "score": 10, "subreddit": "bench", "is_self": False}) for url, _ in pages)
    dump.write_bytes(zstandard.ZstdCompressor().compress(lines.encode()))
    return str(warc), str(dump)


def time_raw(pages, fn) -> float:
    start = time.perf_counter()
    for url, html in pages:
        fn(html, url)
    return time.perf_counter() - start


def time_pipeline(warc, dump, out, stages: str) -> tuple[float, dict]:
    skip = [] if stages == "all" else ["--skip", "lang,quality,dedup"]
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):  # the funnel it prints; we read the manifest
        rc = webtext_main(["build-corpus", "--warcs", warc, "--reddit", dump, "--out", out, *skip,
                           "--direct_running_mode=in_memory", "--direct_num_workers=1"])
    elapsed = time.perf_counter() - start
    assert rc == 0
    return elapsed, json.loads(Path(out, MANIFEST).read_text())["counters"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--copies", type=int, nargs=2, default=(1, 4), metavar=("SMALL", "LARGE"),
                    help="two corpus sizes (copies of the 181 pages); their difference gives the per-document cost")
    ap.add_argument("--stages", choices=("none", "all"), default="none", help="run lang/quality/dedup too (default: none)")
    args = ap.parse_args()
    logging.disable(logging.WARNING)
    small, large = args.copies
    pages = load_pages(large)
    n_small, n_large = len(pages) * small // large, len(pages)
    trafilatura.extract(pages[0][1])  # warm imports for the raw loops
    raw = time_raw(pages, lambda h, u: trafilatura.extract(h, url=u))
    meta = time_raw(pages, lambda h, u: trafilatura.bare_extraction(h, url=u, with_metadata=True))
    with tempfile.TemporaryDirectory() as tmp:
        runs = {}
        for n in (n_small, n_large):
            d = Path(tmp, str(n))
            d.mkdir()
            warc, dump = write_inputs(pages[:n], d)
            runs[n] = time_pipeline(warc, dump, str(d / "corpus"), args.stages)
    (t_small, _), (t_large, counters) = runs[n_small], runs[n_large]
    marginal = (t_large - t_small) / (n_large - n_small)  # seconds per further document: start-up cancels out
    per_raw, per_meta = raw / n_large, meta / n_large
    print(f"\nreal pages: the {n_large // large} AEB articles x {large} under different URLs; one core; stages: {args.stages}")
    print(f"{'':<30} {'ms/doc':>8} {'docs/s':>8} {'vs raw':>8}")
    for name, per in (("raw trafilatura.extract", per_raw), ("raw bare_extraction+metadata", per_meta),
                      (f"build-corpus, whole run ({n_large})", t_large / n_large), ("build-corpus, per further doc", marginal)):
        print(f"{name:<30} {per * 1000:>8.2f} {1 / per:>8.1f} {per / per_raw:>7.2f}x")
    print(f"\npipeline overhead per document over raw trafilatura: {marginal / per_raw - 1:+.1%} "
          f"(over raw + metadata: {marginal / per_meta - 1:+.1%}); start-up and shuffle fixed cost: "
          f"{t_large - marginal * n_large:.1f}s per run")
    print(f"documents written: {counters['docs.written']} of {n_large} (extract.empty {counters.get('extract.empty', 0)}, "
          f"extract.errors {counters.get('extract.errors', 0)}); time inside the extractor: {counters.get('extract.ms', 0) / 1000:.1f}s "
          f"of {t_large:.1f}s")


if __name__ == "__main__":
    main()
