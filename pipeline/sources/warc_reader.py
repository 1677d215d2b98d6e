"""Reading WARC files: HTTP-200 HTML response records, as pages or as index entries, robust to damage.

Reading is done by fastwarc (Rust; several times faster than warcio on the same files, see
bench/bench_warc.py). We ask it for raw record blocks and parse the HTTP part ourselves
(`http_response.py`), because real archives carry HTTP heads that strict parsers reject.

A corrupt gzip member or record does not end the file: we count it in `warc.errors`, then resume at
the next gzip member (or the next "WARC/" line in an uncompressed file) after the last good record.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import zlib
from dataclasses import dataclass
from typing import Iterator

from apache_beam.io.filesystems import FileSystems
from fastwarc.warc import ArchiveIterator, WarcRecordType

from webtext.pipeline.io import http_filesystem  # noqa: F401 - registers http(s):// with Beam's FileSystems
from webtext.pipeline.io.streams import CountingReader
from webtext.pipeline.sources.http_response import MAX_HEAD, HttpResponse, decode_body, looks_like_html, parse_http_head
from webtext.pipeline.sources.urls import canonical_url

log = logging.getLogger(__name__)

_GZIP_MAGIC = b"\x1f\x8b\x08"
_WARC_LINE = re.compile(rb"(?:^|\n)WARC/\d")
_RESYNC_WINDOW = 1 << 20
_CC_CRAWL = re.compile(r"CC-MAIN-\d{4}-\d{2}")
_PEEK = 4096
RESPONSE, WARCINFO = WarcRecordType.response, WarcRecordType.warcinfo
STAT_NAMES = ("records", "html", "errors", "truncated", "bytes_read")  # what the readers count, per file


@dataclass(frozen=True)
class Capture:
    """Where one HTML 200 capture of `url` lies: an index entry, from a CC index or from a scan."""

    url: str
    timestamp: str  # 14 digits, yyyymmddhhmmss
    filename: str  # relative to the index's base, or (scan mode) the full path
    offset: int
    length: int
    crawl: str | None = None


@dataclass
class Page:
    """An HTML page as captured: what the join and the extractor need, nothing more."""

    url: str  # WARC-Target-URI as recorded
    canonical: str
    warc_file: str
    record_id: str
    warc_date: str | None
    crawl: str | None
    html: bytes
    charset: str | None  # from the HTTP Content-Type header, when it names one
    truncated: bool = False


def _next_sync_point(stream, start: int, gzipped: bool) -> int | None:
    """The offset of the next gzip member (or WARC header line) at or after `start`."""
    stream.seek(start)
    carry = b""
    base = start
    while True:
        chunk = stream.read(_RESYNC_WINDOW)
        if not chunk:
            return None
        data = carry + chunk
        if gzipped:
            i = data.find(_GZIP_MAGIC)
        else:
            m = _WARC_LINE.search(data)
            i = -1 if m is None else m.start() + (1 if data[m.start() : m.start() + 1] == b"\n" else 0)
        if i >= 0:
            return base + i
        keep = 8
        carry, base = data[-keep:], base + len(data) - keep


def _gzip_tail_complete(stream, start: int) -> bool:
    """True when every gzip member from `start` to the end of the file is complete.

    fastwarc stops quietly at a gzip stream that ends early (a file cut mid-record); this check costs
    one record's worth of decompression per file and turns that into a counted error.
    """
    stream.seek(start)
    data = stream.read()
    while data:
        member = zlib.decompressobj(wbits=31)
        try:
            member.decompress(data)
        except zlib.error:
            return False
        if not member.eof:
            return False
        data = member.unused_data
    return True


def crawl_of(warcinfo: bytes, filename: str) -> str | None:
    """The crawl a WARC belongs to: Common Crawl's id from the file name, else warcinfo's isPartOf."""
    m = _CC_CRAWL.search(filename)
    if m:
        return m.group(0)
    for line in warcinfo.decode("utf-8", "replace").splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() == "ispartof" and value.strip():
            return value.strip()
    return None


def _html_200_head(rec):
    """Read a response record's HTTP head: (status, headers, body offset, bytes read so far), or None
    unless it is an HTTP 200 that may be HTML. Redirects, errors, images and PDFs stop here, without
    their bodies being copied out of the record."""
    block = rec.reader.read(_PEEK)
    head = parse_http_head(block)
    if head is None and len(block) == _PEEK:  # a head longer than the peek (huge cookies, say)
        block += rec.reader.read(MAX_HEAD)
        head = parse_http_head(block)
    if head is None or head[0] != 200:
        return None
    ctype = head[1].get("content-type", "")
    if ctype and "html" not in ctype.lower():
        return None
    return (*head, block)


def is_html_200(rec) -> bool:
    """True for an HTTP 200 response with HTML in it (by Content-Type, or by sniffing when none is sent)."""
    head = _html_200_head(rec)
    if head is None:
        return False
    status, headers, body_at, peek = head
    if headers.get("content-type"):
        return True
    body = peek[body_at:] + rec.reader.read()
    return looks_like_html(HttpResponse(status, headers, decode_body(headers, body)))


def page_from_record(rec, path: str, name: str, crawl: str | None, stats: dict) -> Page | None:
    """The Page in a response record, or None when it is not an HTTP-200 HTML capture."""
    head = _html_200_head(rec)
    if head is None:
        return None
    status, headers, body_at, peek = head
    rest = rec.reader.read()
    body = peek[body_at:] + rest if body_at < len(peek) else rest  # one copy of the body, not two
    resp = HttpResponse(status, headers, decode_body(headers, body))
    if not looks_like_html(resp):
        return None
    url = (rec.headers.get("WARC-Target-URI") or "").strip().strip("<>")
    canon = canonical_url(url)
    if canon is None:
        return None
    size = len(peek) + len(rest)
    truncated = rec.content_length is not None and size < rec.content_length
    if truncated:
        stats["truncated"] += 1  # the caller decides whether it is also an error (once per read path)
        log.warning("%s: record %s is truncated (%d of %d bytes)", path, rec.record_id, size, rec.content_length)
    stats["html"] += 1
    return Page(
        url=url,
        canonical=canon,
        warc_file=name,
        record_id=(rec.record_id or "").strip("<>"),
        warc_date=rec.headers.get("WARC-Date"),
        crawl=crawl,
        html=resp.body,
        charset=resp.charset,
        truncated=truncated,
    )


def timestamp14(warc_date: str | None) -> str:
    """yyyymmddhhmmss, as CDX indexes write capture times, from a WARC-Date (ISO 8601)."""
    return "".join(ch for ch in (warc_date or "") if ch.isdigit())[:14]


def _scan(path: str, stats: dict, on_response, every_record: bool = False) -> Iterator[tuple[int, object]]:
    """The resilient record loop: (offset, on_response(record, name, crawl)) for each response record
    it returns something for, or (with `every_record`) (offset, that or None) for every record.

    Damage is counted in stats["errors"] and skipped: reading resumes at the next gzip member (or
    "WARC/" line) after the last record that parsed.
    """
    for key in STAT_NAMES:
        stats.setdefault(key, 0)
    name = path.rsplit("/", 1)[-1]
    crawl = crawl_of(b"", path)  # Common Crawl paths name the crawl: crawl-data/CC-MAIN-2024-22/...
    local = "://" not in path
    stream = CountingReader(FileSystems.open(path, compression_type="uncompressed"))
    try:
        gzipped = stream.read(2) == _GZIP_MAGIC[:2]
        pos, failed_at = 0, -1
        while pos is not None:
            last_start, truncated = None, False
            if local and pos == 0:
                # The common case: fastwarc reads the file itself, in Rust, with no Python I/O in the loop.
                source = ArchiveIterator(path, parse_http=False, fsspec_args=False)
                stats["bytes_read"] += os.path.getsize(path)
            else:
                stream.seek(pos)
                source = ArchiveIterator(stream, parse_http=False)
            records = 0
            try:
                for rec in source:
                    last_start = rec.stream_pos
                    records += 1
                    rtype, item = rec.record_type, None
                    if rtype == RESPONSE:
                        item = on_response(rec, name, crawl)
                    elif rtype == WARCINFO:
                        crawl = crawl_of(rec.reader.read(), name) or crawl
                    truncated = getattr(item, "truncated", False)  # a Page knows; a Capture (head only) cannot
                    # request, revisit, metadata, ...: not a page capture
                    if item is not None or every_record:
                        yield last_start, item
                stats["records"] += records
                records = 0
                tail = last_start if last_start is not None else pos
                if gzipped and not _gzip_tail_complete(stream, tail):
                    if not truncated:  # else already counted as a truncated record
                        stats["errors"] += 1
                        log.warning("%s: the file ends inside a gzip member (truncated download?)", path)
                pos = None  # reached the end
            except (OSError, ValueError, EOFError, RuntimeError) as e:
                stats["records"] += records
                # Resume after the last record that parsed (or after the previous failure point).
                if last_start is not None or failed_at < 0:
                    stats["errors"] += 1
                    log.warning("%s: broken record or stream after offset %s: %s", path, last_start, e)
                resume_from = max(pos + 1, (last_start if last_start is not None else pos) + 1, failed_at + 1)
                failed_at = resume_from
                pos = _next_sync_point(stream, resume_from, gzipped)
    finally:
        stats["bytes_read"] += stream.bytes_read
        stream.close()


def warc_pages(path: str, stats: dict | None = None) -> Iterator[Page]:
    """Yield the HTTP-200 HTML response records of one WARC file (local path or any Beam filesystem URL).

    `stats` (a dict) receives the counts: records, html, errors, truncated, bytes_read.
    """
    stats = {} if stats is None else stats

    def page(rec, name, crawl):
        page = page_from_record(rec, path, name, crawl, stats)
        if page is not None and page.truncated:
            stats["errors"] += 1  # a record cut short is damage, like a broken one
        return page

    for _, item in _scan(path, stats, page):
        if item is not None:
            yield item


def warc_captures(path: str, stats: dict | None = None) -> Iterator[Capture]:
    """The HTML 200 captures of one WARC file, as index entries (offset and length of each record).

    Only HTTP heads are read; scan mode joins these with the Reddit links and then fetches the few
    linked records again by byte range, so page bodies never go through the shuffle.
    """
    stats = {} if stats is None else stats

    def capture(rec, name, crawl):
        url = (rec.headers.get("WARC-Target-URI") or "").strip().strip("<>")
        if canonical_url(url) is None or not is_html_200(rec):
            return None
        stats["html"] += 1
        return Capture(url, timestamp14(rec.headers.get("WARC-Date")), path, rec.stream_pos, 0, crawl)

    pending = None
    for offset, item in _scan(path, stats, capture, every_record=True):
        if pending is not None:
            yield dataclasses.replace(pending, length=offset - pending.offset)
        pending = item
    if pending is not None:
        yield dataclasses.replace(pending, length=FileSystems.match([path])[0].metadata_list[0].size_in_bytes - pending.offset)
