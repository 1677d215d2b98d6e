"""Funnel counters. Every stage counts what it reads, keeps and drops under a `stage.what` name
(DESIGN.md fixes the names); build-corpus reads them back after the run into manifest.json."""

from __future__ import annotations

from apache_beam.metrics import Metrics

NAMESPACE = "webtext"


def counter(name: str):
    """The Beam counter `name` in webtext's namespace (e.g. counter("reddit.lines").inc())."""
    return Metrics.counter(NAMESPACE, name)


class Counters:
    """The counters of one stage (`stage.name` each), added from a dict of counts in one call, so a
    DoFn can count in plain Python per file and report once."""

    def __init__(self, stage: str, names):
        self._c = {name: counter(f"{stage}.{name}") for name in names}

    def add(self, counts: dict) -> None:
        for name, n in counts.items():
            if n:
                self._c[name].inc(n)
