"""Training throughput on this machine: tokens/s, achieved FLOP/s and MFU for `tiny` and `gpt2`.

    python bench/bench_train.py [--steps 6] [--gpt2-seq-len 128] [--device cpu|cuda] [--dtype fp32|bf16]

Runs the real loop (train/loop.py) on token shards made from the real text in ../shared/data (bytes as
tokens; the vocabulary is declared as GPT-2's 50,257 for `gpt2`, so its output layer has GPT-2's size,
and as 4,096 for `tiny`, the size of a small BPE such a CPU model would use: at 50k rows the output
layer and its softmax would be 90% of tiny's work). Achieved FLOP/s use
PaLM's 6N + 12LdT per token (train/mfu.py); the peak is the matmul probe's (re-measured now, best of
bursts, so a busy neighbour lowers it less) on CPU, or the datasheet table on GPUs. The first step
(allocation, warm-up) is left out; the figure is the median of the others.
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from webtext.tokenizer.shards import write_shard
from webtext.train.loop import TrainConfig, train
from webtext.train.metrics import read_metrics
from webtext.train.mfu import cpu_peak

TEXT = Path(__file__).resolve().parents[2] / "shared" / "data" / "text" / "dolma-cc_en_head-0091.jsonl.gz"


def make_shards(bindir: Path, n_vocab: int) -> None:
    with gzip.open(TEXT, "rt", encoding="utf-8") as f:
        docs = [json.loads(line)["text"] for line in f]
    toks = np.concatenate([np.concatenate([[256], np.frombuffer(d.encode(), dtype=np.uint8)]) for d in docs])
    write_shard(bindir / "train_000000.bin", toks.astype(np.int64), n_vocab)
    (bindir / "meta.json").write_text(json.dumps({"n_vocab": n_vocab, "eot": 256}))


def bench(preset: str, bindir: Path, rundir: Path, steps: int, batch: int, seq_len: int, device: str,
          dtype: str, peak: float | None) -> dict:
    t0 = time.perf_counter()
    train(TrainConfig(data=str(bindir), out=str(rundir), preset=preset, steps=steps, batch_size=batch,
                      seq_len=seq_len, device=device, dtype=dtype, val_every=0, checkpoint_every=0,
                      keep_checkpoints=1, log_every=10**9, plot=False, peak_flops=peak, pad_vocab=64))
    rows = read_metrics(rundir / "metrics.jsonl")[1:]
    tps = statistics.median(r["tokens_per_s"] for r in rows)
    mfu = statistics.median(r["mfu"] for r in rows) if rows[0]["mfu"] is not None else None
    return {"preset": preset, "tokens_per_step": batch * seq_len, "tokens_per_s": tps, "mfu": mfu,
            "achieved_flops": mfu * peak if mfu is not None and peak else None,
            "step_s": statistics.median(r["dt_ms"] for r in rows) / 1000, "wall_s": time.perf_counter() - t0}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--tiny-batch", type=int, default=16)
    ap.add_argument("--tiny-seq-len", type=int, default=256)
    ap.add_argument("--tiny-vocab", type=int, default=4096)
    ap.add_argument("--gpt2-batch", type=int, default=2)
    ap.add_argument("--gpt2-seq-len", type=int, default=128)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--dtype", default="fp32")
    ap.add_argument("--presets", default="tiny,gpt2")
    args = ap.parse_args()

    peak = None
    if args.device == "cpu":
        t = time.perf_counter()
        peak = cpu_peak(args.dtype, seconds=5.0, refresh=True)
        print(f"CPU matmul peak ({args.dtype}, {torch.get_num_threads()} threads, 1024^3, best of bursts "
              f"over 5 s): {peak / 1e9:,.1f} GFLOP/s  [{time.perf_counter() - t:.1f} s]")
    shapes = {"tiny": (args.tiny_batch, args.tiny_seq_len, args.tiny_vocab),
              "gpt2": (args.gpt2_batch, args.gpt2_seq_len, 50257)}
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for preset in args.presets.split(","):
            batch, seq_len, n_vocab = shapes.get(preset, (args.gpt2_batch, args.gpt2_seq_len, 50257))
            bindir = Path(tmp) / f"bin-{preset}"
            bindir.mkdir()
            make_shards(bindir, n_vocab)
            results.append(bench(preset, bindir, Path(tmp) / preset, args.steps, batch, seq_len,
                                 args.device, args.dtype, peak))
    print(f"\n{'preset':8} {'tokens/step':>11} {'s/step':>8} {'tokens/s':>10} {'GFLOP/s':>9} {'MFU':>7}")
    for r in results:
        ach = f"{r['achieved_flops'] / 1e9:9.1f}" if r["achieved_flops"] else f"{'-':>9}"
        mfu = f"{r['mfu'] * 100:6.1f}%" if r["mfu"] is not None else f"{'-':>7}"
        print(f"{r['preset']:8} {r['tokens_per_step']:11,} {r['step_s']:8.3f} {r['tokens_per_s']:10,.0f} {ach} {mfu}")
    print(json.dumps({"peak_flops": peak, "results": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
