"""`train-on-shards` (= `webtext train-on-shards`): pretrain a GPT on token shards.

    train-on-shards --data BINDIR --preset tiny --out RUNDIR [--steps N --batch-size B --seq-len T ...]
    torchrun --nproc_per_node 8 -m webtext.train.cli --data BINDIR --preset gpt2 --out RUNDIR ...

Every flag maps onto a field of loop.TrainConfig; see there for the defaults' reasons.
"""

from __future__ import annotations

import sys

from webtext.cli_args import ArgumentParser, add_flag_groups, count, field_defaults
from webtext.errors import UserError
from webtext.train.loop import TrainConfig, train
from webtext.train.presets import PRESETS


# (flag, type, help) per group; every flag's dest is a TrainConfig field, whose default it shows.
_FLAGS = {
    "batch and schedule": [
        ("--steps", int, "optimizer steps in all"),
        ("--batch-size", int, "sequences per micro-batch per rank"),
        ("--seq-len", int, "tokens per sequence (default: the preset's context)"),
        ("--grad-accum", int, "micro-batches per step per rank (default 1)"),
        ("--tokens-per-step", count, "global tokens per step, e.g. 0.5M (sets --grad-accum)"),
        ("--lr", float, "peak learning rate (default: the preset's, e.g. 6e-4 for gpt2)"),
        ("--min-lr", float, "final learning rate of the cosine (default lr/10)"),
        ("--warmup", int, "linear warmup steps (default steps/20)"),
        ("--weight-decay", float, "AdamW weight decay of matmul weights and embeddings"),
        ("--beta1", float, "AdamW beta1"),
        ("--beta2", float, "AdamW beta2"),
        ("--grad-clip", float, "clip the global gradient norm"),
        ("--dropout", float, "dropout probability (GPT-2 used 0.1; 0 is usual for pretraining today)"),
    ],
    "hardware": [
        ("--device", str, "auto, cpu, cuda, cuda:N or mps"),
        ("--dtype", str, "bf16 (autocast), fp16 (autocast + GradScaler), fp32, tf32 (fp32 with TF32 matmuls); "
                         "bfloat16, float16, float32 as in PyTorch and nanoGPT; auto: bf16 on GPUs that have it, fp32 on CPU"),
        ("--compile", None, "torch.compile the model"),
        ("--peak-flops", float, "peak FLOP/s per device for MFU (default: table or CPU probe)"),
    ],
    "run": [
        ("--seed", int, "seed of the initial weights, dropout and data order"),
        ("--val-every", int, "validation loss every N steps (0: never)"),
        ("--val-steps", int, "global batches (steps' worth of tokens) per validation pass"),
        ("--log-every", int, "log line every N steps (between them a progress line shows step, tokens/s, ETA)"),
        ("--checkpoint-every", int, "checkpoint every N steps (and at the end)"),
        ("--keep-checkpoints", int, "keep the newest K checkpoints (0: all)"),
        ("--resume", None, "continue from the newest checkpoint in RUNDIR"),
        ("--vocab-size", int, "vocabulary size (default: n_vocab of BINDIR/meta.json)"),
        ("--pad-vocab", int, "round the embedding rows up to a multiple of this for faster matmuls (1: off)"),
        ("--spike-z", float, "skip updates this many std above recent loss or gradient norm (0: off)"),
        ("--init-from", str, "start from a Hugging Face GPT-2 folder (config.json + model.safetensors, e.g. from "
                             "save_pretrained or webtext export-hf): its shape replaces --preset's"),
    ],
}


def build_parser() -> ArgumentParser:
    p = ArgumentParser(prog="train-on-shards", description="Pretrain a GPT on llm.c-format token shards.")
    p.add_argument("--data", required=True, metavar="BINDIR", help="folder with train_*.bin, val_*.bin, meta.json")
    p.add_argument("--preset", metavar="NAME", help=f"model shape: {', '.join(PRESETS)}")
    p.add_argument("--out", required=True, metavar="RUNDIR", help="run folder: metrics.jsonl, loss.png, checkpoints/")
    add_flag_groups(p, _FLAGS)
    p.add_argument("--no-plot", dest="plot", action="store_false", help="do not write loss.png")
    p.set_defaults(**field_defaults(TrainConfig))  # the defaults live in TrainConfig only
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
