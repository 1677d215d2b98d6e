"""Labelled text for `webtext finetune` and `webtext classify`: reading, the label map, token sequences.

Files: Parquet (any file pyarrow reads) or JSON Lines (`.jsonl`, `.json`, optionally `.gz`), one
example per row with a text column and, for training, a label column. Labels are strings or integers;
the map from label to class index is the sorted set of the training labels, saved as FTDIR/labels.json,
so `classify` gives back the user's own label values. Rows with no text or no label are left out and
counted; a JSONL line that is not a JSON object is counted and skipped.

Sequences: `<|endoftext|>` + the text's tokens, as in pretraining (where each document follows an
end-of-text token); the classifier reads the final state at the text's last token. (Not at a closing
end-of-text token: pretraining teaches the model that what follows one is a new, unrelated document,
so its state there carries little of the text before; measured, a pretrained model then learned less
than a random one.) A text longer than the context keeps its *beginning* (the first seq_len - 1
tokens: the opening of a page or an article says most about what it is). Sequences are right-padded,
so a batch is cut to its longest sequence and no real token attends to padding.
"""

from __future__ import annotations

import gzip
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from webtext import atomic
from webtext.errors import UserError

LABELS_FILE = "labels.json"
JSONL_SUFFIXES = (".jsonl", ".json", ".ndjson")


def _is_jsonl(path: Path) -> bool:
    name = path.name.lower().removesuffix(".gz")
    return name.endswith(JSONL_SUFFIXES)


def read_table(path: str | os.PathLike, columns: list[str], flag: str) -> tuple[pa.Table, int]:
    """(the whole table, JSONL lines skipped) of a Parquet or JSONL file that has `columns`."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{flag} {path}: no such file")
    bad = 0
    if _is_jsonl(path):
        rows = []
        opener = gzip.open if path.name.lower().endswith(".gz") else open
        try:
            with opener(path, "rt", encoding="utf-8", errors="replace") as f:
                for line in f:
                    if not line.strip():
                        continue
                    try:
                        row = json.loads(line)
                    except ValueError:
                        row = None
                    if isinstance(row, dict):
                        rows.append(row)
                    else:
                        bad += 1
            table = pa.Table.from_pylist(rows)
        except (OSError, EOFError, pa.ArrowException) as e:
            raise UserError(f"{flag} {path}: unreadable JSONL ({type(e).__name__}: {e})") from None
    else:
        try:
            table = pq.read_table(path)
        except (pa.ArrowException, OSError) as e:
            raise UserError(f"{flag} {path}: not a readable Parquet or JSONL file ({str(e).splitlines()[0]})") from None
    missing = [c for c in columns if c not in table.column_names]
    if missing:
        raise UserError(f"{flag} {path}: no column {', '.join(map(repr, missing))} "
                        f"(columns: {', '.join(table.column_names[:12]) or 'none'})")
    return table, bad


def texts_of(table: pa.Table, column: str, flag: str) -> list[str | None]:
    col = table.column(column)
    if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type) or pa.types.is_null(col.type)):
        raise UserError(f"{flag}: column {column!r} is {col.type}, not text")
    return [t if t and t.strip() else None for t in col.to_pylist()]


def read_labelled(path, text_column: str, label_column: str, flag: str) -> tuple[list[str], list, dict]:
    """(texts, raw labels, counts of what was left out) of a labelled file."""
    table, bad = read_table(path, [text_column, label_column], flag)
    texts = texts_of(table, text_column, flag)
    labels = table.column(label_column).to_pylist()
    keep = [i for i, (t, y) in enumerate(zip(texts, labels)) if t is not None and y is not None]
    skipped = {"bad_lines": bad, "no_text": sum(t is None for t in texts),
               "no_label": sum(t is not None and y is None for t, y in zip(texts, labels))}
    return [texts[i] for i in keep], [labels[i] for i in keep], skipped


@dataclass
class LabelMap:
    """Class index <-> the user's label value (strings or ints), sorted."""
    names: list

    @classmethod
    def from_labels(cls, values: list, flag: str) -> "LabelMap":
        kinds = {type(v) for v in values}
        if kinds - {int, str} or kinds == {int, str} or bool in kinds:
            raise UserError(f"{flag}: labels must be all strings or all integers, not {', '.join(sorted(k.__name__ for k in kinds))}")
        names = sorted(set(values))
        if len(names) < 2:
            raise UserError(f"{flag}: every example has the label {names[0]!r}; a classifier needs at least two classes"
                            if names else f"{flag}: no labelled examples")
        return cls(names)

    def indices(self, values: list, flag: str) -> np.ndarray:
        index = {v: i for i, v in enumerate(self.names)}
        unseen = sorted({repr(v) for v in values if v not in index})
        if unseen:
            raise UserError(f"{flag}: label(s) {', '.join(unseen[:5])} do not occur in the training data "
                            f"(its labels: {', '.join(map(repr, self.names[:10]))})")
        return np.array([index[v] for v in values], dtype=np.int64)

    def save(self, folder: str | os.PathLike) -> None:
        atomic.write_json(Path(folder) / LABELS_FILE, {"labels": self.names})

    @classmethod
    def load(cls, folder: str | os.PathLike) -> "LabelMap":
        path = Path(folder) / LABELS_FILE
        try:
            return cls(json.loads(path.read_text())["labels"])
        except (OSError, ValueError, KeyError) as e:
            raise UserError(f"{path}: unreadable ({type(e).__name__}); is {folder} a finetune run folder?") from None


def encode(enc, texts: list[str], seq_len: int) -> tuple[np.ndarray, np.ndarray]:
    """(ids (N, seq_len) right-padded, lengths (N,)): end-of-text, then the text's first seq_len - 1 tokens."""
    if seq_len < 2:
        raise UserError(f"--seq-len {seq_len}: at least 2 (the end-of-text token and one of text)")
    eot = enc.eot_token
    ids = np.full((len(texts), seq_len), eot, dtype=np.int64)
    lengths = np.empty(len(texts), dtype=np.int64)
    for i, toks in enumerate(enc.encode_ordinary_batch(texts)):
        toks = toks[: seq_len - 1]
        ids[i, 1: 1 + len(toks)] = toks
        lengths[i] = len(toks) + 1
    return ids, lengths


class ExampleStream:
    """Batches of example indices, a seeded permutation per epoch; the state is one cursor (examples
    consumed), so a resumed run draws exactly the batches the uninterrupted one would."""

    def __init__(self, n: int, batch_size: int, seed: int):
        self.n, self.B, self.seed, self.cursor = n, batch_size, seed, 0
        self._epoch, self._perm = -1, None

    def next_indices(self) -> np.ndarray:
        out = np.empty(self.B, dtype=np.int64)
        for j in range(self.B):
            epoch, i = divmod(self.cursor + j, self.n)
            if epoch != self._epoch:
                self._epoch, self._perm = epoch, np.random.default_rng([self.seed, epoch]).permutation(self.n)
            out[j] = self._perm[i]
        self.cursor += self.B
        return out

    def state_dict(self) -> dict:
        return {"cursor": self.cursor, "seed": self.seed, "n": self.n}

    def load_state_dict(self, state: dict) -> None:
        if state["n"] != self.n:
            raise UserError(f"the checkpoint was trained on {state['n']} examples; --train now has {self.n}")
        self.cursor, self.seed, self._epoch = int(state["cursor"]), int(state["seed"]), -1


def batch(ids: np.ndarray, lengths: np.ndarray, rows: np.ndarray):
    """The rows as torch tensors, cut to the longest sequence among them."""
    import torch

    width = int(lengths[rows].max())
    return torch.from_numpy(ids[rows, :width]), torch.from_numpy(lengths[rows])


def accuracy_and_macro_f1(pred: np.ndarray, gold: np.ndarray, n_classes: int) -> tuple[float, float]:
    """Accuracy, and the unweighted mean of the per-class F1 over the classes that occur in gold or pred
    (scikit-learn's f1_score(average="macro"))."""
    f1s = []
    for c in range(n_classes):
        tp = int(np.sum((pred == c) & (gold == c)))
        fp, fn = int(np.sum((pred == c) & (gold != c))), int(np.sum((pred != c) & (gold == c)))
        if tp + fp + fn:
            f1s.append(2 * tp / (2 * tp + fp + fn))
    return float(np.mean(pred == gold)), float(np.mean(f1s)) if f1s else 0.0
