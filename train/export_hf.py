"""`webtext export-hf`: a trained run as a folder Hugging Face transformers loads as it is.

    webtext export-hf --run RUNDIR --out HFDIR [--tokenizer TOKDIR]

HFDIR gets model.safetensors, config.json and generation_config.json (GPT2LMHeadModel; a `gpt1` run
becomes OpenAIGPTLMHeadModel, GPT-1's post-LayerNorm arrangement), and the tokenizer the data was made
with in Hugging Face's format (tokenizer.json, tokenizer_config.json, special_tokens_map.json), so

    AutoModelForCausalLM.from_pretrained(HFDIR), AutoTokenizer.from_pretrained(HFDIR)

give the same logits and the same greedy text as `webtext sample --temperature 0`. Embedding rows
padded for speed are left out: HF's vocabulary is the tokenizer's. Every file is written atomically.
"""

from __future__ import annotations

from pathlib import Path

from webtext import atomic
from webtext.cli_args import ArgumentParser
from webtext.errors import UserError
from webtext.train.hf_weights import to_hf
from webtext.train.inference import load_checkpoint, model_from, tokenizer_dir


def export(ckpt: dict, out: str | Path, tokdir: Path | None) -> Path:
    from safetensors.torch import save_file

    model = model_from(ckpt)
    config, state = to_hf(model)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    meta = None
    if tokdir is not None:
        from webtext.tokenizer.encoding import read_tokenizer
        from webtext.tokenizer.hf_format import write_hf_files

        meta, ranks = read_tokenizer(tokdir)
        if meta["n_vocab"] != model.config.n_vocab:
            raise UserError(f"the tokenizer in {tokdir} has {meta['n_vocab']:,} tokens, the model {model.config.n_vocab:,}")
        write_hf_files(out, meta, ranks, max_length=model.config.block_size)
    eot = (meta or {}).get("eot_token", (ckpt.get("meta") or {}).get("eot_token"))
    config.update(bos_token_id=eot, eos_token_id=eot, torch_dtype="float32")
    with atomic.atomic_path(out / "model.safetensors") as tmp:
        save_file(state, tmp, metadata={"format": "pt"})
    atomic.write_json(out / "generation_config.json", {"bos_token_id": eot, "eos_token_id": eot, "do_sample": False,
                                                        "max_length": model.config.block_size}, indent=2)
    atomic.write_json(out / "config.json", config, indent=2)
    return out


def main(argv: list[str]) -> int:
    ap = ArgumentParser(prog="webtext export-hf", description="Write a trained run as a Hugging Face transformers folder.")
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--run", metavar="RUNDIR", help="the newest checkpoint of this run folder")
    src.add_argument("--checkpoint", metavar="FILE", help="a checkpoint file")
    ap.add_argument("--out", required=True, metavar="HFDIR", help="folder to write (model.safetensors, config.json, tokenizer files)")
    ap.add_argument("--tokenizer", metavar="TOKDIR", help="tokenizer folder (default: the one the data was made with)")
    ap.add_argument("--no-tokenizer", action="store_true", help="write the model only")
    args = ap.parse_args(argv)
    ckpt = load_checkpoint(args.run, args.checkpoint)
    tokdir = None if args.no_tokenizer else tokenizer_dir(args.tokenizer, ckpt)
    if tokdir is None and not args.no_tokenizer:
        raise UserError("no tokenizer folder found for this run; pass --tokenizer TOKDIR (or --no-tokenizer)")
    out = export(ckpt, args.out, tokdir)
    kind = "OpenAIGPTLMHeadModel" if ckpt["model_config"].get("post_ln") else "GPT2LMHeadModel"
    print(f"exported {kind} ({'with the tokenizer of ' + str(tokdir) if tokdir else 'no tokenizer'}) -> {out}")
    return 0
