"""The report's PNG plots (matplotlib, Agg: no display needed). Each function writes one figure and
returns its file name, or None when there is nothing to plot (the report then says so)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from webtext import atomic  # noqa: E402
from webtext.pipeline.report.stats import CorpusStats  # noqa: E402
from webtext.pipeline.run.funnel import StageFunnel  # noqa: E402

DPI = 110


def _save(fig, folder: Path, name: str) -> str:
    fig.tight_layout()
    with atomic.atomic_write(str(folder / name), "wb") as f:
        fig.savefig(f, format="png", dpi=DPI)
    plt.close(fig)
    return name


def _barh(labels: list[str], values: list[float], title: str, xlabel: str, folder: Path, name: str, notes=None):
    if not values:
        return None
    fig, ax = plt.subplots(figsize=(8, max(2.6, 0.9 + 0.32 * len(labels))))
    bars = ax.barh(range(len(labels)), values, color="#4c72b0")
    ax.set_yticks(range(len(labels)), labels)
    ax.invert_yaxis()  # first item on top
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    for bar, note in zip(bars, notes or [f"{v:,.0f}" for v in values]):
        ax.annotate(f" {note}", (bar.get_width(), bar.get_y() + bar.get_height() / 2), va="center", fontsize=8)
    ax.margins(x=0.15)
    return _save(fig, folder, name)


def funnel_chart(stages: list[StageFunnel], folder: Path) -> str | None:
    rows = [s for s in stages if s.n_out is not None]
    if not rows:
        return None
    fig, ax = plt.subplots(figsize=(9, max(2.6, 1.2 + 0.42 * len(rows))))
    y = np.arange(len(rows))
    ax.barh(y, [s.n_in or 0 for s in rows], color="#c6d4e8", label="in")
    ax.barh(y, [s.n_out for s in rows], height=0.5, color="#4c72b0", label="out")
    ax.set_yticks(y, [s.name for s in rows])
    ax.invert_yaxis()
    for i, s in enumerate(rows):
        kept = f"{100 * s.kept:.1f}% kept" if s.kept is not None else ""
        ax.annotate(f" {s.n_out:,} {kept}", (max(s.n_in or 0, s.n_out), i), va="center", fontsize=8)
    counts = [v for s in rows for v in (s.n_in, s.n_out) if v]
    if counts and max(counts) > 1000 * min(counts):  # records in millions, documents in thousands: log scale
        ax.set_xscale("log")
    ax.set_title("Funnel: what each stage took in and passed on, in pipeline order")
    ax.set_xlabel("items (the stage's own unit: dump lines, WARC records, links, pages, documents)")
    ax.margins(x=0.25)
    ax.legend(loc="lower right")
    return _save(fig, folder, "funnel.png")


def _log_bins(values: np.ndarray, n: int = 40):
    hi = max(int(values.max()), 2)
    return np.unique(np.logspace(0, np.log10(hi + 1), n).astype(int))


def lengths(st: CorpusStats, folder: Path) -> str | None:
    if not len(st.words):
        return None
    series = [("words", st.words)] + ([("tokens", st.tokens)] if st.tokens is not None and len(st.tokens) else [])
    fig, axes = plt.subplots(1, len(series), figsize=(5 * len(series) + 1, 3.8), squeeze=False)
    for ax, (unit, values) in zip(axes[0], series):
        ax.hist(np.maximum(values, 1), bins=_log_bins(values), color="#4c72b0")
        ax.set_xscale("log")
        ax.axvline(np.median(values), color="#dd8452", linestyle="--", label=f"median {np.median(values):,.0f}")
        ax.set_title(f"Document length in {unit}")
        ax.set_xlabel(f"{unit} per document (log scale)")
        ax.set_ylabel("documents")
        ax.legend()
    return _save(fig, folder, "lengths.png")


def top_hosts(st: CorpusStats, folder: Path, n: int = 20) -> str | None:
    top = st.hosts.most_common(n)
    return _barh([h for h, _ in top], [c for _, c in top], f"Top {len(top)} hosts by documents", "documents", folder,
                  "hosts.png")


def languages(st: CorpusStats, folder: Path, n: int = 20) -> str | None:
    top = st.languages.most_common(n)
    total = sum(st.languages.values()) or 1
    return _barh([lang for lang, _ in top], [c for _, c in top], "Language mix (fastText lid.176)", "documents", folder,
                 "languages.png", [f"{c:,} ({100 * c / total:.1f}%)" for _, c in top])


def reddit_scores(st: CorpusStats, folder: Path) -> str | None:
    scores = st.reddit_scores
    if not len(scores):
        return None
    fig, ax = plt.subplots(figsize=(7, 3.8))
    ax.hist(np.maximum(scores, 1), bins=_log_bins(scores), color="#4c72b0")
    ax.set_xscale("log")
    ax.set_title("Reddit score of the linking submissions")
    ax.set_xlabel("reddit_score: highest karma of a submission linking the page (log scale)")
    ax.set_ylabel("documents")
    return _save(fig, folder, "reddit_score.png")


def drop_reasons(stages: list[StageFunnel], folder: Path) -> str | None:
    rows = [(f"{s.name}: {line.label}", line.value) for s in stages for line in s.losses if line.value]
    return _barh([r for r, _ in rows], [v for _, v in rows], "Drop reasons, per stage and rule",
                 "items dropped (the stage's unit)", folder, "drop_reasons.png")


def cluster_sizes(stages: list[StageFunnel], folder: Path) -> str | None:
    buckets = next((b for s in stages for label, b in s.histograms.items() if label == "cluster_size"), None)
    if not buckets or not any(v for _, v in buckets):
        return None
    fig, ax = plt.subplots(figsize=(7, 3.8))
    ax.bar([b for b, _ in buckets], [v for _, v in buckets], color="#4c72b0")
    ax.set_title("Duplicate clusters by size (exact and near-duplicates)")
    ax.set_xlabel("cluster size (documents; one kept per cluster)")
    ax.set_ylabel("clusters")
    return _save(fig, folder, "clusters.png")
