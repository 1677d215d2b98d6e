"""Checkpoints: written atomically, the newest K kept, read back with `weights_only=True`.

A checkpoint is RUNDIR/checkpoints/step_XXXXXXXX.pt, a plain dict of tensors, numbers, strings, lists
and dicts (nothing that needs pickle's arbitrary-code path, so `torch.load(..., weights_only=True)`
reads it): model, optimizer, GradScaler, step, the data cursor, the loss-spike guard's history and the
RNG states of every rank. With those, a resumed run continues exactly where the saved one was.

Atomic (webtext/atomic.py): the dict is written to a temporary file in the same folder, fsynced and
renamed over the final name, then the folder is fsynced. A run killed at any moment leaves either the previous set of
checkpoints or the previous set plus a complete new one, never a truncated file under a final name.
"""

from __future__ import annotations

import os
import random
import re
from pathlib import Path

import numpy as np
import torch

from webtext.atomic import atomic_write

_NAME = re.compile(r"^step_(\d{8})\.pt$")


def checkpoint_dir(rundir: str | os.PathLike) -> Path:
    return Path(rundir) / "checkpoints"


def list_checkpoints(rundir: str | os.PathLike) -> list[tuple[int, Path]]:
    """(step, path) of the complete checkpoints in RUNDIR, oldest first."""
    d = checkpoint_dir(rundir)
    found = [(int(m.group(1)), p) for p in d.glob("step_*.pt") if (m := _NAME.match(p.name))]
    return sorted(found)


def save_checkpoint(rundir: str | os.PathLike, step: int, state: dict, keep: int) -> Path:
    d = checkpoint_dir(rundir)
    d.mkdir(parents=True, exist_ok=True)
    final = d / f"step_{step:08d}.pt"
    with atomic_write(final) as f:  # fsynced, renamed, folder fsynced
        torch.save(state, f)
    if keep > 0:
        for _, old in list_checkpoints(rundir)[:-keep]:
            old.unlink(missing_ok=True)
    return final


def load_checkpoint(path: str | os.PathLike, map_location="cpu") -> dict:
    return torch.load(path, map_location=map_location, weights_only=True)


def load_latest(rundir: str | os.PathLike, map_location="cpu") -> tuple[Path, dict] | None:
    """The newest readable checkpoint, or None. An unreadable one (a disk error, say) is reported and
    the next older one tried, so one bad file does not end a long run."""
    for _, path in reversed(list_checkpoints(rundir)):
        try:
            return path, load_checkpoint(path, map_location)
        except Exception as e:  # noqa: BLE001 -- any failure to read means: try the previous one
            print(f"warning: cannot read {path} ({type(e).__name__}: {e}); trying an older checkpoint")
    return None


# ---- RNG states, as weights_only-safe values --------------------------------------------------------

def rng_state() -> dict:
    np_state = np.random.get_state()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": [np_state[0], torch.from_numpy(np_state[1].astype(np.int64)), *map(float, np_state[2:])],
        "python": list(_to_lists(random.getstate())),
    }


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    name, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), int(pos), int(has_gauss), float(cached)))
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))


def _to_lists(x):
    return [_to_lists(v) for v in x] if isinstance(x, tuple) else x
