"""The token-shard format (llm.c's): writer, memory-mapped reader, uint32 extension, header and size checks."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from webtext.tokenizer.shards import (
    HEADER_BYTES,
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
    assert raw_header(path) == (20240801, 7, 5) == (MAGIC_UINT32, 7, 5)  # llm.c's uint32 token shard
    assert 20240522 not in raw_header(path)  # llm.c's HellaSwag eval-file magic: never written
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


def test_uint32_shards_of_the_old_magic_still_read(tmp_path):
    """Shards written before llm.c's uint32 format was adopted: magic 20240522, version 1."""
    tokens = np.array([7, 70_000, 3], dtype="<u4")
    path = tmp_path / "old.bin"
    header = np.zeros(256, dtype="<i4")
    header[:3] = (20240522, 1, 3)
    path.write_bytes(header.tobytes() + tokens.tobytes())
    assert read_header(path) == (np.dtype("<u4"), 3) and open_shard(path).tolist() == [7, 70_000, 3]
    header[:3] = (20240801, 1, 3)  # the new magic with the old version is damage
    path.write_bytes(header.tobytes() + tokens.tobytes())
    with pytest.raises(ShardError, match="version"):
        read_header(path)


LLMC_UINT32_READER = r"""
/* A reader of llm.c's uint32 token shard, written from its documented format (llama3 branch,
   dataloader.h): 256 int32 header ints, [0] magic 20240801, [1] version 7, [2] token count, then
   the tokens as uint32. Prints the count and the sum of the tokens. */
#include <stdio.h>
#include <stdint.h>
int main(int argc, char **argv) {
    FILE *f = fopen(argv[1], "rb");
    int32_t header[256];
    if (!f || fread(header, sizeof(int32_t), 256, f) != 256) { fprintf(stderr, "short header\n"); return 1; }
    if (header[0] != 20240801) { fprintf(stderr, "Bad magic in the data file\n"); return 2; }
    if (header[1] != 7) { fprintf(stderr, "Bad version in data file\n"); return 3; }
    uint64_t sum = 0; uint32_t t; long n = 0;
    while (fread(&t, sizeof(uint32_t), 1, f) == 1) { sum += t; n++; }
    if (n != header[2]) { fprintf(stderr, "token count mismatch\n"); return 4; }
    printf("%ld %llu\n", n, (unsigned long long)sum);
    return 0;
}
"""


def test_an_independent_llmc_uint32_reader_reads_a_shard_of_a_vocabulary_past_65536(tmp_path):
    import shutil
    import subprocess

    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler")
    (tmp_path / "reader.c").write_text(LLMC_UINT32_READER)
    subprocess.run([cc, "-O1", "-o", str(tmp_path / "reader"), str(tmp_path / "reader.c")], check=True)
    tokens = np.random.default_rng(0).integers(0, 200_019, 5000)
    path = write_shard(tmp_path / "big.bin", tokens, n_vocab=200_019)
    out = subprocess.run([str(tmp_path / "reader"), str(path)], capture_output=True, text=True, check=True).stdout.split()
    assert (int(out[0]), int(out[1])) == (5000, int(tokens.sum()))
    bad = tmp_path / "eval_magic.bin"
    bad.write_bytes(struct.pack("<i", 20240522) + path.read_bytes()[4:])  # llm.c's eval-file magic: refused
    assert subprocess.run([str(tmp_path / "reader"), str(bad)], capture_output=True).returncode == 2
