"""The join stage: Reddit links x captures by canonical URL, one capture per URL, then its record.

A keyed join (CoGroupByKey) shuffles both sides by URL, so neither the 40M-link set nor the crawl
ever has to fit in one worker. What is shuffled are index entries (URL, file, offset, length), from a
Common Crawl index or from a scan of the WARCs' heads, never page bodies: only the linked records
are then read in full, each by one byte-range read.

A crawl often holds a URL more than once (re-crawls, http/https, tracking-parameter variants that
canonicalise alike); we keep the newest capture, ties broken by position, so every run, on every
runner, picks the same one.

Before the records are read, the joined URLs are grouped once more, by the payload digest their
capture claims (WARC-Payload-Digest in scan mode, the index's digest): the fetch then reads the pages
of one claim one after the other, and the extractor, fused with it, extracts each payload once
(extract/same_payload.py). With --no-links the pages (bodies and all) are grouped by their own payload
key right before extraction (run/graph.py). Either way the documents do not depend on it: it only
decides what is extracted once.
"""

from __future__ import annotations

import io
import logging
import os

import apache_beam as beam
from fastwarc.warc import ArchiveIterator, WarcRecordType

from webtext.pipeline.core.block import Block
from webtext.pipeline.core.counters import Counters
from webtext.pipeline.core.document import page_record, payload_key
from webtext.pipeline.io import object_store
from webtext.pipeline.sources.ccindex import safe_relative_path
from webtext.pipeline.sources.http_response import inflate
from webtext.pipeline.sources.warc_reader import DEFAULT_MAX_BODY, STAT_NAMES, Capture, Page, crawl_of, page_from_record, timestamp14

log = logging.getLogger(__name__)


_JOIN_COUNTS = ("matched", "duplicate_captures", "links_without_page", "fetch_failed")
# Record bytes kept beyond a page body's limit when a fetched gzip member is inflated: WARC and HTTP
# headers. A member that inflates to more is a body over the limit (or a bomb), and is cut there.
_HEAD_SLACK = 1 << 20


def newest(captures) -> Capture:
    """The capture kept for a URL: the newest, ties broken by (file, offset) so runs agree."""
    return by_preference(captures)[0]


def by_preference(captures) -> list[Capture | Page]:
    """Captures newest first, ties broken by (file, offset): the order they are tried in. A scan gives
    whole Pages instead for a file whose records have no byte range (gzipped whole): they take part
    by their WARC-Date and (file, record id)."""

    def where(c):
        return (c.filename, c.offset, "") if isinstance(c, Capture) else (c.warc_file, -1, c.record_id)

    def when(c):
        return c.timestamp if isinstance(c, Capture) else timestamp14(c.warc_date)

    return sorted(sorted(captures, key=where), key=when, reverse=True)


def record_path(base: str, filename: str) -> str:
    """BASE/filename, refusing a name that would leave the base (index mode reads only under it)."""
    if not base:
        return filename  # scan mode: the scan's own full path
    if not safe_relative_path(filename):
        raise ValueError(f"unsafe WARC filename {filename!r} (outside --cc-base)")
    if "://" in base:
        return f"{base.rstrip('/')}/{filename}"
    root = os.path.realpath(base)
    path = os.path.realpath(os.path.join(root, filename))  # symbolic links resolved: they may point out
    if os.path.commonpath([root, path]) != root:
        raise ValueError(f"unsafe WARC filename {filename!r} (outside --cc-base)")
    return path


def fetch_record(base: str, capture: Capture) -> bytes:
    """The record's bytes, by one byte-range read of BASE/filename (or of filename, with no base)."""
    return object_store.read_range(record_path(base, capture.filename), capture.offset, capture.length)


class _FetchLinked(beam.DoFn):
    """(payload claim, [(url, captures, link facts)]) -> a page record for each URL, one byte-range read each.

    The newest capture is read first; if its read fails or holds no HTML page, the next newest, so a
    bad index entry or a damaged record costs nothing that another capture has. join.matched counts
    the URLs that got a page, join.fetch_failed those whose every capture failed.

    After a scan (`after_scan`), the scan has already counted the records, pages and damage; the
    fetch then adds only the bytes it read again and any read that fails.
    """

    def __init__(self, base: str, after_scan: bool, max_body: int):
        self.base, self.after_scan, self.max_body = base, after_scan, max_body
        self.counters = Counters("warc", STAT_NAMES)
        self.join_counters = Counters("join", _JOIN_COUNTS)

    def _page(self, capture: Capture | Page, stats: dict):
        """The capture's page, or None (its record is not an HTML page); raises when it cannot be read."""
        if isinstance(capture, Page):
            return capture  # read whole by the scan already
        data = fetch_record(self.base, capture)
        stats["bytes_read"] += len(data)
        # A record's byte range: its gzip member (or members: some writers split a record), at most the
        # limit inflated (a bomb stops there), what there is of one cut short (then read as truncated).
        raw = inflate(data, 31, self.max_body + _HEAD_SLACK) if data[:2] == b"\x1f\x8b" else data
        for rec in ArchiveIterator(io.BytesIO(raw), parse_http=False):
            stats["records"] += 1
            if rec.record_type != WarcRecordType.response:
                return None
            name = capture.filename.rsplit("/", 1)[-1]
            page = page_from_record(rec, capture.filename, name, capture.crawl or crawl_of(b"", capture.filename), stats, self.max_body)
            if page is not None:
                stats["errors"] += page.truncated  # a record cut short is damage
            return page
        raise ValueError("no WARC record in the byte range")

    def process(self, element):
        _, urls = element  # the URLs whose captures claim one payload, fetched one after the other
        for canonical, captures, link in urls:
            yield from self._fetch(canonical, captures, link)

    def _fetch(self, canonical: str, captures: list, link: dict):
        """The page of the first capture that reads (by preference), or nothing (join.fetch_failed)."""
        for capture in captures:
            stats = dict.fromkeys(STAT_NAMES, 0)
            page = None
            try:
                page = self._page(capture, stats)
            except Exception as e:  # noqa: BLE001 - a missing file, a bad range, a corrupt member: counted
                stats["errors"] += 1
                stats["records"] = stats["html"] = stats["truncated"] = 0  # a failed read is one error, nothing else
                log.warning("%s: cannot read record: %s", capture, e)
            if self.after_scan:  # the scan counted the record (heads only); add the bytes, a failed read, a cut-off body
                self.counters.add({"bytes_read": stats["bytes_read"], "truncated": stats["truncated"],
                                   "errors": stats["errors"] if not stats["records"] else 0})
            else:
                self.counters.add(stats)
            if page is not None:
                self.join_counters.add({"matched": 1})
                yield page_record(canonical, page, link)
                return
        self.join_counters.add({"fetch_failed": 1})


class _PairLinks(beam.DoFn):
    """(url, {links, captures}) -> (payload claim, (url, its captures by preference, its link facts)) for
    each linked URL with a capture. Keyed by the payload digest its preferred capture claims (else by the
    URL), so that the fetch hands the extractor pages that probably share a payload one after the other
    (extract/same_payload.py checks the claim)."""

    def __init__(self, group: bool = True):
        self.group = group
        self.join_counters = Counters("join", _JOIN_COUNTS)

    def process(self, element):
        canonical, grouped = element
        links, captures = list(grouped["links"]), list(grouped["captures"])
        if not links:
            return
        if not captures:
            self.join_counters.add({"links_without_page": 1})
            return
        self.join_counters.add({"duplicate_captures": len(captures) - 1})
        ordered = by_preference(captures)
        yield same_payload_key(ordered[0].digest if self.group else None, canonical), (canonical, ordered, links[0])


def same_payload_key(claimed_digest: str | None, canonical: str) -> str:
    """Where a page goes in the shuffle that puts pages with one payload next to each other."""
    return f"claim:{claimed_digest}" if claimed_digest else f"url:{canonical}"


class FetchLinkedRecords(beam.PTransform):
    """{"links": (url, facts), "captures": (url, Capture)} -> page records, by byte-range reads."""

    def __init__(self, base: str = "", after_scan: bool = False, max_body: int = DEFAULT_MAX_BODY, group_same_payload: bool = True):
        super().__init__()
        self.base, self.after_scan, self.max_body, self.group = base, after_scan, max_body, group_same_payload

    def expand(self, inputs):
        paired = inputs | "CoGroupByUrl" >> beam.CoGroupByKey() | "PairLinks" >> beam.ParDo(_PairLinks(self.group))
        if self.group:
            paired = paired | "GroupByPayloadClaim" >> beam.GroupByKey()  # index entries only: no page body is shuffled
        else:
            paired = paired | "OneUrlEach" >> beam.Map(lambda keyed: (keyed[0], [keyed[1]]))
        return paired | "FetchRecords" >> beam.ParDo(_FetchLinked(self.base, self.after_scan, self.max_body))


def best_capture(pages):
    """The capture to keep: complete before truncated, then the newest WARC-Date, then the smallest
    (WARC file, record id) so that ties break the same way everywhere."""
    ordered = sorted(pages, key=lambda p: (p.warc_file, p.record_id))
    return max(ordered, key=lambda p: (not p.truncated, p.warc_date or ""))


class _OneCapture(beam.DoFn):
    def __init__(self):
        self.join_counters = Counters("join", _JOIN_COUNTS)

    def process(self, element):
        canonical, pages = element
        pages = list(pages)
        self.join_counters.add({"duplicate_captures": len(pages) - 1})
        yield page_record(canonical, best_capture(pages), None)


class OneCapturePerUrl(beam.PTransform):
    """(url, Page) -> one page record per URL: --no-links mode, every page of the WARCs
    (GPT-3's "all of Common Crawl" path), which has no links to join with."""

    def expand(self, pages):
        return pages | "GroupByUrl" >> beam.GroupByKey() | "OneCapture" >> beam.ParDo(_OneCapture())


class PagesWithOnePayloadTogether(beam.PTransform):
    """Page records (bodies and all) -> the same records, those with one payload key one after the other.

    --no-links reads whole pages, so they have no index entries to group before their bodies are read:
    this groups the pages themselves, after the page filters (prelang drops most of a crawl) and right
    before extraction, which then extracts each payload once (extract/same_payload.py)."""

    def expand(self, pages):
        return (
            pages
            | "KeyByPayload" >> beam.Map(lambda page: (payload_key(page), page))
            | "GroupByPayload" >> beam.GroupByKey()
            | "OneAfterTheOther" >> beam.FlatMap(lambda keyed: keyed[1])
        )


class Join(Block):
    """The join stage: one page record per URL, from links x captures or (--no-links) pages alone."""

    name = "join"
    funnel = ("join.matched", "join.duplicate_captures", "join.links_without_page", "join.fetch_failed")
    flow_in, flow_out = "reddit.urls", "join.matched"  # the links; with --no-links there are none
    losses = ("join.links_without_page", "join.fetch_failed")
    errors = ("join.fetch_failed",)

    def linked(self, base: str = "", after_scan: bool = False, max_body: int = DEFAULT_MAX_BODY,
               group_same_payload: bool = True) -> beam.PTransform:
        """{"links": ..., "captures": ...} -> page records of the linked URLs (at most `max_body`
        bytes of a page body read: [extract] max_html_bytes), those whose captures claim one payload one
        after the other (`group_same_payload`: [extract] same_payload_once)."""
        return FetchLinkedRecords(base, after_scan, max_body, group_same_payload)

    def unlinked(self) -> beam.PTransform:
        """(url, Page) -> one page record per URL (--no-links)."""
        return OneCapturePerUrl()

    def pages_with_one_payload_together(self) -> beam.PTransform:
        """--no-links page records -> the same, those with one payload one after the other."""
        return PagesWithOnePayloadTogether()
