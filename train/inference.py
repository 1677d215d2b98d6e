"""A trained model back from its run folder (or a checkpoint file), with the tokenizer its data was
made with: what `webtext sample`, `export-hf`, `eval`, `finetune` and `classify` start from."""

from __future__ import annotations

from pathlib import Path

import torch

from webtext.errors import UserError
from webtext.train import checkpoint as ckpt_io
from webtext.train.model import GPT, GPTConfig


def load_checkpoint(run: str | None = None, checkpoint: str | None = None) -> dict:
    """The newest checkpoint of RUNDIR, or the named file; UserErrors for what is not there or not one."""
    if run:
        if not Path(run).is_dir():
            raise UserError(f"--run {run}: no such folder")
        found = ckpt_io.load_latest(run)
        if found is None:
            raise UserError(f"{run} holds no checkpoint")
        return found[1]
    if not Path(checkpoint).is_file():
        raise UserError(f"--checkpoint {checkpoint}: no such file")
    try:
        return ckpt_io.load_checkpoint(checkpoint)
    except Exception as e:  # noqa: BLE001 - torch raises many types for a file that is not a checkpoint
        raise UserError(f"--checkpoint {checkpoint}: not a readable checkpoint ({type(e).__name__})") from None


def device_of(name: str) -> torch.device:
    try:
        return torch.device(name)
    except RuntimeError:
        raise UserError(f"--device {name!r}: not a device (cpu, cuda, cuda:N, mps)") from None


def model_from(ckpt: dict, device: torch.device | str = "cpu") -> GPT:
    """The GPT a checkpoint holds, in eval mode on `device`."""
    try:
        model = GPT(GPTConfig(**ckpt["model_config"]))
        model.load_state_dict(ckpt["model"])
    except (KeyError, TypeError, ValueError, RuntimeError) as e:
        raise UserError(f"not a webtext checkpoint: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}") from None
    return model.to(device).eval()


def tokenizer_dir(explicit: str | None, ckpt: dict) -> Path | None:
    """--tokenizer, else the tokenizer folder the data's meta.json names, else BINDIR/tokenizer."""
    from webtext.tokenizer.encoding import meta_path

    if explicit:
        if not Path(explicit).is_dir():
            raise UserError(f"--tokenizer {explicit}: no such folder")
        return Path(explicit)
    meta = ckpt.get("meta") or {}
    data = Path((ckpt.get("train_config") or {}).get("data", "."))
    candidates = [Path(v) for k in ("tokenizer", "tokenizer_dir") if isinstance(v := meta.get(k), str)]
    candidates.append(data / "tokenizer")  # `webtext tokenize` keeps a copy next to the shards
    return next((c for c in candidates if c.is_dir() and meta_path(c) is not None), None)
