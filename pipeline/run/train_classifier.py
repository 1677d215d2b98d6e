"""`webtext train-quality-classifier`: train the GPT-3-style fastText quality classifier.

    webtext train-quality-classifier --positive CORPUS [CORPUS...] --negative CORPUS [CORPUS...] --out MODEL.bin

Positives: corpora built from Reddit links (build-corpus); negatives: random pages of the same
crawl (build-corpus --no-links, or WARC files whose pages are extracted and language-filtered
here). A corpus is a folder of Parquet shards (its dropped/ folder is skipped) or a .parquet file. Prints held-out precision, recall, F1 and ROC AUC, then saves
MODEL.bin and MODEL.bin.json (metrics and options). Use it with build-corpus --quality-model MODEL.bin.
"""

from __future__ import annotations

import argparse
import dataclasses

from webtext.errors import UserError
from webtext.pipeline.filters.lang import parse_langs
from webtext.pipeline.filters.quality import classifier
from webtext.pipeline.run.config import stage_config


def _parser() -> argparse.ArgumentParser:
    defaults = classifier.TrainOptions()
    p = argparse.ArgumentParser(
        prog="webtext train-quality-classifier",
        description="Train a fastText classifier of Reddit-linked pages (positive) vs random crawl pages (negative).",
    )
    p.add_argument("--positive", nargs="+", required=True, metavar="CORPUS", help="corpus folder(s) or .parquet file(s) of positive documents")
    p.add_argument("--negative", nargs="+", required=True, metavar="CORPUS_OR_WARC", help="corpus folder(s), .parquet file(s), or WARC file(s)/globs of negative documents")
    p.add_argument("--warc-langs", default="en", metavar="LANGS", help="languages kept from WARC negatives, as build-corpus --langs (default en)")
    p.add_argument("--out", required=True, metavar="MODEL", help="where to write the model (and MODEL.json beside it)")
    p.add_argument("--epochs", type=int, default=defaults.epochs, help=f"training epochs (default {defaults.epochs})")
    p.add_argument("--lr", type=float, default=defaults.lr, help=f"learning rate (default {defaults.lr})")
    p.add_argument("--wordNgrams", "--word-ngrams", dest="word_ngrams", type=int, default=defaults.word_ngrams, help=f"word n-gram features (default {defaults.word_ngrams})")
    p.add_argument("--dim", type=int, default=defaults.dim, help=f"embedding size (default {defaults.dim})")
    p.add_argument("--min-count", type=int, default=defaults.min_count, help=f"ignore words seen fewer times (default {defaults.min_count})")
    p.add_argument("--holdout", type=float, default=defaults.holdout, help=f"fraction of each class held out for evaluation (default {defaults.holdout})")
    p.add_argument("--no-balance", dest="balance", action="store_false", help="keep every document instead of downsampling the larger class")
    p.add_argument("--max-docs", type=int, default=defaults.max_docs, help="sample at most this many documents per class (default: all)")
    p.add_argument("--seed", type=int, default=defaults.seed, help=f"seed for sampling, splitting and fastText (default {defaults.seed})")
    p.add_argument("--threads", type=int, default=defaults.threads, help="fastText threads (default 1: more is faster but not reproducible)")
    return p


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    # The flags are named after TrainOptions' fields (dest=...), so the options come across by name.
    opts = classifier.TrainOptions(**{f.name: getattr(args, f.name) for f in dataclasses.fields(classifier.TrainOptions)})
    for name in ("epochs", "word_ngrams", "dim", "threads"):
        if getattr(opts, name) < 1:
            raise UserError(f"--{name.replace('_', '-')} must be at least 1")
    warc_lang = None
    if any(map(classifier.is_warc, args.negative)):
        warc_lang = stage_config("lang", langs=parse_langs(args.warc_langs))  # the lang stage's rule, codes checked
    positives = classifier.read_texts(args.positive)
    negatives = classifier.read_texts(args.negative, warc_lang)
    print(f"read {len(positives)} positive and {len(negatives)} negative documents")
    model, metrics = classifier.train(positives, negatives, opts)
    print(
        f"held out ({metrics['positives']} positive, {metrics['negatives']} negative): "
        f"precision {metrics['precision']:.3f}  recall {metrics['recall']:.3f}  "
        f"F1 {metrics['f1']:.3f}  AUC {metrics['auc']:.3f}"
    )
    meta = classifier.save(model, args.out, metrics, opts, {"positive": args.positive, "negative": args.negative})
    print(f"saved {args.out} ({meta})")
    return 0
