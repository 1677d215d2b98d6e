"""The costed plan for a full run (docs/scale.md), from per-core rates measured here and now.

    python bench/bench_scale.py [--links 100e6] [--coverage 0.15] [--crawl-tib 90] [--crawl-pages 2.7e9]

Measures, on this machine's real test data, one core each:
  scan     the WARC stage reading real WARC records (MB/s of compressed WARC)
  index    CDXJ index lines parsed and canonicalised (lines/s), pywb's real index of iana.warc.gz
  extract  trafilatura extraction + lang + quality + dedup per document (docs/s), the AEB pages
then prints records, bytes read, worker-hours and dollars for one crawl in index mode vs full scan
on Dataflow, and the GPT-2 124M training that the result feeds (webtext estimate's arithmetic).
The crawl size and the Reddit link count are inputs (flags), not measurements: see docs/scale.md.
"""

from __future__ import annotations

import argparse
import glob
import gzip
import json
import logging
import os
import tempfile
import time
from pathlib import Path

DATA = Path(os.environ.get("WEBTEXT_TEST_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))

# Dataflow batch prices, us-central1 (USD per hour and per GB shuffled).
VCPU_HOUR, GB_HOUR, PD_GB_HOUR = 0.056, 0.003557, 0.000054
N2_STANDARD_4 = 4 * VCPU_HOUR + 16 * GB_HOUR + 50 * PD_GB_HOUR  # 4 vCPU, 16 GB, 50 GB disk
SHUFFLE_PER_GB = 0.011
INDEX_TIB = 0.25  # CDXJ index of one crawl, gzip (~300 cdx-*.gz files)
RECORD_KB = 30.0  # mean compressed size of one CC response record (~90 TiB / ~3 billion records)


def rate_scan() -> float:
    """MB/s of compressed WARC through the WARC stage, one core, on the real files concatenated."""
    from webtext.pipeline.sources.warc_reader import warc_pages

    files = [f for f in sorted(glob.glob(str(DATA / "warc/**/*.warc.gz"), recursive=True)) if "clipped" not in f]
    with tempfile.TemporaryDirectory() as tmp:
        big = os.path.join(tmp, "all.warc.gz")
        with open(big, "wb") as out:
            for _ in range(20):
                for f in files:
                    out.write(Path(f).read_bytes())
        size = os.path.getsize(big)
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            for _ in warc_pages(big):
                pass
            best = min(best, time.perf_counter() - start)
    return size / best / 1e6


def rate_index() -> float:
    """CDXJ lines/s, one core: parse, keep HTML 200, canonicalise the URL (what the index stage does)."""
    from webtext.pipeline.sources.ccindex import parse_cdxj_line
    from webtext.pipeline.sources.urls import canonical_url

    lines = (DATA / "warc/pywb/iana.cdxj").read_bytes().splitlines() * 200
    start = time.perf_counter()
    for line in lines:
        c = parse_cdxj_line(line)
        if c is not None:
            canonical_url(c.url)
    return len(lines) / (time.perf_counter() - start)


def rate_docs() -> float:
    """Documents/s, one core: extraction + lang + quality rules + dedup signatures on the real pages."""
    from webtext.pipeline.run.config import load_config
    from webtext.pipeline.extract.worker import extract_page
    from webtext.pipeline.filters.lang import LanguageIdentifier
    from webtext.pipeline.dedup.minhash import Sketcher
    from webtext.pipeline.filters.quality.rules import apply_rules

    truth = json.loads((DATA / "extraction/scrapinghub-aeb/ground-truth.json").read_text())
    htmls = [gzip.decompress((DATA / f"extraction/scrapinghub-aeb/html/{pid}.html.gz").read_bytes()) for pid in sorted(truth)]
    quality_cfg = load_config()["quality"]
    lid = LanguageIdentifier()
    dedup_cfg = load_config()["dedup"]
    sketcher = Sketcher(num_perm=dedup_cfg["num_perm"], ngram=dedup_cfg["ngram"], seed=dedup_cfg["seed"])
    start = time.perf_counter()
    texts = [r["text"] for r in (extract_page(h) for h in htmls) if r]
    lid.predict_batch(texts)
    for t in texts:
        apply_rules(t, quality_cfg)
    sketcher.signatures(texts)
    return len(htmls) / (time.perf_counter() - start)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--links", type=float, default=100e6, help="distinct Reddit URLs with score >= 3, 2005 to now (reddit.urls)")
    ap.add_argument("--coverage", type=float, default=0.15, help="fraction of those URLs with an HTML 200 capture in the crawl")
    ap.add_argument("--crawl-tib", type=float, default=90.0, help="compressed WARC size of the crawl (TiB)")
    ap.add_argument("--crawl-pages", type=float, default=2.7e9, help="HTML pages (index entries) in the crawl")
    ap.add_argument("--tokens-per-doc", type=float, default=1100.0, help="GPT-2 tokens per kept document")
    ap.add_argument("--kept", type=float, default=0.6, help="fraction of fetched pages kept after lang/quality/dedup")
    ap.add_argument("--egress-per-gb", type=float, default=0.0,
                    help="USD per GB read (0: Common Crawl's open-data hosting does not bill readers; 0.09 for a copy you pay egress on)")
    ap.add_argument("--gbps", type=float, default=10.0, help="sustained aggregate read rate from Common Crawl, Gbit/s")
    args = ap.parse_args()
    logging.disable(logging.WARNING)

    scan_mb_s, index_lines_s, docs_s = rate_scan(), rate_index(), rate_docs()
    print("measured here, one core each:")
    print(f"  WARC stage scan           {scan_mb_s:10.1f} MB/s of compressed WARC")
    print(f"  CDXJ index lines          {index_lines_s:10,.0f} lines/s")
    print(f"  extract+lang+quality+dedup{docs_s:10.1f} docs/s")

    crawl_bytes = args.crawl_tib * 2**40
    matched = args.links * args.coverage
    fetched_bytes = matched * RECORD_KB * 1e3
    index_bytes = INDEX_TIB * 2**40
    doc_hours = matched / docs_s / 3600
    rows = {
        "full scan": {
            "records read": args.crawl_pages * 3 + matched,  # response + request + metadata per page, then the linked ones again
            "bytes read": crawl_bytes + fetched_bytes,
            "core-hours": crawl_bytes / (scan_mb_s * 1e6) / 3600 + doc_hours,
            "egress GB": (crawl_bytes + fetched_bytes) / 1e9,
            "shuffle GB": args.crawl_pages * 0.2e3 / 1e9,  # heads scanned into index entries (~200 B) keyed by URL
        },
        "index mode": {
            "records read": matched,
            "bytes read": fetched_bytes + index_bytes,
            "core-hours": args.crawl_pages * 1.3 / index_lines_s / 3600 + doc_hours,  # ~1.3 index lines per page
            "egress GB": (fetched_bytes + index_bytes) / 1e9,
            "shuffle GB": args.crawl_pages * 0.2e3 / 1e9,  # index entries (~200 B) keyed by URL
        },
    }
    print(f"\none crawl ({args.crawl_tib:.0f} TiB, {args.crawl_pages / 1e9:.1f}B pages) x {args.links / 1e6:.0f}M Reddit URLs, "
          f"{args.coverage:.0%} found -> {matched / 1e6:.1f}M records to extract")
    print(f"{'':<12} {'records':>10} {'read':>10} {'core-h':>8} {'workers-h':>10} {'compute $':>10} {'shuffle $':>10} "
          f"{'egress $':>9} {'total $':>9} {'transfer h':>11}")
    for name, r in rows.items():
        worker_h = r["core-hours"] / 4
        compute = worker_h * N2_STANDARD_4
        egress = r["egress GB"] * args.egress_per_gb
        shuffle = r["shuffle GB"] * SHUFFLE_PER_GB
        transfer_h = r["bytes read"] * 8 / (args.gbps * 1e9) / 3600
        print(f"{name:<12} {r['records read'] / 1e6:>9.1f}M {r['bytes read'] / 2**40:>8.2f}TiB {r['core-hours']:>8,.0f} "
              f"{worker_h:>10,.0f} {compute:>10,.0f} {shuffle:>10,.0f} {egress:>9,.0f} {compute + egress + shuffle:>9,.0f} {transfer_h:>11,.1f}")
    print(f"(n2-standard-4 workers at ${N2_STANDARD_4:.3f}/h; transfer hours at {args.gbps:g} Gbit/s aggregate are the floor on wall time)")

    tokens = matched * args.kept * args.tokens_per_doc
    params = 124_439_808
    flops = 6 * params * tokens
    for gpu, peak in (("A100", 312e12), ("H100", 989e12)):
        hours = flops / (0.40 * peak) / 3600
        print(f"GPT-2 124M on {tokens / 1e9:.1f}B tokens: {flops:.2e} FLOPs = {flops / 8.64e19:.3f} PF-days; "
              f"{gpu} at 40% MFU: {hours:,.1f} GPU-hours")


if __name__ == "__main__":
    main()
