"""The one Beam adapter every Filter runs through: batching, kept/dropped outputs, counters.

    kept, dropped = docs | FilterTransform(LanguageFilter(cfg))

Kept documents leave on the main output (a document the filter split, as its pieces), dropped ones
(marked with drop_reason) on the DROPPED tagged output. A filter's `side_input()` (a PTransform
from the pipeline's root) reaches it once per worker through `bind`, as a Beam side input. Counts are gathered in plain Python and handed to Beam once per batch and bundle:
`<stage>.kept`, `<stage>.dropped.<reason>` (`<stage>.dropped` for a one-reason stage) and whatever
the filter counted itself with `count()`.

With batch_size > 1 documents are buffered and decided a batch at a time; a buffer still open when
a bundle ends is decided in finish_bundle, where Beam wants WindowedValues, so each buffered
element keeps its timestamp and window.
"""

from __future__ import annotations

import apache_beam as beam
from apache_beam.utils.windowed_value import WindowedValue

from webtext.errors import UserError
from webtext.pipeline.core.block import Drop, Filter
from webtext.pipeline.core.counters import Counters
from webtext.pipeline.core.document import mark_dropped

DROPPED = "dropped"  # the tagged output that carries dropped documents


class _FilterDoFn(beam.DoFn):
    def __init__(self, flt: Filter):
        if flt.batch_size < 1:
            raise UserError(f"{flt.name}: batch_size must be at least 1, got {flt.batch_size}")
        self.flt = flt

    def setup(self):
        self.flt.setup()
        self.counters = Counters(self.flt.prefix())
        self._bound = None

    def start_bundle(self):
        self._buffer = []

    def _route(self, doc: dict, verdict):
        """(kept documents, None) or (None, dropped document), counted: a split document is kept once."""
        if isinstance(verdict, Drop):
            self.flt.counts[self.flt.drop_counter(verdict)] += 1
            return None, mark_dropped(verdict.doc if verdict.doc is not None else doc, verdict.label(self.flt.name), verdict.duplicate_of)
        self.flt.counts["kept"] += 1
        return (verdict if isinstance(verdict, list) else [verdict]), None

    def _report(self):
        self.counters.add(self.flt.counts)
        self.flt.counts.clear()

    def process(self, doc, timestamp=beam.DoFn.TimestampParam, window=beam.DoFn.WindowParam, side=None):
        if side is not None and side is not self._bound:  # the filter's side input (Beam caches it per worker)
            self.flt.bind(side)
            self._bound = side
        if self.flt.batch_size == 1:
            kept, dropped = self._route(doc, self.flt.decide(doc))
            if dropped is None:
                yield from kept
            else:
                yield beam.pvalue.TaggedOutput(DROPPED, dropped)
            return
        self._buffer.append((doc, timestamp, window))
        if len(self._buffer) >= self.flt.batch_size:
            yield from self._flush()

    def finish_bundle(self):
        yield from self._flush()
        self._report()

    def _flush(self):
        batch, self._buffer = self._buffer, []
        if not batch:
            return
        verdicts = self.flt.decide_batch([doc for doc, _, _ in batch])
        if len(verdicts) != len(batch):
            raise RuntimeError(f"{self.flt.name}: decide_batch returned {len(verdicts)} verdicts for {len(batch)} documents")
        for (doc, timestamp, window), verdict in zip(batch, verdicts):
            kept, dropped = self._route(doc, verdict)
            if dropped is None:
                yield from (WindowedValue(k, timestamp, [window]) for k in kept)
            else:
                yield beam.pvalue.TaggedOutput(DROPPED, WindowedValue(dropped, timestamp, [window]))
        self._report()


class FilterTransform(beam.PTransform):
    """docs -> (kept, dropped) through one Filter."""

    def __init__(self, flt: Filter):
        super().__init__(label=flt.name.capitalize())  # so two filters applied unlabelled do not clash
        self.flt = flt

    def expand(self, docs):
        side = self.flt.side_input()
        extra = {"side": beam.pvalue.AsList(docs.pipeline | "SideInput" >> side)} if side is not None else {}
        results = docs | "Decide" >> beam.ParDo(_FilterDoFn(self.flt), **extra).with_outputs(DROPPED, main="kept")
        return results.kept, results[DROPPED]
