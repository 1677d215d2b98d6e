"""The training loop: AdamW, warmup + cosine schedule, gradient accumulation, mixed precision, guards,
checkpoints with exact resume, metrics, and DDP under torchrun.

One optimizer step ("step" below, numbered from 1) consumes `grad_accum` micro-batches of
batch_size x seq_len tokens on each of `world_size` ranks. A checkpoint written after step s holds
everything that step s+1 depends on, so a run resumed from it logs the same numbers an uninterrupted
run would (on CPU in fp32, bit for bit; tests/test_train_resume.py kills a run with SIGKILL to check).
"""

from __future__ import annotations

import math
import os
import time
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.distributed as dist

from webtext.atomic import remove_stale_temps
from webtext.errors import UserError
from webtext.train import checkpoint as ckpt_io
from webtext.train.data import ShardStream, find_shards, read_meta
from webtext.train.device import mixed_precision, resolve_device_and_dtype
from webtext.train.evaluate import byte_lengths, nll_and_bytes
from webtext.train.guard import SpikeGuard
from webtext.train.hf_weights import load_hf_folder
from webtext.train.metrics import MetricsLog, plot_losses
from webtext.train.mfu import cpu_peak, flops_per_token, gpu_peak
from webtext.train.model import GPT, GPTConfig
from webtext.train.presets import get_preset
from webtext.train.progress import StepProgress
from webtext.tokenizer.shards import ShardError, open_shard



@dataclass
class TrainConfig:
    data: str
    out: str
    preset: str = "tiny"
    steps: int = 1000
    batch_size: int = 8
    seq_len: int | None = None          # default: the preset's context
    grad_accum: int | None = None       # micro-batches per step and rank ...
    tokens_per_step: int | None = None  # ... or derived from a global token budget per step
    lr: float | None = None             # default: the preset's
    min_lr: float | None = None         # default: lr / 10
    warmup: int | None = None           # default: steps // 20
    weight_decay: float = 0.1
    beta1: float = 0.9
    beta2: float = 0.95
    grad_clip: float = 1.0
    dropout: float = 0.0
    device: str = "auto"
    dtype: str = "auto"
    compile: bool = False
    seed: int = 1337
    val_every: int = 100
    val_steps: int = 20
    log_every: int = 10
    checkpoint_every: int = 100
    keep_checkpoints: int = 3
    resume: bool = False
    vocab_size: int | None = None
    pad_vocab: int = 64
    spike_z: float = 6.0
    peak_flops: float | None = None
    plot: bool = True
    init_from: str | None = None        # a Hugging Face GPT-2 folder (config.json + model.safetensors) to start from


def lr_at(step: int, peak: float, minimum: float, warmup: int, total: int) -> float:
    """Linear warmup from 0 over `warmup` steps, then a cosine from `peak` down to `minimum` at `total`."""
    if step <= warmup:
        return peak * step / max(1, warmup)
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return minimum + 0.5 * (1.0 + math.cos(math.pi * progress)) * (peak - minimum)


def build_optimizer(model: torch.nn.Module, cfg: TrainConfig, lr: float, fused: bool) -> torch.optim.AdamW:
    """AdamW with weight decay on matmul weights and embeddings only (not on biases and LayerNorms)."""
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=lr, betas=(cfg.beta1, cfg.beta2), eps=1e-8, fused=fused or None)


def _data_vocab(cfg: TrainConfig, meta: dict, train_paths: list[Path], val_paths: list[Path]) -> int:
    """The data's vocabulary: --vocab-size, else meta.json's n_vocab, else the shard dtype's limit;
    every shard checked to hold no id past it (one bad id would end training at the step that meets it)."""
    n_vocab = cfg.vocab_size or meta.get("n_vocab")
    probe = open_shard(train_paths[0])
    if not n_vocab:
        if probe.dtype.itemsize > 2:
            raise UserError(f"{cfg.data} has no meta.json with n_vocab; pass --vocab-size")
        n_vocab = 65536
        print("warning: no meta.json with n_vocab in the data folder; assuming 65,536 (pass --vocab-size)")
    if n_vocab < 2 ** (8 * probe.dtype.itemsize):  # ids the dtype can hold but the vocabulary cannot
        for path in (*train_paths, *val_paths):
            try:
                tokens = open_shard(path)
            except (ShardError, OSError) as e:
                raise UserError(str(e)) from None
            for start in range(0, tokens.size, 1 << 26):  # a memory-mapped pass, 64M tokens at a time
                top = int(tokens[start:start + (1 << 26)].max())
                if top >= n_vocab:
                    raise UserError(f"{path} holds token id {top} >= vocabulary size {n_vocab} (a shard of another tokenizer?)")
    return int(n_vocab)


class _Trainer:
    """State of one run; `run()` does the steps. Split in methods only so each part reads alone."""

    def __init__(self, cfg: TrainConfig):
        self.cfg = cfg
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        self.device, self.dtype = resolve_device_and_dtype(cfg.device, cfg.dtype, local_rank)
        if self.world > 1:
            if self.device.type == "cuda":
                torch.cuda.set_device(self.device)
            dist.init_process_group("nccl" if self.device.type == "cuda" else "gloo")
        self.master = self.rank == 0
        self.out = Path(cfg.out)

    def log(self, msg: str) -> None:
        if self.master:
            if getattr(self, "progress", None) is not None:
                self.progress.before_log()
            print(msg, flush=True)

    def setup(self) -> None:
        cfg, preset = self.cfg, get_preset(self.cfg.preset)
        if not Path(cfg.data).is_dir():
            raise UserError(f"--data {cfg.data}: no such folder")
        self.train_paths, self.val_paths = find_shards(cfg.data, "train"), find_shards(cfg.data, "val")
        if not self.train_paths:
            raise UserError(f"--data {cfg.data}: no train_*.bin token shards (run 'webtext tokenize' first)")
        self.meta = read_meta(cfg.data)

        ckpt, self.init_state = None, None
        if cfg.resume:
            found = ckpt_io.load_latest(self.out)
            if found is None:
                self.log(f"note: nothing to resume in {self.out}; starting a fresh run")
            else:
                self.log(f"resuming from {found[0]}")
                ckpt = found[1]
        elif ckpt_io.list_checkpoints(self.out):
            raise UserError(f"{self.out} already holds checkpoints; pass --resume to continue it or choose another --out")

        if ckpt:
            was = ckpt["train_config"]["preset"]
            if was != cfg.preset:
                raise UserError(f"{self.out} holds a --preset {was} run; resume it with --preset {was}")
            mcfg = GPTConfig(**ckpt["model_config"])
        elif cfg.init_from:
            mcfg, self.init_state = load_hf_folder(cfg.init_from, cfg.dropout)
            n_vocab = _data_vocab(cfg, self.meta, self.train_paths, self.val_paths)
            if n_vocab > mcfg.n_vocab:
                raise UserError(f"--init-from has {mcfg.n_vocab:,} tokens; the data's vocabulary is {n_vocab:,}")
        else:
            n_vocab = _data_vocab(cfg, self.meta, self.train_paths, self.val_paths)
            rows = -(-n_vocab // cfg.pad_vocab) * cfg.pad_vocab if cfg.pad_vocab > 1 else n_vocab
            mcfg = GPTConfig(preset.n_layer, preset.n_head, preset.n_embd, preset.block_size, rows,
                             n_vocab, cfg.dropout, preset.post_ln)
        self.T = cfg.seq_len or mcfg.block_size
        if self.T > mcfg.block_size:
            raise UserError(f"--seq-len {self.T} is longer than the model's context ({mcfg.block_size})")
        per_step = cfg.batch_size * self.T * self.world
        if cfg.tokens_per_step:
            if cfg.grad_accum or cfg.tokens_per_step % per_step:
                raise UserError(f"--tokens-per-step {cfg.tokens_per_step} must be a multiple of batch x seq-len x "
                                f"ranks = {per_step} (and is not combined with --grad-accum)")
            self.accum = cfg.tokens_per_step // per_step
        else:
            self.accum = cfg.grad_accum or 1
        self.tokens_per_step = per_step * self.accum

        torch.manual_seed(cfg.seed)  # same initial weights on every rank
        self.model = GPT(mcfg)
        if self.init_state is not None and not ckpt:
            self.model.load_state_dict(self.init_state)
            self.log(f"initialised from {cfg.init_from}")
        self.model.to(self.device)
        torch.manual_seed(cfg.seed + 1 + self.rank)  # a different dropout stream per rank
        self.peak_lr = cfg.lr or preset.lr
        self.min_lr = cfg.min_lr if cfg.min_lr is not None else self.peak_lr / 10
        self.warmup = cfg.warmup if cfg.warmup is not None else cfg.steps // 20
        self.opt = build_optimizer(self.model, cfg, self.peak_lr, fused=self.device.type == "cuda")
        self.scaler, self.autocast = mixed_precision(self.device, self.dtype)
        self.guard = SpikeGuard(z=cfg.spike_z)
        self.train_stream = ShardStream(self.train_paths, self.T, cfg.batch_size, rank=self.rank,
                                        world_size=self.world, seed=cfg.seed)
        self.start_step = 0
        if ckpt:
            self._restore(ckpt)
        if self.val_paths:
            try:
                ShardStream(self.val_paths, self.T, 1)
            except UserError as e:
                self.log(f"note: no validation ({e})")
                self.val_paths = []
        self.byte_lengths = self._byte_lengths(mcfg.vocab_size) if self.val_paths else None

        fwd = torch.compile(self.model) if cfg.compile else self.model
        self.eval_model = fwd
        self.train_model = fwd
        if self.world > 1:
            from torch.nn.parallel import DistributedDataParallel as DDP

            self.train_model = DDP(fwd, device_ids=[self.device.index] if self.device.type == "cuda" else None)
        self.fpt = flops_per_token(self.model.num_params(), self.model.wpe.weight.numel(), mcfg.n_layer,
                                   mcfg.n_embd, self.T)
        self.peak = self._peak_flops() if self.master else None
        self.mcfg = mcfg
        n = self.model.num_params()
        self.log(f"model: {cfg.preset}, {n:,} parameters ({mcfg.n_layer} layers, d {mcfg.n_embd}, "
                 f"{mcfg.n_head} heads, context {mcfg.block_size}, vocabulary {mcfg.n_vocab:,}"
                 + (f" padded to {mcfg.vocab_size:,}" if mcfg.vocab_size != mcfg.n_vocab else "") + ")")
        self.log(f"data: {len(self.train_paths)} train shard(s), {self.train_stream.tokens_per_epoch:,} tokens "
                 f"per epoch; {len(self.val_paths)} val shard(s)" + ("" if self.val_paths else ": no validation"))
        self.log(f"run: {self.device} {self.dtype}, {self.tokens_per_step:,} tokens/step = {cfg.batch_size} x "
                 f"{self.T} x {self.accum} accum x {self.world} rank(s), steps {self.start_step + 1}..{cfg.steps}")

    def _byte_lengths(self, rows: int) -> torch.Tensor | None:
        """Byte length of each token, for validation bits per byte: from the tokenizer copy that
        `webtext tokenize` keeps with the shards (meta.json names it); None, with a note, without one."""
        tokdir = self.meta.get("tokenizer")
        try:
            if tokdir and Path(tokdir).is_dir():
                return byte_lengths(tokdir, rows)
        except UserError as e:
            self.log(f"note: no bits per byte ({e})")
            return None
        self.log("note: no tokenizer folder named in the data's meta.json: validation reports no bits per byte")
        return None

    def _restore(self, ckpt: dict) -> None:
        self.model.load_state_dict(ckpt["model"])
        self.opt.load_state_dict(ckpt["optimizer"])
        self.scaler.load_state_dict(ckpt["scaler"])
        self.guard.load_state_dict(ckpt["guard"])
        self.train_stream.load_state_dict(ckpt["data"])
        self.start_step = int(ckpt["step"])
        rngs = ckpt["rng"]
        if self.rank < len(rngs):
            ckpt_io.set_rng_state(rngs[self.rank])

    def _peak_flops(self) -> float | None:
        if self.cfg.peak_flops:
            return self.cfg.peak_flops
        if self.device.type == "cuda":
            peak = gpu_peak(torch.cuda.get_device_name(self.device), self.dtype)
            if peak is None:
                self.log("note: no peak-FLOPs figure for this GPU; pass --peak-flops for MFU")
            return peak * self.world if peak else None
        if self.device.type == "cpu":
            return cpu_peak(self.dtype)  # the machine's; ranks on one host share it
        return None

    def _sum_over_ranks(self, x: torch.Tensor) -> torch.Tensor:
        if self.world > 1:
            dist.all_reduce(x, op=dist.ReduceOp.SUM)
        return x

    def _mean_over_ranks(self, x: torch.Tensor) -> torch.Tensor:
        if self.world > 1:
            dist.all_reduce(x, op=dist.ReduceOp.SUM)  # SUM, not AVG: gloo has no AVG
            x /= self.world
        return x

    def evaluate(self) -> tuple[float, float | None]:
        """Mean loss and bits per byte over the first val_steps global batches of the validation shards,
        the same windows every time and whatever the split of a global batch into ranks and micro-batches."""
        stream = ShardStream(self.val_paths, self.T, self.cfg.batch_size, rank=self.rank,
                             world_size=self.world, shuffle=False)
        n = max(1, min(self.cfg.val_steps * self.accum, stream.total // (self.cfg.batch_size * self.world)))
        self.model.eval()
        sums = nll_and_bytes(self.eval_model, (stream.next_batch() for _ in range(n)), self.byte_lengths,
                             self.device, self.autocast)
        self.model.train()
        nll, tokens, nbytes = self._sum_over_ranks(torch.tensor(sums, dtype=torch.float64, device=self.device)).tolist()
        return nll / tokens, (nll / (math.log(2) * nbytes) if nbytes else None)

    def _to_device(self, t: torch.Tensor) -> torch.Tensor:
        if self.device.type == "cuda":  # a pinned host copy lets the transfer overlap the previous step's kernels
            return t.pin_memory().to(self.device, non_blocking=True)
        return t.to(self.device)

    def train_step(self) -> tuple[float, float, str | None]:
        """One optimizer step over grad_accum micro-batches; returns (loss, grad norm, skip reason)."""
        loss_sum = torch.zeros((), device=self.device)
        for micro in range(self.accum):
            x, y = (self._to_device(t) for t in self.train_stream.next_batch())
            last = micro == self.accum - 1
            sync = self.train_model.no_sync() if self.world > 1 and not last else nullcontext()
            with sync:
                with self.autocast():
                    _, loss = self.train_model(x, y)
                loss = loss / self.accum
                loss_sum += loss.detach()
                self.scaler.scale(loss).backward()  # scaling is a no-op unless fp16
        loss_v = float(self._mean_over_ranks(loss_sum))
        self.scaler.unscale_(self.opt)  # true gradients, so clipping and the guard see real norms
        grad_norm = float(torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.grad_clip))
        reason = self.guard.check(loss_v, grad_norm)
        if reason == "nonfinite" and self.scaler.is_enabled() and math.isfinite(loss_v):
            reason = "overflow"  # fp16 gradient overflow: GradScaler lowers the scale (below)
        if reason is None:
            self.scaler.step(self.opt)
            self.guard.accept(loss_v, grad_norm)
        else:
            self.guard.count(reason)
        self.scaler.update()  # dynamic loss scaling: halve on inf/NaN, double after 2000 clean steps
        self.opt.zero_grad(set_to_none=True)
        return loss_v, grad_norm, reason

    def save(self, step: int) -> None:
        rng = ckpt_io.rng_state()
        rngs = [None] * self.world
        if self.world > 1:
            dist.all_gather_object(rngs, rng)
        else:
            rngs = [rng]
        if self.master:
            state = {"step": step, "model": self.model.state_dict(), "optimizer": self.opt.state_dict(),
                     "scaler": self.scaler.state_dict(), "guard": self.guard.state_dict(),
                     "data": self.train_stream.state_dict(), "rng": rngs,
                     "model_config": self.mcfg.to_dict(), "train_config": asdict(self.cfg), "meta": self.meta}
            ckpt_io.save_checkpoint(self.out, step, state, self.cfg.keep_checkpoints)

    def run(self) -> dict:
        cfg = self.cfg
        metrics_path = self.out / "metrics.jsonl"
        if self.master:
            self.out.mkdir(parents=True, exist_ok=True)
            for folder in (self.out, ckpt_io.checkpoint_dir(self.out)):  # what a run killed mid-write left
                remove_stale_temps(folder)
            MetricsLog.truncate(metrics_path, self.start_step)  # drop steps logged after the checkpoint
        log = MetricsLog(metrics_path) if self.master else None
        if self.start_step >= cfg.steps:
            self.log(f"note: the run already has {self.start_step} steps; raise --steps to train further")
        first_loss = last_loss = val_loss = val_bpb = None
        self.progress = StepProgress(cfg.steps, self.start_step) if self.master else None
        t_last = time.perf_counter()
        for step in range(self.start_step + 1, cfg.steps + 1):
            lr = lr_at(step, self.peak_lr, self.min_lr, self.warmup, cfg.steps)
            for group in self.opt.param_groups:
                group["lr"] = lr
            loss, grad_norm, reason = self.train_step()
            if self.device.type == "cuda":
                torch.cuda.synchronize(self.device)
            dt = time.perf_counter() - t_last
            tps = self.tokens_per_step / dt
            rec = {"step": step, "loss": loss, "lr": lr, "grad_norm": grad_norm, "tokens_per_s": tps,
                   "mfu": self.fpt * tps / self.peak if self.peak else None,
                   "tokens": step * self.tokens_per_step, "dt_ms": dt * 1000}
            if self.scaler.is_enabled():
                rec["loss_scale"] = self.scaler.get_scale()
            if self.device.type == "cuda":  # the high-water mark so far: what sizes the largest batch that fits
                rec["gpu_mem_gb"] = torch.cuda.max_memory_allocated(self.device) / 1e9
            if reason:
                rec["skipped"] = reason
            first_loss = loss if first_loss is None else first_loss
            last_loss = loss
            is_val = bool(self.val_paths) and cfg.val_every > 0 and (step % cfg.val_every == 0 or step == cfg.steps)
            if is_val:
                rec["val_loss"], rec["val_bpb"] = val_loss, val_bpb = self.evaluate()
            if log:
                log.write(rec)
                self.progress.update(step, tps)
            if step == self.start_step + 1 or step % cfg.log_every == 0 or step == cfg.steps or is_val or reason:
                mfu = f" | mfu {rec['mfu'] * 100:.1f}%" if rec["mfu"] is not None else ""
                val = f" | val {val_loss:.4f}" + (f" ({val_bpb:.3f} bits/byte)" if val_bpb else "") if is_val else ""
                skip = f" | SKIPPED ({reason})" if reason else ""
                self.log(f"step {step}/{cfg.steps} | loss {loss:.4f}{val} | lr {lr:.2e} | grad {grad_norm:.3f} | "
                         f"{tps:,.0f} tok/s{mfu} | {dt * 1000:.0f} ms{skip}")
            if (cfg.checkpoint_every > 0 and step % cfg.checkpoint_every == 0) or step == cfg.steps:
                self.save(step)
            if self.master and cfg.plot and (is_val or step == cfg.steps):
                plot_losses(metrics_path, self.out / "loss.png", f"{cfg.preset} on {Path(cfg.data).name}")
            t_last = time.perf_counter()  # validation, checkpoints and plots are not counted as training time
        if log:
            log.close()
        self.progress = None
        if self.world > 1:
            dist.barrier()  # nobody tears the process group down while rank 0 still writes
        counts = self.guard.counts
        if any(counts.values()):
            self.log("skipped updates: " + ", ".join(f"{k} {v}" for k, v in counts.items() if v))
        self.log(f"done: {self.out}")
        return {"first_loss": first_loss, "last_loss": last_loss, "val_loss": val_loss, "val_bpb": val_bpb, "skipped": dict(counts),
                "steps": cfg.steps, "params": self.model.num_params(), "flops_per_token": self.fpt}

    def close(self) -> None:
        if self.world > 1 and dist.is_initialized():
            dist.destroy_process_group()


def train(cfg: TrainConfig) -> dict:
    trainer = _Trainer(cfg)
    try:
        trainer.setup()
        return trainer.run()
    finally:
        trainer.close()
