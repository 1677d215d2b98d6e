"""Pages with the same payload, extracted once: the extract stage's digest shortcut.

A crawl holds the same HTML under many URLs (http and https, mirrors, session and tracking parameters
that canonicalise apart, re-crawls of an unchanged page). Extraction is a pure function of the bytes
and their charset (the text and title; the date may also read the URL, and is computed per URL), so
each distinct payload is extracted once and its result given to every page that carries it.

The key is our own hash of the decoded body and the HTTP charset, not the record's WARC-Payload-Digest:
that is the writer's claim about the bytes as transferred (before content decoding), never checked by
a reader, and a wrong one would hand one page's text to another. SHA-256 of a 100 KB page costs ~0.1
ms against ~20 ms of extraction.

Grouping is a CombinePerKey, not a GroupByKey: Beam combines before the shuffle (combiner lifting),
so a duplicate's body is dropped on the worker that read it and only one copy of each payload, with
the other pages' fields, crosses the shuffle.
"""

from __future__ import annotations

import hashlib

import apache_beam as beam


def payload_key(page: dict) -> str:
    """Pages with equal keys extract alike. A page too large to extract has no payload to share."""
    if page.get("too_large"):
        return f"too_large:{page['id']}"
    return f"{hashlib.sha256(page['html']).hexdigest()[:32]}:{page.get('charset') or ''}"


def _without_body(page: dict) -> dict:
    return {**page, "html": b""}


class SamePayload(beam.CombineFn):
    """Pages of one payload -> (the page whose body is extracted, [the others, bodies dropped]).

    The representative is the page with the smallest id, so every runner extracts the same one."""

    def create_accumulator(self):
        return None

    def add_input(self, acc, page):
        return self.merge_accumulators([acc, (page, [])])

    def merge_accumulators(self, accs):
        rep, others = None, []
        for acc in accs:
            if acc is None:
                continue
            page, rest = acc
            others.extend(rest)
            if rep is None or page["id"] < rep["id"]:
                rep, page = page, rep
            if page is not None:
                others.append(_without_body(page))
        return None if rep is None else (rep, others)

    def extract_output(self, acc):
        return acc


class GroupSamePayload(beam.PTransform):
    """pages -> (representative page, [pages with the same payload]) per distinct payload."""

    def expand(self, pages):
        return (
            pages
            | "KeyByPayload" >> beam.Map(lambda page: (payload_key(page), page))
            | "OnePerPayload" >> beam.CombinePerKey(SamePayload())
            | "DropKey" >> beam.Values()
        )
