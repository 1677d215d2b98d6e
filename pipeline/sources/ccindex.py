"""The index stage (index mode's input): the Common Crawl URL index, as (canonical URL, Capture) entries.

A crawl is ~90 TB of WARCs; WebText needs a few tens of millions of its records. The index names,
for every capture, its WARC file, offset and length. We read it (CDXJ text as the CC index server
writes it, plain or gzip, or the columnar Parquet index) and keep the HTML 200 captures; the join
stage then matches them with the Reddit links and fetches just those records by byte range.
"""

from __future__ import annotations

import json
import logging

import apache_beam as beam
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems

from webtext.pipeline.core.block import Block
from webtext.pipeline.core.counters import Counters
from webtext.pipeline.io.files import ReadEachFile, open_text_lines
from webtext.pipeline.sources.urls import canonical_url
from webtext.pipeline.sources.warc_reader import Capture

log = logging.getLogger(__name__)

# Columns of Common Crawl's columnar (Parquet) index that we need.
PARQUET_COLUMNS = ["url", "fetch_time", "fetch_status", "content_mime_type", "content_mime_detected",
                   "warc_filename", "warc_record_offset", "warc_record_length"]


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


def index_captures(path: str, stats: dict):
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
            for capture in index_captures(path, stats):
                canonical = canonical_url(capture.url)
                if canonical is not None:
                    yield canonical, capture
        except Exception as e:  # noqa: BLE001 - a broken index file is counted; the others go on
            stats["errors"] += 1
            log.warning("%s: unreadable index file: %s", path, e)
        finally:
            self.counters.add(stats)


class IndexSource(Block):
    """Index file paths (expanded) -> (canonical URL, Capture) for every HTML 200 capture."""

    name = "index"

    def captures(self, paths: list[str]) -> beam.PTransform:
        return ReadEachFile(paths, _ReadIndexFile())
