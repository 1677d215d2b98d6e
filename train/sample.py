"""`webtext sample`: generate text from a checkpoint.

    webtext sample --run RUNDIR [--prompt "The"] [--max-new-tokens 200] [--temperature 0.8] [--top-k 200]

Text is decoded with the tokenizer the data was made with: --tokenizer TOKDIR, or the tokenizer folder
that the shards' meta.json names. Without one, the token ids are printed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

from webtext.cli_args import ArgumentParser
from webtext.errors import UserError
from webtext.train.inference import device_of, load_checkpoint, model_from, tokenizer_dir


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
    ap = ArgumentParser(prog="webtext sample", description="Generate text from a checkpoint.")
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--run", metavar="RUNDIR", help="use the newest checkpoint of a run folder")
    src.add_argument("--checkpoint", metavar="FILE", help="a checkpoint file")
    ap.add_argument("--prompt", default="", help="text to continue (default: start of a document)")
    ap.add_argument("--max-new-tokens", type=int, default=200, help="tokens to generate per sample")
    ap.add_argument("--num-samples", type=int, default=1, help="samples to generate")
    ap.add_argument("--temperature", type=float, default=0.8, help="softmax temperature; 0 for greedy decoding")
    ap.add_argument("--top-k", type=int, default=200, help="sample among the k most likely tokens only (0: all)")
    ap.add_argument("--seed", type=int, default=1337, help="seed of the sampling generator")
    ap.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or mps")
    ap.add_argument("--tokenizer", metavar="TOKDIR", help="tokenizer folder (default: from the data's meta.json)")
    args = ap.parse_args(argv)

    ckpt = load_checkpoint(args.run, args.checkpoint)
    device = device_of(args.device)
    model = model_from(ckpt, device)

    enc = _load_encoding(tokenizer_dir(args.tokenizer, ckpt))
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
