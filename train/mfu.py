"""Model FLOPs utilisation: achieved training FLOP/s over the hardware's peak.

Training FLOPs per token, as in PaLM (Chowdhery et al. 2022, appendix B):

    6*N + 12*L*d*T

6*N for the matmuls' forward (2N) and backward (4N) passes, 12*L*d*T for attention's QK^T and AV
(L layers, width d = heads*head_dim, context T). N counts the parameters that take part in a matmul:
all of them but the position embeddings (a lookup); the token embedding counts because it is also the
output layer. Recomputation is not counted, which is the point of MFU (vs. hardware FLOPs utilisation).

Peaks are the vendors' dense (no sparsity) tensor-core figures per GPU. On a CPU there is no honest
datasheet number, so the peak is measured once by a matmul probe and cached per CPU, thread count,
dtype and torch version.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import time
from pathlib import Path

import torch

from webtext import atomic

# FLOP/s, dense. "tf32" is fp32 storage with TF32 tensor-core matmuls (what --dtype tf32 enables).
PEAK_FLOPS = {
    "H200 NVL": {"bf16": 835e12, "fp16": 835e12, "tf32": 417.5e12, "fp32": 60e12},
    "H200": {"bf16": 989e12, "fp16": 989e12, "tf32": 494.5e12, "fp32": 66.9e12},
    "H100 PCIe": {"bf16": 756e12, "fp16": 756e12, "tf32": 378e12, "fp32": 51.2e12},
    "H100 NVL": {"bf16": 835e12, "fp16": 835e12, "tf32": 417.5e12, "fp32": 60e12},
    "H100": {"bf16": 989e12, "fp16": 989e12, "tf32": 494.5e12, "fp32": 66.9e12},  # SXM
    "A100": {"bf16": 312e12, "fp16": 312e12, "tf32": 156e12, "fp32": 19.5e12},
    "L4": {"bf16": 121e12, "fp16": 121e12, "tf32": 60e12, "fp32": 30.3e12},
    "A10G": {"bf16": 70e12, "fp16": 70e12, "tf32": 35e12, "fp32": 31.2e12},
    "V100": {"fp16": 125e12, "fp32": 15.7e12, "tf32": 15.7e12},
}


def flops_per_token(n_params: int, n_pos_params: int, n_layer: int, n_embd: int, seq_len: int) -> float:
    """PaLM's training FLOPs per token (see the module docstring)."""
    return 6.0 * (n_params - n_pos_params) + 12.0 * n_layer * n_embd * seq_len


def gpu_peak(device_name: str, dtype: str) -> float | None:
    """Peak FLOP/s of a GPU model from its torch name ('NVIDIA H100 80GB HBM3'), or None if unknown."""
    words = set(device_name.upper().replace("-", " ").split())
    for key, peaks in PEAK_FLOPS.items():  # more specific names come first in the table
        if all(part.upper() in words for part in key.split()):
            return peaks.get(dtype)
    return None


_AUTOCAST = {"bf16": torch.bfloat16, "fp16": torch.float16}


def cpu_peak(dtype: str = "fp32", seconds: float = 3.0, cache: bool = True, refresh: bool = False) -> float:
    """Measured matmul FLOP/s of this CPU at the current thread count, cached after the first call.

    For bf16/fp16 the figure is the better of fp32 and autocast-16-bit matmuls (the fastest this CPU
    multiplies matrices at all): some CPUs have fast bf16 units, others emulate 16 bits slowly.
    A shared machine's speed varies with its neighbours' load, so the probe keeps the best of many
    short bursts, and `refresh=True` measures again and keeps the higher of the new and cached figures."""
    key = f"{_cpu_name()}|threads={torch.get_num_threads()}|{dtype}|torch={torch.__version__}"
    path = _cache_dir() / "cpu_peak.json"
    table = {}
    if cache and path.is_file():
        try:
            table = json.loads(path.read_text())
        except ValueError:
            table = {}
        if key in table and not refresh:
            return float(table[key])
    peak = matmul_probe(dtype, seconds)
    if dtype in _AUTOCAST:
        peak = max(peak, cpu_peak("fp32", seconds, cache, refresh))
    peak = max(peak, float(table.get(key, 0.0)))
    if cache:
        table = json.loads(path.read_text()) if path.is_file() else {}  # the fp32 probe may have added a row
        table[key] = peak
        try:
            atomic.write_json(path, table, indent=1, fsync=False)
        except OSError:
            pass  # a read-only home only costs a re-measurement next time
    return peak


def matmul_probe(dtype: str = "fp32", seconds: float = 1.0, n: int = 1024) -> float:
    """Best FLOP/s of an n x n matmul (under autocast for bf16/fp16, the path training takes) over
    short timed bursts. Uses its own generator, so probing never moves the global RNG (resume must
    stay exact)."""
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(n, n, generator=g), torch.randn(n, n, generator=g)
    amp = _AUTOCAST.get(dtype)
    with torch.autocast("cpu", dtype=amp) if amp else contextlib.nullcontext():
        a @ b  # warm up (thread pool, kernel choice)
        best, deadline = 0.0, time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            t0, reps = time.perf_counter(), 0
            while reps < 1 or time.perf_counter() - t0 < 0.05:
                a @ b
                reps += 1
            best = max(best, 2 * n**3 * reps / (time.perf_counter() - t0))
    return best


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "webtext"
