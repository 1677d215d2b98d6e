"""Reading the `text` column of a corpus folder, streamed: never the whole corpus in memory.

A corpus folder is any tree of Parquet files with a string column `text` (ours, or anyone's); which
files of a folder are the corpus is webtext/corpus_layout.py's rule (side folders such as `dropped/`
and hidden or `_`-prefixed paths are not). Files are taken in sorted path order and rows in file
order, so every run sees the documents in the same order.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pyarrow as pa
import pyarrow.parquet as pq

from webtext.corpus_layout import corpus_files
from webtext.errors import UserError

TEXT = "text"


@dataclass(frozen=True)
class CorpusFile:
    path: Path
    rel: str  # path relative to the corpus folder, as meta.json records it
    rows: int
    bytes: int


def list_corpus(corpus_dir: str | os.PathLike) -> list[CorpusFile]:
    """The corpus's Parquet files, sorted, each checked to have a string `text` column (a UserError if not)."""
    root = Path(corpus_dir)
    if not root.is_dir():
        raise UserError(f"corpus folder {root} does not exist")
    paths = corpus_files(root)
    files = []
    for p in paths:
        try:
            meta = pq.read_metadata(p)
            schema = meta.schema.to_arrow_schema()
        except (pa.ArrowException, OSError) as e:
            raise UserError(f"{p}: not a readable Parquet file ({str(e).splitlines()[0]})") from None
        if TEXT not in schema.names:
            raise UserError(f"{p}: no '{TEXT}' column (columns: {', '.join(schema.names[:12])})")
        typ = schema.field(TEXT).type
        if not (pa.types.is_string(typ) or pa.types.is_large_string(typ) or pa.types.is_string_view(typ)):
            raise UserError(f"{p}: column '{TEXT}' is {typ}, not a string")
        files.append(CorpusFile(p, p.relative_to(root).as_posix(), meta.num_rows, p.stat().st_size))
    return files


def iter_text_arrays(files: list[CorpusFile], batch_rows: int = 1024) -> Iterator[pa.Array]:
    """The `text` column as Arrow arrays of at most `batch_rows` rows, file after file, in row order."""
    for f in files:
        try:
            pf = pq.ParquetFile(f.path)
            for batch in pf.iter_batches(batch_size=batch_rows, columns=[TEXT], use_threads=False):
                arr = batch.column(0)
                # string_view has fewer compute kernels (no binary_length); one layout downstream keeps it simple
                yield arr.cast(pa.large_string()) if pa.types.is_string_view(arr.type) else arr
        except (pa.ArrowException, OSError) as e:
            raise UserError(f"{f.path}: unreadable while streaming ({str(e).splitlines()[0]})") from None


def iter_texts(files: list[CorpusFile], max_chars: int | None = None, batch_rows: int = 1024) -> Iterator[list[str]]:
    """Lists of document texts (nulls left out). With `max_chars`, a sample of about that many characters,
    taken from every file in proportion to its rows (so a sorted or clustered corpus is not sampled from
    its first files only)."""
    total_rows = sum(f.rows for f in files) or 1
    for f in files:
        budget = None if max_chars is None else max_chars * f.rows / total_rows
        for arr in iter_text_arrays([f], batch_rows):
            texts = [t for t in arr.to_pylist() if t is not None]
            if budget is not None:
                kept = []
                for t in texts:
                    if budget <= 0:
                        break
                    kept.append(t)
                    budget -= len(t)
                texts = kept
            if texts:
                yield texts
            if budget is not None and budget <= 0:
                break
