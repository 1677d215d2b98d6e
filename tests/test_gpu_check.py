"""bench/gpu_check.sh --smoke: the GPU check's every step (data, batch probe, precision modes, SIGKILL +
resume, torchrun DDP, sample, export-hf and loading it in transformers) on the CPU, and its table."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_gpu_check_smoke_runs_every_step_and_writes_its_table(tmp_path):
    env = {**os.environ, "OUT": str(tmp_path / "out"), "PYTHON": sys.executable, "TMPDIR": str(tmp_path)}
    done = subprocess.run(["bash", str(REPO / "bench" / "gpu_check.sh"), "--smoke"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads((tmp_path / "out" / "gpu_check.json").read_text())
    assert result["smoke"] and result["device"] == "cpu"
    assert all(v == "ok" for v in result["status"].values()), result["status"]
    assert [r["mode"] for r in result["rows"]] == ["bf16", "fp16", "fp32", "ddp (torchrun, 1 rank)"]
    assert all(r["ok"] and r["tokens_per_s"] > 0 and r["mfu"] > 0 for r in result["rows"])
    assert result["resume"]["ok"] and result["resume"]["max_abs_loss_diff"] == 0.0 and result["resume"]["steps"] == 16
    log = (tmp_path / "out" / "logs" / "resume-killed.log").read_text()
    assert "killed with step_00000006.pt written" in log and "resuming from" in log
    assert "GPT2LMHeadModel" in (tmp_path / "out" / "logs" / "hf-load.log").read_text()
    table = done.stdout
    assert "tokens/s" in table and "resume after SIGKILL" in table and not list(tmp_path.glob("gpu-check.*"))
