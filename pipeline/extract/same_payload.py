"""Pages with the same payload, extracted once: the extract stage's digest shortcut.

A crawl holds the same HTML under many URLs (http and https, mirrors, session and tracking parameters
that canonicalise apart, re-crawls of an unchanged page). Extraction is a pure function of the bytes
and their charset (the text and title; the date may also read the URL, and is computed per URL), so
each distinct payload is extracted once and its result given to every page that carries it.

How such pages meet without a shuffle of page bodies: the join hands them to the extractor one after
the other (sources/join.py). In scan and index mode it groups the index entries, before any body is
read, by the payload digest their writer claims (WARC-Payload-Digest, the index's digest); with
--no-links, where bodies are shuffled anyway, by our own key. The extractor trusts no claim: pages
that follow each other with equal keys (core/document.py payload_key: SHA-256 of the decoded body and
the charset) form one run, extracted once. A false or missing claim costs the saving, never a text.
Fetch, filters and extraction thus run in one fused stage, the extractor's children busy while the
worker reads the next records.
"""

from __future__ import annotations

# Pages of one run: held without their bodies, and dated in the child within one page's timeout (a
# capture URL with a date in it costs a search of its own, up to ~5 ms): a longer run is extracted again.
MAX_RUN = 256


def _without_body(page: dict) -> dict:
    return {**page, "html": b""}


class PayloadRuns:
    """Pages in the order they come -> runs of consecutive pages with one payload key:
    (the first page, [the others, bodies dropped]). A key of None never joins a run."""

    def __init__(self, max_run: int = MAX_RUN):
        self.max_run = max_run
        self.key, self.run, self.context = None, None, None

    def add(self, page: dict, key: str | None, context=None) -> tuple[bool, tuple | None]:
        """Take the next page: (whether it joined the run before it, the run it ended with that run's
        context, or None). `context`: what the caller wants back with the run."""
        if self.run is not None and key is not None and key == self.key and len(self.run[1]) < self.max_run:
            self.run[1].append(_without_body(page))
            return True, None
        ended = self.flush()
        self.key, self.run, self.context = key, (page, []), context
        return False, ended

    def flush(self):
        """(the run being built, its context), or None; then nothing is held."""
        ended = None if self.run is None else (self.run, self.context)
        self.key, self.run, self.context = None, None, None
        return ended
