"""trafilatura's settings as the `[extract]` config section: one frozen, checked dataclass.

The defaults were chosen by measurement (`webtext eval-extract`, docs/extraction.md): on both
ground-truth sets we have they score at or above trafilatura's defaults and run about 1.4x faster
(one core). What each key means for trafilatura:

* include_comments: trafilatura appends reader comments after the main text by default; they are
  not the article (every ground truth leaves them out) and finding them costs time.
* include_tables: text inside <table>.
* focus: "balanced" (trafilatura's default), "precision" (favor_precision: less text, surer) or
  "recall" (favor_recall: more text when unsure).
* fallback: trafilatura's main pass is followed by a comparison with readability and jusText
  ("always", its default), skipped ("never": trafilatura's `fast=True`), or run only when the fast
  pass found less than `fallback_below` characters ("short": the comparison rarely changes a long
  text but often rescues a short one, so long pages cost a fast pass and short ones both).

Pure (no Beam, no trafilatura import): the worker process builds it from a JSON line.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass

from webtext.errors import UserError

FOCUS = ("balanced", "precision", "recall")
FALLBACK = ("always", "never", "short")
_MAX_FALLBACK_BELOW = 1_000_000


@dataclass(frozen=True)
class ExtractSettings:
    include_comments: bool = False
    include_tables: bool = True
    focus: str = "recall"
    fallback: str = "short"
    fallback_below: int = 500

    def __post_init__(self):
        for key in ("include_comments", "include_tables"):
            if not isinstance(getattr(self, key), bool):
                raise UserError(f"config: extract.{key} must be true or false, got {getattr(self, key)!r}")
        if self.focus not in FOCUS:
            raise UserError(f"config: extract.focus must be one of {', '.join(FOCUS)}, got {self.focus!r}")
        if self.fallback not in FALLBACK:
            raise UserError(f"config: extract.fallback must be one of {', '.join(FALLBACK)}, got {self.fallback!r}")
        if isinstance(self.fallback_below, bool) or not isinstance(self.fallback_below, int) or not 1 <= self.fallback_below <= _MAX_FALLBACK_BELOW:
            raise UserError(f"config: extract.fallback_below must be a whole number of characters in [1, {_MAX_FALLBACK_BELOW}], got {self.fallback_below!r}")

    @classmethod
    def from_config(cls, section: dict) -> ExtractSettings:
        """The settings named in an `[extract]` section (its other keys belong to the stage)."""
        return cls(**{f.name: section[f.name] for f in dataclasses.fields(cls) if f.name in section})

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ExtractSettings:
        return cls(**json.loads(text))

    def trafilatura_kwargs(self, fast: bool | None = None) -> dict:
        """The keyword arguments of `trafilatura.extract` / `bare_extraction` for these settings;
        `fast` given: for one pass of the "short" fallback (fast first, then the full cascade)."""
        if fast is None:
            fast = self.fallback == "never"
        return {
            "include_comments": self.include_comments,
            "include_tables": self.include_tables,
            "favor_precision": self.focus == "precision",
            "favor_recall": self.focus == "recall",
            "fast": fast,
        }


TRAFILATURA_DEFAULTS = ExtractSettings(include_comments=True, include_tables=True, focus="balanced", fallback="always")
