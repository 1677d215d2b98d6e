"""Where and in what precision a run computes: the --device and --dtype a user writes, resolved and
checked against the hardware, and the autocast / GradScaler / TF32 set-up each precision needs. Shared
by pretraining (loop.py), fine-tuning (finetune.py) and `webtext eval`."""

from __future__ import annotations

from contextlib import nullcontext

import torch

from webtext.errors import UserError

DTYPES = ("bf16", "fp16", "fp32", "tf32")
# PyTorch's and nanoGPT's names for the same precisions
DTYPE_ALIASES = {"bfloat16": "bf16", "float16": "fp16", "half": "fp16", "float32": "fp32", "float": "fp32"}


def resolve_device_and_dtype(device: str, dtype: str, local_rank: int = 0) -> tuple[torch.device, str]:
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise UserError(f"--device {device}: this torch build sees no CUDA GPU (use --device cpu)")
        if device == "cuda":
            device = f"cuda:{local_rank}"
    elif device not in ("cpu", "mps"):
        raise UserError(f"--device must be auto, cpu, cuda, cuda:N or mps, not {device!r}")
    dev = torch.device(device)
    dtype = DTYPE_ALIASES.get(dtype, dtype)
    if dtype == "auto":
        dtype = ("bf16" if torch.cuda.is_bf16_supported() else "fp16") if dev.type == "cuda" else "fp32"
    if dtype not in DTYPES:
        raise UserError(f"--dtype must be one of {', '.join(DTYPES)} (or {', '.join(DTYPE_ALIASES)}) or auto, not {dtype!r}")
    if dtype == "bf16" and dev.type == "cuda" and not torch.cuda.is_bf16_supported():
        raise UserError(f"--dtype bf16: {torch.cuda.get_device_name(dev)} has no bfloat16; use fp16")
    if dtype == "tf32" and dev.type != "cuda":
        raise UserError("--dtype tf32 needs a CUDA GPU (TF32 is a tensor-core format); use fp32")
    return dev, dtype


def autocast_for(device: torch.device, dtype: str):
    """A context factory: autocast to bf16/fp16 for those dtypes, nothing for fp32/tf32."""
    amp = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(dtype)
    return (lambda: torch.autocast(device.type, dtype=amp)) if amp else nullcontext


def mixed_precision(device: torch.device, dtype: str):
    """(GradScaler, autocast context factory) for a resolved --dtype; sets TF32 matmuls on CUDA for tf32.
    The scaler is a no-op unless fp16; fp32 and tf32 run without autocast."""
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = dtype == "tf32"
    return torch.amp.GradScaler(device.type, enabled=dtype == "fp16"), autocast_for(device, dtype)
