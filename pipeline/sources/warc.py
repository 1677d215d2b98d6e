"""The warc stage: WARC files in, HTML 200 captures out (index entries in scan mode, whole pages with
--no-links), one file per worker at a time. Damage is counted (`warc.errors`, `warc.truncated`) and
reading goes on (sources/warc_reader.py)."""

from __future__ import annotations

import logging

import apache_beam as beam

from webtext.pipeline.core.block import Block
from webtext.pipeline.core.counters import Counters
from webtext.pipeline.io.files import ReadEachFile
from webtext.pipeline.sources.urls import canonical_url
from webtext.pipeline.sources.warc_reader import DEFAULT_MAX_BODY, STAT_NAMES, warc_captures, warc_pages

log = logging.getLogger(__name__)
_REPORT_EVERY = 256  # pages


class _ReadWarcFile(beam.DoFn):
    """One WARC file in, (canonical URL, item) out for each HTML 200 response: the whole Page, or
    (`captures`) just its Capture, the index entry scan mode joins on."""

    def __init__(self, captures: bool, max_body: int):
        self.captures, self.max_body = captures, max_body
        self.counters = Counters("warc", ("files", *STAT_NAMES))

    def _items(self, path: str, stats: dict):
        if self.captures:
            for item in warc_captures(path, stats, self.max_body):  # Captures, or Pages of a file gzipped whole
                yield canonical_url(item.url), item
        else:
            for page in warc_pages(path, stats, self.max_body):
                yield page.canonical, page

    def _report(self, stats: dict, reported: dict) -> None:
        self.counters.add({k: v - reported[k] for k, v in stats.items()})
        reported.update(stats)

    def process(self, path: str):
        stats = dict.fromkeys(STAT_NAMES, 0)
        reported = dict(stats)
        try:
            for n, item in enumerate(self._items(path, stats), 1):
                if n % _REPORT_EVERY == 0:  # a large file moves the counters (and the progress line) as it is read
                    self._report(stats, reported)
                yield item
        except Exception as e:  # noqa: BLE001 - an unreadable file is counted, the run goes on
            stats["errors"] += 1
            log.warning("%s: unreadable WARC file: %s", path, e)
        finally:
            self._report(stats, reported)
            self.counters.add({"files": 1})


class WarcSource(Block):
    """WARC files (paths already expanded) -> (canonical URL, item) for every HTML 200 response."""

    name = "warc"
    funnel = ("warc.files", "warc.records", "warc.html", "warc.errors", "warc.truncated", "warc.bytes_read")
    flow_in, flow_out = "warc.records", "warc.html"
    errors = ("warc.truncated",)

    def captures(self, paths: list[str], max_body: int = DEFAULT_MAX_BODY) -> beam.PTransform:
        """Scan mode's index, made on the fly: a Capture (file, offset, length) per page, heads only."""
        return ReadEachFile(paths, _ReadWarcFile(True, max_body))

    def pages(self, paths: list[str], max_body: int = DEFAULT_MAX_BODY) -> beam.PTransform:
        """--no-links: every page, read whole (at most `max_body` bytes of a body)."""
        return ReadEachFile(paths, _ReadWarcFile(False, max_body))
