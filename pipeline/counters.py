"""Funnel counters. Every stage counts what it reads, keeps and drops under a `stage.what` name
(DESIGN.md fixes the names); build-corpus reads them back after the run into manifest.json."""

from __future__ import annotations

from apache_beam.metrics import Metrics

NAMESPACE = "webtext"


def counter(name: str):
    """The Beam counter `name` in webtext's namespace (e.g. counter("reddit.lines").inc())."""
    return Metrics.counter(NAMESPACE, name)
