"""RUNDIR/metrics.jsonl (one JSON object per optimizer step) and RUNDIR/loss.png.

Each line has at least `step`, `loss`, `lr`, `grad_norm`, `tokens_per_s`, `mfu`; steps with a
validation pass add `val_loss` and `val_bpb` (bits per byte; null without a tokenizer), CUDA runs
`gpu_mem_gb` (peak allocated so far), skipped updates add `skipped` (the reason). Floats are written with
Python's shortest round-trip repr, so a resumed run can be compared bit for bit with an uninterrupted
one; non-finite values become null (JSON has no NaN).

On resume the file is cut back to the checkpoint's step, so steps the killed run logged after its last
checkpoint are not duplicated when the resumed run logs them again.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

from webtext import atomic


def _clean(v):
    return None if isinstance(v, float) and not math.isfinite(v) else v


class MetricsLog:
    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._f = open(self.path, "a", encoding="utf-8")

    def write(self, record: dict) -> None:
        self._f.write(json.dumps({k: _clean(v) for k, v in record.items()}) + "\n")
        self._f.flush()

    def close(self) -> None:
        self._f.close()

    @staticmethod
    def truncate(path: str | os.PathLike, last_step: int) -> None:
        """Keep the records with step <= last_step (and drop a half-written last line)."""
        path = Path(path)
        if not path.is_file():
            return
        kept = []
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                if json.loads(line)["step"] <= last_step:
                    kept.append(line)
            except (ValueError, KeyError, TypeError):
                continue
        atomic.write_text(path, "".join(k + "\n" for k in kept))


def read_metrics(path: str | os.PathLike) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # no display needed
    import matplotlib.pyplot as plt

    return plt


def _save(fig, out_png) -> Path:
    """Write the figure atomically and free it."""
    out_png = Path(out_png)
    with atomic.atomic_path(out_png) as tmp:
        fig.savefig(tmp, format="png")
    _pyplot().close(fig)
    return out_png


def plot_losses(metrics_path: str | os.PathLike, out_png: str | os.PathLike, title: str = "") -> Path | None:
    """Train loss per step and validation loss at its steps, on one chart (written atomically)."""
    records = read_metrics(metrics_path)
    if not records:
        return None
    plt = _pyplot()

    train = [(r["step"], r["loss"]) for r in records if r.get("loss") is not None]
    val = [(r["step"], r["val_loss"]) for r in records if r.get("val_loss") is not None]
    fig, ax = plt.subplots(figsize=(7, 4), dpi=110)
    if train:
        ax.plot(*zip(*train), lw=1, label="train")
    if val:
        ax.plot(*zip(*val), "o-", lw=1.5, ms=3, label="validation")
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy (nats/token)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return _save(fig, out_png)


def plot_finetune(metrics_path: str | os.PathLike, out_png: str | os.PathLike, title: str = "") -> Path | None:
    """A fine-tuning run: L3, L2 and L1 per step (left), validation accuracy and macro-F1 (right)."""
    records = read_metrics(metrics_path)
    if not records:
        return None
    plt = _pyplot()

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), dpi=110)
    for key, name in (("loss", "train L3"), ("clf_loss", "train L2 (labels)"), ("lm_loss", "train L1 (LM)"),
                      ("val_loss", "val L2")):
        points = [(r["step"], r[key]) for r in records if r.get(key) is not None]
        if points:
            left.plot(*zip(*points), "o-" if key.startswith("val") else "-", lw=1, ms=3, label=name)
    left.set_xlabel("step")
    left.set_ylabel("cross-entropy (nats)")
    for key, name in (("val_accuracy", "val accuracy"), ("val_macro_f1", "val macro-F1")):
        points = [(r["step"], r[key]) for r in records if r.get(key) is not None]
        if points:
            right.plot(*zip(*points), "o-", lw=1.5, ms=3, label=name)
    right.set_xlabel("step")
    right.set_ylim(0, 1)
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    return _save(fig, out_png)
