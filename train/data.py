"""Streaming batches from llm.c-format token shards, with a cursor that makes resume exact.

The training stream is a sequence of *windows*: shard s is cut into (count-1)//T non-overlapping windows
of T+1 tokens (T inputs, and the same tokens shifted by one as targets). Windows go shard after shard,
in file order; inside a shard, each epoch visits them in a seeded random order
(permutation seeded by (seed, epoch, shard)), so neighbouring text is not always in the same batch
and the order is a pure function of the seed.

The state is one integer, `cursor`: how many windows the whole job (all ranks) has consumed. Window
number g of the stream is a pure function of g, so saving the cursor is saving the data position,
whatever the number of ranks. Rank r of W reads windows cursor + r*B ... cursor + r*B + B-1 and every
rank then advances the cursor by W*B: the union over ranks of one micro-step is the same B*W windows
that a single process would read in W micro-steps (what the DDP-equivalence test checks).

Shards are memory-mapped (`open_shard`): only the windows read are paged in, never a whole shard.
"""

from __future__ import annotations

import bisect
import glob
import json
import os
from pathlib import Path

import numpy as np
import torch

from webtext.errors import UserError
from webtext.tokenizer.shards import ShardError, open_shard, read_header


def find_shards(bindir: str | os.PathLike, split: str) -> list[Path]:
    """`train_*.bin` or `val_*.bin` in BINDIR, in name order."""
    return [Path(p) for p in sorted(glob.glob(os.path.join(glob.escape(str(bindir)), f"{split}_*.bin")))]


def read_meta(bindir: str | os.PathLike) -> dict:
    """BINDIR/meta.json as written by `webtext tokenize` ({} when there is none)."""
    path = Path(bindir) / "meta.json"
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise UserError(f"{path}: unreadable ({e})") from None


class ShardStream:
    def __init__(self, paths: list[Path], seq_len: int, batch_size: int, *, rank: int = 0,
                 world_size: int = 1, seed: int = 0, shuffle: bool = True):
        if not paths:
            raise UserError("no token shards given")
        self.paths, self.T, self.B = list(paths), seq_len, batch_size
        self.rank, self.world_size, self.seed, self.shuffle = rank, world_size, seed, shuffle
        windows = []
        for p in self.paths:
            try:
                _, count = read_header(p)
            except (ShardError, OSError) as e:
                raise UserError(str(e)) from None
            windows.append(max(0, (count - 1) // seq_len))
        self.ends = np.cumsum(windows).tolist()  # ends[s] = windows in shards 0..s
        self.total = self.ends[-1]
        if self.total == 0:
            raise UserError(f"the shards hold fewer than {seq_len + 1} tokens each; lower --seq-len")
        self.cursor = 0
        self._open: dict[int, np.memmap] = {}
        self._perm_key: tuple[int, int] | None = None
        self._perm: np.ndarray | None = None

    @property
    def tokens_per_epoch(self) -> int:
        return self.total * self.T

    def _tokens(self, shard: int) -> np.memmap:
        if shard not in self._open:
            if len(self._open) >= 2:  # keep at most the current and the previous shard mapped
                self._open.pop(next(iter(self._open)))
            self._open[shard] = open_shard(self.paths[shard])
        return self._open[shard]

    def _window_in_shard(self, epoch: int, shard: int, i: int) -> int:
        if not self.shuffle:
            return i
        if self._perm_key != (epoch, shard):
            n = self.ends[shard] - (self.ends[shard - 1] if shard else 0)
            self._perm = np.random.default_rng([self.seed, epoch, shard]).permutation(n)
            self._perm_key = (epoch, shard)
        return int(self._perm[i])

    def window(self, g: int) -> np.ndarray:
        """Window number g of the stream: T+1 tokens."""
        epoch, i = divmod(g, self.total)
        shard = bisect.bisect_right(self.ends, i)
        i -= self.ends[shard - 1] if shard else 0
        w = self._window_in_shard(epoch, shard, i)
        return np.asarray(self._tokens(shard)[w * self.T: w * self.T + self.T + 1], dtype=np.int64)

    def next_batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        """This rank's (inputs, targets), each (B, T) int64; advances the shared cursor by B*world_size."""
        first = self.cursor + self.rank * self.B
        rows = torch.from_numpy(np.stack([self.window(first + j) for j in range(self.B)]))
        self.cursor += self.B * self.world_size
        return rows[:, :-1], rows[:, 1:]

    def state_dict(self) -> dict:
        return {"cursor": self.cursor, "seq_len": self.T, "seed": self.seed, "shards": [p.name for p in self.paths]}

    def load_state_dict(self, state: dict) -> None:
        if state["seq_len"] != self.T:
            raise UserError(f"the checkpoint was trained with --seq-len {state['seq_len']}, not {self.T}")
        if state["shards"] != [p.name for p in self.paths]:
            print("note: the shard files differ from the checkpoint's; the data position is kept as a window count")
        self.cursor = int(state["cursor"])
        self.seed, self._perm_key = int(state["seed"]), None  # the window order is the checkpoint's
