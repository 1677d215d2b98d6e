"""`webtext sample`: generate text from a checkpoint.

    webtext sample --run RUNDIR [--prompt "The"] [--max-new-tokens 200] [--temperature 0.8] [--top-k 200]

Text is decoded with the tokenizer the data was made with: --tokenizer TOKDIR, or the tokenizer folder
that the shards' meta.json names. Without one, the token ids are printed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from webtext.errors import UserError
from webtext.train import checkpoint as ckpt_io
from webtext.train.model import GPT, GPTConfig


def _tokenizer_dir(explicit: str | None, ckpt: dict) -> Path | None:
    if explicit:
        if not Path(explicit).is_dir():
            raise UserError(f"--tokenizer {explicit}: no such folder")
        return Path(explicit)
    meta = ckpt.get("meta") or {}
    data = Path((ckpt.get("train_config") or {}).get("data", "."))
    candidates = [Path(v) for k in ("tokenizer", "tokenizer_dir") if isinstance(v := meta.get(k), str)]
    candidates.append(data / "tokenizer")  # `webtext tokenize` keeps a copy next to the shards
    return next((c for c in candidates if (c / "tokenizer.json").is_file()), None)


def _load_encoding(tokdir: Path | None):
    if tokdir is None:
        return None
    try:
        from webtext.tokenizer import load_encoding
    except ImportError:
        print("note: webtext.tokenizer.load_encoding is not available; printing token ids", file=sys.stderr)
        return None
    return load_encoding(tokdir)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="webtext sample", description="Generate text from a checkpoint.")
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--run", metavar="RUNDIR", help="use the newest checkpoint of a run folder")
    src.add_argument("--checkpoint", metavar="FILE", help="a checkpoint file")
    ap.add_argument("--prompt", default="", help="text to continue (default: start of a document)")
    ap.add_argument("--max-new-tokens", type=int, default=200)
    ap.add_argument("--num-samples", type=int, default=1)
    ap.add_argument("--temperature", type=float, default=0.8, help="0 for greedy decoding")
    ap.add_argument("--top-k", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1337)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--tokenizer", metavar="TOKDIR", help="tokenizer folder (default: from the data's meta.json)")
    args = ap.parse_args(argv)

    if args.run:
        if not Path(args.run).is_dir():
            raise UserError(f"--run {args.run}: no such folder")
        found = ckpt_io.load_latest(args.run)
        if found is None:
            raise UserError(f"{args.run} holds no checkpoint")
        ckpt = found[1]
    else:
        if not Path(args.checkpoint).is_file():
            raise UserError(f"--checkpoint {args.checkpoint}: no such file")
        try:
            ckpt = ckpt_io.load_checkpoint(args.checkpoint)
        except Exception as e:  # noqa: BLE001 - torch raises many types for a file that is not a checkpoint
            raise UserError(f"--checkpoint {args.checkpoint}: not a readable checkpoint ({type(e).__name__})") from None
    try:
        device = torch.device(args.device)
    except RuntimeError:
        raise UserError(f"--device {args.device!r}: not a device (cpu, cuda, cuda:N, mps)") from None
    try:
        model = GPT(GPTConfig(**ckpt["model_config"]))
        model.load_state_dict(ckpt["model"])
    except (KeyError, TypeError, ValueError, RuntimeError) as e:
        raise UserError(f"not a webtext checkpoint: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}") from None
    model.to(device).eval()

    enc = _load_encoding(_tokenizer_dir(args.tokenizer, ckpt))
    meta = ckpt.get("meta") or {}
    eot = meta.get("eot_token", meta.get("eot"))
    if enc is not None and eot is None:
        eot = enc.eot_token
    if args.prompt:
        if enc is None:
            raise UserError("--prompt needs a tokenizer (pass --tokenizer TOKDIR)")
        start = enc.encode_ordinary(args.prompt)
    else:
        start = [int(eot) if eot is not None else 0]
    gen = torch.Generator(device=device).manual_seed(args.seed)
    idx = torch.tensor([start] * args.num_samples, dtype=torch.long, device=device)
    out = model.generate(idx, args.max_new_tokens, args.temperature, args.top_k, generator=gen)
    if enc is None and not args.prompt:
        print("note: no tokenizer found (pass --tokenizer TOKDIR); printing token ids", file=sys.stderr)
    for i, row in enumerate(out.tolist()):
        if i:
            print("\n" + "-" * 40)
        if enc is None:
            print(" ".join(map(str, row)))
        else:
            print(enc.decode(row[1:] if not args.prompt else row))
    return 0
