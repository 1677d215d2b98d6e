"""The stage contract: what a block of build-corpus is (docs/architecture.md has the whole story).

Every stage is a Block: a `name` that is at once its entry in the stage list (run/stages.py), its
section of the one config file ([name] in run/default_config.toml) and the prefix of its counters.
Its section arrives validated: types by run/config.py, ranges by the block's own `validate`.

Most blocks are Filters, datatrove-style: `setup()` loads models once per worker, `decide(doc)`
returns the document to keep it (changed or not) or `Drop(reason)` to drop it. A filter knows
nothing of Beam: the one generic adapter (core/beam_filter.py) owns batching, the kept/dropped
outputs, the counters (`<name>.kept`, `<name>.dropped.<reason>`) and what --keep-dropped writes.

    class UrlFilter(Filter):
        name = "urlfilter"

        def setup(self):
            self.blocked = set(self.cfg["hosts"])

        def decide(self, doc):
            return Drop("blocked_host") if doc["host"] in self.blocked else doc

Importing this module does not import Beam.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True)
class Drop:
    """A filter's verdict that a document goes.

    reason        why, as a short name: counted `<stage>.dropped.<reason>`, recorded as the dropped
                  document's drop_reason `<stage>.<reason>`. None for a stage with one reason only:
                  `<stage>.dropped` and `<stage>`.
    doc           the document as it goes, when the filter annotated it first (language, score ...);
                  None: the document as it came.
    duplicate_of  for a duplicate, the id of the document kept in its place.
    """

    reason: str | None = None
    doc: dict | None = None
    duplicate_of: str | None = None

    def label(self, stage: str) -> str:
        return f"{stage}.{self.reason}" if self.reason else stage


class Block:
    """One stage: a name, a config section, counters.

    name            stage-list entry, config section and counter prefix
    counter_prefix  when the counters use another prefix than the name (the writer counts docs.*)
    funnel          every counter of the stage: the manifest reports each even when nothing was counted (as 0)

    How the funnel (sinks/funnel.py) reads the counters, so any stage renders without code of its own:
    flow_in         the counter of what came into the stage (None: flow_out plus the losses)
    flow_out        the counter of what went on (None: `<prefix>.kept`, else flow_in minus the losses)
    losses          counters of what the stage let go, shown as its drop reasons (besides `<prefix>.dropped*`)
    errors          counters of damaged input or failed work, highlighted when not 0 (besides `*.errors`)
    histograms      counter prefixes whose counters are one distribution (`<prefix>.<bucket>`), shown on one line
    """

    name: ClassVar[str]
    counter_prefix: ClassVar[str | None] = None
    funnel: ClassVar[tuple[str, ...]] = ()
    flow_in: ClassVar[str | None] = None
    flow_out: ClassVar[str | None] = None
    losses: ClassVar[tuple[str, ...]] = ()
    errors: ClassVar[tuple[str, ...]] = ()
    histograms: ClassVar[tuple[str, ...]] = ()

    def __init__(self, cfg: dict | None = None):
        self.cfg = cfg or {}

    @classmethod
    def prefix(cls) -> str:
        return cls.counter_prefix or cls.name

    @classmethod
    def funnel_counters(cls, cfg: dict) -> tuple[str, ...]:
        """The counters the manifest shows for this stage even at 0; `cfg` is its section (a stage whose
        counters depend on its settings, such as the quality rules that are on, overrides this)."""
        return cls.funnel

    @classmethod
    def validate(cls, cfg: dict) -> None:
        """Check what a type check cannot (ranges, names, files); raise UserError with the key's path.
        Called once, when the config is loaded."""

    @staticmethod
    def enabled(cfg: dict) -> bool:
        """Whether the stage runs: its section's `enabled` (a stage without one always runs)."""
        return bool(cfg.get("enabled", True))

    def transform(self):
        """The Beam PTransform of this stage: elements -> (kept, dropped); dropped is None for a
        stage whose losses are not documents (the extractor counts pages it could not extract)."""
        raise NotImplementedError


class Filter(Block):
    """A document filter: one job, decided per document (or per batch, for models that prefer bulk).

    batch_size  documents per `decide_batch` call; 1 calls `decide` per document.
    """

    batch_size: int = 1

    @classmethod
    def funnel_counters(cls, cfg: dict) -> tuple[str, ...]:
        return (f"{cls.prefix()}.kept", *cls.funnel)

    def __init__(self, cfg: dict | None = None):
        super().__init__(cfg)
        self.counts: Counter = Counter()  # extra counters (<name>.<what>), drained by the adapter

    def setup(self) -> None:
        """Once per worker, before the first document: load models, compile patterns."""

    def decide(self, doc: dict) -> dict | list[dict] | Drop:
        """The document to keep (the same dict, or a changed copy: never change `doc` in place), or a Drop.
        A list of documents splits it: each leaves as a document of its own (counted kept once)."""
        raise NotImplementedError

    def decide_batch(self, docs: list[dict]) -> list[dict | Drop]:
        """One verdict per document, in order. Override it for models that score many texts at once."""
        return [self.decide(doc) for doc in docs]

    def side_input(self):
        """What every worker needs besides the documents, made in the pipeline (decontam's eval
        n-grams): a PTransform from the pipeline's root to a PCollection, handed to `bind` as a list
        before the first decision. None (the default): no side input."""
        return None

    def bind(self, side: list) -> None:
        """Receive the side input's elements (on the worker, after setup)."""

    def drop_counter(self, drop: Drop) -> str:
        """The counter (under the stage's prefix) a drop is counted in: dropped.<reason>, or dropped."""
        return f"dropped.{drop.reason}" if drop.reason else "dropped"

    def count(self, what: str, n: int = 1) -> None:
        """Count something that is neither kept nor dropped (e.g. quality.other_language)."""
        self.counts[what] += n

    def transform(self):
        from webtext.pipeline.core.beam_filter import FilterTransform

        return FilterTransform(self)
