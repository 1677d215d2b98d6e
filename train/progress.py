"""train-on-shards' progress between its log lines: step, tokens/s and ETA.

On a terminal one line is redrawn in place (at most every `every_s`) and cleared before each log
line; when stdout is a file or a pipe (logs) a plain line is printed if `log_every_s` passed without
any line, so a long gap between log lines is never silent and a log never fills with redraws.
"""

from __future__ import annotations

import sys
import time


def _clock(seconds: float) -> str:
    s = int(max(0, seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


class StepProgress:
    def __init__(self, total_steps: int, start_step: int = 0, stream=None, every_s: float = 0.25, log_every_s: float = 30.0):
        self.stream = stream if stream is not None else sys.stdout
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.total, self.first = total_steps, start_step
        self.every_s = every_s if self.tty else log_every_s
        self.t0 = self.last = time.perf_counter()
        self.drawn = False

    def text(self, step: int, tokens_per_s: float) -> str:
        elapsed = time.perf_counter() - self.t0
        done = step - self.first
        eta = elapsed / done * (self.total - step) if done > 0 else 0.0
        return f"step {step}/{self.total} | {tokens_per_s:,.0f} tok/s | elapsed {_clock(elapsed)} | ETA {_clock(eta)}"

    def update(self, step: int, tokens_per_s: float) -> None:
        now = time.perf_counter()
        if now - self.last < self.every_s:
            return
        self.last = now
        if self.tty:
            self.stream.write(f"\r\033[K{self.text(step, tokens_per_s)}")
            self.drawn = True
        else:
            self.stream.write(self.text(step, tokens_per_s) + "\n")
        self.stream.flush()

    def before_log(self) -> None:
        """Call before printing a log line: clears the drawn line, and counts as output for the log gap."""
        if self.drawn:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self.drawn = False
        self.last = time.perf_counter()
