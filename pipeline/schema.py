"""The document record that flows between stages, and the Parquet schema it is written with.

Inside the pipeline a document is a plain dict whose keys are the Parquet columns below (plus, for
dropped documents, `drop_reason` and, for duplicates, `duplicate_of`). Plain dicts pickle fast and
need no coder registration, which matters on Dataflow/Flink/Spark workers.
"""

from __future__ import annotations

import hashlib

import pyarrow as pa

# The columns of a corpus shard (DESIGN.md fixes the names; other tools read them).
SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("url", pa.string()),
        ("host", pa.string()),
        ("title", pa.string()),
        ("text", pa.string()),
        ("date", pa.string()),
        ("reddit_score", pa.int64()),
        ("reddit_subreddits", pa.list_(pa.string())),
        ("reddit_submissions", pa.int64()),
        ("language", pa.string()),
        ("language_score", pa.float64()),
        ("quality_score", pa.float64()),
        ("warc_file", pa.string()),
        ("warc_record_id", pa.string()),
        ("warc_date", pa.string()),
        ("crawl", pa.string()),
    ]
)

# Shards under OUT/dropped/ carry why a document was removed and, for a duplicate, the id it duplicates.
DROPPED_SCHEMA = SCHEMA.append(pa.field("drop_reason", pa.string())).append(pa.field("duplicate_of", pa.string()))

COLUMNS = tuple(SCHEMA.names)


def doc_id(canonical_url: str) -> str:
    """A stable document id: the first 128 bits of SHA-256 of the canonical URL, in hex.

    Stable across runs, runners and machines, so ids can be used to join corpora and to break ties.
    """
    return hashlib.sha256(canonical_url.encode("utf-8")).hexdigest()[:32]


def drop(doc: dict, reason: str, duplicate_of: str | None = None) -> dict:
    """A copy of `doc` marked as dropped, for OUT/dropped/ (--keep-dropped)."""
    out = dict(doc)
    out["drop_reason"] = reason
    out["duplicate_of"] = duplicate_of
    return out
