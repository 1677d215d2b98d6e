#!/usr/bin/env bash
# The GPU path, proven in one unattended run (under 8 minutes on one GPU):
#
#   bench/gpu_check.sh            GPT-2 124M (--preset gpt2, seq 1024, GPT-2's 50,257-token vocabulary) on
#                                 the first CUDA GPU: the largest micro-batch that fits, then a fixed number
#                                 of steps in each of bf16 + torch.compile, bf16, fp16 + GradScaler and
#                                 fp32 with TF32 matmuls; a SIGKILL + --resume checked against a run never
#                                 killed; torchrun --nproc_per_node 1 (DDP); webtext sample and export-hf
#   bench/gpu_check.sh --smoke    the same steps on the CPU with the tiny preset, in about a minute
#                                 (compile is skipped there: inductor on a CPU takes minutes)
#
# It prints one table (mode, micro-batch, tokens/s, MFU against the datasheet peak of train/mfu.py,
# peak GPU memory) and writes it, with every check's result, to $OUT/gpu_check.json; each step's log is
# in $OUT/logs/. A step that fails is recorded as failed and the script goes on, so the table always
# comes out; the exit status is 1 if any check failed. The data is real text from ../shared/data (the
# extraction sets' ground truth and the Dolma sample): a corpus of ~1 MB, a BPE trained on it, token
# shards; the throughput modes train the gpt2 shape with --vocab-size 50257 whatever the BPE's size.
set -uo pipefail
cd "$(dirname "$0")/.."
SMOKE=0
for arg in "$@"; do
  case "$arg" in
    --smoke) SMOKE=1 ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "gpu_check.sh: unknown argument $arg (use --smoke or nothing)" >&2; exit 2 ;;
  esac
done
PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || PY=$(command -v python3)
OUT=${OUT:-$PWD/gpu-check}
DATA=${WEBTEXT_TEST_DATA:-$(cd .. && pwd)/shared/data}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/gpu-check.XXXXXX")
mkdir -p "$OUT/logs"
trap 'rm -rf "$WORK"' EXIT
START=$(date +%s)
BUDGET=${GPU_CHECK_BUDGET_S:-470}  # seconds for everything; each step gets what is left

if [ "$SMOKE" = 1 ]; then
  DEVICE=cpu PRESET=tiny SEQ=32 VOCAB=512 STEPS=4 WARM=1 BATCHES="4" RESUME_STEPS=16 KILL_AT=6 CKPT_EVERY=2
  MODES="bf16 fp16 fp32"
else
  DEVICE=cuda PRESET=gpt2 SEQ=1024 VOCAB=50257 STEPS=40 WARM=10 BATCHES="64 32 16 8 4" RESUME_STEPS=30 KILL_AT=20 CKPT_EVERY=10
  MODES="bf16+compile bf16 fp16 tf32"
fi
WEBTEXT=("$PY" -m webtext.cli)
COMMON=(--preset "$PRESET" --seq-len "$SEQ" --device "$DEVICE" --val-every 0 --no-plot --log-every 10 --keep-checkpoints 2)

left() { echo $(( BUDGET - ($(date +%s) - START) )); }
# step NAME CMD...: run CMD with what is left of the budget, log it, record ok/failed in $WORK/status
step() {
  local name=$1; shift
  local t; t=$(left)
  if [ "$t" -lt 10 ]; then echo "$name skipped (out of time)" | tee -a "$WORK/status"; return 1; fi
  echo "== $name" >&2
  local run=(timeout "$t")
  declare -F "$1" >/dev/null && run=()  # a function of this script times its own commands
  if "${run[@]}" "$@" >"$OUT/logs/$name.log" 2>&1; then echo "$name ok" >>"$WORK/status"; return 0; fi
  echo "$name failed (see logs/$name.log)" | tee -a "$WORK/status" >&2
  tail -5 "$OUT/logs/$name.log" >&2
  return 1
}

# 1. data: real text -> Parquet corpus -> BPE -> token shards
step corpus "$PY" - "$DATA" "$WORK/corpus" <<'EOF'
import gzip, json, sys
from pathlib import Path
import pyarrow as pa, pyarrow.parquet as pq
data, out = Path(sys.argv[1]), Path(sys.argv[2])
texts = [v["articleBody"] for _, v in sorted(json.loads((data / "extraction/scrapinghub-aeb/ground-truth.json").read_text()).items())]
evald = json.loads((data / "extraction/trafilatura-eval/evaldata-subset.json").read_text())
texts += ["\n".join(v["with"]) for _, v in sorted(evald.items())]  # the snippets a page's main text must hold
texts += [json.loads(line)["text"] for line in gzip.open(data / "text/dolma-cc_en_head-0091.jsonl.gz", "rt")]
texts = [t for t in texts if t.strip()]
out.mkdir(parents=True)
pq.write_table(pa.table({"text": texts}), out / "train-00000-of-00001.parquet")
print(f"{len(texts)} documents, {sum(map(len, texts)):,} characters")
EOF
step tokenizer "${WEBTEXT[@]}" train-tokenizer --corpus "$WORK/corpus" --vocab-size "$VOCAB" --out "$WORK/tok"
step tokenize "${WEBTEXT[@]}" tokenize --corpus "$WORK/corpus" --tokenizer "$WORK/tok" --out "$WORK/bin" --val-tokens 20K
BIN=$WORK/bin

# 2. the largest micro-batch that fits (bf16 eager, 2 steps; compile only lowers memory)
BATCH=""
for b in $BATCHES; do
  if step "probe-b$b" "${WEBTEXT[@]}" train-on-shards --data "$BIN" --out "$WORK/probe-$b" "${COMMON[@]}" \
      --vocab-size 50257 --dtype "$( [ "$SMOKE" = 1 ] && echo fp32 || echo bf16 )" --steps 2 --batch-size "$b"; then
    BATCH=$b; break
  fi
done
BATCH=${BATCH:-1}

# 3. throughput per precision mode, the same steps each
for mode in $MODES; do
  case "$mode" in
    bf16+compile) flags=(--dtype bf16 --compile) ;;
    *) flags=(--dtype "$mode") ;;
  esac
  step "mode-$mode" "${WEBTEXT[@]}" train-on-shards --data "$BIN" --out "$WORK/mode-$mode" "${COMMON[@]}" \
    --vocab-size 50257 --steps "$STEPS" --batch-size "$BATCH" --warmup 2 "${flags[@]}"
done

# 4. SIGKILL + --resume on the device, against a run never killed (the tokenizer's own vocabulary)
RDTYPE=$( [ "$SMOKE" = 1 ] && echo fp32 || echo bf16 )
RESUME=(--data "$BIN" "${COMMON[@]}" --dtype "$RDTYPE" --steps "$RESUME_STEPS" --batch-size "$BATCH"
        --checkpoint-every "$CKPT_EVERY" --keep-checkpoints 0)
step resume-reference "${WEBTEXT[@]}" train-on-shards --out "$WORK/ref" "${RESUME[@]}"
kill_then_resume() {
  timeout "$(left)" "${WEBTEXT[@]}" train-on-shards --out "$WORK/killed" "${RESUME[@]}" &
  local pid=$! ckpt
  ckpt=$(printf 'step_%08d.pt' "$KILL_AT")
  while kill -0 "$pid" 2>/dev/null && [ ! -f "$WORK/killed/checkpoints/$ckpt" ]; do sleep 0.1; done
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  local logged
  logged=$(wc -l <"$WORK/killed/metrics.jsonl")
  if [ "$logged" -ge "$RESUME_STEPS" ]; then echo "the run ended before it was killed"; return 1; fi
  echo "killed with $ckpt written, $logged steps logged"
  timeout "$(left)" "${WEBTEXT[@]}" train-on-shards --out "$WORK/killed" "${RESUME[@]}" --resume
}
step resume-killed kill_then_resume

# 5. DDP through torchrun, one process
step ddp "$PY" -m torch.distributed.run --standalone --nproc_per_node 1 -m webtext.train.cli --data "$BIN" \
  --out "$WORK/ddp" "${COMMON[@]}" --vocab-size 50257 --dtype "$RDTYPE" --steps "$STEPS" --batch-size "$BATCH" --warmup 2

# 6. the trained model used: sample on the device, export to transformers and load it back
step sample "${WEBTEXT[@]}" sample --run "$WORK/ref" --device "$DEVICE" --max-new-tokens 32 --num-samples 2
step export-hf "${WEBTEXT[@]}" export-hf --run "$WORK/ref" --out "$WORK/hf"
step hf-load "$PY" -c "
import sys, torch
from transformers import AutoModelForCausalLM
m = AutoModelForCausalLM.from_pretrained(sys.argv[1]).to(sys.argv[2]).eval()
x = torch.randint(0, m.config.vocab_size, (1, 16), device=sys.argv[2])
print(type(m).__name__, tuple(m(x).logits.shape))" "$WORK/hf" "$DEVICE"

# 7. the table and the JSON
"$PY" - "$WORK" "$OUT" "$WARM" "$BATCH" "$SMOKE" "$MODES" "$(( $(date +%s) - START ))" <<'EOF'
import json, statistics, sys
from pathlib import Path
import torch
work, out, warm, batch, smoke, modes, elapsed = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5] == "1", sys.argv[6].split(), int(sys.argv[7])

def metrics(run):
    path = work / run / "metrics.jsonl"
    return [json.loads(l) for l in path.read_text().splitlines() if l.strip()] if path.is_file() else []

def row(mode, run):
    recs = metrics(run)
    timed = [r for r in recs if r["step"] > warm] or recs
    if not timed:
        return {"mode": mode, "ok": False}
    mfu = [r["mfu"] for r in timed if r.get("mfu") is not None]
    mem = [r["gpu_mem_gb"] for r in recs if r.get("gpu_mem_gb") is not None]
    return {"mode": mode, "ok": True, "steps": len(recs), "micro_batch": batch,
            "tokens_per_s": statistics.median(r["tokens_per_s"] for r in timed),
            "mfu": statistics.median(mfu) if mfu else None, "peak_gpu_mem_gb": max(mem) if mem else None,
            "last_loss": recs[-1]["loss"]}

status = dict(line.split(" ", 1) for line in (work / "status").read_text().splitlines())
rows = [row(m, f"mode-{m}") for m in modes] + [row("ddp (torchrun, 1 rank)", "ddp")]
ref, killed = metrics("ref"), metrics("killed")
diff = (max(abs(a["loss"] - b["loss"]) for a, b in zip(ref, killed)) if ref and len(ref) == len(killed) else None)
tolerance = 0.0 if smoke else 1e-2  # CPU fp32 resumes bit for bit; CUDA bf16 kernels may sum in another order
result = {
    "smoke": smoke, "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() and not smoke else "cpu",
    "torch": torch.__version__, "elapsed_s": elapsed, "micro_batch": batch, "rows": rows,
    "resume": {"steps": len(killed), "max_abs_loss_diff": diff, "tolerance": tolerance,
               "ok": diff is not None and diff <= tolerance},
    "status": status,
}
print(f"\n{result['device']}, torch {result['torch']}, micro-batch {batch}, {elapsed} s")
print(f"{'mode':<24} {'tokens/s':>12} {'MFU':>7} {'peak GPU mem':>13} {'last loss':>10}")
for r in rows:
    if not r["ok"]:
        print(f"{r['mode']:<24} {'failed':>12}")
        continue
    mfu = f"{r['mfu'] * 100:.1f}%" if r["mfu"] is not None else "n/a"
    mem = f"{r['peak_gpu_mem_gb']:.1f} GB" if r["peak_gpu_mem_gb"] is not None else "n/a"
    print(f"{r['mode']:<24} {r['tokens_per_s']:>12,.0f} {mfu:>7} {mem:>13} {r['last_loss']:>10.4f}")
print(f"resume after SIGKILL: max |loss - uninterrupted| = {diff} over {len(killed)} steps "
      f"(tolerance {tolerance}): {'ok' if result['resume']['ok'] else 'FAILED'}")
for name, what in status.items():
    if what != "ok":
        print(f"{name}: {what}")
(out / "gpu_check.json").write_text(json.dumps(result, indent=2))
print(f"-> {out / 'gpu_check.json'}")
sys.exit(0 if result["resume"]["ok"] and all(v == "ok" or name.startswith("probe-") for name, v in status.items()) else 1)
EOF
