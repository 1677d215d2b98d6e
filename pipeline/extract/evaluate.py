"""Extraction quality against ground truth: the two metrics and the folders they are read from.

Two kinds of ground truth, each read from a folder in the layout of its public benchmark:

* full body text (ScrapingHub's article-extraction benchmark): `ground-truth.json`
  `{id: {"url", "articleBody"}}` next to `html/<id>.html.gz` (or `.html`). Scored by token-level
  precision, recall and F1: both texts split into whitespace tokens, overlap counted as a multiset
  intersection (the benchmark's own metric).
* text segments (trafilatura's evaluation data): one `*.json` `{url: {"file" or "html_gz", "with":
  [...], "without": [...]}}`, pages under the folder. A `with` segment found in the output is a
  true positive, one missing a false negative; a `without` segment found is a false positive
  (trafilatura's tests/README.rst). Scored per page like the first kind.

Both give one (P, R, F1) per page; a set's figure is the macro mean over its pages, with a
percentile bootstrap interval over pages (paired, for the difference between two extractors).
"""

from __future__ import annotations

import gzip
import json
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from webtext.errors import UserError


def token_prf(predicted: str | None, truth: str) -> tuple[float, float, float]:
    """(precision, recall, F1) of `predicted` against `truth`; an empty prediction scores 0."""
    pred, gold = Counter((predicted or "").split()), Counter(truth.split())
    overlap = sum((pred & gold).values())
    if not overlap:
        return 0.0, 0.0, 0.0
    precision, recall = overlap / sum(pred.values()), overlap / sum(gold.values())
    return precision, recall, 2 * precision * recall / (precision + recall)


def _squash(text: str) -> str:
    return " ".join(text.split())  # a segment may wrap differently in the page and in the output


def segment_prf(predicted: str | None, with_: tuple[str, ...], without: tuple[str, ...]) -> tuple[float, float, float]:
    """(precision, recall, F1) of the segments found in `predicted`; an empty prediction scores 0."""
    text = _squash(predicted or "")
    tp = sum(_squash(s) in text for s in with_)
    fp = sum(_squash(s) in text for s in without)
    if not tp:
        return 0.0, 0.0, 0.0
    precision, recall = tp / (tp + fp), tp / len(with_)
    return precision, recall, 2 * precision * recall / (precision + recall)


@dataclass(frozen=True)
class GoldPage:
    name: str
    html: bytes
    url: str | None
    truth: str | None = None  # full body text, or
    with_: tuple[str, ...] = field(default=())  # segments that belong to the main text
    without: tuple[str, ...] = field(default=())  # and segments that do not

    def score(self, predicted: str | None) -> tuple[float, float, float]:
        if self.truth is not None:
            return token_prf(predicted, self.truth)
        return segment_prf(predicted, self.with_, self.without)


def _read_html(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def _html_file(folder: Path, *names: str) -> Path:
    for name in names:
        if name and (folder / name).is_file():
            return folder / name
    raise UserError(f"eval: no HTML file for {names[0]!r} under {folder}")


def _load_body_set(folder: Path) -> list[GoldPage]:
    truth = json.loads((folder / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for page_id, item in sorted(truth.items()):
        path = _html_file(folder, f"html/{page_id}.html.gz", f"html/{page_id}.html")
        pages.append(GoldPage(page_id, _read_html(path), item.get("url"), truth=item["articleBody"]))
    return pages


def _load_segment_set(folder: Path, index: Path) -> list[GoldPage]:
    entries = json.loads(index.read_text(encoding="utf-8"))
    pages = []
    for url, item in sorted(entries.items()):
        if not item.get("with"):
            continue  # nothing to find: recall undefined (trafilatura's own eval skips these too)
        path = _html_file(folder, item.get("html_gz", ""), item.get("file", ""), f"html/{item.get('file', '')}.gz")
        pages.append(GoldPage(path.name, _read_html(path), url, with_=tuple(item["with"]), without=tuple(item.get("without", ()))))
    return pages


def load_gold(folder: str | Path) -> list[GoldPage]:
    """The pages of one ground-truth folder in either layout (module docstring)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"eval: not a folder: {folder}")
    try:
        if (folder / "ground-truth.json").is_file():
            pages = _load_body_set(folder)
        else:
            indexes = sorted(folder.glob("*.json"))
            if len(indexes) != 1:
                raise UserError(f"eval: {folder} has neither ground-truth.json nor exactly one segment index *.json")
            pages = _load_segment_set(folder, indexes[0])
    except (KeyError, TypeError, AttributeError, json.JSONDecodeError, OSError) as e:
        raise UserError(f"eval: cannot read the ground truth of {folder}: {type(e).__name__}: {e}") from None
    if not pages:
        raise UserError(f"eval: no pages with ground truth in {folder}")
    return pages


def mean(values) -> float:
    values = list(values)
    return sum(values) / len(values)


def bootstrap_interval(values: list[float], baseline: list[float] | None = None, n: int = 1000, seed: int = 0) -> tuple[float, float]:
    """95% percentile interval of the mean of `values` (minus `baseline`, page by page) over `n`
    resamples of the pages; seeded, so a run prints the same interval twice."""
    diffs = values if baseline is None else [a - b for a, b in zip(values, baseline, strict=True)]
    rng, k = random.Random(seed), len(diffs)
    means = sorted(sum(diffs[rng.randrange(k)] for _ in range(k)) / k for _ in range(n))
    return means[int(0.025 * n)], means[min(n - 1, int(0.975 * n))]
