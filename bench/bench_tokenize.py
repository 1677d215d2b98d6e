"""Tokenizer throughput, side by side in one run.

    python bench/bench_tokenize.py [--mb 80] [--repeat 3] [--workdir DIR]

Builds a Parquet corpus from the real text in ../shared/data (news articles, Common Crawl text, Wikipedia,
evaluation pages in a dozen languages), replicated to about --mb MB; trains a tokenizer on the unique texts
(`webtext train-tokenizer`, vocabulary up to 50,257); then times

  1. `webtext tokenize` end to end, as its own process: start-up, reading Parquet, encoding on every core,
     writing the shards and meta.json;
  2. tiktoken's own `encode_ordinary_batch(texts, num_threads=<cores>)` on the same texts, already in memory;
  3. MB/s per core of tiktoken and of HF `tokenizers` (encode_batch) with the same vocabulary.

Each figure is the best of --repeat runs (the machine may be shared). Nothing is downloaded.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("WEBTEXT_TEST_DATA", REPO.parent / "shared" / "data"))


def real_texts() -> list[str]:
    texts = [json.loads(line)["text"] for line in gzip.open(DATA / "text/dolma-cc_en_head-0091.jsonl.gz", "rt")]
    texts += [v["articleBody"] for v in json.loads((DATA / "extraction/scrapinghub-aeb/ground-truth.json").read_text()).values()]
    evald = json.loads((DATA / "extraction/trafilatura-eval/evaldata-subset.json").read_text())
    texts += ["\n\n".join(v["with"]) for v in evald.values() if v["with"]]
    texts.append((DATA / "wikipedia/en.wikipedia.org-Mona_Lisa.txt").read_text())
    return texts


def write_corpus(texts: list[str], out: Path, files: int = 4) -> None:
    out.mkdir(parents=True, exist_ok=True)
    per = -(-len(texts) // files)
    for i in range(files):
        table = pa.table({"id": list(range(i * per, min((i + 1) * per, len(texts)))), "text": texts[i * per:(i + 1) * per]})
        pq.write_table(table, out / f"part-{i:05d}.parquet", compression="zstd", row_group_size=2048)


def cpu_seconds() -> float:
    """CPU time of this process and its finished children: unlike wall time, barely moved by other load."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def timed(fn) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one call."""
    c, t = cpu_seconds(), time.perf_counter()
    fn()
    return time.perf_counter() - t, cpu_seconds() - c


def webtext(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "webtext.cli", *args], check=True, stdout=subprocess.DEVNULL)


def best(fn, repeat: int) -> tuple[float, float]:
    return min(timed(fn) for _ in range(repeat))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mb", type=float, default=80, help="corpus size in MB of UTF-8 text (default 80)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workdir", help="keep the corpus, tokenizer and shards here (default: a temp folder)")
    args = ap.parse_args()

    from tokenizers import Tokenizer

    from webtext.tokenizer import load_encoding
    from webtext.tokenizer.tokenize_corpus import default_workers

    cores = default_workers()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="bench_tokenize_"))
    unique = real_texts()
    unique_mb = sum(len(t.encode()) for t in unique) / 1e6
    texts = unique * max(1, round(args.mb / unique_mb))
    mb = sum(len(t.encode()) for t in texts) / 1e6
    write_corpus(unique, work / "train_corpus", files=1)
    write_corpus(texts, work / "corpus")
    webtext("train-tokenizer", "--corpus", str(work / "train_corpus"), "--vocab-size", "50257",
            "--min-frequency", "1", "--out", str(work / "tok"))
    enc = load_encoding(work / "tok")
    print(f"corpus: {len(texts):,} docs, {mb:.1f} MB ({len(unique)} real texts, {unique_mb:.2f} MB, replicated); "
          f"vocabulary {enc.n_vocab:,}; {cores} cores; best of {args.repeat}")

    tokenize = ["tokenize", "--corpus", str(work / "corpus"), "--tokenizer", str(work / "tok"),
                "--out", str(work / "bin"), "--overwrite"]
    ours, tik = [], []
    for _ in range(args.repeat):  # interleaved, so a burst of other load hits both sides alike
        ours.append(timed(lambda: webtext(*tokenize)))
        tik.append(timed(lambda: enc.encode_ordinary_batch(texts, num_threads=cores)))
    (t_ours, c_ours), (t_tik, c_tik) = min(ours), min(tik)
    meta = json.loads((work / "bin/meta.json").read_text())
    n_tokens = sum(map(len, enc.encode_ordinary_batch(texts, num_threads=cores)))
    assert meta["tokens"] == n_tokens + len(texts), "webtext tokenize and tiktoken disagree on the token count"

    sample = unique * max(1, round(10 / unique_mb))  # ~10 MB for the per-core figures
    smb = sum(len(t.encode()) for t in sample) / 1e6
    hf = Tokenizer.from_file(str(work / "tok/hf-tokenizer.json"))
    t_tik1, c_tik1 = best(lambda: enc.encode_ordinary_batch(sample, num_threads=1), args.repeat)
    t_tikn, c_tikn = best(lambda: enc.encode_ordinary_batch(sample, num_threads=cores), args.repeat)
    t_hf1, c_hf1 = best(lambda: [hf.encode(t, add_special_tokens=False) for t in sample], args.repeat)
    t_hfn, c_hfn = best(lambda: hf.encode_batch(sample, add_special_tokens=False), args.repeat)

    rows = [
        ("webtext tokenize, end to end (own process)", mb, t_ours, c_ours, cores),
        (f"tiktoken encode_ordinary_batch, {cores} threads", mb, t_tik, c_tik, cores),
        ("tiktoken encode_ordinary, 1 thread", smb, t_tik1, c_tik1, 1),
        (f"tiktoken encode_ordinary_batch, {cores} threads", smb, t_tikn, c_tikn, cores),
        ("HF tokenizers encode, 1 thread", smb, t_hf1, c_hf1, 1),
        (f"HF tokenizers encode_batch, {cores} threads", smb, t_hfn, c_hfn, cores),
    ]
    print(f"\n{'':48} {'MB':>5} {'wall s':>7} {'MB/s':>6} {'MB/s/core':>9} {'CPU s':>6} {'MB/CPU-s':>8}")
    for name, size, secs, cpu, n in rows:
        print(f"{name:48} {size:5.1f} {secs:7.2f} {size / secs:6.1f} {size / secs / n:9.1f} {cpu:6.2f} {size / cpu:8.1f}")
    print(f"\nwebtext tokenize / tiktoken encode_ordinary_batch, wall time: {t_ours / t_tik:.2f} (target <= 1.10); "
          f"CPU time: {c_ours / c_tik:.2f}  [{meta['tokens']:,} tokens, {len(meta['train']['shards'])} train + "
          f"{len(meta['val']['shards'])} val shards]")
    print(f"tiktoken / HF tokenizers, MB/s per core: {t_hf1 / t_tik1:.1f}x with 1 thread, {t_hfn / t_tikn:.1f}x with "
          f"{cores} threads")
    if args.workdir:
        print(f"work folder: {work}")
    else:
        shutil.rmtree(work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
