"""`train-on-shards` (= `webtext train-on-shards`): pretrain a GPT on token shards.

    train-on-shards --data BINDIR --preset tiny --out RUNDIR [--steps N --batch-size B --seq-len T ...]
    torchrun --nproc_per_node 8 -m webtext.train.cli --data BINDIR --preset gpt2 --out RUNDIR ...

Every flag maps onto a field of loop.TrainConfig; see there for the defaults' reasons.
"""

from __future__ import annotations

import argparse
import sys

from webtext.errors import UserError
from webtext.train.loop import TrainConfig, train
from webtext.train.presets import PRESETS


def _number(text: str) -> int:
    """1000, 1e6, 524288, 0.5M, 2K -> int (for token counts)."""
    from webtext.train.estimate import parse_count

    return int(parse_count(text))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="train-on-shards", description="Pretrain a GPT on llm.c-format token shards.")
    p.add_argument("--data", required=True, metavar="BINDIR", help="folder with train_*.bin, val_*.bin, meta.json")
    p.add_argument("--preset", default="tiny", metavar="NAME",
                   help=f"model shape: {', '.join(PRESETS)} (default tiny)")
    p.add_argument("--out", required=True, metavar="RUNDIR", help="run folder: metrics.jsonl, loss.png, checkpoints/")
    g = p.add_argument_group("batch and schedule")
    g.add_argument("--steps", type=int, default=1000, help="optimizer steps in all (default 1000)")
    g.add_argument("--batch-size", type=int, default=8, help="sequences per micro-batch per rank (default 8)")
    g.add_argument("--seq-len", type=int, help="tokens per sequence (default: the preset's context)")
    g.add_argument("--grad-accum", type=int, help="micro-batches per step per rank (default 1)")
    g.add_argument("--tokens-per-step", type=_number, help="global tokens per step, e.g. 0.5M (sets --grad-accum)")
    g.add_argument("--lr", type=float, help="peak learning rate (default: the preset's, e.g. 6e-4 for gpt2)")
    g.add_argument("--min-lr", type=float, help="final learning rate of the cosine (default lr/10)")
    g.add_argument("--warmup", type=int, help="linear warmup steps (default steps/20)")
    g.add_argument("--weight-decay", type=float, default=0.1)
    g.add_argument("--beta1", type=float, default=0.9)
    g.add_argument("--beta2", type=float, default=0.95)
    g.add_argument("--grad-clip", type=float, default=1.0, help="clip the global gradient norm (default 1.0)")
    g.add_argument("--dropout", type=float, default=0.0)
    g = p.add_argument_group("hardware")
    g.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps (default auto)")
    g.add_argument("--dtype", default="auto", help="bf16 (autocast), fp16 (autocast + GradScaler), fp32, "
                   "tf32 (fp32 with TF32 matmuls); default bf16 on GPUs that have it, fp32 on CPU")
    g.add_argument("--compile", action="store_true", help="torch.compile the model")
    g.add_argument("--peak-flops", type=float, help="peak FLOP/s per device for MFU (default: table or CPU probe)")
    g = p.add_argument_group("run")
    g.add_argument("--seed", type=int, default=1337)
    g.add_argument("--val-every", type=int, default=100, help="validation loss every N steps (0: never)")
    g.add_argument("--val-steps", type=int, default=20, help="global batches (steps' worth of tokens) per validation pass (default 20)")
    g.add_argument("--log-every", type=int, default=10, help="progress line every N steps")
    g.add_argument("--checkpoint-every", type=int, default=100, help="checkpoint every N steps (and at the end)")
    g.add_argument("--keep-checkpoints", type=int, default=3, help="keep the newest K checkpoints (0: all)")
    g.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in RUNDIR")
    g.add_argument("--vocab-size", type=int, help="vocabulary size (default: n_vocab of BINDIR/meta.json)")
    g.add_argument("--pad-vocab", type=int, default=64,
                   help="round the embedding rows up to a multiple of this for faster matmuls (1: off)")
    g.add_argument("--spike-z", type=float, default=6.0, help="skip updates this many std above recent loss or "
                   "gradient norm (0: off)")
    g.add_argument("--no-plot", dest="plot", action="store_false", help="do not write loss.png")
    return p


def config_from_args(argv: list[str]) -> TrainConfig:
    args = build_parser().parse_args(argv)
    for name in ("steps", "batch_size", "seq_len", "grad_accum", "tokens_per_step", "val_steps", "log_every",
                 "pad_vocab", "vocab_size"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise UserError(f"--{name.replace('_', '-')} must be at least 1, not {value}")
    return TrainConfig(**vars(args))


def train_main(argv: list[str]) -> int:
    train(config_from_args(argv))
    return 0


if __name__ == "__main__":  # torchrun -m webtext.train.cli ...
    from webtext.cli import run

    sys.exit(run("train-on-shards", sys.argv[1:]))
