"""Named heuristic quality rules: the Gopher quality and repetition rules, C4's rules and FineWeb's three.

A rule is a function `(view, cfg) -> bool` that returns True when the document FAILS it; its name is
the function's name and is what `quality.dropped.<rule>` counters and `drop_reason`s carry. Rules are
registered in the order they run (cheap whole-document checks first within each family, families in
FineWeb's order: Gopher repetition, Gopher quality, C4, FineWeb), and the first failing rule is the
reason a document is dropped.

`cfg` is the family's config table (`[quality.<family>]` in default_config.toml, which documents
every threshold). The text splits the rules share (lines, words, word n-gram hashes) are computed
once per document by `TextView`. Everything here is pure and fast: regex and str methods for
splitting, numpy for the n-gram statistics, because this stage must cost under 10% of extraction.

Sources: Rae et al. 2021 (Gopher), Table A1 and section A.1.1; Raffel et al. 2020 (C4) and TFDS's
c4_utils; Penedo et al. 2024 (FineWeb) "custom filters".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import Callable

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


# --- the registry ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    name: str
    family: str  # its config section: [quality.<family>]
    fails: Callable[[TextView, dict], bool]
    doc: str


# Families in the order they run (FineWeb's pipeline order); within a family, definition order.
FAMILIES = ("gopher_repetition", "gopher_quality", "c4", "fineweb")
_RULES: dict[str, list[Rule]] = {family: [] for family in FAMILIES}
# A family may also rewrite the text of documents that pass it (C4's line filter, when enabled);
# later families then see the rewritten text.
_REWRITERS: dict[str, Callable[[TextView, dict], str | None]] = {}


def rule(family: str):
    """Register a rule function under its own name."""

    def register(fn):
        _RULES[family].append(Rule(fn.__name__, family, fn, (fn.__doc__ or "").strip()))
        return fn

    return register


def rewriter(family: str):
    """Register `fn(view, cfg) -> new text or None (unchanged)` for documents that pass `family`."""

    def register(fn):
        _REWRITERS[family] = fn
        return fn

    return register


def all_rules() -> list[Rule]:
    """Every rule, in the order they run."""
    return [r for family in FAMILIES for r in _RULES[family]]


def apply_rules(text: str, config: dict) -> tuple[str | None, str]:
    """(name of the first rule `text` fails or None, the text as the rules leave it).

    `config` is the `[quality]` table: each family's sub-table has `enabled` and its thresholds,
    and rules named in `disabled_rules` are skipped. The text changes only through a rewriter."""
    disabled = config["disabled_rules"]
    view = TextView(text)
    for family in FAMILIES:
        cfg = config[family]
        if not cfg["enabled"]:
            continue
        for r in _RULES[family]:
            if r.name not in disabled and r.fails(view, cfg):
                return r.name, view.text
        rewrite = _REWRITERS.get(family)
        new_text = rewrite(view, cfg) if rewrite else None
        if new_text is not None and new_text != view.text:
            view = TextView(new_text)
    return None, view.text


# The rule families live in their own modules; importing them registers their rules.
from webtext.pipeline import rules_c4, rules_gopher  # noqa: E402,F401
