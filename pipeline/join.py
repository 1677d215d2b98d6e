"""The join stage: Reddit links x crawled pages by canonical URL, one capture per URL.

A keyed join (CoGroupByKey) shuffles both sides by URL, so neither the 40M-link set nor the pages
ever have to fit in one worker. A crawl often holds a URL more than once (re-crawls, http/https,
tracking-parameter variants that canonicalise alike); we keep one capture by a fixed rule so every
run, on every runner, picks the same one.
"""

from __future__ import annotations

import apache_beam as beam

from webtext.pipeline.counters import Counters, counter
from webtext.pipeline.urls import host_of, is_wikipedia


def best_capture(pages):
    """The capture to keep: complete before truncated, then the newest WARC-Date, then the smallest
    (WARC file, record id) so that ties break the same way everywhere."""
    ordered = sorted(pages, key=lambda p: (p.warc_file, p.record_id))
    return max(ordered, key=lambda p: (not p.truncated, p.warc_date or ""))


class JoinCounters:
    """The join's funnel counts for one URL, the same in scan mode and index mode."""

    def __init__(self):
        self.counters = Counters("join", ("matched", "duplicate_captures", "links_without_page"))

    def count(self, linked: bool, captures: int) -> bool:
        """Count one URL's outcome; True when it has a capture to keep."""
        if not captures:
            self.counters.add({"links_without_page": int(linked)})
            return False
        self.counters.add({"matched": int(linked), "duplicate_captures": captures - 1})
        return True


class _PickCapture(beam.DoFn):
    def __init__(self, need_link: bool):
        self.need_link = need_link
        self.join_counters = JoinCounters()

    def process(self, element):
        canonical, grouped = element
        pages = list(grouped["pages"])
        links = list(grouped.get("links", ()))
        if (self.need_link and not links) or not self.join_counters.count(bool(links), len(pages)):
            return
        yield canonical, best_capture(pages), (links[0] if links else None)


class JoinLinksAndPages(beam.PTransform):
    """{(url, Page)} and optionally {(url, link facts)} -> (url, Page, link facts or None).

    With links, only linked URLs come out (WebText); without (--no-links), every URL does, which is
    GPT-3's "all of Common Crawl" path.
    """

    def __init__(self, with_links: bool = True):
        super().__init__()
        self.with_links = with_links

    def expand(self, inputs):
        return (
            inputs
            | "CoGroupByUrl" >> beam.CoGroupByKey()
            | "OneCapturePerUrl" >> beam.ParDo(_PickCapture(self.with_links))
        )


class _DropWikipedia(beam.DoFn):
    def __init__(self):
        self.c_dropped = counter("wikipedia.dropped")

    def process(self, element):
        if is_wikipedia(host_of(element[0])):
            self.c_dropped.inc()
            return
        yield element


class DropWikipedia(beam.PTransform):
    """Remove every *.wikipedia.org page (all languages, mobile): GPT-2 held Wikipedia out of WebText
    because it is in so many evaluation sets. Runs before extraction, so no time is spent on them."""

    def expand(self, joined):
        return joined | "DropWikipedia" >> beam.ParDo(_DropWikipedia())
