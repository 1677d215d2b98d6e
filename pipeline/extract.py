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
import os
import pickle
import select
import struct
import subprocess
import sys
import time

import apache_beam as beam

from webtext.pipeline.counters import counter
from webtext.pipeline.schema import doc_id
from webtext.pipeline.urls import host_of

log = logging.getLogger(__name__)


def extract_page(html: bytes | str, url: str | None = None) -> dict | None:
    """trafilatura's default extraction plus metadata: {"text", "title", "date"}, or None when empty."""
    import trafilatura

    doc = trafilatura.bare_extraction(html, url=url, with_metadata=True)
    if doc is None:
        return None
    text = doc.text or ""
    if doc.comments:  # trafilatura.extract() appends comments the same way
        text = f"{text}\n{doc.comments}".strip()
    if not text.strip():
        return None
    return {"text": text, "title": doc.title, "date": doc.date}


def decode_html(html: bytes, charset: str | None) -> bytes | str:
    """The HTTP header's charset wins when it names one (as browsers do); otherwise trafilatura guesses."""
    if charset:
        try:
            return html.decode(charset)
        except (UnicodeDecodeError, LookupError):
            pass
    return html


def _read_exact(stream, n: int) -> bytes:
    chunks, left = [], n
    while left:
        data = stream.read(left)  # an unbuffered pipe may return less than asked
        if not data:
            raise EOFError
        chunks.append(data)
        left -= len(data)
    return b"".join(chunks)


def _send(stream, obj) -> None:
    payload = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(struct.pack("<Q", len(payload)) + payload)
    stream.flush()


def _recv(stream):
    (n,) = struct.unpack("<Q", _read_exact(stream, 8))
    return pickle.loads(_read_exact(stream, n))


def serve(stdin=None, stdout=None) -> None:
    """Child process loop: (html, url) in, ("ok", result) or ("error", message) out, length-prefixed pickles."""
    if stdout is None:
        # Keep the protocol pipe to ourselves: anything a library prints goes to stderr instead.
        stdout = os.fdopen(os.dup(1), "wb")
        os.dup2(2, 1)
        sys.stdout = sys.stderr
    stdin = stdin or sys.stdin.buffer
    import trafilatura  # noqa: F401 - import once, before the first page

    while True:
        try:
            html, url = _recv(stdin)
        except EOFError:
            return
        try:
            reply = ("ok", extract_page(html, url))
        except Exception as e:  # noqa: BLE001 - any extractor failure is reported, the child lives on
            reply = ("error", f"{type(e).__name__}: {e}")
        _send(stdout, reply)


class ExtractTimeout(Exception):
    pass


class ExtractError(Exception):
    pass


class IsolatedExtractor:
    """extract_page() in a child process (`python -m webtext.pipeline.extract`), restarted whenever
    a page hangs or kills it. A plain subprocess, not multiprocessing: it needs no picklable
    __main__ and no fork of a process that runs Beam's threads."""

    def __init__(self, timeout_s: float):
        self.timeout_s = timeout_s
        self._proc: subprocess.Popen | None = None

    def _start(self) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "webtext.pipeline.extract"],
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
            _send(self._proc.stdin, (html, url))
            ready, _, _ = select.select([self._proc.stdout], [], [], self.timeout_s)
            if not ready:
                self.close()
                raise ExtractTimeout(f"no result after {self.timeout_s:g}s")
            status, value = _recv(self._proc.stdout)
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
        self.c = {n: counter(f"extract.{n}") for n in ("pages", "empty", "errors", "timeouts", "too_large", "docs")}
        self.c_ms = counter("extract.ms")

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
            self.c_ms.inc(int((time.perf_counter() - start) * 1000))
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


if __name__ == "__main__":
    serve()
