"""C4's rules (Raffel et al. 2020, section 2.2; TFDS c4_utils).

C4 is a line filter: it keeps only lines that look like sentences (terminal punctuation, at least
`min_words_per_line` words, no "javascript", no cookie/terms-of-use notices, no absurdly long word)
and then drops pages with fewer than `min_sentences` sentences left, pages containing "lorem ipsum",
and pages containing a curly bracket (code).

Whether the line filter edits the text is `edit_lines` in [quality.c4]. Default: no. Our text comes
from trafilatura, which already removed navigation and notices, and what C4's line filter would still
cut from an article is its headings, list items and captions (no terminal punctuation): real content
that GPT-2's WebText kept and the ground truth of the extraction benchmarks contains. So by default
the kept lines decide only whether a page has enough sentence-like text (`c4_min_sentences`), and the
page keeps its text whole. `edit_lines = true` reproduces C4 (the page keeps only those lines).
"""

from __future__ import annotations

from webtext.pipeline.filters.quality.family import RuleFamily
from webtext.pipeline.filters.quality.textview import ELLIPSES, SENTENCE_END_RE, TERMINAL_PUNCT, TextView

C4 = RuleFamily("c4")

# Lines with these (lower-cased) are site notices, not content (TFDS c4_utils' list).
POLICY_PHRASES = ("terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies", "use cookies")


def c4_kept_lines(view: TextView, cfg: dict) -> list[str]:
    """The lines C4's line filter keeps (computed once per document)."""
    if "c4_kept_lines" in view.cache:
        return view.cache["c4_kept_lines"]
    lower = view.lower
    # Look for the phrases per line only when the page has them at all (it rarely does).
    javascript = cfg["drop_javascript_lines"] and "javascript" in lower
    policy = cfg["drop_policy_lines"] and any(p in lower for p in POLICY_PHRASES)
    min_words, max_word = cfg["min_words_per_line"], cfg["max_word_length"]
    kept = []
    for line in view.lines:
        if not line.endswith(TERMINAL_PUNCT) or line.endswith(ELLIPSES):
            continue  # not a finished sentence: a heading, a menu item, a teaser
        words = line.split()
        if len(words) < min_words or (len(line) > max_word and max(map(len, words)) > max_word):
            continue
        if javascript and "javascript" in line.lower():
            continue  # "please enable JavaScript" notices
        if policy and any(p in line.lower() for p in POLICY_PHRASES):
            continue
        kept.append(line)
    view.cache["c4_kept_lines"] = kept
    return kept


@C4.rule
def c4_lorem_ipsum(view: TextView, cfg: dict) -> bool:
    """Fails when the page contains "lorem ipsum": placeholder text from a template."""
    return "lorem ipsum" in view.lower


@C4.rule
def c4_curly_bracket(view: TextView, cfg: dict) -> bool:
    """Fails when the page contains '{': C4's test for code (CSS, JavaScript, JSON, source)."""
    return "{" in view.text


@C4.rule
def c4_min_sentences(view: TextView, cfg: dict) -> bool:
    """Fails when the lines C4 keeps hold fewer than `min_sentences` sentences."""
    needed = cfg["min_sentences"]
    found = 0
    for found, _ in enumerate(SENTENCE_END_RE.finditer("\n".join(c4_kept_lines(view, cfg))), start=1):
        if found >= needed:
            break  # enough: no need to count the rest of a long article
    return found < needed


@C4.rewriter
def c4_edit_lines(view: TextView, cfg: dict) -> str | None:
    """With `edit_lines`, a page that passes keeps only the lines C4 keeps."""
    return "\n".join(c4_kept_lines(view, cfg)) if cfg["edit_lines"] else None
