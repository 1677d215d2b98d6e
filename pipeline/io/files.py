"""Input files: globs expanded once, at pipeline construction, so a typo is one clear line up front;
compressed text opened as lines; one Beam transform that reads each file on whichever worker.

Paths go through Beam's FileSystems, so local paths, gs://, s3:// (with Beam's AWS extra) and
http(s):// inputs all work the same way.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

from webtext.errors import UserError
from webtext.pipeline.io import http_filesystem  # noqa: F401 - registers http(s):// with Beam's FileSystems
from webtext.pipeline.io.streams import ZstdReader

# Real Pushshift dumps are compressed with a 2 GiB window (--long=31); the default limit rejects them.
ZSTD_MAX_WINDOW = 2**31


def expand(patterns: list[str], what: str) -> list[str]:
    """Every file matching the given paths/globs, sorted and de-duplicated; UserError if one matches nothing."""
    paths: set[str] = set()
    for pattern in patterns:
        if os.path.isdir(pattern):  # a local folder means the files in it
            pattern = os.path.join(pattern, "*")
        try:
            matched = [m.path for r in FileSystems.match([pattern]) for m in r.metadata_list]
        except Exception as e:  # noqa: BLE001 - Beam raises several types for a bad path or scheme
            raise UserError(f"cannot list {what} input {pattern!r}: {str(e).splitlines()[0]}") from None
        matched = [p for p in matched if not p.endswith("/") and not os.path.isdir(p)]
        if not matched:
            raise UserError(f"no {what} input matches {pattern!r}")
        for p in matched:
            if "://" not in p and not os.path.isfile(p):  # a pipe, a device: read once, by one process
                raise UserError(f"{what} input {p} is not a regular file (a pipe or a device?); write it to a file first")
        paths.update(matched)
    return sorted(paths)


def open_text_lines(path: str):
    """A binary line iterator over a possibly compressed file (.zst, .xz, .gz, .bz2 or plain)."""
    raw = FileSystems.open(path, compression_type="uncompressed")
    lower = path.lower()
    if lower.endswith((".zst", ".zstd")):
        return io.BufferedReader(ZstdReader(raw, ZSTD_MAX_WINDOW), buffer_size=1 << 20)
    if lower.endswith(".xz"):
        return lzma.open(raw)
    if lower.endswith(".gz"):
        return gzip.open(raw)
    if lower.endswith(".bz2"):
        return bz2.open(raw)
    return io.BufferedReader(raw, buffer_size=1 << 20) if not isinstance(raw, io.BufferedIOBase) else raw


MAX_LINE_BYTES = 1 << 24  # a JSON submission or CDXJ line is a few KB; 16 MiB is no line we want


def iter_lines(stream, max_bytes: int = MAX_LINE_BYTES):
    """The lines of a binary stream, each ending in b"\\n" (but maybe the last); None in place of a
    line longer than `max_bytes`, which is skipped to its end without ever being held in memory."""
    while True:
        line = stream.readline(max_bytes + 1)
        if not line:
            return
        if len(line) > max_bytes and not line.endswith(b"\n"):
            while True:  # the rest of the oversized line, a piece at a time
                more = stream.readline(max_bytes)
                if not more or more.endswith(b"\n"):
                    break
            yield None
            continue
        yield line


def probe_readable(path: str, what: str) -> None:
    """Decompress the first bytes of `path`; UserError with the reason if that fails."""
    try:
        with open_text_lines(path) as f:
            f.read(1 << 16)
    except Exception as e:  # noqa: BLE001 - zstd/lzma/gzip/bz2/OS errors all mean "cannot read this"
        raise UserError(f"cannot read {what} {path}: {str(e).splitlines()[0] if str(e) else type(e).__name__}") from None


class ReadEachFile(beam.PTransform):
    """File paths (already expanded) -> whatever `dofn` yields for each file.

    The paths are shuffled first, so the files spread over all workers instead of being read one
    after the other by the worker that created the list.
    """

    def __init__(self, paths: list[str], dofn: beam.DoFn):
        super().__init__()
        self.paths, self.dofn = sorted(paths), dofn

    def expand(self, pbegin):
        return pbegin | "Paths" >> beam.Create(self.paths) | "SpreadFiles" >> beam.Reshuffle() | "ReadFile" >> beam.ParDo(self.dofn)
