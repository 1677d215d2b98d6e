"""Gopher's quality and repetition rules (Rae et al. 2021, section A.1.1 and Table A1).

Repetition rules catch pages made of the same lines, paragraphs or phrases over and over (tag clouds,
templated listings, spam); quality rules catch pages that are not running prose (too short, symbol
soup, bullet lists, truncated teasers, no English function words). Thresholds: [quality.gopher_*].
"""

from __future__ import annotations

import re

from webtext.pipeline.filters.quality.family import RuleFamily
from webtext.pipeline.filters.quality.textview import (
    BULLETS,
    ELLIPSES,
    STOP_WORDS,
    TextView,
    duplicate_ngram_char_fraction,
    top_ngram_char_fraction,
)

_LETTER_WORD_RE = re.compile(r"[^\W\d_]\S*")  # from a word's first letter to its end
_SYMBOL_WORD_RE = re.compile(r"(?<!\S)[^\w\s]+(?!\S)")  # a whole word of punctuation/symbols

# --- repetition ------------------------------------------------------------------------------------

REPETITION = RuleFamily("gopher_repetition")


@REPETITION.rule
def gopher_dup_lines(view: TextView, cfg: dict) -> bool:
    """Fails when more than `max_dup_line_fraction` of the lines repeat an earlier line."""
    return view.dup_lines[0] > cfg["max_dup_line_fraction"]


@REPETITION.rule
def gopher_dup_paragraphs(view: TextView, cfg: dict) -> bool:
    """Fails when more than `max_dup_paragraph_fraction` of the paragraphs repeat an earlier one."""
    return view.dup_paragraphs[0] > cfg["max_dup_paragraph_fraction"]


@REPETITION.rule
def gopher_dup_line_chars(view: TextView, cfg: dict) -> bool:
    """Fails when repeated lines hold more than `max_dup_line_chars` of the line characters."""
    return view.dup_lines[1] > cfg["max_dup_line_chars"]


@REPETITION.rule
def gopher_dup_paragraph_chars(view: TextView, cfg: dict) -> bool:
    """Fails when repeated paragraphs hold more than `max_dup_paragraph_chars` of the characters."""
    return view.dup_paragraphs[1] > cfg["max_dup_paragraph_chars"]


def _top_ngram_rule(n: int):
    def fails(view: TextView, cfg: dict) -> bool:
        return top_ngram_char_fraction(view, n) > cfg[f"max_top_{n}gram_chars"]

    fails.__name__ = f"gopher_top_{n}gram"
    fails.__doc__ = f"Fails when the most frequent word {n}-gram covers more than `max_top_{n}gram_chars` of the word characters."
    return REPETITION.rule(fails)


def _dup_ngram_rule(n: int):
    def fails(view: TextView, cfg: dict) -> bool:
        # The fraction never grows with n: if the (n-1)-gram fraction is within this rule's limit,
        # so is this one, and most articles are decided by the 5-gram pass alone.
        known = view.cache.get(("dup_ngram", n - 1))
        if known is not None and known <= cfg[f"max_dup_{n}gram_chars"]:
            view.cache[("dup_ngram", n)] = known  # an upper bound is all the next n needs
            return False
        fraction = view.cache[("dup_ngram", n)] = duplicate_ngram_char_fraction(view, n)
        return fraction > cfg[f"max_dup_{n}gram_chars"]

    fails.__name__ = f"gopher_dup_{n}gram"
    fails.__doc__ = f"Fails when repeated word {n}-grams cover more than `max_dup_{n}gram_chars` of the word characters."
    return REPETITION.rule(fails)


# Gopher checks the top n-gram for short n (a repeated phrase) and all repeated n-grams for long n
# (repeated passages), with thresholds that fall as n grows.
for _n in (2, 3, 4):
    _top_ngram_rule(_n)
for _n in range(5, 11):
    _dup_ngram_rule(_n)

# --- quality ---------------------------------------------------------------------------------------

QUALITY = RuleFamily("gopher_quality")


@QUALITY.rule
def gopher_min_words(view: TextView, cfg: dict) -> bool:
    """Fails with fewer than `min_words` words: too short to be an article."""
    return len(view.words) < cfg["min_words"]


@QUALITY.rule
def gopher_max_words(view: TextView, cfg: dict) -> bool:
    """Fails with more than `max_words` words: dumps, logs, concatenated archives."""
    return len(view.words) > cfg["max_words"]


@QUALITY.rule
def gopher_mean_word_length(view: TextView, cfg: dict) -> bool:
    """Fails when the mean word length is outside [`min_mean_word_length`, `max_mean_word_length`]:
    strings of codes, URLs or run-together tokens rather than words."""
    words = view.words
    mean = sum(map(len, words)) / max(len(words), 1)
    return not cfg["min_mean_word_length"] <= mean <= cfg["max_mean_word_length"]


@QUALITY.rule
def gopher_symbol_ratio(view: TextView, cfg: dict) -> bool:
    """Fails when '#' or ellipses ('...', '…') per word exceed `max_symbol_word_ratio`: hashtag
    spam and teaser lists of truncated snippets."""
    n = max(len(view.words), 1)
    hashes = view.text.count("#")
    ellipses = sum(view.text.count(e) for e in ELLIPSES)
    return max(hashes, ellipses) / n > cfg["max_symbol_word_ratio"]


@QUALITY.rule
def gopher_bullet_lines(view: TextView, cfg: dict) -> bool:
    """Fails when more than `max_bullet_lines` of the lines start with a bullet: a list, not prose."""
    lines = view.lines
    return bool(lines) and sum(line.startswith(BULLETS) for line in lines) / len(lines) > cfg["max_bullet_lines"]


@QUALITY.rule
def gopher_ellipsis_lines(view: TextView, cfg: dict) -> bool:
    """Fails when more than `max_ellipsis_lines` of the lines end with an ellipsis: truncated teasers."""
    lines = view.lines
    return bool(lines) and sum(line.endswith(ELLIPSES) for line in lines) / len(lines) > cfg["max_ellipsis_lines"]


@QUALITY.rule
def gopher_alpha_words(view: TextView, cfg: dict) -> bool:
    """Fails when fewer than `min_alpha_words` of the words contain a letter: numbers, tables, codes.
    Words made only of punctuation ('|' cell borders, '-' bullets: how the extractor writes tables
    and lists) are left out of the count, so an article with a table is judged on its words."""
    words = len(view.words)
    with_letter = len(_LETTER_WORD_RE.findall(view.text))  # one match per word with a letter
    if with_letter >= cfg["min_alpha_words"] * words:
        return False
    return with_letter < cfg["min_alpha_words"] * (words - len(_SYMBOL_WORD_RE.findall(view.text)))


@QUALITY.rule
def gopher_stop_words(view: TextView, cfg: dict) -> bool:
    """Fails when fewer than `min_stop_words` of Gopher's English stop words (the, be, to, of, and,
    that, have, with) occur: real English sentences cannot avoid them, keyword lists do."""
    return len(STOP_WORDS.intersection(view.tokens)) < cfg["min_stop_words"]
