"""llm.c-format token shards: the file contract between the tokenizer and the training loop.

A shard is a 1024-byte header of 256 little-endian int32 followed by the tokens:

    header[0] = magic    20240520 -> tokens are uint16, header[1] = version 1 (llm.c's GPT-2 format,
                                     vocabularies up to 65,536)
                         20240801 -> tokens are uint32, header[1] = version 7 (llm.c's format for
                                     larger vocabularies, its llama3 branch's dataloader.h)
    header[2] = number of tokens in the file

Every document in a shard is preceded by the end-of-text token, so a reader can split documents
without any side file. llm.c and modded-nanogpt read the uint16 shards as they are, llm.c's uint32
loader the uint32 ones. Shards this project wrote before with magic 20240522 (uint32, version 1)
still read; that magic is llm.c's HellaSwag eval-file magic, so it is never written again.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from webtext.atomic import AtomicFile

HEADER_INTS = 256
HEADER_BYTES = HEADER_INTS * 4
MAGIC_UINT16 = 20240520
MAGIC_UINT32 = 20240801
MAGIC_UINT32_OLD = 20240522  # read, never written (see the module docstring)
VERSION = 1  # of the uint16 format
VERSION_UINT32 = 7
# magic -> (token dtype, the version that goes with it)
_FORMATS = {MAGIC_UINT16: (np.dtype("<u2"), VERSION), MAGIC_UINT32: (np.dtype("<u4"), VERSION_UINT32),
            MAGIC_UINT32_OLD: (np.dtype("<u4"), 1)}


class ShardError(ValueError):
    """A file that is not a valid token shard (bad magic, version or size)."""


def dtype_for_vocab(n_vocab: int) -> np.dtype:
    """uint16 while every token id fits (ids < 65,536), else uint32."""
    return np.dtype("<u2") if n_vocab <= 2**16 else np.dtype("<u4")


def magic_and_version(dtype: np.dtype) -> tuple[int, int]:
    """The header that llm.c expects for tokens of this dtype."""
    return (MAGIC_UINT16, VERSION) if np.dtype(dtype).itemsize == 2 else (MAGIC_UINT32, VERSION_UINT32)


class ShardWriter:
    """Write one shard by appending token arrays, so a 100M-token shard need not sit in memory.

    The tokens go to a temp file beside `path` (webtext/atomic.py); close() fills in the header's token
    count, syncs and renames, so `path` never holds a partial shard. Leaving a `with` block on an exception
    removes the temp file.
    """

    def __init__(self, path: str | os.PathLike, n_vocab: int):
        self.path = Path(path)
        self.n_vocab = n_vocab
        self.dtype = dtype_for_vocab(n_vocab)
        self.count = 0
        self._out = AtomicFile(self.path, "wb")
        self._f = self._out.file
        self._f.write(bytes(HEADER_BYTES))  # placeholder until the count is known

    def write(self, tokens: np.ndarray) -> None:
        toks = np.asarray(tokens)
        if toks.size and (int(toks.min()) < 0 or int(toks.max()) >= self.n_vocab):
            raise ValueError(f"token ids must lie in [0, {self.n_vocab}); got [{int(toks.min())}, {int(toks.max())}]")
        self._f.write(toks.astype(self.dtype, copy=False).tobytes())
        self.count += toks.size

    def close(self) -> Path:
        if self.count >= 2**31:
            self.abort()
            raise ValueError(f"{self.count} tokens do not fit the header's int32 count; use smaller shards")
        header = np.zeros(HEADER_INTS, dtype="<i4")
        header[0], header[1] = magic_and_version(self.dtype)
        header[2] = self.count
        self._f.seek(0)
        self._f.write(header.tobytes())
        self._out.commit()
        return self.path

    def abort(self) -> None:
        self._out.abort()

    def __enter__(self) -> "ShardWriter":
        return self

    def __exit__(self, exc_type, *_) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def write_shard(path: str | os.PathLike, tokens: np.ndarray, n_vocab: int) -> Path:
    """Write tokens to `path` atomically (temp file + rename); returns the path."""
    with ShardWriter(path, n_vocab) as w:
        w.write(tokens)
    return w.path


def read_header(path: str | os.PathLike) -> tuple[np.dtype, int]:
    """Validate a shard's header and size; returns (token dtype, token count)."""
    path = Path(path)
    size = path.stat().st_size
    if size < HEADER_BYTES:
        raise ShardError(f"{path}: {size} bytes is shorter than the {HEADER_BYTES}-byte header")
    header = np.fromfile(path, dtype="<i4", count=HEADER_INTS)
    magic, version, count = int(header[0]), int(header[1]), int(header[2])
    if magic not in _FORMATS:
        raise ShardError(f"{path}: bad magic {magic} (expected {MAGIC_UINT16} or {MAGIC_UINT32})")
    dtype, expected_version = _FORMATS[magic]
    if version != expected_version:
        raise ShardError(f"{path}: unsupported version {version} for magic {magic} (expected {expected_version})")
    expected = HEADER_BYTES + count * dtype.itemsize
    if size != expected:
        raise ShardError(f"{path}: header says {count} tokens ({expected} bytes) but the file has {size} bytes")
    return dtype, count


def open_shard(path: str | os.PathLike) -> np.memmap:
    """Memory-map a shard's tokens (read-only); nothing is loaded until it is indexed."""
    dtype, count = read_header(path)
    return np.memmap(path, dtype=dtype, mode="r", offset=HEADER_BYTES, shape=(count,))
