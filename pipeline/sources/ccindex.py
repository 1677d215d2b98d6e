"""The index stage (index mode's input): the Common Crawl URL index, as (canonical URL, Capture) entries.

A crawl is ~90 TB of WARCs; WebText needs a few tens of millions of its records. The index names,
for every capture, its WARC file, offset and length. We read it (CDXJ text as the CC index server
writes it, plain or gzip, or the columnar Parquet index) and keep the HTML 200 captures; the join
stage then matches them with the Reddit links and fetches just those records by byte range.
"""

from __future__ import annotations

import json
import logging
import re

import apache_beam as beam
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems

from webtext.errors import UserError
from webtext.pipeline.core.block import Block
from webtext.pipeline.core.counters import Counters
from webtext.pipeline.io.files import ReadEachFile, iter_lines, open_text_lines
from webtext.pipeline.sources.urls import canonical_url
from webtext.pipeline.sources.warc_reader import Capture, claimed_digest

log = logging.getLogger(__name__)

# Columns of Common Crawl's columnar (Parquet) index that we need.
PARQUET_COLUMNS = ["url", "fetch_time", "fetch_status", "content_mime_type", "content_mime_detected",
                   "warc_filename", "warc_record_offset", "warc_record_length", "content_digest"]


SKIPPED, INVALID, UNSAFE = "skipped", "invalid", "unsafe_filename"


def _is_html(*mimes) -> bool:
    return any(isinstance(m, str) and "html" in m.lower() for m in mimes)


def safe_relative_path(name) -> bool:
    """True for a WARC filename that stays inside the base it is relative to: a relative path with no
    scheme, no "..", no backslash or NUL. An index is input, and input must not choose what we read
    (`../secret.warc.gz`, `/etc/passwd`, `http://elsewhere/`, `/dev/zero`)."""
    if not isinstance(name, str) or not name or len(name) > 4096 or not name.isprintable():
        return False
    if name.startswith(("/", "~")) or "://" in name or ":" in name.split("/", 1)[0] or "\\" in name or "\x00" in name:
        return False
    return all(part not in ("..", ".", "") for part in name.split("/"))


def _whole_number(value) -> int | None:
    """An int, or a string of digits (CDXJ writes numbers as strings); None for anything else
    (booleans, fractions, "ten", NaN)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]{1,18}", value.strip()):
        return int(value)
    return None


def checked_capture(url, timestamp, filename, offset, length, max_record_bytes: int, digest=None) -> tuple[str, Capture | None]:
    """(status, capture) for one index entry's fields: "kept", INVALID (a field missing, of the
    wrong type or out of range: a URL that is not one, a negative offset, a length of 0 or past
    `max_record_bytes`) or UNSAFE (a filename that escapes the base)."""
    if not isinstance(url, str) or canonical_url(url) is None:
        return INVALID, None
    if not safe_relative_path(filename):
        return UNSAFE, None
    offset, length = _whole_number(offset), _whole_number(length)
    if offset is None or length is None:
        return INVALID, None
    if offset < 0 or not 0 < length <= max_record_bytes:
        return INVALID, None
    return "kept", Capture(url, str(timestamp or ""), filename, offset, length, digest=claimed_digest(digest))


def classify_cdxj_line(line: bytes | str | None, max_record_bytes: int) -> tuple[str, Capture | None]:
    """One CDXJ line (`urlkey timestamp {json}`): ("kept", Capture) for an HTML 200 response, else
    (SKIPPED, None) for another capture (a redirect, an image), or (INVALID | UNSAFE, None)."""
    if line is None:
        return INVALID, None
    if isinstance(line, bytes):
        line = line.decode("utf-8", "replace")
    parts = line.strip().split(" ", 2)
    if len(parts) != 3:
        return INVALID, None
    try:
        meta = json.loads(parts[2])
    except (ValueError, RecursionError):
        return INVALID, None
    if not isinstance(meta, dict):
        return INVALID, None
    if str(meta.get("status")) != "200" or not _is_html(meta.get("mime"), meta.get("mime-detected")):
        return SKIPPED, None
    return checked_capture(meta.get("url"), parts[1], meta.get("filename"), meta.get("offset"), meta.get("length"), max_record_bytes,
                           meta.get("digest"))


def parse_cdxj_line(line: bytes | str, max_record_bytes: int = 2**26) -> Capture | None:
    """A CDXJ line as a Capture, or None unless it is a sound HTML 200 entry."""
    return classify_cdxj_line(line, max_record_bytes)[1]


def _parquet_entries(path: str, max_record_bytes: int):
    """(status, capture) per row of a columnar index file."""
    with FileSystems.open(path, compression_type="uncompressed") as f:
        pf = pq.ParquetFile(f)
        names = set(pf.schema_arrow.names)
        columns = [c for c in PARQUET_COLUMNS if c in names]
        for batch in pf.iter_batches(columns=columns, batch_size=65536):
            for row in batch.to_pylist():
                if str(row.get("fetch_status")) != "200" or not _is_html(row.get("content_mime_type"), row.get("content_mime_detected")):
                    yield SKIPPED, None
                    continue
                url = row.get("url")
                if isinstance(url, bytes):  # a binary column: the index writer's choice, not damage
                    url = url.decode("utf-8", "replace")
                fetch_time = row.get("fetch_time")
                stamp = fetch_time.strftime("%Y%m%d%H%M%S") if hasattr(fetch_time, "strftime") else str(fetch_time or "")
                yield checked_capture(url, stamp, row.get("warc_filename"), row.get("warc_record_offset"),
                                      row.get("warc_record_length"), max_record_bytes, row.get("content_digest"))


def index_captures(path: str, stats: dict, max_record_bytes: int = 2**26):
    """The sound HTML 200 captures of one index file (CDXJ, optionally gzipped, or Parquet); every
    other entry counted in stats (skipped, invalid, unsafe_filename)."""
    if path.lower().endswith(".parquet"):
        entries = _parquet_entries(path, max_record_bytes)
    else:
        entries = (classify_cdxj_line(line, max_record_bytes) for line in _lines(path))
    for status, capture in entries:
        stats["entries"] += 1
        if capture is None:
            stats[status] += 1
        else:
            yield capture


def _lines(path: str):
    with open_text_lines(path) as stream:
        yield from iter_lines(stream)


_STATS = ("entries", SKIPPED, INVALID, UNSAFE, "errors")


class _ReadIndexFile(beam.DoFn):
    def __init__(self, max_record_bytes: int):
        self.max_record_bytes = max_record_bytes
        self.counters = Counters("index", _STATS)

    def process(self, path: str):
        stats = dict.fromkeys(_STATS, 0)
        try:
            for capture in index_captures(path, stats, self.max_record_bytes):
                yield canonical_url(capture.url), capture
        except Exception as e:  # noqa: BLE001 - a broken index file is counted; the others go on
            stats["errors"] += 1
            log.warning("%s: unreadable index file after %d entries: %s", path, stats["entries"], e)
        finally:
            self.counters.add(stats)


class IndexSource(Block):
    """Index file paths (expanded) -> (canonical URL, Capture) for every sound HTML 200 capture.

    Config [index]: max_record_bytes (an entry claiming a longer record is invalid: Common Crawl's
    records are under a few MB, and a length is how many bytes one fetch reads)."""

    name = "index"
    funnel = ("index.entries", "index.skipped", "index.invalid", "index.unsafe_filename", "index.errors")
    flow_in = "index.entries"
    losses = ("index.skipped", "index.invalid", "index.unsafe_filename")
    errors = ("index.unsafe_filename",)

    @classmethod
    def validate(cls, cfg: dict) -> None:
        if not 1 <= cfg["max_record_bytes"] <= 2**31:
            raise UserError(f"config: index.max_record_bytes must lie in [1, 2^31], got {cfg['max_record_bytes']}")

    def captures(self, paths: list[str]) -> beam.PTransform:
        return ReadEachFile(paths, _ReadIndexFile(self.cfg["max_record_bytes"]))
