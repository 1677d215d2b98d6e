"""Child processes that do not outlive their parent.

A worker pool or a helper process whose parent is killed (SIGKILL, the OOM killer, a preempted VM)
would otherwise go on running: holding memory and a CPU, writing files nobody will read. On Linux the
kernel can send it a signal when its parent dies (prctl PR_SET_PDEATHSIG); elsewhere the helpers
still notice their closed pipes and exit at their next read.
"""

from __future__ import annotations

import os
import signal
import sys

_PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int | None = None) -> None:
    """Call first thing in a child: it is killed when its parent dies (Linux), and exits at once if
    the parent (`parent_pid`) is already gone. The kernel's notion of "parent" is the *thread* that
    started the child, so start such children from a thread that lives as long as the process (the
    main thread), not from a pool's worker thread."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):
            pass
    if parent_pid is not None and os.getppid() != parent_pid:
        os._exit(1)  # the parent died before the signal was armed
