"""The GPT-3-style quality classifier: a fastText model telling Reddit-linked pages from the rest.

GPT-3 (Brown et al. 2020, appendix A) trained a classifier with WebText as positives and unfiltered
Common Crawl as negatives, scored every Common Crawl document with it, and kept a document when
`np.random.pareto(alpha) > 1 - score` (alpha 9): mostly high scores, yet some low-scoring documents
for diversity. We train the same with fastText (supervised, word n-grams): positives are documents
of a corpus built from Reddit links, negatives those of a `build-corpus --no-links` corpus (or
the pages of WARC files, extracted and language-filtered here).

Here: reading corpora, the text normalisation shared by training and scoring, training with a
held-out evaluation (precision, recall, F1, ROC AUC), saving, scoring, and the Pareto decision.
"""

from __future__ import annotations

import hashlib
import os
import random
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from webtext import atomic
from webtext.corpus_layout import corpus_files
from webtext.errors import UserError
from webtext.pipeline.filters.lang import load_fasttext

POSITIVE, NEGATIVE = "__label__pos", "__label__neg"


def fasttext_input(text: str) -> str:
    """What the classifier sees: lower-cased, one line, single spaces (training and scoring alike)."""
    return " ".join(text.lower().split())


# --- reading corpora ------------------------------------------------------------------------------


def is_warc(path: str) -> bool:
    return ".warc" in Path(path).name


def warc_texts(path: str, lang: dict | None = None, extract: dict | None = None) -> list[str]:
    """Extracted text of every HTML page in one WARC (any page: no Reddit join), kept as build-corpus
    --no-links keeps it: lid.176 names one of lang["langs"] ([] or no `lang`: any language) with at
    least lang["threshold"]. `lang` and `extract` are those config sections (default: the defaults).
    Extraction runs isolated, as in the pipeline, so one pathological page cannot hang training."""
    from webtext.pipeline.extract.isolated import ExtractError, ExtractTimeout, IsolatedExtractor, decode_html
    from webtext.pipeline.filters.lang import LanguageIdentifier
    from webtext.pipeline.run.config import default_config
    from webtext.pipeline.sources.warc_reader import warc_pages

    defaults = default_config()
    lang, extract = lang or {**defaults["lang"], "langs": []}, extract or defaults["extract"]
    langs, timeout_s = lang["langs"], extract["timeout_s"]
    texts = []
    extractor = IsolatedExtractor(timeout_s)
    try:
        for page in warc_pages(path):
            try:
                result = extractor(decode_html(page.html, page.charset), page.url)
            except (ExtractTimeout, ExtractError):
                continue  # the pipeline counts these; here a missing negative costs nothing
            if result and result["text"].strip():
                texts.append(result["text"])
    finally:
        extractor.close()
    if not langs or not texts:
        return texts
    predicted = LanguageIdentifier(lang["model"] or None).predict_batch(texts)
    return [t for t, (code, score) in zip(texts, predicted) if code in langs and score >= lang["threshold"]]


def read_texts(paths: list[str], warc_lang: dict | None = None) -> list[str]:
    """The non-empty `text` column of every shard of every corpus in `paths`; a path that names
    WARC files (a file or a glob) contributes the extracted text of its pages instead."""
    import glob

    import pyarrow.parquet as pq

    texts = []
    for path in paths:
        if is_warc(path):
            files = sorted(glob.glob(path)) if glob.has_magic(path) else [path]
            if not files or not all(os.path.isfile(f) for f in files):
                raise UserError(f"WARC file not found: {path}")
            for f in files:
                texts.extend(warc_texts(f, warc_lang))
            continue
        for f in corpus_files(path):
            try:
                column = pq.read_table(f, columns=["text"]).column("text").to_pylist()
            except Exception as e:  # pyarrow raises several types for a bad or foreign file
                raise UserError(f"cannot read the text column of {f}: {e}") from None
            texts.extend(t for t in column if t and t.strip())
    return texts


# --- evaluation -----------------------------------------------------------------------------------


def roc_auc(scores, labels) -> float:
    """ROC AUC as the Mann-Whitney statistic: the chance that a random positive outscores a random
    negative (ties count half), from average ranks. NaN when a class is missing."""
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels, dtype=bool)
    n_pos = int(labels.sum())
    n_neg = len(labels) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(scores, kind="mergesort")
    _, inverse, counts = np.unique(scores[order], return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    average_rank = (ends - counts + 1 + ends) / 2.0  # 1-based ranks; tied scores share their mean
    ranks = np.empty(len(scores))
    ranks[order] = average_rank[inverse]
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def binary_metrics(scores, labels, threshold: float = 0.5) -> dict:
    """Precision, recall and F1 of "positive" at `threshold`, plus ROC AUC and the class counts."""
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels, dtype=bool)
    predicted = scores >= threshold
    tp = int((predicted & labels).sum())
    precision = tp / max(int(predicted.sum()), 1)
    recall = tp / max(int(labels.sum()), 1)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "auc": roc_auc(scores, labels),
        "accuracy": float((predicted == labels).mean()) if len(labels) else float("nan"),
        "positives": int(labels.sum()),
        "negatives": int((~labels).sum()),
    }


# --- training -------------------------------------------------------------------------------------


@dataclass
class TrainOptions:
    # fastText's own defaults (5 epochs, lr 0.1) underfit a few thousand documents; measured on real
    # articles vs WARC pages, 20 epochs at lr 0.5 lift held-out AUC from ~0.82 to ~0.96.
    epochs: int = 20
    lr: float = 0.5
    word_ngrams: int = 2
    dim: int = 64
    min_count: int = 2
    holdout: float = 0.2
    balance: bool = True
    max_docs: int = 0  # per class; 0 = all
    seed: int = 0
    threads: int = 1  # fastText is deterministic only with one thread


def _split(texts: list[str], holdout: float, rng: random.Random) -> tuple[list[str], list[str]]:
    texts = list(texts)
    rng.shuffle(texts)
    n_test = max(1, round(len(texts) * holdout))
    return texts[n_test:], texts[:n_test]


def train(positives: list[str], negatives: list[str], opts: TrainOptions):
    """(fastText model, held-out metrics): each class is shuffled and split apart (stratified), so
    the held-out set has both classes in the training proportions."""
    import fasttext

    if not 0.0 < opts.holdout < 1.0:
        raise UserError(f"--holdout must lie strictly between 0 and 1, got {opts.holdout}")
    for name, texts in (("positive", positives), ("negative", negatives)):
        if len(texts) < 2:
            raise UserError(f"need at least 2 {name} documents to train and evaluate, got {len(texts)}")
    rng = random.Random(opts.seed)
    positives, negatives = list(positives), list(negatives)
    if opts.balance:  # equal classes: the prior of P(positive) is then 0.5, as the Pareto rule assumes
        n = min(len(positives), len(negatives))
        positives, negatives = rng.sample(positives, n), rng.sample(negatives, n)
    if opts.max_docs:
        positives = rng.sample(positives, min(opts.max_docs, len(positives)))
        negatives = rng.sample(negatives, min(opts.max_docs, len(negatives)))
    pos_train, pos_test = _split(positives, opts.holdout, rng)
    neg_train, neg_test = _split(negatives, opts.holdout, rng)
    lines = [f"{POSITIVE} {fasttext_input(t)}\n" for t in pos_train] + [f"{NEGATIVE} {fasttext_input(t)}\n" for t in neg_train]
    rng.shuffle(lines)
    with tempfile.TemporaryDirectory(prefix="webtext-qc-") as tmp:  # fastText trains from a file
        train_path = os.path.join(tmp, "train.txt")
        with open(train_path, "w", encoding="utf-8") as f:
            f.writelines(lines)
        try:
            model = fasttext.train_supervised(
                input=train_path,
                epoch=opts.epochs,
                lr=opts.lr,
                wordNgrams=opts.word_ngrams,
                dim=opts.dim,
                minCount=opts.min_count,
                thread=opts.threads,
                seed=opts.seed,
                verbose=0,
            )
        except RuntimeError as e:  # fastText's "Encountered NaN": the learning rate is too high
            raise UserError(f"fastText training failed ({e}); try a lower --lr") from None
    scores = score_texts(model, pos_test + neg_test)
    metrics = binary_metrics(scores, [True] * len(pos_test) + [False] * len(neg_test))
    metrics.update(train_positives=len(pos_train), train_negatives=len(neg_train))
    return model, metrics


def save(model, out: str, metrics: dict, opts: TrainOptions, sources: dict) -> str:
    """Write the model and `OUT.json` beside it, each atomically; returns the JSON path."""
    out_path = Path(out)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with atomic.atomic_path(out_path) as tmp:
        model.save_model(tmp)
    meta = {"model": out_path.name, "labels": [POSITIVE, NEGATIVE], "metrics": metrics, "options": asdict(opts), "sources": sources}
    return atomic.write_json(f"{out}.json", meta, sort_keys=True)


# --- scoring --------------------------------------------------------------------------------------


def score_texts(model, texts: list[str]) -> list[float]:
    """P(positive) for each text, from a model trained by `train` (both labels asked for, so the
    probability is there even when "negative" wins)."""
    labels, probs = model.predict([fasttext_input(t) for t in texts], k=2)
    scores = []
    for lab, p in zip(labels, probs):
        by_label = dict(zip(lab, p))
        if POSITIVE in by_label:
            scores.append(min(float(by_label[POSITIVE]), 1.0))
        else:  # only "negative" came back (fastText drops labels of probability ~0)
            scores.append(max(0.0, 1.0 - float(by_label.get(NEGATIVE, 1.0))))
    return scores


def load_classifier(path: str):
    """A model saved by `webtext train-quality-classifier`, checked to carry our two labels."""
    model = load_fasttext(path)
    if set(model.get_labels()) != {POSITIVE, NEGATIVE}:
        raise UserError(f"{path} is not a quality classifier (labels {model.get_labels()[:5]}, want {POSITIVE} and {NEGATIVE})")
    return model


def document_seed(doc_id: str, seed: int) -> int:
    """A 64-bit seed from the document id and the run's seed: same document, same draw, any worker."""
    return int.from_bytes(hashlib.sha256(f"{seed}:{doc_id}".encode("utf-8")).digest()[:8], "little")


def pareto_keep(doc_id: str, score: float, alpha: float = 9.0, seed: int = 0) -> bool:
    """GPT-3's rule: keep when a Pareto(alpha) draw exceeds 1 - score (P(keep) = (2 - score) ** -alpha)."""
    return bool(np.random.default_rng(document_seed(doc_id, seed)).pareto(alpha) > 1.0 - score)
