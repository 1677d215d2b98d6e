"""The token-shard format (llm.c's): writer, memory-mapped reader, uint32 extension, header and size checks."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from webtext.tokenizer.shards import (
    HEADER_BYTES,
    MAGIC_UINT16,
    MAGIC_UINT32,
    ShardError,
    ShardWriter,
    dtype_for_vocab,
    open_shard,
    read_header,
    write_shard,
)


def raw_header(path) -> tuple[int, ...]:
    """The first three header ints, read with struct alone."""
    with open(path, "rb") as f:
        return struct.unpack("<256i", f.read(1024))[:3]


def test_uint16_shard_is_llmc_format(tmp_path):
    tokens = np.array([50256, 0, 15496, 995, 65535], dtype=np.int64)
    path = write_shard(tmp_path / "a.bin", tokens, n_vocab=65536)
    assert raw_header(path) == (20240520, 1, 5)
    assert path.stat().st_size == 1024 + 2 * 5
    assert np.frombuffer(path.read_bytes()[1024:], dtype="<u2").tolist() == tokens.tolist()
    shard = open_shard(path)
    assert isinstance(shard, np.memmap) and shard.dtype == np.uint16 and shard.tolist() == tokens.tolist()


def test_uint32_shard_for_vocabularies_past_65536(tmp_path):
    assert dtype_for_vocab(65536) == np.uint16 and dtype_for_vocab(65537) == np.uint32
    tokens = np.array([0, 65535, 65536, 100_255, 200_018])
    path = write_shard(tmp_path / "big.bin", tokens, n_vocab=200_019)
    assert raw_header(path) == (MAGIC_UINT32, 1, 5) and MAGIC_UINT32 != MAGIC_UINT16
    assert path.stat().st_size == 1024 + 4 * 5
    assert read_header(path) == (np.dtype("<u4"), 5)
    assert open_shard(path).tolist() == tokens.tolist()


def test_streaming_writer_equals_one_shot(tmp_path):
    rng = np.random.default_rng(0)
    parts = [rng.integers(0, 50257, n) for n in (0, 1, 1000, 77)]
    with ShardWriter(tmp_path / "s.bin", 50257) as w:
        for p in parts:
            w.write(p)
    write_shard(tmp_path / "o.bin", np.concatenate(parts), 50257)
    assert (tmp_path / "s.bin").read_bytes() == (tmp_path / "o.bin").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.bin", "s.bin"]  # no temp files left


def test_failed_write_leaves_nothing(tmp_path):
    with pytest.raises(ValueError, match="token ids must lie"):
        with ShardWriter(tmp_path / "s.bin", 1000) as w:
            w.write(np.arange(10))
            w.write(np.array([1000]))  # out of the vocabulary
    with pytest.raises(ValueError, match="token ids must lie"):
        write_shard(tmp_path / "t.bin", np.array([-1]), 1000)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda b: b[:100], "shorter than"),
        (lambda b: struct.pack("<i", 12345) + b[4:], "bad magic"),
        (lambda b: b[:4] + struct.pack("<i", 2) + b[8:], "unsupported version"),
        (lambda b: b[:-2], "header says 10 tokens"),
        (lambda b: b + b"\0\0", "header says 10 tokens"),
        (lambda b: b[:8] + struct.pack("<i", 11) + b[12:], "header says 11 tokens"),
    ],
)
def test_damaged_shards_are_refused(tmp_path, damage, message):
    good = write_shard(tmp_path / "good.bin", np.arange(10), 50257).read_bytes()
    bad = tmp_path / "bad.bin"
    bad.write_bytes(damage(good))
    with pytest.raises(ShardError, match=message):
        read_header(bad)
    with pytest.raises(ShardError):
        open_shard(bad)


def test_header_is_1024_bytes():
    assert HEADER_BYTES == 1024
