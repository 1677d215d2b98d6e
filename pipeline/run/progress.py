"""build-corpus's live progress line on the local runner:

    [0:01:23] WARC files 3/10 | records 12,345 | pages 1,234 | docs 456 (5.5/s) | written 0

On a terminal the line is redrawn in place twice a second; when stderr is a file or a pipe (logs) a
plain line is printed every `log_every_s` seconds instead; `--quiet` draws none. The counts come from
core/live_counts.py (every webtext counter increment, summed over the worker processes), so the line
costs the pipeline one dict update per increment, and nothing when it is off.

On Dataflow (and Flink, Spark) the workers are remote: the job's own monitoring UI shows the same
counters live (namespace `webtext`, e.g. `extract.docs`), and build-corpus draws no line.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import sys
import tempfile
import threading
import time

from webtext.pipeline.core import live_counts

LOCAL_RUNNERS = ("fnapirunner", "directrunner", "prismrunner", "")


def is_local(runner) -> bool:
    return str(runner or "").rsplit(".", 1)[-1].lower() in LOCAL_RUNNERS


def _clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def progress_text(counts: dict, elapsed: float, total_files: int = 0) -> str:
    """The progress line for the counts so far."""
    docs = counts.get("extract.docs", 0)
    parts = []
    if total_files:
        parts.append(f"WARC files {counts.get('warc.files', 0):,}/{total_files:,}")
    if counts.get("index.entries"):
        parts.append(f"index entries {counts['index.entries']:,}")
    parts += [f"records {counts.get('warc.records', 0):,}", f"pages {counts.get('warc.html', 0):,}",
              f"docs {docs:,} ({docs / elapsed if elapsed > 0 else 0:,.1f}/s)", f"written {counts.get('docs.written', 0):,}"]
    return f"[{_clock(elapsed)}] " + " | ".join(parts)


class ProgressLine:
    """Draws the line while the pipeline runs, in a thread of the driver:

        with ProgressLine(total_files=len(warcs)):
            pipeline.run().wait_until_finish()
    """

    def __init__(self, total_files: int = 0, stream=None, every_s: float = 0.5, log_every_s: float = 30.0):
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.every_s = every_s if self.tty else log_every_s
        self.total_files = total_files
        self._stop = threading.Event()
        self._width = 0

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix="webtext-progress-")
        live_counts.start(self.dir)
        self.start = time.monotonic()
        self._thread = threading.Thread(target=self._loop, name="webtext-progress", daemon=True)
        self._thread.start()
        if self.tty:  # a warning logged while the line is up starts on a clean line
            for h in logging.getLogger().handlers:
                h.addFilter(self._clear_line)
        return self

    def _clear_line(self, record) -> bool:
        self.stream.write("\r\033[K")
        self._width = 0
        return True

    def _draw(self, final: bool = False) -> None:
        text = progress_text(live_counts.read(self.dir), time.monotonic() - self.start, self.total_files)
        if self.tty:
            pad = " " * max(0, self._width - len(text))  # over what a longer line left
            self.stream.write(f"\r{text}{pad}" + ("\n" if final else ""))
            self._width = len(text)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def _loop(self) -> None:
        while not self._stop.wait(self.every_s):
            self._draw()

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        for h in logging.getLogger().handlers:
            h.removeFilter(self._clear_line)
        live_counts.stop()
        if self.tty or exc[0] is None:
            self._draw(final=True)  # the totals as the line saw them; the funnel follows with Beam's own
        shutil.rmtree(self.dir, ignore_errors=True)
        return False


def maybe(enabled: bool, total_files: int = 0):
    """A ProgressLine, or a context that does nothing."""
    return ProgressLine(total_files) if enabled else contextlib.nullcontext()
