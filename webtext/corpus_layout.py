"""The corpus folder: which files in it are the corpus, and which are its side files.

build-corpus writes the folder; the tokenizer, the quality classifier's trainer and users' own tools
read it. This module is the one place that knows its layout:

    OUT/train-00000-of-00004.parquet ...        the corpus shards (one row per document)
    OUT/_manifest.json                          written last: counters, shard list, options
    OUT/_dropped/dropped-00000-of-00001.parquet with --keep-dropped: dropped documents, with drop_reason
    OUT/_demo-inputs/                           the demo's generated WARC and dump
    OUT/_report/                                the corpus report (report.md, plots, dataset card)

so that the folder reads as a dataset with every tool's own rules: pyarrow's and Spark's readers skip
paths that start with "_" or "."; Hugging Face `datasets` takes the files named after a split
(`train-*`) when a folder has them; a `*.parquet` glob (DuckDB) sees only the shards.

Folders written before this layout (`part-*.parquet`, `manifest.json`, `dropped/`) still read: a
reader given a folder takes every Parquet file below it except those in side folders and hidden or
`_`-prefixed paths (Spark's `_temporary/`, editors' lock files), in sorted order, so any folder of
Parquet files with a `text` column (ours or anyone's) reads as a corpus.
"""

from __future__ import annotations

import os
from pathlib import Path

from webtext.errors import UserError

SHARD_PREFIX = "train-"
DROPPED_PREFIX = "dropped-"
MANIFEST = "_manifest.json"
DROPPED_DIR = "_dropped"
DEMO_INPUTS = "_demo-inputs"
REPORT_DIR = "_report"
LEGACY = {"manifest": "manifest.json", "shard_prefix": "part-", "dropped_dir": "dropped"}
SIDE_DIRS = frozenset({DROPPED_DIR, LEGACY["dropped_dir"]})


def shard_name(index: int, count: int, prefix: str = SHARD_PREFIX) -> str:
    return f"{prefix}{index:05d}-of-{count:05d}.parquet"


def is_corpus_path(rel: Path) -> bool:
    """True for a path (relative to the corpus folder) that belongs to the corpus itself."""
    return not any(part in SIDE_DIRS or part.startswith((".", "_")) for part in rel.parts)


def corpus_files(path: str | os.PathLike) -> list[Path]:
    """The Parquet files of a corpus: `path` itself when it is a file, else every corpus Parquet file
    below the folder, sorted; a UserError when there is none."""
    root = Path(path)
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise UserError(f"corpus folder {root} does not exist")
    files = sorted(p for p in root.rglob("*.parquet") if p.is_file() and is_corpus_path(p.relative_to(root)))
    if not files:
        raise UserError(f"corpus folder {root} has no .parquet files")
    return files


def manifest_of(folder: str | os.PathLike) -> Path | None:
    """The manifest of a corpus folder (this layout's or the one before), or None."""
    for name in (MANIFEST, LEGACY["manifest"]):
        if (Path(folder) / name).is_file():
            return Path(folder) / name
    return None
