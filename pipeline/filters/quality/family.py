"""A family of quality rules: the rules of one paper, run in the order they are defined.

A rule is a function `(view, cfg) -> bool` that returns True when the document FAILS it; its name is
the function's name and is what `quality.dropped.<rule>` counters and `drop_reason`s carry. `cfg` is
the family's config table, `[quality.<family>]` in run/default_config.toml, which documents every
threshold. A family may also rewrite the text of the documents that pass it (C4's line filter, when
enabled); later families then see the rewritten text.

    C4 = RuleFamily("c4")

    @C4.rule
    def c4_lorem_ipsum(view, cfg):
        return "lorem ipsum" in view.lower
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from webtext.pipeline.filters.quality.textview import TextView


@dataclass(frozen=True)
class Rule:
    name: str
    family: str  # its config section: [quality.<family>]
    fails: Callable[[TextView, dict], bool]
    doc: str


class RuleFamily:
    def __init__(self, name: str):
        self.name = name
        self.rules: list[Rule] = []
        self.rewrite: Callable[[TextView, dict], str | None] | None = None

    def rule(self, fn):
        """Add a rule function under its own name (decorator)."""
        self.rules.append(Rule(fn.__name__, self.name, fn, (fn.__doc__ or "").strip()))
        return fn

    def rewriter(self, fn):
        """Set `fn(view, cfg) -> new text or None (unchanged)` for documents that pass (decorator)."""
        self.rewrite = fn
        return fn
