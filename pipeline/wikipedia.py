"""The wikipedia stage: drop every *.wikipedia.org page (all languages, mobile), before extraction.

GPT-2 held Wikipedia out of WebText because it is in so many evaluation sets; dropping it before
extraction means no time is spent on those pages.
"""

from __future__ import annotations

import apache_beam as beam

from webtext.pipeline.counters import counter
from webtext.pipeline.urls import host_of, is_wikipedia


class _DropWikipedia(beam.DoFn):
    def __init__(self):
        self.c_dropped = counter("wikipedia.dropped")

    def process(self, element):
        if is_wikipedia(host_of(element[0])):
            self.c_dropped.inc()
            return
        yield element


class DropWikipedia(beam.PTransform):
    """(url, Page, links) -> the same, less every Wikipedia page (counted in wikipedia.dropped)."""

    def expand(self, joined):
        return joined | "DropWikipedia" >> beam.ParDo(_DropWikipedia())
