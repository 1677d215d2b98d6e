"""`webtext classify`: label a Parquet (or JSONL) file with a fine-tuned classifier.

    webtext classify --run FTDIR --input X.parquet --out Y.parquet [--gold-column label --label-column predicted]

Y holds every column of X plus `label` (the predicted label, in the training data's own values; null
for rows with no text) and `label_probs` (the probability of each class, in labels.json's order, which
Y's schema metadata repeats as `webtext.labels`). Y is written atomically. With --gold-column, the
accuracy and macro-F1 against that column are printed as JSON.
"""

from __future__ import annotations

import json
from contextlib import nullcontext

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from webtext import atomic
from webtext.cli_args import ArgumentParser
from webtext.errors import UserError
from webtext.train.classifier_head import GPTClassifier, predict_probs
from webtext.train.finetune import KIND
from webtext.train.inference import device_of, load_checkpoint
from webtext.train.labelled_data import LabelMap, accuracy_and_macro_f1, encode, read_table, texts_of
from webtext.train.model import GPT, GPTConfig


def load_classifier(ftdir: str, device="cpu"):
    """(model in eval mode, LabelMap, tiktoken Encoding, context) of a finetune run folder."""
    from webtext.tokenizer import load_encoding

    ckpt = load_checkpoint(ftdir)
    if ckpt.get("kind") != KIND:
        raise UserError(f"--run {ftdir}: not a finetune run (its checkpoints have no classification head)")
    labels = LabelMap.load(ftdir)
    if labels.names != ckpt["labels"]:
        raise UserError(f"{ftdir}/labels.json does not match its checkpoint's labels")
    model = GPTClassifier(GPT(GPTConfig(**ckpt["model_config"])), len(labels.names))
    model.load_state_dict(ckpt["model"])
    return model.to(device).eval(), labels, load_encoding(f"{ftdir}/tokenizer"), int(ckpt["seq_len"])


def classify_table(table: pa.Table, text_column: str, model, labels: LabelMap, enc, seq_len: int,
                   batch_size: int = 64, device="cpu") -> tuple[list, np.ndarray]:
    """(label per row, None where there is no text; probabilities (rows, classes), NaN where no text)."""
    texts = texts_of(table, text_column, "--input")
    rows = [i for i, t in enumerate(texts) if t is not None]
    probs = np.full((len(texts), len(labels.names)), np.nan, dtype=np.float32)
    if rows:
        ids, lengths = encode(enc, [texts[i] for i in rows], seq_len)
        probs[rows] = predict_probs(model, ids, lengths, batch_size, device, nullcontext)
    predicted = [None] * len(texts)
    for i in rows:
        predicted[i] = labels.names[int(probs[i].argmax())]
    return predicted, probs


def main(argv: list[str]) -> int:
    ap = ArgumentParser(prog="webtext classify", description="Label a Parquet or JSONL file with a fine-tuned classifier.")
    ap.add_argument("--run", required=True, metavar="FTDIR", help="a `webtext finetune` run folder")
    ap.add_argument("--input", required=True, metavar="X.parquet", help="Parquet or JSONL file to label")
    ap.add_argument("--out", required=True, metavar="Y.parquet", help="output Parquet file (written atomically)")
    ap.add_argument("--text-column", default="text", help="column holding the text")
    ap.add_argument("--label-column", default="label", help="name of the added label column (and of <name>_probs)")
    ap.add_argument("--gold-column", metavar="COL", help="also print accuracy and macro-F1 against this column")
    ap.add_argument("--batch-size", type=int, default=64, help="texts per forward pass")
    ap.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or mps")
    args = ap.parse_args(argv)
    if args.batch_size < 1:
        raise UserError(f"--batch-size must be at least 1, not {args.batch_size}")

    device = device_of(args.device)
    model, labels, enc, seq_len = load_classifier(args.run, device)
    table, bad = read_table(args.input, [args.text_column] + ([args.gold_column] if args.gold_column else []), "--input")
    probs_column = f"{args.label_column}_probs"
    clash = [c for c in (args.label_column, probs_column) if c in table.column_names]
    if clash:
        raise UserError(f"--input already has a column {clash[0]!r}; name the output with --label-column")
    predicted, probs = classify_table(table, args.text_column, model, labels, enc, seq_len, args.batch_size, device)
    kind = pa.int64() if isinstance(labels.names[0], int) else pa.string()
    with_probs = pa.array([None if np.isnan(p[0]) else p.tolist() for p in probs], pa.list_(pa.float32()))
    out = table.append_column(args.label_column, pa.array(predicted, kind)).append_column(probs_column, with_probs)
    out = out.replace_schema_metadata({**(out.schema.metadata or {}), b"webtext.labels": json.dumps(labels.names).encode()})
    with atomic.atomic_path(args.out) as tmp:
        pq.write_table(out, tmp, compression="zstd")
    missing = sum(p is None for p in predicted)
    print(f"labelled {len(predicted) - missing:,} rows of {args.input} into {args.out}"
          + (f"; {missing:,} rows without text left unlabelled" if missing else "")
          + (f"; {bad:,} unreadable JSONL lines skipped" if bad else ""))
    if args.gold_column:
        gold = table.column(args.gold_column).to_pylist()
        keep = [i for i, (p, g) in enumerate(zip(predicted, gold)) if p is not None and g is not None]
        y = labels.indices([gold[i] for i in keep], f"--gold-column {args.gold_column}")
        acc, f1 = accuracy_and_macro_f1(probs[keep].argmax(1), y, len(labels.names))
        print(json.dumps({"examples": len(keep), "accuracy": acc, "macro_f1": f1}))
    return 0
