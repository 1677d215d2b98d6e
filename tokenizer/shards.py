"""llm.c-format token shards: the file contract between the tokenizer and the training loop.

A shard is a 1024-byte header of 256 little-endian int32 followed by the tokens:

    header[0] = magic    20240520 -> tokens are uint16 (llm.c's own format, vocabularies <= 65,536)
                         20240522 -> tokens are uint32 (our extension for larger vocabularies)
    header[1] = version  1
    header[2] = number of tokens in the file

Every document in a shard is preceded by the end-of-text token, so a reader can split documents
without any side file. llm.c and modded-nanogpt read the uint16 shards as they are.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

HEADER_INTS = 256
HEADER_BYTES = HEADER_INTS * 4
MAGIC_UINT16 = 20240520
MAGIC_UINT32 = 20240522
VERSION = 1
_DTYPES = {MAGIC_UINT16: np.dtype("<u2"), MAGIC_UINT32: np.dtype("<u4")}


class ShardError(ValueError):
    """A file that is not a valid token shard (bad magic, version or size)."""


def dtype_for_vocab(n_vocab: int) -> np.dtype:
    """uint16 while every token id fits (ids < 65,536), else uint32."""
    return _DTYPES[MAGIC_UINT16] if n_vocab <= 2**16 else _DTYPES[MAGIC_UINT32]


def write_shard(path: str | os.PathLike, tokens: np.ndarray, n_vocab: int) -> Path:
    """Write tokens to `path` atomically (temp file + rename); returns the path."""
    path = Path(path)
    dtype = dtype_for_vocab(n_vocab)
    toks = np.asarray(tokens)
    if toks.size and (int(toks.min()) < 0 or int(toks.max()) >= n_vocab):
        raise ValueError(f"token ids must lie in [0, {n_vocab}); got [{int(toks.min())}, {int(toks.max())}]")
    header = np.zeros(HEADER_INTS, dtype="<i4")
    header[0] = MAGIC_UINT16 if dtype.itemsize == 2 else MAGIC_UINT32
    header[1] = VERSION
    header[2] = toks.size
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    with open(tmp, "wb") as f:
        f.write(header.tobytes())
        f.write(toks.astype(dtype, copy=False).tobytes())
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return path


def read_header(path: str | os.PathLike) -> tuple[np.dtype, int]:
    """Validate a shard's header and size; returns (token dtype, token count)."""
    path = Path(path)
    size = path.stat().st_size
    if size < HEADER_BYTES:
        raise ShardError(f"{path}: {size} bytes is shorter than the {HEADER_BYTES}-byte header")
    header = np.fromfile(path, dtype="<i4", count=HEADER_INTS)
    magic, version, count = int(header[0]), int(header[1]), int(header[2])
    if magic not in _DTYPES:
        raise ShardError(f"{path}: bad magic {magic} (expected {MAGIC_UINT16} or {MAGIC_UINT32})")
    if version != VERSION:
        raise ShardError(f"{path}: unsupported version {version}")
    dtype = _DTYPES[magic]
    expected = HEADER_BYTES + count * dtype.itemsize
    if size != expected:
        raise ShardError(f"{path}: header says {count} tokens ({expected} bytes) but the file has {size} bytes")
    return dtype, count


def open_shard(path: str | os.PathLike) -> np.memmap:
    """Memory-map a shard's tokens (read-only); nothing is loaded until it is indexed."""
    dtype, count = read_header(path)
    return np.memmap(path, dtype=dtype, mode="r", offset=HEADER_BYTES, shape=(count,))
