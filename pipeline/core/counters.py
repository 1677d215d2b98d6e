"""Funnel counters: every block counts what it reads, keeps and drops, as Beam counters named
`stage.what` in webtext's namespace; build-corpus reads them back after the run into manifest.json.

Blocks count in plain Python (a dict per file, batch or bundle) and report to Beam in one call:
a Beam counter increment per element would cost more than the filter itself.
"""

from __future__ import annotations

from apache_beam.metrics import Metrics

from webtext.pipeline.core import live_counts

NAMESPACE = "webtext"


class _Counter:
    """A Beam counter that also feeds the local progress line (core/live_counts.py)."""

    __slots__ = ("name", "beam")

    def __init__(self, name: str):
        self.name, self.beam = name, Metrics.counter(NAMESPACE, name)

    def __getstate__(self):
        return self.name

    def __setstate__(self, name):
        self.__init__(name)

    def inc(self, n: int = 1) -> None:
        self.beam.inc(n)
        live_counts.add(self.name, n)


def counter(name: str) -> _Counter:
    """The Beam counter `name` in webtext's namespace (e.g. counter("reddit.lines").inc())."""
    return _Counter(name)


class Counters:
    """Beam counters under one prefix, fed from a dict of counts in one call. Names need not be
    known in advance: a counter is created the first time it is counted."""

    def __init__(self, prefix: str, names=()):
        self.prefix = prefix
        self._c = {name: counter(f"{prefix}.{name}") for name in names}

    def add(self, counts: dict) -> None:
        for name, n in counts.items():
            if n:
                c = self._c.get(name)
                if c is None:
                    c = self._c[name] = counter(f"{self.prefix}.{name}")
                c.inc(n)
