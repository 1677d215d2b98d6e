"""The join stage: Reddit links x captures by canonical URL, one capture per URL, then its record.

A keyed join (CoGroupByKey) shuffles both sides by URL, so neither the 40M-link set nor the crawl
ever has to fit in one worker. What is shuffled are index entries (URL, file, offset, length), from a
Common Crawl index or from a scan of the WARCs' heads, never page bodies: only the linked records
are then read in full, each by one byte-range read.

A crawl often holds a URL more than once (re-crawls, http/https, tracking-parameter variants that
canonicalise alike); we keep the newest capture, ties broken by position, so every run, on every
runner, picks the same one.
"""

from __future__ import annotations

import io
import logging
import zlib

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from fastwarc.warc import ArchiveIterator, WarcRecordType

from webtext.pipeline.core.block import Block
from webtext.pipeline.core.counters import Counters
from webtext.pipeline.core.document import page_record
from webtext.pipeline.io import http_filesystem
from webtext.pipeline.sources.warc_reader import STAT_NAMES, Capture, crawl_of, page_from_record

log = logging.getLogger(__name__)


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


def newest(captures) -> Capture:
    """The capture kept for a URL: the newest, ties broken by (file, offset) so runs agree."""
    return max(sorted(captures, key=lambda c: (c.filename, c.offset)), key=lambda c: c.timestamp)


def fetch_record(base: str, capture: Capture) -> bytes:
    """The record's bytes, by one byte-range read of BASE/filename (or of filename, with no base)."""
    path = f"{base.rstrip('/')}/{capture.filename}" if base else capture.filename
    if path.startswith(("http://", "https://")):
        return http_filesystem.read_range(path, capture.offset, capture.length)
    with FileSystems.open(path, compression_type="uncompressed") as f:
        f.seek(capture.offset)
        return f.read(capture.length)


def _gunzip_member(data: bytes) -> bytes:
    """Decompress one gzip member, keeping what there is of a member cut short (as a full scan
    does: the record then reads as truncated, and is counted so)."""
    member = zlib.decompressobj(wbits=31)
    return member.decompress(data)


class _FetchLinked(beam.DoFn):
    """(url, {links, captures}) -> a page record for each linked URL, one byte-range read each.

    After a scan (`after_scan`), the scan has already counted the records, pages and damage; the
    fetch then adds only the bytes it read again and any read that fails.
    """

    def __init__(self, base: str, after_scan: bool):
        self.base, self.after_scan = base, after_scan
        self.counters = Counters("warc", STAT_NAMES)
        self.join_counters = JoinCounters()

    def process(self, element):
        canonical, grouped = element
        links, captures = list(grouped["links"]), list(grouped["captures"])
        if not links or not self.join_counters.count(bool(links), len(captures)):
            return
        capture = newest(captures)
        stats = dict.fromkeys(STAT_NAMES, 0)
        try:
            data = fetch_record(self.base, capture)
            stats["bytes_read"] += len(data)
            raw = _gunzip_member(data) if data[:2] == b"\x1f\x8b" else data
            for rec in ArchiveIterator(io.BytesIO(raw), parse_http=False):
                stats["records"] += 1
                if rec.record_type == WarcRecordType.response:
                    name = capture.filename.rsplit("/", 1)[-1]
                    page = page_from_record(rec, capture.filename, name, capture.crawl or crawl_of(b"", capture.filename), stats)
                    if page is not None:
                        stats["errors"] += page.truncated  # a record cut short is damage
                        yield page_record(canonical, page, links[0])
                break  # a byte range holds exactly one record
        except Exception as e:  # noqa: BLE001 - a missing file, a bad range, a corrupt member: counted
            stats["errors"] += 1
            stats["records"] = stats["html"] = stats["truncated"] = 0  # a failed read is one error, nothing else
            log.warning("%s@%d: cannot read record: %s", capture.filename, capture.offset, e)
        finally:
            if self.after_scan and not stats["records"]:
                self.counters.add({"bytes_read": stats["bytes_read"], "errors": stats["errors"]})
            elif self.after_scan:
                self.counters.add({"bytes_read": stats["bytes_read"]})
            else:
                self.counters.add(stats)


class FetchLinkedRecords(beam.PTransform):
    """{"links": (url, facts), "captures": (url, Capture)} -> page records, by byte-range reads."""

    def __init__(self, base: str = "", after_scan: bool = False):
        super().__init__()
        self.base, self.after_scan = base, after_scan

    def expand(self, inputs):
        return (
            inputs
            | "CoGroupByUrl" >> beam.CoGroupByKey()
            | "FetchRecords" >> beam.ParDo(_FetchLinked(self.base, self.after_scan))
        )


def best_capture(pages):
    """The capture to keep: complete before truncated, then the newest WARC-Date, then the smallest
    (WARC file, record id) so that ties break the same way everywhere."""
    ordered = sorted(pages, key=lambda p: (p.warc_file, p.record_id))
    return max(ordered, key=lambda p: (not p.truncated, p.warc_date or ""))


class _OneCapture(beam.DoFn):
    def __init__(self):
        self.join_counters = JoinCounters()

    def process(self, element):
        canonical, pages = element
        pages = list(pages)
        if self.join_counters.count(False, len(pages)):
            yield page_record(canonical, best_capture(pages), None)


class OneCapturePerUrl(beam.PTransform):
    """(url, Page) -> one page record per URL: --no-links mode, every page of the WARCs
    (GPT-3's "all of Common Crawl" path), which has no links to join with."""

    def expand(self, pages):
        return pages | "GroupByUrl" >> beam.GroupByKey() | "OneCapture" >> beam.ParDo(_OneCapture())


class Join(Block):
    """The join stage: one page record per URL, from links x captures or (--no-links) pages alone."""

    name = "join"
    funnel = ("join.matched",)

    def linked(self, base: str = "", after_scan: bool = False) -> beam.PTransform:
        """{"links": ..., "captures": ...} -> page records of the linked URLs."""
        return FetchLinkedRecords(base, after_scan)

    def unlinked(self) -> beam.PTransform:
        """(url, Page) -> one page record per URL (--no-links)."""
        return OneCapturePerUrl()
