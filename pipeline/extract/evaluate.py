"""Extraction quality: token-level precision, recall and F1 against a ground-truth text.

The metric of the ScrapingHub article-extraction benchmark: both texts split into whitespace
tokens, overlap counted as a multiset intersection.
"""

from __future__ import annotations

from collections import Counter


def token_prf(predicted: str | None, truth: str) -> tuple[float, float, float]:
    """(precision, recall, F1) of `predicted` against `truth`; an empty prediction scores 0."""
    pred, gold = Counter((predicted or "").split()), Counter(truth.split())
    overlap = sum((pred & gold).values())
    if not overlap:
        return 0.0, 0.0, 0.0
    precision, recall = overlap / sum(pred.values()), overlap / sum(gold.values())
    return precision, recall, 2 * precision * recall / (precision + recall)
