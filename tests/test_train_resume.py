"""Exact resume: a run SIGKILLed at an arbitrary moment and resumed with --resume logs the same losses,
step for step and bit for bit (CPU, fp32), as a run never interrupted -- and no step twice."""

from __future__ import annotations

import json
import signal
import subprocess
import time

import pytest

from test_train_fixtures import PYTHON, byte_shards, subprocess_env  # noqa: F401  (fixture)

STEPS = 24


def command(data, out, *extra):
    return [PYTHON, "-m", "webtext.train.cli", "--data", str(data), "--out", str(out), "--preset", "tiny",
            "--steps", str(STEPS), "--batch-size", "8", "--seq-len", "64", "--dtype", "fp32", "--device", "cpu",
            "--checkpoint-every", "4", "--keep-checkpoints", "2", "--val-every", "8", "--val-steps", "2",
            "--warmup", "5", "--peak-flops", "1e11", "--no-plot", "--seed", "7", *extra]


def records(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.slow
def test_sigkill_and_resume_is_bit_identical(byte_shards, tmp_path):  # noqa: F811
    env = subprocess_env(tmp_path)
    env["OMP_NUM_THREADS"] = "1"  # no thread spin-waiting when the test shares the cores with other work
    ref, cut = tmp_path / "uninterrupted", tmp_path / "killed"
    subprocess.run(command(byte_shards, ref), env=env, check=True, capture_output=True, timeout=300)

    proc = subprocess.Popen(command(byte_shards, cut), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 240
    # Kill once a checkpoint exists and the run has logged steps past it (those must not be duplicated).
    while not (list((cut / "checkpoints").glob("step_*.pt")) and (cut / "metrics.jsonl").is_file()
               and len((cut / "metrics.jsonl").read_text().splitlines()) >= 12):
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    logged = len(records(cut / "metrics.jsonl"))
    assert logged < STEPS

    resumed = subprocess.run(command(byte_shards, cut, "--resume"), env=env, capture_output=True, text=True,
                             timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming from" in resumed.stdout

    a, b = records(ref / "metrics.jsonl"), records(cut / "metrics.jsonl")
    assert [r["step"] for r in b] == list(range(1, STEPS + 1))  # no duplicated or missing steps
    for x, y in zip(a, b):
        for key in ("loss", "grad_norm", "lr", "val_loss", "tokens"):
            assert x.get(key) == y.get(key), (x["step"], key, x.get(key), y.get(key))
    assert sum("val_loss" in r for r in b) == STEPS // 8
