"""The named heuristic quality rules, in the order they run: Gopher repetition, Gopher quality, C4,
FineWeb (FineWeb's own pipeline order; cheap whole-document checks first within each family). The
first rule a document fails is the reason it is dropped.

Sources: Rae et al. 2021 (Gopher), Table A1 and section A.1.1; Raffel et al. 2020 (C4) and TFDS's
c4_utils; Penedo et al. 2024 (FineWeb) "custom filters". Each family lives in its own module.
"""

from __future__ import annotations

from webtext.pipeline.filters.quality import c4, fineweb, gopher
from webtext.pipeline.filters.quality.family import Rule
from webtext.pipeline.filters.quality.textview import TextView

FAMILIES = (gopher.REPETITION, gopher.QUALITY, c4.C4, fineweb.FINEWEB)
FAMILY_NAMES = tuple(f.name for f in FAMILIES)


def all_rules() -> list[Rule]:
    """Every rule, in the order they run."""
    return [r for family in FAMILIES for r in family.rules]


def active_rules(config: dict) -> list[str]:
    """The names of the rules that run under `config` (the `[quality]` table), in order."""
    return [r.name for family in FAMILIES if config[family.name]["enabled"] for r in family.rules
            if r.name not in config["disabled_rules"]]


def apply_rules(text: str, config: dict) -> tuple[str | None, str]:
    """(name of the first rule `text` fails or None, the text as the rules leave it).

    `config` is the `[quality]` table: each family's sub-table has `enabled` and its thresholds,
    and rules named in `disabled_rules` are skipped. The text changes only through a rewriter."""
    disabled = config["disabled_rules"]
    view = TextView(text)
    for family in FAMILIES:
        cfg = config[family.name]
        if not cfg["enabled"]:
            continue
        for r in family.rules:
            if r.name not in disabled and r.fails(view, cfg):
                return r.name, view.text
        new_text = family.rewrite(view, cfg) if family.rewrite else None
        if new_text is not None and new_text != view.text:
            view = TextView(new_text)
    return None, view.text
