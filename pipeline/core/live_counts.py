"""Live counts for build-corpus's progress line on the local runner (run/progress.py draws it).

Beam reports metrics only when a local pipeline has finished, so every webtext counter increment
(core/counters.py) is also added here, to a plain dict, when a progress directory is set: the
driver sets it in-process (`start`) and in the environment (`WEBTEXT_PROGRESS_DIR`) for the worker
processes of `--direct_running_mode=multi_processing`. Each process writes its running totals to
`<dir>/<pid>.json` at most every `FLUSH_S` seconds (temp file + rename, so a reader never sees half
a file); the driver sums the files. Off (no directory: Dataflow, Flink, Spark workers, tests) an
increment costs one attribute check.

Importing this module does not import Beam.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import Counter

ENV = "WEBTEXT_PROGRESS_DIR"
FLUSH_S = 0.5


class _Tap:
    def __init__(self, directory: str):
        self.path = os.path.join(directory, f"{os.getpid()}.json")
        self.counts: Counter = Counter()
        self.lock = threading.Lock()
        self.next_flush = 0.0

    def add(self, name: str, n: int) -> None:
        with self.lock:
            self.counts[name] += n
            now = time.monotonic()
            if now >= self.next_flush:
                self.next_flush = now + FLUSH_S
                self._write()

    def _write(self) -> None:
        tmp = f"{self.path}.{threading.get_ident()}.tmp"
        try:
            with open(tmp, "w") as f:
                json.dump(self.counts, f)
            os.replace(tmp, self.path)
        except OSError:  # the driver removed the directory (the run ended): nothing more to show
            pass

    def flush(self) -> None:
        with self.lock:
            self._write()


_tap: _Tap | None = None
_looked = False  # whether this process has looked for the environment variable yet


def add(name: str, n: int) -> None:
    """Count `n` more of counter `name` for the progress line (no-op when no line is drawn)."""
    global _tap, _looked
    if _tap is None:
        if _looked:
            return
        _looked = True
        directory = os.environ.get(ENV)
        if not directory:
            return
        _tap = _Tap(directory)
    _tap.add(name, n)


def start(directory: str) -> None:
    """In the driver: count from now on into `directory` (and make worker processes do so too)."""
    global _tap, _looked
    os.environ[ENV] = directory
    _tap, _looked = _Tap(directory), True


def stop() -> None:
    """In the driver: stop counting; the last totals are written first."""
    global _tap
    os.environ.pop(ENV, None)
    if _tap is not None:
        _tap.flush()
    _tap = None


def read(directory: str) -> Counter:
    """The totals of every process that counted into `directory`."""
    total: Counter = Counter()
    try:
        names = [n for n in os.listdir(directory) if n.endswith(".json")]
    except OSError:
        return total
    for name in names:
        try:
            with open(os.path.join(directory, name)) as f:
                total.update(json.load(f))
        except (OSError, ValueError):  # replaced while read: the next read has it
            continue
    return total
