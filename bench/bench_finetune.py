"""What pretraining buys: fine-tuned pretrained GPT vs the same architecture from random init vs the
majority class, and lambda = 0.5 vs 0 (L3 = L2 + lambda * L1), on the real task of bench/finetune_task.py.

    python bench/bench_finetune.py [--pretrain-steps 300] [--steps 60] [--lr 5e-4] [--seeds 1,2,3]
                                   [--task language|boilerplate] [--train-examples 80 (0: all)]

Pretrains `tiny` once on the AEB article bodies (train-on-shards), then fine-tunes each arm once per
seed (`webtext finetune`, the seed changes the head's initial weights, dropout and example order) and
scores the test split with `webtext classify`. Prints accuracy and macro-F1 per arm as min-max over
the seeds, and the pretrained arm's figures over the others' as ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import Counter
from contextlib import redirect_stdout
from io import StringIO
from pathlib import Path

import pyarrow.parquet as pq
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import finetune_task  # noqa: E402

from webtext.cli import main  # noqa: E402

ARMS = {  # name -> extra finetune flags
    "pretrained, lambda 0.5": [],
    "pretrained, lambda 0": ["--lm-weight", "0"],
    "random init, lambda 0.5": ["--random-init"],
}


def scores(ftdir: Path, test: Path, out: Path) -> dict:
    buf = StringIO()
    with redirect_stdout(buf):
        assert main(["classify", "--run", str(ftdir), "--input", str(test), "--out", str(out), "--gold-column", "label",
                     "--label-column", "predicted"]) == 0
    return json.loads(buf.getvalue().strip().splitlines()[-1])


def majority(train: Path, test: Path) -> dict:
    """Always the most frequent training label: accuracy, and macro-F1 over the classes that occur."""
    top = Counter(pq.read_table(train, columns=["label"]).column(0).to_pylist()).most_common(1)[0][0]
    gold = pq.read_table(test, columns=["label"]).column(0).to_pylist()
    acc = sum(g == top for g in gold) / len(gold)
    return {"accuracy": acc, "macro_f1": (2 * acc / (1 + acc)) / len(set(gold))}  # F1 of `top`; the others score 0


def main_(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pretrain-steps", type=int, default=300)
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--seq-len", type=int, default=64)
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--task", default="language", choices=finetune_task.TASKS)
    ap.add_argument("--train-examples", type=int, default=80, help="keep this many training examples (0: all)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (1 is fastest for tiny on a shared machine)")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(f"load average before: {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t0 = time.perf_counter()
        with redirect_stdout(StringIO()):
            run = finetune_task.pretrain(tmp / "pre", steps=args.pretrain_steps, seq_len=args.seq_len)
        print(f"pretrained tiny for {args.pretrain_steps} steps in {time.perf_counter() - t0:.0f} s")
        task = finetune_task.write_task(tmp / "task", args.task, args.train_examples or None)
        n_train, n_test = (pq.read_metadata(task[s]).num_rows for s in ("train", "test"))
        results = {"majority class": [majority(task["train"], task["test"])]}
        for seed in args.seeds.split(","):
            for arm, extra in ARMS.items():
                ft = tmp / f"{arm}-{seed}".replace(" ", "_").replace(",", "")
                t0 = time.perf_counter()
                with redirect_stdout(StringIO()):
                    assert main(["finetune", "--run", str(run), "--train", str(task["train"]), "--val", str(task["val"]),
                                 "--out", str(ft), "--steps", str(args.steps), "--lr", str(args.lr), "--batch-size",
                                 str(args.batch_size), "--seq-len", str(args.seq_len), "--seed", seed, "--device", "cpu",
                                 "--no-plot", *extra]) == 0
                s = scores(ft, task["test"], tmp / "scored.parquet")
                results.setdefault(arm, []).append(s)
                print(f"seed {seed} {arm:<24} accuracy {s['accuracy']:.3f} macro-F1 {s['macro_f1']:.3f} "
                      f"({time.perf_counter() - t0:.0f} s)", flush=True)
    print(f"\ntask {args.task}: {n_train} train, {n_test} test examples; {len(results['pretrained, lambda 0.5'])} "
          f"seed(s); {args.steps} fine-tuning steps of {args.batch_size}, lr {args.lr}")
    print(f"{'arm':<26} {'accuracy':>15} {'macro-F1':>15}   pretrained(0.5)/arm (mean acc)")
    mean = {arm: sum(r["accuracy"] for r in rs) / len(rs) for arm, rs in results.items()}
    for arm, rs in results.items():
        acc = [r["accuracy"] for r in rs]
        f1 = [r["macro_f1"] for r in rs]
        print(f"{arm:<26} {min(acc):.3f}-{max(acc):.3f}     {min(f1):.3f}-{max(f1):.3f}     "
              f"{mean['pretrained, lambda 0.5'] / mean[arm]:.3f}x")
    print(f"load average after: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main_())
