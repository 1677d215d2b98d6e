"""Decontamination's cost per document next to extraction's, with 1M eval n-grams loaded.

    .venv/bin/python bench/bench_decontam.py [--repeat 3] [--eval-ngrams 1000000]

On the 181 real pages of the article-extraction benchmark (../shared/data), one core, CPU time:

* reference: trafilatura.extract(html) per page, with its defaults (what the extract stage runs);
* ours: the decontam block's decide() on each extracted text (normalise, hash every 13-gram, binary
  search in the eval set's sorted hashes), in drop mode, and in cut mode on the same texts with a
  13-gram of each planted (so every document is cut: the worst case).

The eval set: every 13-gram of dolma's real CC documents, padded with random 64-bit hashes to
--eval-ngrams (a lookup's cost depends on the array's size, not on what made its hashes). Memory of
the side input per million eval n-grams: the array's bytes, its pickled size (what Beam ships) and
the peak while np.unique builds it (tracemalloc). Each figure is the min-max over --repeat runs; the
load average is printed with them (the machine may be shared).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import pickle
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

from webtext.pipeline.filters.decontam.ngrams import Normalisation, ngram_hashes, words
from webtext.pipeline.filters.decontam.stage import Decontaminate
from webtext.pipeline.run.config import default_config

DATA = Path(os.environ.get("WEBTEXT_TEST_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
AEB = DATA / "extraction/scrapinghub-aeb"


def load_avg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def eval_hashes(total: int) -> np.ndarray:
    norm = Normalisation()
    docs = [json.loads(line)["text"] for line in gzip.open(DATA / "text/dolma-cc_en_head-0091.jsonl.gz")]
    real = np.unique(np.concatenate([ngram_hashes(words(d, norm), 13) for d in docs]))
    pad = np.random.default_rng(0).integers(0, 2**64, size=max(0, total - len(real)), dtype=np.uint64, endpoint=False)
    return np.unique(np.concatenate([real, pad]))


def block(mode: str, hashes: np.ndarray) -> Decontaminate:
    cfg = {**default_config()["decontam"], "mode": mode}
    flt = Decontaminate(cfg)
    flt.order = ["bench"]
    flt.bind([("bench", hashes)])
    return flt


def per_doc(fn, items) -> float:
    start = time.process_time()
    for x in items:
        fn(x)
    return (time.process_time() - start) / len(items)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--eval-ngrams", type=int, default=1_000_000)
    args = ap.parse_args()
    import trafilatura

    html = [gzip.decompress(p.read_bytes()).decode("utf-8", "replace") for p in sorted((AEB / "html").glob("*.html.gz"))]
    texts = [t for t in (trafilatura.extract(h) for h in html) if t]
    tracemalloc.start()
    hashes = eval_hashes(args.eval_ngrams)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    millions = len(hashes) / 1e6
    shipped = len(pickle.dumps(("bench", hashes), protocol=pickle.HIGHEST_PROTOCOL))
    real13 = [" ".join(words(t, Normalisation())[:13]) for t in texts]
    planted_hashes = np.unique(np.concatenate([hashes, *(ngram_hashes(words(g, Normalisation()), 13) for g in real13)]))
    planted = [{"id": str(i), "text": t[: len(t) // 2] + " " + g + " " + t[len(t) // 2 :]} for i, (t, g) in enumerate(zip(texts, real13))]
    docs = [{"id": str(i), "text": t} for i, t in enumerate(texts)]
    drop, cut = block("drop", hashes), block("cut", planted_hashes)
    missed = [d["id"] for d in planted if cut.decide(d) is d]
    hit = [d["id"] for d in docs if drop.decide(d) is not d]
    if missed or hit:
        raise SystemExit(f"bench set-up is wrong: {len(missed)} planted texts not cut, {len(hit)} others matched")

    runs = {"extract": [], "drop": [], "cut": []}
    for _ in range(args.repeat):
        runs["extract"].append(per_doc(trafilatura.extract, html))
        runs["drop"].append(per_doc(drop.decide, docs))
        runs["cut"].append(per_doc(cut.decide, planted))
    words_per_doc = sum(len(words(t, Normalisation())) for t in texts) / len(texts)

    def ms(xs):
        return f"{min(xs) * 1e3:.3f}-{max(xs) * 1e3:.3f} ms"

    ext = runs["extract"]
    print(f"{len(html)} pages, {len(texts)} extracted texts ({words_per_doc:,.0f} words each on average); "
          f"{len(hashes):,} eval 13-gram hashes loaded; {args.repeat} runs; load average {load_avg()}")
    print(f"{'':<46}{'per document':>22}{'ratio to extraction':>24}")
    print(f"{'reference: trafilatura.extract(html)':<46}{ms(ext):>22}{'1':>24}")
    for key, label in (("drop", "ours: decontam decide(), drop mode"), ("cut", "ours: decontam decide(), cut mode, all cut")):
        lo, hi = min(runs[key]) / max(ext), max(runs[key]) / min(ext)
        print(f"{label:<46}{ms(runs[key]):>22}{f'{lo:.4f}-{hi:.4f}':>24}")
    print(f"\nside input per million eval n-grams: {hashes.nbytes / millions / 2**20:.2f} MiB in memory (sorted uint64), "
          f"{shipped / millions / 2**20:.2f} MiB pickled, {peak / millions / 2**20:.1f} MiB peak while building it")
    print(f"Bloom filter (webtext overlap) at fpr 1e-4: {-np.log(1e-4) / np.log(2) ** 2 / 8:.2f} bytes per corpus n-gram")
    print(f"load average after: {load_avg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
