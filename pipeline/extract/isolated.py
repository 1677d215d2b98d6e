"""trafilatura in a child process, so one pathological page cannot hang or kill a worker.

trafilatura (lxml underneath) can spin for minutes on a pathological page or, rarely, crash the
process. So it runs in a child process (extract/worker.py) that we talk to over a pipe: a page that
takes longer than `timeout_s` gets the child killed and restarted. A pipe round trip costs tens of
microseconds; an extraction costs milliseconds.
"""

from __future__ import annotations

import collections
import fcntl
import pickle
import select
import subprocess
import sys
import time

from webtext.pipeline.extract.settings import ExtractSettings
from webtext.pipeline.extract.worker import DEFAULT_SETTINGS, encode, recv


def decode_html(html: bytes, charset: str | None) -> bytes | str:
    """The HTTP header's charset wins when it names one (as browsers do); otherwise trafilatura guesses.

    A charset Python knows but cannot decode with ("undefined", the "rot13" and "hex" transforms, a
    codec that returns bytes) is ignored like one it does not know."""
    if charset:
        try:
            text = html.decode(charset)
            if isinstance(text, str):
                return text
        except Exception:  # noqa: BLE001 - UnicodeError, LookupError, TypeError from odd codecs: all "not this one"
            pass
    return html


_PIPE_BYTES = 1 << 20  # Linux's default pipe-max-size for unprivileged processes


def page_message(html: bytes | str, url: str | None, more_urls=()) -> bytes:
    """A page as it goes down the pipe to an extractor child."""
    return encode((html, url, tuple(more_urls)))


class ExtractTimeout(Exception):
    pass


class ExtractError(Exception):
    pass


class IsolatedExtractor:
    """extract_page() in a child process (`python -m webtext.pipeline.extract.worker`), restarted whenever
    a page hangs or kills it. A plain subprocess, not multiprocessing: it needs no picklable
    __main__ and no fork of a process that runs Beam's threads.

    Two ways to call it. `extractor(html, url)` extracts one page and waits for it. `submit()` /
    `collect()` keep up to `depth` pages in flight: the child starts on the next page the moment it is
    done with one, while this process does the rest of its work (Beam, the filters, the writer) on
    another core. Results come back in the order the pages went in, each with the tag it was submitted with.

    `part`: what the child computes of each page (worker.extract_page): all of it, or only the text or
    only the title and date, for a stage that runs two children side by side.
    """

    def __init__(self, timeout_s: float, settings: ExtractSettings = DEFAULT_SETTINGS, depth: int = 2, part: str = "all"):
        self.timeout_s, self.settings, self.depth, self.part = timeout_s, settings, depth, part
        self._proc: subprocess.Popen | None = None
        self._pipe_bytes = 1 << 16
        # The pages sent and not yet answered, oldest first: [message, tag, sent]. `sent` is False for a
        # page that has still to go to the child (it restarted, or the page waits for the pipe to drain).
        self._inflight: collections.deque = collections.deque()
        self._head_since = 0.0  # when the child began the oldest page: where its timeout counts from

    def _start(self) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "webtext.pipeline.extract.worker", self.settings.to_json(), self.part],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            bufsize=0,
        )  # no PR_SET_PDEATHSIG: it fires when the *thread* that started the child ends, and Beam's
        # bundle threads come and go; the child exits instead at the EOF of its stdin when we die
        self._pipe_bytes = 1 << 16
        for stream in (self._proc.stdin, self._proc.stdout):
            try:  # a page's HTML (or its text) fits in the pipe: a write returns at once, not when the other side gets a CPU
                fcntl.fcntl(stream.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), _PIPE_BYTES)
            except OSError:
                pass  # above /proc/sys/fs/pipe-max-size, or not Linux: the default 64 KiB pipe works, a little slower
        try:
            self._pipe_bytes = fcntl.fcntl(self._proc.stdin.fileno(), getattr(fcntl, "F_GETPIPE_SZ", 1032))
        except OSError:
            pass

    def close(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait(5)
            for stream in (self._proc.stdin, self._proc.stdout):
                stream.close()
            self._proc = None

    def __call__(self, html: bytes | str, url: str | None, more_urls=()) -> dict | None:
        if self._inflight:
            raise RuntimeError("IsolatedExtractor: pages submitted and not collected; collect() them first")
        self.submit(html, url, more_urls)
        return self.collect()[1]

    def pending(self) -> int:
        return len(self._inflight)

    def submit(self, html: bytes | str, url: str | None, more_urls=(), tag=None) -> None:
        """Send one page to the child without waiting for it; at most `depth` pages are in flight, so
        call collect() first while pending() == depth."""
        self.submit_message(page_message(html, url, more_urls), tag)

    def submit_message(self, message: bytes, tag=None) -> None:
        """submit() of a page_message(): one encoding of a page for several children."""
        if len(self._inflight) >= self.depth:
            raise RuntimeError(f"IsolatedExtractor: {self.depth} pages in flight already; collect() one first")
        self._inflight.append([message, tag, False])
        if len(self._inflight) == 1:
            self._head_since = time.monotonic()
        self._send_ready()

    def _send_ready(self) -> None:
        """Send what waits, in order. A page goes while others are in flight only if it fits in the pipe
        with room to spare: a blocked write of ours while the child blocks writing a result to us would
        hang both. Larger pages wait until the child has nothing else (then it reads as we write)."""
        if all(item[2] for item in self._inflight):
            return
        if self._proc is not None and self._proc.poll() is not None and any(item[2] for item in self._inflight):
            return  # the child died with pages sent: collect() reads what it answered and restarts it after the page that killed it
        if self._proc is None or self._proc.poll() is not None:
            self.close()
            try:
                self._start()
            except OSError:  # no process (out of memory, no such interpreter): collect() reports the page
                self._proc = None
                return
            self._head_since = time.monotonic()
        for i, item in enumerate(self._inflight):
            if item[2]:
                continue
            if i > 0 and len(item[0]) > self._pipe_bytes // 2:
                return
            try:
                self._proc.stdin.write(item[0])
            except OSError:  # the child died: the oldest page's collect() finds out and restarts it
                return
            item[2] = True

    def collect(self):
        """The oldest page's (tag, result, ms in the child); raises ExtractTimeout or ExtractError for it,
        with the page's tag as the exception's `tag` (after a timeout or a dead child the pages behind it
        go again to a fresh child)."""
        error = None
        try:
            self._send_ready()
            if not self._inflight[0][2]:
                raise OSError("the page could not be sent")
            left = self._head_since + self.timeout_s - time.monotonic()
            ready, _, _ = select.select([self._proc.stdout], [], [], max(left, 0.0))
            if ready:
                status, value, ms = recv(self._proc.stdout)
            else:
                error = ExtractTimeout(f"no result after {self.timeout_s:g}s")
        except (EOFError, OSError, pickle.UnpicklingError):
            error = ExtractError("the extractor process died")
        tag = self._inflight[0][1]
        if error is not None:
            self._fail()
            error.tag = tag
            raise error
        self._inflight.popleft()
        self._head_since = time.monotonic()
        self._send_ready()
        if status == "error":
            error = ExtractError(value)
            error.tag, error.ms = tag, ms
            raise error
        return tag, value, ms

    def _fail(self) -> None:
        """The oldest page killed or hung the child: drop it, and send the rest again to a fresh one."""
        self._inflight.popleft()
        self.close()
        for item in self._inflight:
            item[2] = False
        self._head_since = time.monotonic()
        self._send_ready()
