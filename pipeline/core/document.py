"""The records that flow between blocks, and the Parquet schema documents are written with.

Two kinds of element travel through the stage list, both plain dicts (they pickle fast and need no
coder registration on Dataflow/Flink/Spark workers):

* a *page*, from the join to the extractor: the document's identity and link facts (`id`, `url`,
  `host`, `reddit_*`, `warc_*`, `crawl`) plus the captured `html` bytes and their HTTP `charset`
  (`too_large`: the body was over the readers' limit and not read, `html` is empty);
* a *document*, from the extractor on: the columns of SCHEMA below.

Filters that run before the extractor (wikipedia, urlfilter) see pages, the others documents; both
have `id`, `url` and `host`. A dropped document carries `drop_reason` (and, for a duplicate, the id
it duplicates in `duplicate_of`): DROPPED_SCHEMA, written under OUT/dropped/ with --keep-dropped.
"""

from __future__ import annotations

import hashlib

import pyarrow as pa

from webtext.pipeline.sources.urls import host_of

# The columns of a corpus shard (docs/architecture.md; other tools read them by these names).
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
        ("warc_truncated", pa.bool_()),
        ("crawl", pa.string()),
    ]
)

DROPPED_SCHEMA = SCHEMA.append(pa.field("drop_reason", pa.string())).append(pa.field("duplicate_of", pa.string()))

COLUMNS = tuple(SCHEMA.names)
PAGE_ONLY = ("html", "charset", "too_large")  # what a page carries that a document does not


def doc_id(canonical_url: str) -> str:
    """A stable document id: the first 128 bits of SHA-256 of the canonical URL, in hex.

    Stable across runs, runners and machines, so ids can be used to join corpora and to break ties.
    """
    return hashlib.sha256(canonical_url.encode("utf-8")).hexdigest()[:32]


def payload_key(page: dict) -> str:
    """Pages with equal keys extract alike: SHA-256 of the body and its HTTP charset. A page too large
    to extract has no payload to share. (~0.1 ms for a 100 KB page, against ~10 ms of extraction.)"""
    if page.get("too_large"):
        return f"too_large:{page['id']}"
    return f"{hashlib.sha256(page['html']).hexdigest()[:32]}:{page.get('charset') or ''}"


def page_record(canonical: str, page, links: dict | None) -> dict:
    """The page element for a capture (`Page` from the WARC reader) and its link facts (None: no links)."""
    links = links or {}
    return {
        "id": doc_id(canonical),
        "url": page.url,
        "host": host_of(canonical),
        "reddit_score": links.get("reddit_score"),
        "reddit_subreddits": links.get("reddit_subreddits"),
        "reddit_submissions": links.get("reddit_submissions"),
        "warc_file": page.warc_file,
        "warc_record_id": page.record_id,
        "warc_date": page.warc_date,
        "warc_truncated": page.truncated,
        "crawl": page.crawl,
        "html": page.html,
        "charset": page.charset,
        "too_large": page.too_large,
    }


def document_from_page(page: dict, text: str, title: str | None, date: str | None) -> dict:
    """The document a page becomes once its main text is extracted."""
    doc = {k: v for k, v in page.items() if k not in PAGE_ONLY}
    doc.update(title=title, text=text, date=date, language=None, language_score=None, quality_score=None)
    return doc


def mark_dropped(doc: dict, reason: str, duplicate_of: str | None = None) -> dict:
    """A copy of `doc` marked as dropped, for OUT/dropped/ (--keep-dropped)."""
    out = dict(doc)
    out["drop_reason"] = reason
    out["duplicate_of"] = duplicate_of
    return out
