"""Small helpers the end-to-end tests share."""

import json

import pyarrow.parquet as pq

from webtext.cli import main
from webtext.corpus_layout import MANIFEST

SKIP_ALL = ["--skip", "lang,quality,dedup"]


def run_build_corpus(args) -> int:
    """build-corpus in this process, as the console script runs it; returns the exit status."""
    return main(["build-corpus", *args])


def read_corpus(out):
    """(manifest, rows of every shard) of a corpus folder."""
    manifest = json.loads((out / MANIFEST).read_text())
    rows = [r for s in manifest["shards"] for r in pq.read_table(out / s["path"]).to_pylist()]
    return manifest, rows
