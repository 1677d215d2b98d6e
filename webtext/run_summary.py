"""RUN/summary.md of `webtext run`: what each step made, read back from the files the steps wrote
(the corpus manifest, the tokenizer's and the shards' metadata, metrics.jsonl, eval.json, samples.txt),
so the summary can never say something the outputs do not."""

from __future__ import annotations

import json
import time
from pathlib import Path

from webtext import atomic


def _json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _funnel(manifest: dict) -> list[str]:
    from webtext.pipeline.run.funnel import funnel, render

    return ["```", render(funnel(manifest)).rstrip("\n"), "```"] if manifest else ["(no manifest)"]


def _steps(state: dict) -> list[str]:
    rows = ["| step | seconds (last run) | command line |", "|---|---:|---|"]
    for name, rec in state.items():
        argv = " ".join(rec.get("argv", []))
        rows.append(f"| {name} | {rec.get('seconds', '')} | `webtext {name} {argv}` |")
    return rows


def write_summary(run: Path, state: dict, config_name: str) -> Path:
    manifest = _json(run / "corpus" / "_manifest.json")
    tok = _json(run / "tokenizer" / "webtext-tokenizer.json")
    tokens = _json(run / "tokens" / "meta.json")
    evals = _json(run / "eval.json")
    from webtext.train.metrics import read_metrics

    metrics = read_metrics(run / "model" / "metrics.jsonl") if (run / "model" / "metrics.jsonl").is_file() else []
    val = [r for r in metrics if r.get("val_loss") is not None]
    lines = [f"# webtext run: {run.name}", "",
             f"Written {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())} from {config_name}.", "",
             "## Corpus", "",
             f"{manifest.get('documents', 0):,} documents in {len(manifest.get('shards', []))} Parquet shard(s) "
             f"under `corpus/` (build-corpus, {manifest.get('elapsed_s', 0)} s; plots and the dataset card in "
             "`corpus/_report/`). The funnel:", "",
             *_funnel(manifest), "",
             "## Tokens", "",
             f"Tokenizer: byte-level BPE, {tok.get('n_vocab', 0):,} tokens (`tokenizer/`, fingerprint "
             f"{tok.get('fingerprint', '?')}).", "",
             f"Shards (`tokens/`): {tokens.get('train', {}).get('tokens', 0):,} train tokens from "
             f"{tokens.get('train', {}).get('docs', 0):,} documents, {tokens.get('val', {}).get('tokens', 0):,} "
             f"validation tokens from {tokens.get('val', {}).get('docs', 0):,}; {tokens.get('text_bytes', 0):,} "
             "bytes of text.", "",
             "## Training", ""]
    if metrics:
        last = metrics[-1]
        lines += [f"{last['step']} steps, {last['tokens']:,} tokens seen; loss {metrics[0]['loss']:.4f} at step 1, "
                  f"{last['loss']:.4f} at step {last['step']}.", ""]
        if val:
            lines += ["| step | val loss | val bits/byte |", "|---:|---:|---:|"]
            lines += [f"| {r['step']} | {r['val_loss']:.4f} | {r['val_bpb']:.4f} |" if r.get("val_bpb") is not None
                      else f"| {r['step']} | {r['val_loss']:.4f} | |" for r in val]
            lines.append("")
        if (run / "model" / "loss.png").is_file():
            lines += ["![loss curve](model/loss.png)", ""]
    lines += ["## Evaluation", ""]
    if evals:
        where = evals.get("data", {})
        lines += [f"`webtext eval` on {where.get('split', 'the')} shards" if "shards" in where else
                  f"`webtext eval` on the corpus {where.get('corpus')}", "",
                  "| loss (nats/token) | perplexity | bits per byte | tokens | bytes |", "|---:|---:|---:|---:|---:|",
                  f"| {evals['loss']:.4f} | {evals['perplexity']:.2f} | "
                  + (f"{evals['bits_per_byte']:.4f}" if evals.get("bits_per_byte") is not None else "n/a")
                  + f" | {evals['tokens']:,} | {evals['bytes']:,} |", ""]
    samples = run / "samples.txt"
    lines += ["## Samples", "", "```", samples.read_text(encoding="utf-8").rstrip() if samples.is_file() else "", "```", "",
              "## Steps", "", *_steps(state), ""]
    path = run / "summary.md"
    atomic.write_text(path, "\n".join(lines))
    return path
