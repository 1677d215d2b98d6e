"""Index mode: read only the WARC records that Reddit links to, by byte range.

A crawl is ~90 TB of WARCs; WebText needs a few tens of millions of its records. The Common Crawl URL
index names, for every capture, its WARC file, offset and length. So: read the index (CDXJ text as
the CC index server writes it, plain or gzip, or the columnar Parquet index), keep HTML 200
captures, join them with the Reddit links by canonical URL (a keyed join), keep the newest capture
of each URL, and fetch just that record: one gzip member, decoded on its own.
"""

from __future__ import annotations

import io
import json
import logging
import zlib
from dataclasses import dataclass

import apache_beam as beam
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems
from fastwarc.warc import ArchiveIterator, WarcRecordType

from webtext.pipeline import httpfs
from webtext.pipeline.counters import Counters
from webtext.pipeline.inputs import ReadEachFile, open_text_lines
from webtext.pipeline.join import JoinCounters
from webtext.pipeline.urls import canonical_url
from webtext.pipeline.warc import STAT_NAMES, crawl_of, page_from_record

log = logging.getLogger(__name__)

# Columns of Common Crawl's columnar (Parquet) index that we need.
PARQUET_COLUMNS = ["url", "fetch_time", "fetch_status", "content_mime_type", "content_mime_detected",
                   "warc_filename", "warc_record_offset", "warc_record_length"]


@dataclass(frozen=True)
class Capture:
    """One index entry: where a capture of `url` lies."""

    url: str
    timestamp: str  # 14 digits, yyyymmddhhmmss
    filename: str
    offset: int
    length: int


def _is_html(*mimes) -> bool:
    return any(m and "html" in m.lower() for m in mimes)


def parse_cdxj_line(line: bytes | str) -> Capture | None:
    """A CDXJ line (`urlkey timestamp {json}`) as a Capture, or None unless it is an HTML 200 response."""
    if isinstance(line, bytes):
        line = line.decode("utf-8", "replace")
    parts = line.strip().split(" ", 2)
    if len(parts) != 3:
        return None
    try:
        meta = json.loads(parts[2])
        if str(meta.get("status")) != "200" or not _is_html(meta.get("mime"), meta.get("mime-detected")):
            return None
        return Capture(meta["url"], parts[1], meta["filename"], int(meta["offset"]), int(meta["length"]))
    except (ValueError, KeyError, TypeError):
        return None


def _parquet_captures(path: str):
    with FileSystems.open(path, compression_type="uncompressed") as f:
        pf = pq.ParquetFile(f)
        names = set(pf.schema_arrow.names)
        columns = [c for c in PARQUET_COLUMNS if c in names]
        for batch in pf.iter_batches(columns=columns, batch_size=65536):
            for row in batch.to_pylist():
                if row.get("fetch_status") != 200 or not _is_html(row.get("content_mime_type"), row.get("content_mime_detected")):
                    continue
                fetch_time = row.get("fetch_time")
                stamp = fetch_time.strftime("%Y%m%d%H%M%S") if hasattr(fetch_time, "strftime") else str(fetch_time or "")
                yield Capture(row["url"], stamp, row["warc_filename"], int(row["warc_record_offset"]), int(row["warc_record_length"]))


def iter_captures(path: str, stats: dict):
    """The HTML 200 captures of one index file (CDXJ, optionally gzipped, or Parquet)."""
    if path.lower().endswith(".parquet"):
        for capture in _parquet_captures(path):
            stats["entries"] += 1
            yield capture
        return
    with open_text_lines(path) as lines:
        for line in lines:
            stats["entries"] += 1
            capture = parse_cdxj_line(line)
            if capture is None:
                stats["skipped"] += 1
                continue
            yield capture


class _ReadIndexFile(beam.DoFn):
    def __init__(self):
        self.counters = Counters("index", ("entries", "skipped", "errors"))

    def process(self, path: str):
        stats = {"entries": 0, "skipped": 0, "errors": 0}
        try:
            for capture in iter_captures(path, stats):
                canonical = canonical_url(capture.url)
                if canonical is not None:
                    yield canonical, capture
        except Exception as e:  # noqa: BLE001 - a broken index file is counted; the others go on
            stats["errors"] += 1
            log.warning("%s: unreadable index file: %s", path, e)
        finally:
            self.counters.add(stats)


def newest(captures) -> Capture:
    """The capture kept for a URL: the newest, ties broken by (file, offset) so runs agree."""
    return max(sorted(captures, key=lambda c: (c.filename, c.offset)), key=lambda c: c.timestamp)


def fetch_record(base: str, capture: Capture) -> bytes:
    """The record's bytes, by one byte-range read of BASE/filename."""
    path = f"{base.rstrip('/')}/{capture.filename}"
    if path.startswith(("http://", "https://")):
        return httpfs.read_range(path, capture.offset, capture.length)
    with FileSystems.open(path, compression_type="uncompressed") as f:
        f.seek(capture.offset)
        return f.read(capture.length)


def _gunzip_member(data: bytes) -> bytes:
    """Decompress one gzip member, keeping what there is of a member cut short (as a full scan
    does: the record then reads as truncated, and is counted so)."""
    member = zlib.decompressobj(wbits=31)
    return member.decompress(data)


class _FetchLinked(beam.DoFn):
    """(url, {links, captures}) -> (url, Page, link facts) for linked URLs, one byte-range read each."""

    def __init__(self, base: str):
        self.base = base
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
                    page = page_from_record(rec, capture.filename, name, crawl_of(b"", name), stats)
                    if page is not None:
                        yield canonical, page, links[0]
                break  # a byte range holds exactly one record
        except Exception as e:  # noqa: BLE001 - a missing file, a bad range, a corrupt member: counted
            stats["errors"] += 1
            log.warning("%s@%d: cannot read record: %s", capture.filename, capture.offset, e)
        finally:
            self.counters.add(stats)


def ReadIndexCaptures(paths: list[str]) -> beam.PTransform:
    """Index file paths (expanded) -> (canonical URL, Capture) for every HTML 200 capture."""
    return ReadEachFile(paths, _ReadIndexFile())


class FetchLinkedRecords(beam.PTransform):
    """{"links": (url, facts), "captures": (url, Capture)} -> (url, Page, facts), by byte-range reads."""

    def __init__(self, base: str):
        super().__init__()
        self.base = base

    def expand(self, inputs):
        return (
            inputs
            | "CoGroupByUrl" >> beam.CoGroupByKey()
            | "FetchRecords" >> beam.ParDo(_FetchLinked(self.base))
        )
