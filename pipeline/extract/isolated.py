"""trafilatura in a child process, so one pathological page cannot hang or kill a worker.

trafilatura (lxml underneath) can spin for minutes on a pathological page or, rarely, crash the
process. So it runs in a child process (extract/worker.py) that we talk to over a pipe: a page that
takes longer than `timeout_s` gets the child killed and restarted. A pipe round trip costs tens of
microseconds; an extraction costs milliseconds.
"""

from __future__ import annotations

import fcntl
import pickle
import select
import subprocess
import sys

from webtext.pipeline.extract.settings import ExtractSettings
from webtext.pipeline.extract.worker import DEFAULT_SETTINGS, recv, send


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


class ExtractTimeout(Exception):
    pass


class ExtractError(Exception):
    pass


class IsolatedExtractor:
    """extract_page() in a child process (`python -m webtext.pipeline.extract.worker`), restarted whenever
    a page hangs or kills it. A plain subprocess, not multiprocessing: it needs no picklable
    __main__ and no fork of a process that runs Beam's threads."""

    def __init__(self, timeout_s: float, settings: ExtractSettings = DEFAULT_SETTINGS):
        self.timeout_s, self.settings = timeout_s, settings
        self._proc: subprocess.Popen | None = None

    def _start(self) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "webtext.pipeline.extract.worker", self.settings.to_json()],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            bufsize=0,
        )  # no PR_SET_PDEATHSIG: it fires when the *thread* that started the child ends, and Beam's
        # bundle threads come and go; the child exits instead at the EOF of its stdin when we die
        try:  # a page's HTML fits in the pipe: our write returns at once, not when the child gets a CPU
            fcntl.fcntl(self._proc.stdin.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), _PIPE_BYTES)
        except OSError:
            pass  # above /proc/sys/fs/pipe-max-size, or not Linux: the default 64 KiB pipe works, a little slower

    def close(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait(5)
            for stream in (self._proc.stdin, self._proc.stdout):
                stream.close()
            self._proc = None

    def __call__(self, html: bytes | str, url: str | None, more_urls=()) -> dict | None:
        if self._proc is None or self._proc.poll() is not None:
            self.close()
            self._start()
        try:
            send(self._proc.stdin, (html, url, tuple(more_urls)))
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
