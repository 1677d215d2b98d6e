"""The extract stage: trafilatura main text, title and date, with a bound on what one page may cost.

The text is exactly what `trafilatura.extract(html)` returns with its defaults (main text, then
comments), so extraction quality is trafilatura's own. Metadata extraction adds title and date.

trafilatura (lxml underneath) can spin for minutes on a pathological page or, rarely, crash the
process. So it runs in a child process that the DoFn talks to over a pipe: a page that takes longer
than `timeout_s` gets the child killed and restarted, and is counted (`extract.timeouts`, part of
`extract.errors`). A pipe round trip costs tens of microseconds; an extraction costs milliseconds.
"""

from __future__ import annotations

import logging
import pickle
import select
import subprocess
import sys
import time

import apache_beam as beam

from webtext.pipeline.counters import counter
from webtext.pipeline.extract_worker import extract_page, recv, send
from webtext.pipeline.schema import doc_id
from webtext.pipeline.urls import host_of

log = logging.getLogger(__name__)


def decode_html(html: bytes, charset: str | None) -> bytes | str:
    """The HTTP header's charset wins when it names one (as browsers do); otherwise trafilatura guesses."""
    if charset:
        try:
            return html.decode(charset)
        except (UnicodeDecodeError, LookupError):
            pass
    return html


class ExtractTimeout(Exception):
    pass


class ExtractError(Exception):
    pass


class IsolatedExtractor:
    """extract_page() in a child process (`python -m webtext.pipeline.extract_worker`), restarted whenever
    a page hangs or kills it. A plain subprocess, not multiprocessing: it needs no picklable
    __main__ and no fork of a process that runs Beam's threads."""

    def __init__(self, timeout_s: float):
        self.timeout_s = timeout_s
        self._proc: subprocess.Popen | None = None

    def _start(self) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "webtext.pipeline.extract_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            bufsize=0,
        )

    def close(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait(5)
            for stream in (self._proc.stdin, self._proc.stdout):
                stream.close()
            self._proc = None

    def __call__(self, html: bytes | str, url: str | None) -> dict | None:
        if self._proc is None or self._proc.poll() is not None:
            self.close()
            self._start()
        try:
            send(self._proc.stdin, (html, url))
            ready, _, _ = select.select([self._proc.stdout], [], [], self.timeout_s)
            if not ready:
                self.close()
                raise ExtractTimeout(f"no result after {self.timeout_s:g}s")
            status, value = recv(self._proc.stdout)
        except (EOFError, OSError, pickle.UnpicklingError):
            self.close()
            raise ExtractError("the extractor process died") from None
        if status == "error":
            raise ExtractError(value)
        return value


class _ExtractDoFn(beam.DoFn):
    """(canonical URL, {page, links}) -> a document dict (schema.SCHEMA), or nothing."""

    def __init__(self, timeout_s: float, max_html_bytes: int):
        self.timeout_s, self.max_html_bytes = timeout_s, max_html_bytes
        self.c = {n: counter(f"extract.{n}") for n in ("pages", "empty", "errors", "timeouts", "too_large", "docs", "ms")}

    def setup(self):
        self.extractor = IsolatedExtractor(self.timeout_s) if self.timeout_s > 0 else None

    def teardown(self):
        if self.extractor is not None:
            self.extractor.close()

    def process(self, element):
        canonical, page, links = element
        self.c["pages"].inc()
        if len(page.html) > self.max_html_bytes:
            self.c["too_large"].inc()
            return
        html = decode_html(page.html, page.charset)
        start = time.perf_counter()
        try:
            result = self.extractor(html, page.url) if self.extractor else extract_page(html, page.url)
        except ExtractTimeout as e:
            self.c["timeouts"].inc()
            self.c["errors"].inc()
            log.warning("extract: %s: %s", page.url, e)
            return
        except Exception as e:  # noqa: BLE001 - ExtractError or an in-process failure: counted, run goes on
            self.c["errors"].inc()
            log.warning("extract: %s: %s", page.url, e)
            return
        finally:
            self.c["ms"].inc(int((time.perf_counter() - start) * 1000))
        if result is None:
            self.c["empty"].inc()
            return
        self.c["docs"].inc()
        links = links or {}
        yield {
            "id": doc_id(canonical),
            "url": page.url,
            "host": host_of(canonical),
            "title": result["title"],
            "text": result["text"],
            "date": result["date"],
            "reddit_score": links.get("reddit_score"),
            "reddit_subreddits": links.get("reddit_subreddits"),
            "reddit_submissions": links.get("reddit_submissions"),
            "language": None,
            "language_score": None,
            "quality_score": None,
            "warc_file": page.warc_file,
            "warc_record_id": page.record_id,
            "warc_date": page.warc_date,
            "crawl": page.crawl,
        }


class Extract(beam.PTransform):
    """(canonical URL, Page, link facts or None) -> documents with trafilatura's text, title and date."""

    def __init__(self, timeout_s: float = 30.0, max_html_bytes: int = 5_000_000):
        super().__init__()
        self.timeout_s, self.max_html_bytes = timeout_s, max_html_bytes

    def expand(self, pages):
        return pages | "Trafilatura" >> beam.ParDo(_ExtractDoFn(self.timeout_s, self.max_html_bytes))
