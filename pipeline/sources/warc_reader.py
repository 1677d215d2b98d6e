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
# A WARC version line, wherever it starts: damage before a record need not end in a line break.
_WARC_LINE = re.compile(rb"WARC/\d\.\d+\r?\n")
_RESYNC_WINDOW = 1 << 20
_CC_CRAWL = re.compile(r"CC-MAIN-\d{4}-\d{2}")
_PEEK = 4096
# Compressions fastwarc cannot read: such a file is one counted error, never read as if it were plain.
_OTHER_COMPRESSIONS = ((b"\x28\xb5\x2f\xfd", "zstd"), (b"BZh", "bzip2"), (b"\xfd7zXZ\x00", "xz"), (b"\x04\x22\x4d\x18", "lz4"))
_SNIFF_BYTES = 1 << 16
DEFAULT_MAX_BODY = 5_000_000  # [extract] max_html_bytes: the readers read no more of a body than this
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
    digest: str | None = None  # the payload digest its writer claims (WARC-Payload-Digest, the index's digest): a grouping hint, never trusted


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
    truncated: bool = False  # the record holds less than its Content-Length says
    too_large: bool = False  # the body is over the reader's limit: `html` is empty, never read whole
    digest: str | None = None  # WARC-Payload-Digest, as Capture.digest


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
            i = -1 if m is None else m.start()
        if i >= 0:
            return base + i
        keep = 16  # a magic or version line cut by the chunk boundary is found in the next round
        carry, base = data[-keep:], base + len(data) - keep


def gzip_members_from(stream, start: int, chunk: int = 1 << 16) -> tuple[bool, int | None]:
    """Walk the gzip members from `start`, decompressing in bounded memory (output is thrown away):
    (the first member is complete, the offset of the member after it or None).

    fastwarc stops quietly at a gzip stream that ends early (a file cut mid-record), and at a record
    whose Content-Length runs past the end of the file, having swallowed every record after it. The
    first is an incomplete member; the second, a member that follows the last record's own."""
    stream.seek(start)
    d, pos, first_done = zlib.decompressobj(wbits=31), start, False
    while True:
        data = stream.read(chunk)
        if not data:
            return first_done, None
        while data:
            if first_done:
                return True, pos
            try:
                d.decompress(data, chunk)
            except zlib.error:
                return False, None
            if d.eof:
                pos += len(data) - len(d.unused_data)
                data, first_done = d.unused_data, True
                d = zlib.decompressobj(wbits=31)
            else:
                pos += len(data) - len(d.unconsumed_tail)
                data = d.unconsumed_tail


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
    """True for an HTTP 200 response with HTML in it (by Content-Type, or by sniffing the first bytes
    of the decoded body when none is sent)."""
    head = _html_200_head(rec)
    if head is None:
        return False
    status, headers, body_at, peek = head
    if headers.get("content-type"):
        return True
    body = peek[body_at:] + rec.reader.read(_SNIFF_BYTES)
    return looks_like_html(HttpResponse(status, headers, decode_body(headers, body, _SNIFF_BYTES)))


# Where one record ends and the next begins: a block that holds this has run past its own end (a
# Content-Length larger than the record), so it is not one page but parts of several.
_RECORD_SEPARATOR = re.compile(rb"\r\n\r\nWARC/\d\.\d+\r\n")


def page_from_record(rec, path: str, name: str, crawl: str | None, stats: dict, max_body: int = DEFAULT_MAX_BODY) -> Page | None:
    """The Page in a response record, or None when it is not an HTTP-200 HTML capture (or, counted in
    stats["errors"], when its block runs into the next record). At most `max_body` + 1 bytes of the
    body are read or inflated: a longer one gives a Page with too_large set and no html."""
    head = _html_200_head(rec)
    if head is None:
        return None
    status, headers, body_at, peek = head
    rest = rec.reader.read(max(0, max_body + 1 - (len(peek) - body_at)))
    body = peek[body_at:] + rest if body_at < len(peek) else rest  # one copy of the body, not two
    if _RECORD_SEPARATOR.search(body):
        stats["errors"] += 1
        log.warning("%s: record %s runs into the next record (its Content-Length is wrong); skipped", path, rec.record_id)
        return None
    too_large = len(body) > max_body
    if not too_large:
        body = decode_body(headers, body, max_body)
        too_large = len(body) > max_body
    resp = HttpResponse(status, headers, b"" if too_large else body)
    if not too_large and not looks_like_html(resp):
        return None
    url = (rec.headers.get("WARC-Target-URI") or "").strip().strip("<>")
    canon = canonical_url(url)
    if canon is None:
        return None
    size = len(peek) + len(rest)
    truncated = not too_large and rec.content_length is not None and size < rec.content_length
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
        too_large=too_large,
        digest=claimed_digest(rec.headers.get("WARC-Payload-Digest")),
    )


_DIGEST = re.compile(r"(?:[A-Za-z0-9-]+:)?([A-Za-z0-9+/=_-]{16,})")


def claimed_digest(value) -> str | None:
    """A digest claim (WARC-Payload-Digest, an index's digest) as a short string, or None. It only puts
    records next to each other (sources/join.py), so its last 16 characters (80 bits of a base32 or hex
    digest) are plenty: they keep the index entries that every capture shuffles small, and a collision
    costs nothing but a saving. A value that is no digest ("-", "sha1:", as some indexers write for
    none) is None: taken as a claim, it would put every such capture under one key."""
    match = _DIGEST.fullmatch(value.strip()) if isinstance(value, str) else None
    return match.group(1)[-16:] if match else None


def timestamp14(warc_date: str | None) -> str:
    """yyyymmddhhmmss, as CDX indexes write capture times, from a WARC-Date (ISO 8601)."""
    return "".join(ch for ch in (warc_date or "") if ch.isdigit())[:14]


def _file_size(path: str) -> int:
    return os.path.getsize(path) if "://" not in path else FileSystems.match([path])[0].metadata_list[0].size_in_bytes


def _starts_member(stream, offset: int) -> bool:
    stream.raw.seek(offset)  # a 3-byte look, not counted as data read
    return stream.raw.read(3) == _GZIP_MAGIC


def _end_of_pass(stream, pass_start: int, last_start: int | None, last_length: int | None, gzipped: bool,
                 size: int) -> tuple[bool, int | None]:
    """When fastwarc ended a pass normally: (the last record is whole, where records it swallowed begin).

    A gzip file is cut short when the last record's member is incomplete; a record whose
    Content-Length ran past the records after it is followed by another member (fastwarc read them as
    its body). In a plain file, a record that claims more bytes than the file has left swallowed
    whatever "WARC/" line follows it."""
    if last_start is None:
        return True, None
    if gzipped:
        # The last record's member; when records share members (a WARC gzipped whole) a record's
        # position is not a member start, and the walk starts where the pass did (always one).
        return gzip_members_from(stream, last_start if _starts_member(stream, last_start) else pass_start)
    if last_length is not None and last_length > size - last_start:
        return True, _next_sync_point(stream, last_start + 1, gzipped)
    return True, None


def _scan(path: str, stats: dict, on_response, every_record: bool = False, size: int | None = None) -> Iterator[tuple[int, object]]:
    """The resilient record loop: (offset, on_response(record, name, crawl)) for each response record
    it returns something for, or (with `every_record`) (offset, that or None) for every record.

    Damage is counted in stats["errors"] and skipped, whatever a record's header claims: after a
    broken record reading resumes at the next gzip member (or "WARC/" line) after the last record that
    parsed; after a record whose Content-Length swallowed the rest of the file, at the first record
    it swallowed. Each record is yielded once, in whichever pass reaches it first.
    """
    for key in STAT_NAMES:
        stats.setdefault(key, 0)
    name = path.rsplit("/", 1)[-1]
    crawl = crawl_of(b"", path)  # Common Crawl paths name the crawl: crawl-data/CC-MAIN-2024-22/...
    stream = CountingReader(FileSystems.open(path, compression_type="uncompressed"))
    try:
        size = _file_size(path) if size is None else size
        magic = stream.read(2) + stream.raw.read(4)  # the magic; the look past gzip's two bytes is not data
        gzipped = magic[:2] == _GZIP_MAGIC[:2]
        other = next((name for sig, name in _OTHER_COMPRESSIONS if magic.startswith(sig)), None)
        if other:
            stats["errors"] += 1
            log.warning("%s: compressed with %s, which the WARC reader does not read (recompress it with gzip, per record)", path, other)
            return
        pos, failed_at, seen = 0, -1, set()
        while pos is not None:
            last_start, last_length, truncated = None, None, False
            stream.seek(pos)
            records, at_pos = 0, 0
            try:
                for rec in ArchiveIterator(stream, parse_http=False):
                    # Records inside one gzip member (a WARC gzipped whole) can share a stream position:
                    # a record is its position and its place among those that share it.
                    at_pos = at_pos + 1 if rec.stream_pos == last_start else 0
                    if (rec.stream_pos, at_pos) in seen:
                        break  # a resumed pass has reached records an earlier pass read
                    last_start, last_length = rec.stream_pos, rec.content_length
                    seen.add((last_start, at_pos))
                    records += 1
                    rtype, item = rec.record_type, None
                    if rtype == RESPONSE:
                        item = on_response(rec, name, crawl)
                    elif rtype == WARCINFO:
                        crawl = crawl_of(rec.reader.read(1 << 16), name) or crawl
                    truncated = getattr(item, "truncated", False)  # a Page knows; a Capture (head only) cannot
                    # request, revisit, metadata, ...: not a page capture
                    if item is not None or every_record:
                        yield last_start, item
                stats["records"] += records
                records = 0
                if not seen:  # not one record in the whole file (an empty file is a failed download too)
                    stats["errors"] += 1
                    log.warning("%s: no WARC record in it (not a WARC file?)", path)
                    break
                whole, swallowed = _end_of_pass(stream, pos, last_start, last_length, gzipped, size)
                if swallowed is not None and (swallowed, 0) not in seen and swallowed > failed_at:
                    stats["errors"] += 1
                    log.warning("%s: the record at offset %s claims %s bytes, past the records after it; reading them again from %d",
                                path, last_start, last_length, swallowed)
                    pos = failed_at = swallowed
                    continue
                if not whole:
                    if not truncated:  # else already counted as a truncated record
                        stats["errors"] += 1
                        log.warning("%s: the file ends inside a gzip member (truncated download?)", path)
                pos = None  # reached the end
            except (OSError, ValueError, EOFError, RuntimeError) as e:
                stats["records"] += records
                # Resume after the last record that parsed (or after the previous failure point).
                if last_start is not None or failed_at < 0:
                    stats["errors"] += 1
                    where = f"after the record at offset {last_start}" if last_start is not None else \
                        ("at its start (not a WARC file?)" if pos == 0 and not seen else f"at offset {pos}")
                    log.warning("%s: broken record or stream %s: %s", path, where, e)
                resume_from = max(pos + 1, (last_start if last_start is not None else pos) + 1, failed_at + 1)
                failed_at = resume_from
                pos = _next_sync_point(stream, resume_from, gzipped)
    finally:
        stats["bytes_read"] += stream.bytes_read
        stream.close()


def warc_pages(path: str, stats: dict | None = None, max_body: int = DEFAULT_MAX_BODY) -> Iterator[Page]:
    """Yield the HTTP-200 HTML response records of one WARC file (local path or any Beam filesystem URL).

    `stats` (a dict) receives the counts: records, html, errors, truncated, bytes_read.
    """
    stats = {} if stats is None else stats

    def page(rec, name, crawl):
        page = page_from_record(rec, path, name, crawl, stats, max_body)
        if page is not None and page.truncated:
            stats["errors"] += 1  # a record cut short is damage, like a broken one
        return page

    for _, item in _scan(path, stats, page):
        if item is not None:
            yield item


def _range_addressable(path: str, starts: list[int]) -> bool:
    """Whether each record can be fetched again by its (offset, length): records at distinct offsets,
    each starting a gzip member (or, in a plain file, a WARC/ line) there. Not so in a WARC gzipped
    whole, one member for all records. Every offset is checked in a local file; a remote one is
    sampled (its first, second and last), each check being a request."""
    if len(set(starts)) != len(starts):
        return False
    sample = starts if "://" not in path else sorted(set(starts[:2] + starts[-1:]))
    with FileSystems.open(path, compression_type="uncompressed") as f:
        for offset in sample:
            f.seek(offset)
            head = f.read(5)
            if not (head.startswith(_GZIP_MAGIC) or head == b"WARC/"):
                return False
    return True


def warc_captures(path: str, stats: dict | None = None, max_body: int = DEFAULT_MAX_BODY) -> Iterator[Capture | Page]:
    """The HTML 200 captures of one WARC file, as index entries (offset and length of each record).

    Only HTTP heads are read; scan mode joins these with the Reddit links and then fetches the few
    linked records again by byte range, so page bodies never go through the shuffle. A record's length
    runs to the next record's start (every record's, in file order, once the whole file is read). A
    file whose records cannot be fetched by range (gzipped whole) gives its Pages instead, read once
    more in full.
    """
    stats = {} if stats is None else stats

    def capture(rec, name, crawl):
        url = (rec.headers.get("WARC-Target-URI") or "").strip().strip("<>")
        if canonical_url(url) is None or not is_html_200(rec):
            return None
        stats["html"] += 1
        return Capture(url, timestamp14(rec.headers.get("WARC-Date")), path, rec.stream_pos, 0, crawl,
                       claimed_digest(rec.headers.get("WARC-Payload-Digest")))

    starts, captures, size = [], [], _file_size(path)
    for offset, item in _scan(path, stats, capture, every_record=True, size=size):
        starts.append(offset)
        if item is not None:
            captures.append(item)
    if starts and not _range_addressable(path, starts):
        log.info("%s: records not addressable by byte range (a WARC gzipped whole?); reading its pages", path)
        again: dict = {}
        yield from warc_pages(path, again, max_body)
        stats["bytes_read"] += again["bytes_read"]
        stats["truncated"] += again["truncated"]
        return
    starts.sort()
    ends = dict(zip(starts, starts[1:] + [size]))
    for c in captures:
        yield dataclasses.replace(c, length=ends[c.offset] - c.offset)
