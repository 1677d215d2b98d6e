"""DDP: `torchrun --nproc_per_node 2` on CPU (gloo) agrees with one process on the same global batch
(one process accumulating 2 micro-batches per step, two processes 1 each)."""

from __future__ import annotations

import json
import subprocess

import pytest

from test_train_fixtures import PYTHON, byte_shards, free_port, subprocess_env  # noqa: F401  (fixture)

STEPS = 5


def args(data, out, accum):
    return ["--data", str(data), "--out", str(out), "--preset", "tiny", "--steps", str(STEPS),
            "--batch-size", "4", "--seq-len", "64", "--grad-accum", str(accum), "--device", "cpu",
            "--dtype", "fp32", "--val-every", str(STEPS), "--val-steps", "2", "--warmup", "2",
            "--checkpoint-every", "0", "--peak-flops", "1e11", "--no-plot", "--seed", "3"]


def records(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.slow
def test_two_ranks_match_one_process(byte_shards, tmp_path):  # noqa: F811
    env = subprocess_env(tmp_path)
    env["OMP_NUM_THREADS"] = "1"  # both runs single-threaded per process: two ranks share two cores
    env["GLOO_SOCKET_IFNAME"] = "lo"  # loopback only; no network needed
    one = subprocess.run([PYTHON, "-m", "webtext.train.cli", *args(byte_shards, tmp_path / "one", 2)],
                         env=env, capture_output=True, text=True, timeout=300)
    assert one.returncode == 0, one.stderr
    two = subprocess.run([PYTHON, "-m", "torch.distributed.run", "--nnodes", "1", "--nproc_per_node", "2",
                          "--master_addr", "127.0.0.1", "--master_port", str(free_port()),
                          "-m", "webtext.train.cli", *args(byte_shards, tmp_path / "two", 1)],
                         env=env, capture_output=True, text=True, timeout=300)
    assert two.returncode == 0, two.stderr[:6000]
    assert "2 rank(s)" in two.stdout and two.stdout.count("done:") == 1  # rank 0 alone reports

    a, b = records(tmp_path / "one" / "metrics.jsonl"), records(tmp_path / "two" / "metrics.jsonl")
    assert [r["step"] for r in a] == [r["step"] for r in b] == list(range(1, STEPS + 1))
    for x, y in zip(a, b):
        assert x["tokens"] == y["tokens"]
        assert y["loss"] == pytest.approx(x["loss"], rel=1e-5, abs=1e-6)
        assert y["grad_norm"] == pytest.approx(x["grad_norm"], rel=1e-4)
    assert b[-1]["val_loss"] == pytest.approx(a[-1]["val_loss"], rel=1e-5)
    assert a[-1]["loss"] < a[0]["loss"] - 0.5  # and it did train
