"""FineWeb's own rules (Penedo et al. 2024, "custom filters").

They target list-like pages that pass Gopher and C4: few lines ending in punctuation, mostly short
lines, or characters concentrated in repeated lines.
"""

from __future__ import annotations

from webtext.pipeline.filters.quality.family import RuleFamily
from webtext.pipeline.filters.quality.textview import TextView, ends_sentence

FINEWEB = RuleFamily("fineweb")


@FINEWEB.rule
def fineweb_line_punct(view: TextView, cfg: dict) -> bool:
    """Fails when at most `min_line_punct_fraction` of the lines end in terminal punctuation: lists,
    menus and tables rather than prose."""
    lines = view.lines
    return not lines or sum(map(ends_sentence, lines)) / len(lines) <= cfg["min_line_punct_fraction"]


@FINEWEB.rule
def fineweb_short_lines(view: TextView, cfg: dict) -> bool:
    """Fails when at least `max_short_line_fraction` of the lines have at most `short_line_chars`
    characters: link lists, product grids, captions."""
    lines, limit = view.lines, cfg["short_line_chars"]
    return bool(lines) and sum(len(line) <= limit for line in lines) / len(lines) >= cfg["max_short_line_fraction"]


@FINEWEB.rule
def fineweb_dup_line_chars(view: TextView, cfg: dict) -> bool:
    """Fails when repeated lines hold at least `max_dup_line_chars` of the line characters (a
    stricter cut of Gopher's measure: templated pages repeat their lines)."""
    return view.dup_lines[1] >= cfg["max_dup_line_chars"]
