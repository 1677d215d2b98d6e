"""What the quality rules are made of: one document's text split the ways they need (TextView), and
the statistics several families share (repeated lines and n-grams).

The splits (lines, words, word n-gram hashes) are computed at most once per document. Everything here
is pure and fast: regex and str methods for splitting, numpy for the n-gram statistics, because the
quality stage must cost under 10% of extraction.
"""

from __future__ import annotations

import re
from functools import cached_property

import numpy as np

# Line endings that count as the end of a sentence (C4's marks plus curly quotes, the ellipsis
# character and CJK full stops, so quoted speech and non-Latin scripts are not penalised).
TERMINAL_PUNCT = (".", "!", "?", '"', "”", "’", "'", "…", "。", "！", "？")
BULLETS = ("•", "‣", "●", "○", "◦", "▪", "▫", "■", "□", "►", "▶", "➢", "✓", "-", "*", "–", "—", "·")
ELLIPSES = ("...", "…")
STOP_WORDS = frozenset({"the", "be", "to", "of", "and", "that", "have", "with"})  # Gopher's list

_TOKEN_RE = re.compile(r"\w+")
_PARAGRAPH_RE = re.compile(r"\n\s*\n")
# A sentence ends in terminal punctuation (and closing quotes) before a space, the end, or a capital:
# extracted text often loses the space between sentences ("...on Wednesday.The stabbing...").
SENTENCE_END_RE = re.compile(r"[.!?…。！？]+[\"'”’)\]]*(?=\s|$|[A-Z])")
_LINE_STRIP = " \t\r\f\v\u00a0\u200b\u3000\ufeff|"  # whitespace, zero-width spaces, table borders
_HASH_BASE = np.uint64(1_000_003)  # odd multiplier of the polynomial n-gram hash (mod 2**64)


class TextView:
    """One document's text, split the ways the rules need; each split is computed at most once."""

    def __init__(self, text: str):
        self.text = text
        self.cache: dict = {}  # values a family derives from this text under its config (one config per view)

    @cached_property
    def lines(self) -> list[str]:
        """Non-empty lines, stripped of whitespace and of the '|' cell borders trafilatura writes
        around table rows (layout tables can hold a whole article; their rows are still lines)."""
        return [s for s in (line.strip(_LINE_STRIP) for line in self.text.splitlines()) if s]

    @cached_property
    def paragraphs(self) -> list[str]:
        """Blocks separated by blank lines (trafilatura emits one block per line, so often one)."""
        return [s for s in (p.strip(_LINE_STRIP) for p in _PARAGRAPH_RE.split(self.text)) if s]

    @cached_property
    def dup_lines(self) -> tuple[float, float]:
        """(fraction of lines repeating an earlier line, fraction of line characters in them)."""
        return duplicate_fractions(self.lines)

    @cached_property
    def dup_paragraphs(self) -> tuple[float, float]:
        return duplicate_fractions(self.paragraphs)

    @cached_property
    def words(self) -> list[str]:
        """Whitespace-separated words, punctuation attached (as Gopher's word statistics see them)."""
        return self.text.split()

    @cached_property
    def lower(self) -> str:
        return self.text.lower()

    @cached_property
    def tokens(self) -> list[str]:
        """Lower-cased alphanumeric tokens: what n-grams and stop words are made of."""
        return _TOKEN_RE.findall(self.lower)

    @cached_property
    def token_lengths(self) -> np.ndarray:
        return np.fromiter(map(len, self.tokens), dtype=np.int64, count=len(self.tokens))

    @cached_property
    def token_chars(self) -> int:
        return int(self.token_lengths.sum())

    @cached_property
    def _ngram_hashes(self) -> dict[int, np.ndarray]:
        # Tokens -> 64-bit ids (Python's string hash: salted per process, but ids are only compared
        # within one document); n = 1 seeds the incremental n-gram hashes below.
        ids = np.fromiter(map(hash, self.tokens), dtype=np.int64, count=len(self.tokens)).view(np.uint64)
        return {1: ids}

    def ngram_hashes(self, n: int) -> np.ndarray:
        """The hash of the word n-gram at each start position: polynomial in the token ids, built
        from the (n-1)-gram hashes with one vectorised multiply-add (uint64 wraps; collisions are
        negligible at 64 bits)."""
        table = self._ngram_hashes
        if n not in table:
            prev, ids = self.ngram_hashes(n - 1), table[1]
            table[n] = prev[:-1] * _HASH_BASE + ids[n - 1 :] if len(prev) > 1 else ids[:0]
        return table[n]


# --- shared statistics -----------------------------------------------------------------------------


def duplicate_fractions(items: list[str]) -> tuple[float, float]:
    """(fraction of items that repeat an earlier item, fraction of characters in those repeats)."""
    if not items:
        return 0.0, 0.0
    seen: set[str] = set()
    dup_items = dup_chars = total_chars = 0
    for item in items:
        total_chars += len(item)
        if item in seen:
            dup_items += 1
            dup_chars += len(item)
        else:
            seen.add(item)
    return dup_items / len(items), dup_chars / max(total_chars, 1)


def top_ngram_char_fraction(view: TextView, n: int) -> float:
    """Characters in all occurrences of the most frequent word n-gram / all word characters.

    0 when no n-gram occurs twice: a text without repeats has no "top" n-gram to speak of."""
    hashes = view.ngram_hashes(n)
    if len(hashes) < 2:
        return 0.0
    ordered = np.sort(hashes)
    run_starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1], True])
    counts = np.diff(run_starts)
    top = counts.argmax()
    if counts[top] < 2:
        return 0.0
    first = int(np.argmax(hashes == ordered[run_starts[top]]))  # where that n-gram first occurs
    return int(counts[top]) * int(view.token_lengths[first : first + n].sum()) / max(view.token_chars, 1)


def duplicate_ngram_char_fraction(view: TextView, n: int) -> float:
    """Characters of words inside a repeated occurrence of some word n-gram / all word characters.

    An occurrence counts when the same n-gram occurred earlier (the first copy is not a duplicate),
    and a word inside several overlapping repeats counts once, as Gopher specifies. This fraction
    never grows with n (a repeated (n+1)-gram is two overlapping repeated n-grams), which lets the
    rules skip the larger n once a smaller one is low enough."""
    hashes = view.ngram_hashes(n)
    if len(hashes) < 2:
        return 0.0
    order = np.argsort(hashes, kind="stable")  # equal n-grams side by side, earliest first
    ordered = hashes[order]
    starts = order[1:][ordered[1:] == ordered[:-1]]  # every occurrence after the earliest
    if len(starts) == 0:
        return 0.0
    size = len(view.tokens) + 1
    coverage = np.cumsum(np.bincount(starts, minlength=size) - np.bincount(starts + n, minlength=size))[:-1]
    return int(view.token_lengths[coverage > 0].sum()) / max(view.token_chars, 1)


def ends_sentence(line: str) -> bool:
    return line.endswith(TERMINAL_PUNCT)
