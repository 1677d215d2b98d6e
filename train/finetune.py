"""`webtext finetune`: supervised fine-tuning of a pretrained GPT on labelled text (the GPT paper's recipe).

    webtext finetune --run RUNDIR --train train.parquet --val val.parquet --out FTDIR [--lm-weight 0.5]

The model is train/classifier_head.py's GPTClassifier: the pretrained GPT (the newest checkpoint of a
`train-on-shards` run, or a Hugging Face GPT-2 folder with --init-from) plus a linear head on the final
state at each sequence's last token; the objective is L3 = L2 + lambda * L1 (L2 the labels'
cross-entropy, L1 the LM loss on the same text, lambda = --lm-weight; 0 gives plain L2).
--random-init keeps the architecture and drops the pretrained weights: the baseline that shows what
pretraining buys.

The loop has pretraining's qualities and reuses its parts (train/loop.py): AdamW with decay on matmul
weights only, linear warmup then cosine decay, bf16/fp16/fp32, gradient clipping; checkpoints in
FTDIR/checkpoints/ that hold model, optimizer, scaler, data cursor and RNG state, so --resume continues
exactly (tests/test_finetune.py compares a resumed run with an uninterrupted one, bit for bit on CPU).
FTDIR also gets labels.json (class index -> label), a copy of the tokenizer, metrics.jsonl (loss = L3,
clf_loss = L2, lm_loss = L1 per step; val_loss, val_accuracy, val_macro_f1 at validation steps) and
finetune.png.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from webtext.atomic import remove_stale_temps
from webtext.errors import UserError
from webtext.train import checkpoint as ckpt_io
from webtext.train.classifier_head import GPTClassifier, predict_probs
from webtext.train.hf_weights import load_hf_folder
from webtext.train.inference import load_checkpoint, tokenizer_dir
from webtext.train.labelled_data import ExampleStream, LabelMap, accuracy_and_macro_f1, batch, encode, read_labelled
from webtext.train.device import mixed_precision, resolve_device_and_dtype
from webtext.train.loop import build_optimizer, lr_at
from webtext.train.metrics import MetricsLog, plot_finetune
from webtext.train.model import GPT, GPTConfig

KIND = "finetune"  # checkpoints of a finetune run say so, so `classify` and `finetune` tell the two apart


@dataclass
class FinetuneConfig:
    train: str
    out: str
    run: str | None = None              # a train-on-shards run folder (its newest checkpoint) ...
    init_from: str | None = None        # ... or a Hugging Face GPT-2 folder
    val: str | None = None
    text_column: str = "text"
    label_column: str = "label"
    tokenizer: str | None = None        # default: the one the run's data was tokenized with
    random_init: bool = False           # the run's shape, fresh weights: the no-pretraining baseline
    lm_weight: float = 0.5              # lambda of L3 = L2 + lambda * L1 (the GPT paper's 0.5)
    steps: int = 300
    batch_size: int = 16
    seq_len: int | None = None          # default: the model's context
    lr: float = 1e-4
    min_lr: float = 0.0                 # the GPT paper decays to 0
    warmup: int | None = None           # default: steps // 10
    weight_decay: float = 0.01          # the GPT paper's fine-tuning value
    beta1: float = 0.9
    beta2: float = 0.999
    grad_clip: float = 1.0
    dropout: float = 0.1                # in the GPT and before the head, as in the GPT paper
    device: str = "auto"
    dtype: str = "auto"
    seed: int = 1337
    val_every: int = 50
    log_every: int = 10
    checkpoint_every: int = 100
    keep_checkpoints: int = 2
    resume: bool = False
    plot: bool = True


class _Finetuner:
    def __init__(self, cfg: FinetuneConfig):
        self.cfg, self.out = cfg, Path(cfg.out)
        self.device, self.dtype = resolve_device_and_dtype(cfg.device, cfg.dtype)

    def _source(self) -> tuple[GPTConfig, dict | None, Path | None, dict | None]:
        """(model shape, pretrained weights, tokenizer folder, checkpoint to resume) from the flags."""
        cfg = self.cfg
        if cfg.resume:
            found = ckpt_io.load_latest(self.out)
            if found is not None:
                print(f"resuming from {found[0]}")
                return GPTConfig(**found[1]["model_config"]), None, self.out / "tokenizer", found[1]
            print(f"note: nothing to resume in {self.out}; starting a fresh run")
        elif ckpt_io.list_checkpoints(self.out):
            raise UserError(f"{self.out} already holds checkpoints; pass --resume to continue it or choose another --out")
        if bool(cfg.run) == bool(cfg.init_from):
            raise UserError("pass the pretrained model as --run RUNDIR or --init-from HF_FOLDER (one of them)")
        if cfg.init_from:
            mcfg, state = load_hf_folder(cfg.init_from, cfg.dropout)
            if not cfg.tokenizer:
                raise UserError("--init-from: pass the model's tokenizer folder as --tokenizer TOKDIR")
            return mcfg, state, Path(cfg.tokenizer), None
        pre = load_checkpoint(cfg.run)
        if pre.get("kind") == KIND:
            raise UserError(f"--run {cfg.run} is a finetune run; pass the pretraining run (or --resume with --out {cfg.run})")
        tokdir = tokenizer_dir(cfg.tokenizer, pre)
        if tokdir is None:
            raise UserError(f"--run {cfg.run}: its data names no tokenizer folder; pass --tokenizer TOKDIR")
        return GPTConfig(**pre["model_config"]), pre["model"], tokdir, None

    def setup(self) -> None:
        from webtext.tokenizer import load_encoding

        cfg = self.cfg
        mcfg, state, tokdir, ckpt = self._source()
        mcfg = replace(mcfg, dropout=cfg.dropout)
        self.enc = load_encoding(tokdir)
        if self.enc.n_vocab > mcfg.n_vocab:
            raise UserError(f"the tokenizer has {self.enc.n_vocab:,} tokens, the model {mcfg.n_vocab:,}: not its tokenizer")
        self.T = cfg.seq_len or (int(ckpt["seq_len"]) if ckpt else mcfg.block_size)
        if ckpt and self.T != ckpt["seq_len"]:
            raise UserError(f"{self.out} was fine-tuned with --seq-len {ckpt['seq_len']}; resume it with that")
        if self.T > mcfg.block_size:
            raise UserError(f"--seq-len {self.T} is longer than the model's context ({mcfg.block_size})")

        texts, labels, skipped = read_labelled(cfg.train, cfg.text_column, cfg.label_column, "--train")
        self._note_skipped("--train", skipped)
        self.labels = LabelMap(ckpt["labels"]) if ckpt else LabelMap.from_labels(labels, "--train")
        self.y = self.labels.indices(labels, "--train")
        self.ids, self.lengths = encode(self.enc, texts, self.T)
        self.val = None
        if cfg.val:
            vtexts, vlabels, vskipped = read_labelled(cfg.val, cfg.text_column, cfg.label_column, "--val")
            self._note_skipped("--val", vskipped)
            if not vtexts:
                raise UserError(f"--val {cfg.val}: no example with both text and label")
            self.val = (*encode(self.enc, vtexts, self.T), self.labels.indices(vlabels, "--val"))
        else:
            print("note: no --val; no validation accuracy is reported")

        torch.manual_seed(cfg.seed)
        gpt = GPT(mcfg)
        if state is not None and not cfg.random_init:
            gpt.load_state_dict(state)
        self.model = GPTClassifier(gpt, len(self.labels.names), cfg.dropout).to(self.device)
        self.mcfg = mcfg
        self.warmup = cfg.warmup if cfg.warmup is not None else cfg.steps // 10
        self.opt = build_optimizer(self.model, cfg, cfg.lr, fused=self.device.type == "cuda")
        self.scaler, self.autocast = mixed_precision(self.device, self.dtype)
        self.stream = ExampleStream(len(self.y), cfg.batch_size, cfg.seed)
        self.start_step = 0
        if ckpt:
            self.model.load_state_dict(ckpt["model"])
            self.opt.load_state_dict(ckpt["optimizer"])
            self.scaler.load_state_dict(ckpt["scaler"])
            self.stream.load_state_dict(ckpt["data"])
            ckpt_io.set_rng_state(ckpt["rng"])
            self.start_step = int(ckpt["step"])
        self.out.mkdir(parents=True, exist_ok=True)
        for folder in (self.out, self.out / "tokenizer", ckpt_io.checkpoint_dir(self.out)):
            remove_stale_temps(folder)  # what a run killed mid-write left
        if not ckpt:
            from webtext.tokenizer.encoding import copy_tokenizer

            self.labels.save(self.out)
            copy_tokenizer(tokdir, self.out / "tokenizer")
        counts = np.bincount(self.y, minlength=len(self.labels.names))
        source = "random init" if cfg.random_init else (cfg.run or cfg.init_from or "the checkpoint")
        print(f"model: {gpt.num_params():,} parameters from {source} + head {mcfg.n_embd} x {len(self.labels.names)}; "
              f"context {self.T}; lm-weight {cfg.lm_weight}")
        print(f"data: {len(self.y):,} train examples ({', '.join(f'{n!r} {c}' for n, c in zip(self.labels.names, counts))})"
              + (f", {len(self.val[2]):,} val" if self.val else "")
              + f"; {int(np.sum(self.lengths == self.T)):,} train texts truncated to {self.T} tokens")

    @staticmethod
    def _note_skipped(flag: str, skipped: dict) -> None:
        parts = [f"{n} {what.replace('_', ' ')}" for what, n in skipped.items() if n]
        if parts:
            print(f"note: {flag}: left out {', '.join(parts)}")

    def evaluate(self) -> dict:
        ids, lengths, y = self.val
        probs = predict_probs(self.model, ids, lengths, self.cfg.batch_size, self.device, self.autocast)
        acc, f1 = accuracy_and_macro_f1(probs.argmax(1), y, len(self.labels.names))
        nll = float(-np.mean(np.log(np.maximum(probs[np.arange(len(y)), y], 1e-12))))
        return {"val_loss": nll, "val_accuracy": acc, "val_macro_f1": f1}

    def train_step(self) -> dict:
        rows = self.stream.next_indices()
        x, lengths = (t.to(self.device) for t in batch(self.ids, self.lengths, rows))
        y = torch.from_numpy(self.y[rows]).to(self.device)
        with self.autocast():
            logits, l1 = self.model(x, lengths)
        l2 = F.cross_entropy(logits.float(), y)
        loss = l2 + self.cfg.lm_weight * l1 if self.cfg.lm_weight else l2  # with 0, L1 is only logged
        self.scaler.scale(loss).backward()
        self.scaler.unscale_(self.opt)
        grad_norm = float(torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.grad_clip))
        self.scaler.step(self.opt)  # skipped by the scaler when fp16 gradients overflowed
        self.scaler.update()
        self.opt.zero_grad(set_to_none=True)
        return {"loss": loss.item(), "clf_loss": l2.item(), "lm_loss": l1.item(), "grad_norm": grad_norm}

    def save(self, step: int) -> None:
        state = {"kind": KIND, "step": step, "model": self.model.state_dict(), "optimizer": self.opt.state_dict(),
                 "scaler": self.scaler.state_dict(), "data": self.stream.state_dict(), "rng": ckpt_io.rng_state(),
                 "model_config": self.mcfg.to_dict(), "labels": self.labels.names, "seq_len": self.T,
                 "finetune_config": asdict(self.cfg), "meta": {"tokenizer": str((self.out / "tokenizer").resolve())}}
        ckpt_io.save_checkpoint(self.out, step, state, self.cfg.keep_checkpoints)

    def run(self) -> dict:
        cfg = self.cfg
        metrics_path = self.out / "metrics.jsonl"
        MetricsLog.truncate(metrics_path, self.start_step)  # drop steps logged after the checkpoint
        log = MetricsLog(metrics_path)
        last = {}
        self.model.train()
        t_last = time.perf_counter()
        for step in range(self.start_step + 1, cfg.steps + 1):
            lr = lr_at(step, cfg.lr, cfg.min_lr, self.warmup, cfg.steps)
            for group in self.opt.param_groups:
                group["lr"] = lr
            rec = {"step": step, **self.train_step(), "lr": lr}
            rec["examples_per_s"] = cfg.batch_size / (time.perf_counter() - t_last)
            is_val = self.val is not None and cfg.val_every > 0 and (step % cfg.val_every == 0 or step == cfg.steps)
            if is_val:
                rec.update(self.evaluate())
                self.model.train()
            log.write(rec)
            last.update(rec)
            if step == self.start_step + 1 or step % cfg.log_every == 0 or step == cfg.steps or is_val:
                val = (f" | val loss {rec['val_loss']:.4f} acc {rec['val_accuracy']:.3f} "
                       f"macro-F1 {rec['val_macro_f1']:.3f}") if is_val else ""
                print(f"step {step}/{cfg.steps} | loss {rec['loss']:.4f} (L2 {rec['clf_loss']:.4f}, "
                      f"L1 {rec['lm_loss']:.4f}){val} | lr {lr:.2e} | {rec['examples_per_s']:.1f} ex/s", flush=True)
            if (cfg.checkpoint_every > 0 and step % cfg.checkpoint_every == 0) or step == cfg.steps:
                self.save(step)
            if cfg.plot and (is_val or step == cfg.steps):
                plot_finetune(metrics_path, self.out / "finetune.png", f"fine-tuning on {Path(cfg.train).name}")
            t_last = time.perf_counter()
        log.close()
        if self.start_step >= cfg.steps:
            print(f"note: the run already has {self.start_step} steps; raise --steps to train further")
        print(f"done: {self.out}")
        return {k: last.get(k) for k in ("loss", "clf_loss", "lm_loss", "val_loss", "val_accuracy", "val_macro_f1")}


def finetune(cfg: FinetuneConfig) -> dict:
    tuner = _Finetuner(cfg)
    tuner.setup()
    return tuner.run()


# (flag, type, help) per group; each dest is a FinetuneConfig field, whose default --help shows.
_FLAGS = {
    "model and data": [
        ("--run", str, "pretraining run folder (train-on-shards --out): its newest checkpoint"),
        ("--init-from", str, "or a Hugging Face GPT-2 folder (config.json + model.safetensors; needs --tokenizer)"),
        ("--tokenizer", str, "tokenizer folder (default: the one the run's token shards were made with)"),
        ("--val", str, "labelled validation file: accuracy and macro-F1 every --val-every steps"),
        ("--text-column", str, "column of the text"),
        ("--label-column", str, "column of the label (strings or integers)"),
        ("--seq-len", int, "tokens per example, the leading end-of-text included; longer texts keep their beginning "
                           "(default: the model's context)"),
        ("--random-init", None, "the run's architecture with fresh weights (the baseline without pretraining)"),
    ],
    "objective and schedule": [
        ("--lm-weight", float, "lambda of L3 = L2 + lambda * L1 (L1: LM loss on the labelled text; 0: plain L2)"),
        ("--steps", int, "optimizer steps in all"),
        ("--batch-size", int, "examples per step"),
        ("--lr", float, "peak learning rate"),
        ("--min-lr", float, "final learning rate of the cosine decay"),
        ("--warmup", int, "linear warmup steps (default steps/10)"),
        ("--weight-decay", float, "AdamW weight decay of matmul weights and embeddings"),
        ("--beta1", float, "AdamW beta1"),
        ("--beta2", float, "AdamW beta2"),
        ("--grad-clip", float, "clip the global gradient norm"),
        ("--dropout", float, "dropout in the GPT and on the head's input"),
    ],
    "run": [
        ("--device", str, "auto, cpu, cuda, cuda:N or mps"),
        ("--dtype", str, "bf16, fp16 (with GradScaler), fp32, tf32; auto: bf16 on GPUs that have it, fp32 on CPU"),
        ("--seed", int, "seed of the head's initial weights, dropout and example order"),
        ("--val-every", int, "validate every N steps and at the end (0: never)"),
        ("--log-every", int, "progress line every N steps"),
        ("--checkpoint-every", int, "checkpoint every N steps (and at the end)"),
        ("--keep-checkpoints", int, "keep the newest K checkpoints (0: all)"),
        ("--resume", None, "continue from the newest checkpoint in FTDIR"),
    ],
}


def build_parser():
    from webtext.cli_args import ArgumentParser, add_flag_groups, field_defaults

    p = ArgumentParser(prog="webtext finetune", description="Fine-tune a pretrained GPT with a classification head "
                       "on labelled Parquet or JSONL (the GPT paper's L3 = L2 + lambda * L1).")
    p.add_argument("--train", required=True, metavar="FILE", help="labelled training file (Parquet or JSONL)")
    p.add_argument("--out", required=True, metavar="FTDIR", help="run folder: checkpoints/, labels.json, tokenizer/, "
                   "metrics.jsonl, finetune.png")
    add_flag_groups(p, _FLAGS)
    p.add_argument("--no-plot", dest="plot", action="store_false", help="do not write finetune.png")
    p.set_defaults(**field_defaults(FinetuneConfig))
    return p


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    for name in ("steps", "batch_size", "log_every"):
        if getattr(args, name) < 1:
            raise UserError(f"--{name.replace('_', '-')} must be at least 1, not {getattr(args, name)}")
    if args.lm_weight < 0 or args.lr <= 0 or not 0 <= args.dropout < 1:
        raise UserError("--lm-weight must be >= 0, --lr > 0 and --dropout in [0, 1)")
    finetune(FinetuneConfig(**vars(args)))
    return 0
