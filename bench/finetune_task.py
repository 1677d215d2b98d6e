"""The real labelled task and the small pretrained model that bench_finetune.py and tests/test_finetune.py share.

Pretraining text: the 181 article bodies of the Article Extraction Benchmark (ground truth, news and blog
articles from 126 sites) in ../shared/data: a BPE of 2,048 tokens is trained on them, `webtext tokenize`
writes the shards and `train-on-shards` pretrains the `tiny` preset on them (the real commands).

The tasks are built from trafilatura's evaluation set: for 210 real pages, the text segments the main
text must contain (`with`) and those it must not (`without`: navigation, share buttons, footers,
related links, comments), and each page's language (lid.176 on its `with` text, `lang_lid176`).

  language     each `with` segment of at least 20 characters, labelled `en` or `other` by its page's
               language (de, fr, es, pt, zh, ja, it, pl, fi, ar, tr, hu, no, ru, bn): the must-show task
  boilerplate  each segment labelled `main` or `boilerplate` (harder: at this scale pretraining does
               not help, random init does as well or better; bench_finetune.py --task boilerplate)

The split is by page (SHA-256 of the URL), so no page has segments in two splits: 60% train, 20% val,
20% test. The pages are not in the pretraining text (another benchmark's pages).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

DATA = Path(os.environ.get("WEBTEXT_TEST_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
AEB = DATA / "extraction" / "scrapinghub-aeb" / "ground-truth.json"
EVAL = DATA / "extraction" / "trafilatura-eval" / "evaldata-subset.json"
VOCAB = 2048
MIN_CHARS = 20  # language task: shorter segments ("Home", a date) have no language
TASKS = ("language", "boilerplate")


def split_of(url: str) -> str:
    h = int(hashlib.sha256(url.encode()).hexdigest(), 16) % 10
    return "train" if h < 6 else "val" if h < 8 else "test"


def _segments(task: str):
    """(split, row) of every example of the task, from the trafilatura evaluation pages, page by page."""
    pages = json.loads(EVAL.read_text(encoding="utf-8"))
    for url, page in sorted(pages.items()):
        if task == "language":
            label = "en" if page["lang_lid176"] == "en" else "other"
            rows = [{"text": t, "label": label, "url": url} for t in page["with"] if len(t) >= MIN_CHARS]
        else:
            rows = [{"text": t, "label": label, "url": url} for label, key in (("main", "with"), ("boilerplate", "without"))
                    for t in page[key]]
        for row in rows:
            yield split_of(url), row


def write_task(folder: Path, task: str = "language", train_examples: int | None = None) -> dict[str, Path]:
    """train/val/test Parquet files (text, label, url) of a task (TASKS); returns their paths. With
    `train_examples`, the training file keeps that many (the first of a fixed shuffle): few labels."""
    if task not in TASKS:
        raise ValueError(f"task {task!r}: one of {', '.join(TASKS)}")
    rows = {"train": [], "val": [], "test": []}
    for split, row in _segments(task):
        rows[split].append(row)
    if train_examples is not None:
        random.Random(0).shuffle(rows["train"])
        rows["train"] = rows["train"][:train_examples]
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for split, r in rows.items():
        paths[split] = folder / f"{split}.parquet"
        pq.write_table(pa.Table.from_pylist(r), paths[split])
    return paths


def pretrain(folder: Path, steps: int, seq_len: int = 64, batch_size: int = 16, lr: float = 2e-3) -> Path:
    """A tiny GPT pretrained on the AEB article bodies by the real commands; returns its run folder."""
    from webtext.cli import main
    from webtext.tokenizer.train_bpe import train as train_bpe

    gt = json.loads(AEB.read_text(encoding="utf-8"))
    texts = [v["articleBody"] for _, v in sorted(gt.items())]
    corpus = folder / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({"text": texts}), corpus / "train-00000-of-00001.parquet")
    train_bpe([texts], VOCAB, folder / "tokenizer")
    assert main(["tokenize", "--corpus", str(corpus), "--tokenizer", str(folder / "tokenizer"), "--out", str(folder / "bin"),
                 "--val-tokens", "20000", "--workers", "1"]) == 0
    run = folder / "run"
    assert main(["train-on-shards", "--data", str(folder / "bin"), "--preset", "tiny", "--out", str(run), "--steps", str(steps),
                 "--batch-size", str(batch_size), "--seq-len", str(seq_len), "--lr", str(lr), "--val-every", str(steps),
                 "--log-every", str(max(1, steps // 4)), "--checkpoint-every", "0", "--device", "cpu", "--no-plot",
                 "--peak-flops", "1e12"]) == 0
    return run
