"""Dedup benchmark: signature throughput, precision/recall, and the stage's share of pipeline time.

    .venv/bin/python bench/bench_dedup.py [--repeat 5]

1. Throughput: MinHash signatures per second on one core, of the shingles (hash, permute) and from
   text (normalise and cut 5-gram shingles too), on the same real pages: ours (pipeline/dedup/minhash.py, batched) vs datasketch's plain
   `MinHash(...).update_batch` per document vs rensa. Ours is checked equal to datasketch on every page.
2. Quality: precision and recall of duplicate pairs against exact Jaccard, on the benchmark set of
   bench/dedup_set.py, for the default configuration and three variants.
3. Share: trafilatura extraction of the same 181 pages vs the Dedup stage run on what it extracted
   (Beam FnApiRunner, in-process): the stage's fixed cost, and its cost per further document.
"""

from __future__ import annotations

import argparse
import gzip
import os
import random
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dedup_set  # noqa: E402

from webtext.pipeline.dedup.minhash import Sketcher, sha1_hash32_array, shingles  # noqa: E402

NUM_PERM, SEED, NGRAM = 128, 1, 5
OURS, DATASKETCH = "ours (batched numpy, datasketch-equal)", "datasketch MinHash().update_batch per doc"
SHINGLING = "shingling (normalise, 5-grams)"


def extract_all(pages):
    """(texts, CPU seconds): trafilatura with its defaults on every page's HTML, one core."""
    import trafilatura

    html = [gzip.decompress(p.read_bytes()) for p in sorted((dedup_set.DATA / "html").glob("*.html.gz"))]
    start = time.process_time()
    texts = [trafilatura.extract(h) or "" for h in html]
    return texts, time.process_time() - start


def best_of(repeat, fn):
    """The fastest of `repeat` runs, in CPU seconds of this process (all its threads: FnApiRunner runs
    in-process). CPU time rather than wall time, so other jobs on a shared machine disturb it less."""
    times = []
    for _ in range(repeat):
        start = time.process_time()
        out = fn()
        times.append(time.process_time() - start)
    return min(times), out


def throughput(texts, repeat):
    """{method: seconds} to sign every text's shingles, shingles given (so the rows compare the hashing
    alone), plus the shingling itself under SHINGLING; one core, the best of `repeat` runs."""
    from datasketch import MinHash
    from rensa import RMinHash

    sketcher = Sketcher(NUM_PERM, SEED, NGRAM)
    permutations = MinHash(num_perm=NUM_PERM, seed=SEED).permutations
    cut = [s for s in (shingles(t, NGRAM) for t in texts) if s]

    def ours():  # what Sketcher.signatures does after shingling, in the pipeline's batches of 256
        return [
            sig
            for i in range(0, len(cut), 256)
            for sig in sketcher.signatures_from_hashes([sha1_hash32_array(s) for s in cut[i : i + 256]])
        ]

    def datasketch(**kw):
        out = []
        for s in cut:
            m = MinHash(num_perm=NUM_PERM, seed=SEED, **kw)
            m.update_batch(s)
            out.append(m.hashvalues)
        return out

    def datasketch_plain():
        return datasketch()

    def datasketch_shared_permutations():
        return datasketch(permutations=permutations, scheme="affine32")

    def rensa_per_doc():
        out = []
        for s in cut:
            m = RMinHash(num_perm=NUM_PERM, seed=SEED)
            m.update(s)
            out.append(m.digest())
        return out

    def rensa_bulk():
        return RMinHash.digest_matrix_from_token_byte_sets(cut, NUM_PERM, SEED)

    rows, outputs = {}, {}
    for name, fn in [
        (OURS, ours),
        (DATASKETCH, datasketch_plain),
        ("datasketch, permutations shared", datasketch_shared_permutations),
        ("rensa RMinHash.update per doc", rensa_per_doc),
        ("rensa digest_matrix (bulk)", rensa_bulk),
        (SHINGLING, lambda: [shingles(t, NGRAM) for t in texts]),
    ]:
        rows[name], outputs[name] = best_of(repeat, fn)
    same = all(np.array_equal(a, b) for a, b in zip(outputs[OURS], outputs[DATASKETCH]))
    assert same and len(outputs[OURS]) == len(cut), "signatures differ from datasketch"
    return len(cut), rows


def quality():
    docs, _ = dedup_set.build_set(dedup_set.load_pages())
    truth = dedup_set.true_pairs(docs)
    rows = {}
    for name, config in [
        ("default (14x9, verify, slack 0.5)", {}),
        ("verify slack 0 (estimate >= 0.8)", {"verify_slack": 0.0}),
        ("no verify (LSH candidates only)", {"verify": False}),
        ("datasketch weights 0.5 (9x13)", {"false_negative_weight": 0.5}),
    ]:
        kept, dropped, _ = dedup_set.run(docs, config)
        rows[name] = dedup_set.score(kept, dropped, truth)
    return len(docs), rows


def share(pages, texts, repeat, scale=10):
    """Seconds of the pipeline with and without Dedup, on the extracted pages and on `scale` times as
    many documents (each extra one a word-shuffled page: distinct, so as much work as a new page).

    At a few hundred documents Beam's fixed cost per stage dominates; the difference between the two
    sizes is what each further document costs, which is what matters at Common Crawl scale."""
    docs = [dedup_set.make_doc(url, text, None) for (url, _), text in zip(pages, texts) if text]
    more = list(docs)
    for k in range(1, scale):
        rng = random.Random(k)
        for d in docs:
            words = d["text"].split()
            rng.shuffle(words)
            more.append(dedup_set.make_doc(f"{d['url']}#shuffled{k}", " ".join(words), None))
    seconds = {}
    for name, batch in (("small", docs), ("large", more)):
        seconds[name, "dedup"], _ = best_of(repeat, lambda: dedup_set.run(batch))
        seconds[name, "base"], _ = best_of(repeat, lambda: dedup_set.run(batch, dedup=False))
    sig_s, _ = best_of(repeat, lambda: Sketcher(NUM_PERM, SEED, NGRAM).signatures([d["text"] for d in more]))
    return len(docs), len(more), seconds, sig_s


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the fastest counts")
    args = parser.parse_args()

    pages = dedup_set.load_pages()
    texts, extract_s = extract_all(pages)
    n_shingles = sum(len(shingles(t, NGRAM)) for t in texts)
    print(f"pages: {len(texts)} extracted by trafilatura in {extract_s:.2f} s; {n_shingles} 5-gram shingles\n")

    n_signed, rows = throughput(texts, args.repeat)
    shingling = rows.pop(SHINGLING)
    print(f"1. signatures per CPU second ({NUM_PERM} permutations; shingling, common to all, "
          f"runs at {n_signed / shingling:.0f} docs/s)")
    print(f"   {'method':44s} {'shingles given':>14s} {'time/ours':>9s} | {'from text':>9s} {'time/ours':>9s}")
    for name, seconds in rows.items():
        print(
            f"   {name:44s} {n_signed / seconds:14.0f} {seconds / rows[OURS]:9.2f} | "
            f"{n_signed / (seconds + shingling):9.0f} {(seconds + shingling) / (rows[OURS] + shingling):9.2f}"
        )

    n_docs, scores = quality()
    print(f"\n2. duplicate pairs vs exact Jaccard >= 0.8, benchmark set of {n_docs} documents")
    print(f"   {'configuration':36s} {'precision':>9s} {'recall':>7s} {'pairs':>6s} {'true':>5s}")
    for name, s in scores.items():
        print(
            f"   {name:36s} {s['precision']:9.4f} {s['recall']:7.4f} {s['predicted_pairs']:6d} {s['true_pairs']:5d}"
        )

    n, n_large, t, sig_s = share(pages, texts, args.repeat)
    per_page = extract_s / len(texts)
    fixed = t["small", "dedup"] - t["small", "base"]
    marginal = ((t["large", "dedup"] - t["large", "base"]) - fixed) / (n_large - n)
    print("\n3. share of pipeline time (CPU seconds)")
    print(f"   trafilatura extraction, {len(texts)} pages           {extract_s:7.2f} s = {per_page * 1e3:6.2f} ms/page")
    for size, count in (("small", n), ("large", n_large)):
        print(
            f"   pipeline on {count:5d} docs, with / without Dedup {t[size, 'dedup']:7.2f} s / {t[size, 'base']:.2f} s"
        )
    print(f"   Dedup's fixed cost (its Beam stages)         {fixed:7.2f} s")
    print(f"   Dedup per further document                  {marginal * 1e3:7.2f} ms"
          f" -> {marginal / (marginal + per_page):.1%} of extract+dedup per document")
    print(f"   of which signatures                         {sig_s / n_large * 1e3:7.2f} ms"
          f" -> {sig_s / n_large / per_page:.1%} of extraction")


if __name__ == "__main__":
    main()
