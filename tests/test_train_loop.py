"""The training loop in-process on real text: loss falls, metrics, plot, checkpoints, mixed precision,
the spike guard and NaN protection, user errors, and `webtext sample`."""

from __future__ import annotations

import json
import math

import pytest
import torch

from test_train_fixtures import N_VOCAB, byte_shards  # noqa: F401  (fixture)
from webtext.cli import run as run_command
from webtext.errors import UserError
from webtext.train import checkpoint as ckpt_io
from webtext.train.cli import config_from_args
from webtext.train.guard import SpikeGuard
from webtext.train.loop import TrainConfig, lr_at, train
from webtext.train.metrics import read_metrics
from webtext.train.model import GPT

FAST = dict(batch_size=8, seq_len=64, log_every=1000, peak_flops=1e11, plot=False, checkpoint_every=0)


def cfg(data, out, **over) -> TrainConfig:
    return TrainConfig(data=str(data), out=str(out), **{**FAST, **over})


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


@pytest.mark.slow
def test_tiny_learns_real_text(byte_shards, tmp_path):  # noqa: F811
    out = tmp_path / "run"
    summary = train(cfg(byte_shards, out, steps=60, val_every=30, plot=True, checkpoint_every=30,
                        keep_checkpoints=1, peak_flops=None))
    rows = read_metrics(out / "metrics.jsonl")
    assert [r["step"] for r in rows] == list(range(1, 61))
    for key in ("step", "loss", "lr", "grad_norm", "tokens_per_s", "mfu"):
        assert all(r[key] is not None for r in rows), key
    # MFU against the CPU matmul peak, measured once and cached (XDG_CACHE_HOME is private to this test)
    peaks = json.loads((tmp_path / "cache" / "webtext" / "cpu_peak.json").read_text())
    (peak,) = peaks.values()
    assert rows[-1]["mfu"] == pytest.approx(rows[-1]["tokens_per_s"] * summary["flops_per_token"] / peak)
    start = sum(r["loss"] for r in rows[:3]) / 3
    end = sum(r["loss"] for r in rows[-5:]) / 5
    assert start > 5.0 and end < start - 2.0  # from ~ln(257) = 5.55 to well below (byte-level text)
    vals = [r["val_loss"] for r in rows if "val_loss" in r]
    assert len(vals) == 2 and vals[-1] < 3.6
    assert (out / "loss.png").stat().st_size > 5000
    assert [s for s, _ in ckpt_io.list_checkpoints(out)] == [60]  # keep the newest 1
    assert summary["last_loss"] == rows[-1]["loss"]


def test_checkpoint_contents_load_weights_only(byte_shards, tmp_path):  # noqa: F811
    out = tmp_path / "run"
    train(cfg(byte_shards, out, steps=6, checkpoint_every=2, keep_checkpoints=2, val_every=0))
    assert [s for s, _ in ckpt_io.list_checkpoints(out)] == [4, 6]
    state = torch.load(out / "checkpoints" / "step_00000006.pt", weights_only=True)
    assert state["step"] == 6 and state["data"]["cursor"] == 6 * 8
    assert set(state) >= {"model", "optimizer", "scaler", "rng", "data", "guard", "model_config"}
    assert set(state["rng"][0]) == {"torch", "cuda", "numpy", "python"}
    assert not list((out / "checkpoints").glob(".*tmp*"))


def test_grad_accum_and_tokens_per_step(byte_shards, tmp_path):  # noqa: F811
    a = train(cfg(byte_shards, tmp_path / "a", steps=3, grad_accum=2, val_every=0))
    b = train(cfg(byte_shards, tmp_path / "b", steps=3, tokens_per_step=1024, val_every=0))
    assert a["last_loss"] == b["last_loss"]
    rows = read_metrics(tmp_path / "a" / "metrics.jsonl")
    assert rows[-1]["tokens"] == 3 * 2 * 8 * 64
    with pytest.raises(UserError, match="multiple"):
        train(cfg(byte_shards, tmp_path / "c", steps=3, tokens_per_step=1000))


def test_schedule():
    assert lr_at(1, 1.0, 0.1, 10, 100) == pytest.approx(0.1)
    assert lr_at(10, 1.0, 0.1, 10, 100) == pytest.approx(1.0)
    assert lr_at(55, 1.0, 0.1, 10, 100) == pytest.approx(0.55)
    assert lr_at(100, 1.0, 0.1, 10, 100) == pytest.approx(0.1)
    assert lr_at(150, 1.0, 0.1, 10, 100) == pytest.approx(0.1)


@pytest.mark.slow
def test_fp16_grad_scaler_and_bf16_autocast(byte_shards, tmp_path):  # noqa: F811
    rows16 = None
    try:
        train(cfg(byte_shards, tmp_path / "fp16", steps=4, dtype="fp16", val_every=0, warmup=1))
        rows16 = read_metrics(tmp_path / "fp16" / "metrics.jsonl")
    except RuntimeError as e:  # an old torch without CPU fp16 autocast / GradScaler
        pytest.skip(f"fp16 on CPU not supported by this torch: {e}")
    # GradScaler starts at 2**16: the first steps overflow and are skipped while the scale drops
    assert all("loss_scale" in r for r in rows16)
    assert rows16[0]["skipped"] == "overflow" and rows16[1]["loss_scale"] < 65536.0
    assert any("skipped" not in r for r in rows16)
    train(cfg(byte_shards, tmp_path / "bf16", steps=3, dtype="bf16", val_every=0))
    assert len(read_metrics(tmp_path / "bf16" / "metrics.jsonl")) == 3


def _patch_loss(monkeypatch, at_call: int, factor: float):
    """Multiply the training loss of the at_call-th training forward by factor (a forced spike or NaN)."""
    original = GPT.forward
    calls = {"n": 0}

    def forward(self, idx, targets=None):
        logits, loss = original(self, idx, targets)
        if targets is not None and torch.is_grad_enabled():
            calls["n"] += 1
            if calls["n"] == at_call:
                loss = loss * factor
        return logits, loss

    monkeypatch.setattr(GPT, "forward", forward)


@pytest.mark.slow
def test_spike_guard_skips_a_forced_spike(byte_shards, tmp_path, monkeypatch):  # noqa: F811
    _patch_loss(monkeypatch, at_call=26, factor=8.0)
    summary = train(cfg(byte_shards, tmp_path / "run", steps=30, val_every=0))
    rows = read_metrics(tmp_path / "run" / "metrics.jsonl")
    assert [r["step"] for r in rows if r.get("skipped")] == [26]
    assert rows[25]["skipped"] == "spike" and rows[25]["loss"] > 20
    assert summary["skipped"]["spike"] == 1
    assert rows[26]["loss"] < rows[24]["loss"] + 0.5  # the model was not damaged


def test_nan_step_is_skipped(byte_shards, tmp_path, monkeypatch):  # noqa: F811
    _patch_loss(monkeypatch, at_call=3, factor=float("nan"))
    summary = train(cfg(byte_shards, tmp_path / "run", steps=6, val_every=0))
    rows = read_metrics(tmp_path / "run" / "metrics.jsonl")
    assert rows[2]["skipped"] == "nonfinite" and rows[2]["loss"] is None  # JSON null, not NaN
    assert summary["skipped"]["nonfinite"] == 1
    assert all(math.isfinite(r["loss"]) for i, r in enumerate(rows) if i != 2)
    state = ckpt_io.load_latest(tmp_path / "run")[1]
    assert all(torch.isfinite(t).all() for t in state["model"].values())


def test_spike_guard_unit():
    g = SpikeGuard(z=6, window=50, min_history=10, patience=3)
    assert g.check(100.0, 1.0) is None  # no history yet: nothing is an outlier
    for i in range(20):
        assert g.check(3.0 + 0.01 * (i % 3), 1.0) is None
        g.accept(3.0 + 0.01 * (i % 3), 1.0)
    assert g.check(3.5, 1.0) is None  # many std above, but only 16% above the mean: noise, not a spike
    assert g.check(4.0, 1.0) == "spike"
    assert g.check(3.05, 1.9) is None  # grad norm: not yet double
    assert g.check(3.05, 30.0) == "spike"  # gradient-norm outlier
    assert g.check(float("inf"), 1.0) == "nonfinite"
    assert g.check(3.0, float("nan")) == "nonfinite"
    assert g.check(4.0, 1.0) == "spike"  # third in a row: the history is cleared ...
    assert g.check(4.0, 1.0) is None  # ... and the new level is accepted
    state = g.state_dict()
    h = SpikeGuard()
    h.load_state_dict(json.loads(json.dumps(state)))
    assert h.state_dict() == state


def test_user_errors(byte_shards, tmp_path, capsys):  # noqa: F811
    def one_line(argv):
        assert run_command("train-on-shards", argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("train-on-shards: error:"), err
        return err[0]

    out = str(tmp_path / "run")
    assert "no such folder" in one_line(["--data", str(tmp_path / "missing"), "--out", out])
    (tmp_path / "empty").mkdir()
    assert "no train_" in one_line(["--data", str(tmp_path / "empty"), "--out", out])
    assert "unknown preset" in one_line(["--data", str(byte_shards), "--out", out, "--preset", "gpt9"])
    assert "tf32" in one_line(["--data", str(byte_shards), "--out", out, "--dtype", "tf32", "--device", "cpu"])
    assert "--dtype" in one_line(["--data", str(byte_shards), "--out", out, "--dtype", "fp8"])
    if not torch.cuda.is_available():
        assert "CUDA" in one_line(["--data", str(byte_shards), "--out", out, "--device", "cuda"])
    assert "--seq-len" in one_line(["--data", str(byte_shards), "--out", out, "--seq-len", "4096"])
    assert "at least 1" in one_line(["--data", str(byte_shards), "--out", out, "--steps", "0"])


def test_resume_with_nothing_starts_fresh_and_refuses_to_overwrite(byte_shards, tmp_path, capsys):  # noqa: F811
    out = tmp_path / "run"
    train(cfg(byte_shards, out, steps=2, val_every=0, resume=True))
    assert "nothing to resume" in capsys.readouterr().out
    with pytest.raises(UserError, match="--resume"):
        train(cfg(byte_shards, out, steps=2, val_every=0))


def test_vocab_from_meta_and_flag(byte_shards, tmp_path):  # noqa: F811
    train(cfg(byte_shards, tmp_path / "a", steps=1, val_every=0, pad_vocab=1))
    state = ckpt_io.load_latest(tmp_path / "a")[1]
    assert state["model_config"]["vocab_size"] == state["model_config"]["n_vocab"] == N_VOCAB
    with pytest.raises(UserError, match="token id"):
        train(cfg(byte_shards, tmp_path / "b", steps=1, val_every=0, vocab_size=100))


def test_cli_parses_into_config():
    c = config_from_args(["--data", "d", "--out", "o", "--tokens-per-step", "0.5M", "--dtype", "bf16", "--resume"])
    assert c.tokens_per_step == 500_000 and c.dtype == "bf16" and c.resume and c.preset == "tiny"


def test_sample_from_checkpoint(byte_shards, tmp_path, capsys):  # noqa: F811
    out = tmp_path / "run"
    train(cfg(byte_shards, out, steps=2, val_every=0))
    capsys.readouterr()
    assert run_command("sample", ["--run", str(out), "--max-new-tokens", "12", "--num-samples", "2"]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line and not line.startswith("-")]
    ids = [list(map(int, line.split())) for line in lines]
    assert len(ids) == 2 and all(len(r) == 13 and r[0] == 256 and max(r) < N_VOCAB for r in ids)
    assert run_command("sample", ["--run", str(tmp_path / "none")]) == 2
