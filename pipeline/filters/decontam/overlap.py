"""`webtext overlap CORPUS --eval PATH... [--n 8]`: how much of each eval set is in a corpus (GPT-2, section 4).

    webtext overlap corpus/ --eval lambada_test.jsonl hellaswag_val.jsonl --n 8 --json overlap.json

The corpus is streamed once (its Parquet files' `text` column, batch by batch) and every word n-gram
of it goes into a Bloom filter (filters/decontam/bloom.py), as GPT-2 measured WebText's overlap with
its test sets. Then for each eval set: the share of its distinct n-grams that the filter holds, and
the share of its passages with at least one n-gram in it. A Bloom filter only errs one way: an
n-gram absent from the corpus is found with probability f, the filter's false-positive rate,
computed from its fill after the corpus went in ((bits set / m)^k). So the n-gram share is high by
f * (1 - share) in expectation (the report's "error"), and a passage of k n-grams none of which is
in the corpus is counted as overlapping with probability 1 - (1 - f)^k (summed over the passages
without a true overlap: the passages' error). Sized by default for f = 1e-4 at the corpus's n-gram
count, estimated from the Parquet footers' text bytes (1 n-gram per 5 bytes, more than English
has); --capacity sets the count instead. Memory: 19.2 bits per n-gram at 1e-4, 2.4 GB per billion.

Words are normalised as the decontam stage does them ([decontam] lowercase, nfkc, strip_accents,
from --config), by the same module (filters/decontam/ngrams.py).
"""

from __future__ import annotations

import dataclasses
import json
import math
import sys
import time

import numpy as np

from webtext import atomic
from webtext.cli_args import ArgumentParser, count
from webtext.errors import UserError
from webtext.pipeline.filters.decontam.bloom import BloomFilter
from webtext.pipeline.filters.decontam.evalsets import check_eval_paths, passage_hashes, passages, set_name
from webtext.pipeline.filters.decontam.ngrams import MAX_N, Normalisation, text_ngram_hashes

BYTES_PER_NGRAM = 5  # the capacity estimate: English averages ~6 bytes a word (space included)
_FLUSH = 1 << 20  # n-gram hashes gathered before one insertion into the filter


def estimate_ngrams(files) -> int:
    """About how many word n-grams the corpus has, from the Parquet footers (text column, uncompressed)."""
    import pyarrow.parquet as pq

    total = 0
    for f in files:
        meta = pq.read_metadata(f.path)
        col = meta.schema.to_arrow_schema().get_field_index("text")
        total += sum(meta.row_group(i).column(col).total_uncompressed_size for i in range(meta.num_row_groups))
    return max(1, total // BYTES_PER_NGRAM)


def corpus_filter(files, n: int, norm: Normalisation, bf: BloomFilter) -> dict:
    """Every word n-gram of the corpus's texts into `bf`; what was read."""
    from webtext.tokenizer.corpus import iter_text_arrays

    docs, ngrams, buf, held = 0, 0, [], 0
    for arr in iter_text_arrays(files):
        for text in arr.to_pylist():
            if text is None:
                continue
            h = text_ngram_hashes(text, n, norm)
            docs += 1
            ngrams += len(h)
            buf.append(h)
            held += len(h)
            if held >= _FLUSH:
                bf.add(np.concatenate(buf))
                buf, held = [], 0
    if buf:
        bf.add(np.concatenate(buf))
    return {"documents": docs, "ngrams": ngrams}


def set_overlap(path: str, n: int, norm: Normalisation, bf: BloomFilter, fpr: float) -> dict:
    """One eval set against the filter: n-gram and passage shares, each with its expected error."""
    ps = passages(path)
    per, short = passage_hashes(ps.texts, n, norm)
    per = [p for p in per if len(p)]
    unique = np.unique(np.concatenate(per)) if per else np.empty(0, dtype=np.uint64)
    found = int(bf.contains(unique).sum())
    hit = [bool(bf.contains(p).any()) for p in per]
    share = found / len(unique) if len(unique) else 0.0
    # Passages with no n-gram found cannot be false positives; those found may be: bound the error by
    # the chance that a passage of k n-grams, none truly present, shows one.
    passage_err = sum(1.0 - (1.0 - fpr) ** len(p) for p in per) / len(per) if per else 0.0
    return {
        "name": set_name(path), "path": path, "passages": len(ps.texts), "short_passages": short, "bad_lines": ps.bad,
        "ngrams": int(len(unique)), "ngrams_in_corpus": found, "ngram_share": share, "ngram_share_error": fpr * (1.0 - share),
        "passages_checked": len(per), "passages_with_overlap": sum(hit),
        "passage_share": sum(hit) / len(per) if per else 0.0, "passage_share_error": passage_err,
    }


def _table(report: dict) -> str:
    n, b = report["n"], report["bloom"]
    lines = [f"corpus: {report['corpus']} ({report['corpus_documents']:,} documents, {report['corpus_ngrams']:,} word {n}-grams)",
             f"Bloom filter: {b['bytes'] / 2**20:,.1f} MiB, {b['hashes']} hashes, false-positive rate {b['fpr']:.2e} "
             f"(from its fill {b['fill']:.3f}): shares below can only be high, by the error shown", ""]
    head = ("eval set", "passages", f"{n}-grams", "in corpus", "share", "error", "passages w/ overlap", "share", "error")
    rows = [head] + [(s["name"], f"{s['passages']:,}", f"{s['ngrams']:,}", f"{s['ngrams_in_corpus']:,}", f"{s['ngram_share']:.2%}",
                      f"{s['ngram_share_error']:.1e}", f"{s['passages_with_overlap']:,}", f"{s['passage_share']:.2%}",
                      f"{s['passage_share_error']:.1e}") for s in report["sets"]]
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines += ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))) for r in rows]
    short = [f"{s['name']}: {s['short_passages']:,}" for s in report["sets"] if s["short_passages"]]
    if short:
        lines.append(f"\npassages shorter than {n} words (no {n}-gram, not checked): " + ", ".join(short))
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    ap = ArgumentParser(prog="webtext overlap", description="GPT-2's train/test overlap: for each eval set, the share of its "
                        "word n-grams found in the corpus and the share of its passages with any overlap (a Bloom filter of the corpus).")
    ap.add_argument("corpus", metavar="CORPUS", help="corpus folder (or Parquet file) with a 'text' column")
    ap.add_argument("--eval", nargs="+", required=True, metavar="PATH", help="eval sets: JSONL, Parquet or text files (the stem names the set)")
    ap.add_argument("--n", type=int, default=8, help="words per n-gram (GPT-2 used 8)")
    ap.add_argument("--fpr", type=float, default=1e-4, help="false-positive rate the Bloom filter is sized for")
    ap.add_argument("--capacity", type=count, metavar="N", help="corpus n-grams to size the filter for (default: estimated from the Parquet footers)")
    ap.add_argument("--config", metavar="TOML", help="build-corpus config whose [decontam] normalisation to use (lowercase, nfkc, strip_accents)")
    ap.add_argument("--json", metavar="PATH", help="also write the report as JSON ('-': to stdout, instead of the table)")
    args = ap.parse_args(argv)
    if not 1 <= args.n <= MAX_N:
        raise UserError(f"--n must lie in [1, {MAX_N}], got {args.n}")
    if not 0 < args.fpr < 1:
        raise UserError(f"--fpr must lie in (0, 1), got {args.fpr}")
    if args.capacity is not None and args.capacity < 1:
        raise UserError("--capacity must be positive")
    from webtext.pipeline.run.config import load_config
    from webtext.tokenizer.corpus import list_corpus

    norm = Normalisation.from_config(load_config(args.config)["decontam"])
    files = list_corpus(args.corpus)
    paths = check_eval_paths(args.eval, "overlap")

    start = time.time()
    capacity = args.capacity or estimate_ngrams(files)
    bf = BloomFilter.for_capacity(capacity, args.fpr)
    read = corpus_filter(files, args.n, norm, bf)
    fpr = bf.fpr()
    report = {
        "corpus": str(args.corpus), "n": args.n, "normalisation": dataclasses.asdict(norm),
        "corpus_documents": read["documents"], "corpus_ngrams": read["ngrams"],
        "bloom": {"bits": bf.bits, "hashes": bf.k, "bytes": bf.nbytes, "sized_for": capacity,
                  "sized_fpr": args.fpr, "fill": bf.fill(), "fpr": fpr},
        "sets": [set_overlap(p, args.n, norm, bf, fpr) for p in paths],
    }
    report["elapsed_s"] = round(time.time() - start, 3)
    if not math.isfinite(fpr) or fpr > 10 * args.fpr:
        print(f"webtext overlap: warning: the filter's false-positive rate is {fpr:.1e}, over 10x the {args.fpr:.0e} it was sized for "
              f"(the corpus has more n-grams than estimated); give --capacity {read['ngrams']:,}", file=sys.stderr)
    if args.json == "-":
        print(json.dumps(report, indent=2))
        return 0
    print(_table(report))
    if args.json:
        atomic.write_json(args.json, report)
        print(f"\nreport: {args.json}")
    return 0
