"""`webtext run`: the demo from nothing to a summary in one command; a second invocation skips every
step; killed during training and run again, it resumes and ends with the losses of a run never killed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from webtext.cli import main as webtext
from webtext.run_pipeline import STATE, STEPS
from webtext.train.metrics import read_metrics

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("run") / "demo"
    assert webtext(["run", "--out", str(run)]) == 0
    return run


def test_the_demo_runs_end_to_end_into_a_summary(demo_run):
    run = demo_run
    manifest = json.loads((run / "corpus" / "_manifest.json").read_text())
    evals = json.loads((run / "eval.json").read_text())
    metrics = read_metrics(run / "model" / "metrics.jsonl")
    summary = (run / "summary.md").read_text()
    assert manifest["documents"] > 0 and [r["step"] for r in metrics] == list(range(1, 101))
    assert f"{manifest['documents']:,} documents" in summary
    assert f"{evals['bits_per_byte']:.4f}" in summary and f"{metrics[-1]['loss']:.4f}" in summary
    assert (run / "model" / "loss.png").stat().st_size > 5000 and "![loss curve](model/loss.png)" in summary
    samples = (run / "samples.txt").read_text()
    assert samples.strip() and samples.strip().splitlines()[0] in summary
    state = json.loads((run / STATE).read_text())
    assert list(state) == [s.name for s in STEPS] and all(r["done"] for r in state.values())


def test_a_second_invocation_skips_every_step(demo_run, capsys):
    before = {p: p.stat().st_mtime_ns for p in demo_run.rglob("*") if p.is_file() and p.name != "summary.md"}
    capsys.readouterr()
    assert webtext(["run", "--out", str(demo_run)]) == 0
    out = capsys.readouterr().out
    assert out.count("done before, skipped") == len(STEPS), out
    after = {p: p.stat().st_mtime_ns for p in demo_run.rglob("*") if p.is_file() and p.name != "summary.md"}
    assert after == before


def test_killed_during_training_it_resumes_to_the_same_losses(demo_run, tmp_path):
    run = tmp_path / "killed"
    cmd = [sys.executable, "-m", "webtext.cli", "run", "--out", str(run)]
    # the reference ran in this process: the same thread count, so the same float summation order
    env = {**os.environ, "OMP_NUM_THREADS": str(torch.get_num_threads())}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    ckpts = run / "model" / "checkpoints"
    deadline = time.time() + 600
    while time.time() < deadline and proc.poll() is None:
        if ckpts.is_dir() and any(p.suffix == ".pt" for p in ckpts.iterdir()):
            break
        time.sleep(0.2)
    assert proc.poll() is None, "the run ended before its first checkpoint"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    state = json.loads((run / STATE).read_text())
    assert state["train-on-shards"]["done"] is False and not (run / "eval.json").exists()

    again = subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False, env=env)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "train-on-shards: did not finish last time; resuming" in again.stdout
    assert "resuming from" in again.stdout
    for name in ("build-corpus", "train-tokenizer", "tokenize"):
        assert f"{name}: done before, skipped" in again.stdout
    losses = [(r["step"], r["loss"]) for r in read_metrics(run / "model" / "metrics.jsonl")]
    reference = [(r["step"], r["loss"]) for r in read_metrics(demo_run / "model" / "metrics.jsonl")]
    assert losses == reference  # CPU fp32 training resumes bit for bit
    assert json.loads((run / "eval.json").read_text())["loss"] == json.loads((demo_run / "eval.json").read_text())["loss"]


def test_changed_options_rerun_that_step_and_the_later_ones(tmp_path, capsys):
    run = tmp_path / "changed"
    config = tmp_path / "run.toml"
    config.write_text("[train-on-shards]\npreset = 'tiny'\nsteps = 10\nbatch-size = 4\nseq-len = 32\nval-every = 5\n"
                      "[sample]\nmax-new-tokens = 5\n")
    assert webtext(["run", "--config", str(config), "--out", str(run)]) == 0
    config.write_text(config.read_text().replace("max-new-tokens = 5", "max-new-tokens = 8"))
    capsys.readouterr()
    assert webtext(["run", "--config", str(config), "--out", str(run)]) == 0
    out = capsys.readouterr().out
    assert out.count("done before, skipped") == len(STEPS) - 1 and "sample: running (options changed)" in out


@pytest.mark.parametrize("toml, message", [
    ("[trian-on-shards]\nsteps = 3\n", "unknown section [trian-on-shards]"),
    ("[tokenize]\nout = 'elsewhere'\n", "[tokenize] out: set by webtext run"),
    ("[run]\nout = 1\nfoo = 2\n", "[run] takes only `out`"),
    ("[eval\n", "not valid TOML"),
])
def test_config_mistakes_are_one_line_before_any_work(toml, message, tmp_path, capsys):
    config = tmp_path / "bad.toml"
    config.write_text(toml)
    assert webtext(["run", "--config", str(config), "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err
    assert not (tmp_path / "r" / "corpus").exists()


def test_a_failing_step_is_named_and_the_finished_ones_kept(tmp_path, capsys):
    config = tmp_path / "run.toml"
    config.write_text("[train-on-shards]\nsteps = 0\n")
    assert webtext(["run", "--config", str(config), "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "step train-on-shards failed" in err and "--steps must be at least 1" in err
    state = json.loads((tmp_path / "r" / STATE).read_text())
    assert state["tokenize"]["done"] and not state["train-on-shards"]["done"]
