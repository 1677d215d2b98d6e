"""The shard stream: windows of real token shards, seeded order, rank striding, exact cursor."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from test_train_fixtures import N_VOCAB, byte_shards  # noqa: F401  (fixture)
from webtext.errors import UserError
from webtext.tokenizer.shards import open_shard, write_shard
from webtext.train.data import ShardStream, find_shards, read_meta


def test_finds_shards_and_meta(byte_shards):  # noqa: F811
    assert [p.name for p in find_shards(byte_shards, "train")] == ["train_000000.bin", "train_000001.bin"]
    assert [p.name for p in find_shards(byte_shards, "val")] == ["val_000000.bin"]
    assert read_meta(byte_shards)["n_vocab"] == N_VOCAB
    assert read_meta(byte_shards / "nowhere") == {}


def test_one_epoch_visits_every_window_once(byte_shards):  # noqa: F811
    paths = find_shards(byte_shards, "train")
    T = 100
    s = ShardStream(paths, T, batch_size=1, seed=3)
    seen = {tuple(s.window(g)[:8]) for g in range(s.total)}
    expected = set()
    for p in paths:
        toks = np.asarray(open_shard(p), dtype=np.int64)
        for w in range((toks.size - 1) // T):
            expected.add(tuple(toks[w * T: w * T + 8]))
    assert seen == expected
    x, y = ShardStream(paths, T, batch_size=4, seed=3).next_batch()
    assert x.shape == y.shape == (4, T) and x.dtype == torch.int64
    assert torch.equal(x[:, 1:], y[:, :-1])  # targets are the inputs shifted by one


def test_order_is_seeded_and_shuffled(byte_shards):  # noqa: F811
    paths = find_shards(byte_shards, "train")
    a = ShardStream(paths, 64, 8, seed=1).next_batch()[0]
    b = ShardStream(paths, 64, 8, seed=1).next_batch()[0]
    c = ShardStream(paths, 64, 8, seed=2).next_batch()[0]
    assert torch.equal(a, b) and not torch.equal(a, c)
    plain = ShardStream(paths, 64, 8, shuffle=False).next_batch()[0]
    tokens = torch.from_numpy(np.asarray(open_shard(paths[0])[: 8 * 64], dtype=np.int64)).view(8, 64)
    assert torch.equal(plain, tokens)
    # a new epoch is a new permutation
    s = ShardStream(paths, 64, 1, seed=1)
    first, second = ([s._window_in_shard(epoch, 0, i) for i in range(s.ends[0])] for epoch in (0, 1))
    assert sorted(first) == sorted(second) == list(range(s.ends[0])) and first != second


def test_ranks_partition_the_global_batch(byte_shards):  # noqa: F811
    paths = find_shards(byte_shards, "train")
    single = ShardStream(paths, 32, 4, seed=0)
    ranks = [ShardStream(paths, 32, 4, seed=0, rank=r, world_size=2) for r in range(2)]
    for _ in range(3):  # one step of 2 ranks == two micro-batches of one process
        together = torch.cat([r.next_batch()[0] for r in ranks])
        alone = torch.cat([single.next_batch()[0] for _ in range(2)])
        assert torch.equal(together, alone)
    assert ranks[0].cursor == ranks[1].cursor == single.cursor == 24


def test_cursor_state_resumes_exactly(byte_shards):  # noqa: F811
    paths = find_shards(byte_shards, "train")
    a = ShardStream(paths, 50, 6, seed=9)
    for _ in range(200):  # past the end of an epoch
        a.next_batch()
    state = a.state_dict()
    b = ShardStream(paths, 50, 6, seed=0)
    b.load_state_dict(state)
    for _ in range(5):
        assert torch.equal(a.next_batch()[0], b.next_batch()[0])
    with pytest.raises(UserError, match="seq-len"):
        ShardStream(paths, 49, 6).load_state_dict(state)


def test_shards_are_memory_mapped(byte_shards):  # noqa: F811
    s = ShardStream(find_shards(byte_shards, "train"), 64, 2)
    s.next_batch()
    assert all(isinstance(m, np.memmap) for m in s._open.values())


def test_errors(tmp_path):
    with pytest.raises(UserError):
        ShardStream([], 64, 2)
    write_shard(tmp_path / "train_000000.bin", np.arange(10), 16)
    with pytest.raises(UserError, match="seq-len"):
        ShardStream([tmp_path / "train_000000.bin"], 64, 2)
    (tmp_path / "train_000001.bin").write_bytes(b"not a shard")
    with pytest.raises(UserError):
        ShardStream(find_shards(tmp_path, "train"), 4, 2)
