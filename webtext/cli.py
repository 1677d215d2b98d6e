"""The ``webtext`` umbrella command and the direct scripts ``build-corpus`` and ``train-on-shards``.

Subcommands are imported lazily, so ``webtext estimate`` does not pay for importing Beam and
``build-corpus`` does not pay for importing torch.
"""

from __future__ import annotations

import importlib
import sys

from webtext import __version__
from webtext.errors import UserError

# name -> ("module:function", one-line help). Each function takes argv (list[str]) and returns an exit code.
COMMANDS = {
    "run": ("webtext.run_pipeline:main", "dumps and WARCs to a trained, evaluated model, from one TOML (default: the demo)"),
    "build-corpus": ("webtext.pipeline.run.build_corpus:main", "build a WebText-style Parquet corpus (Apache Beam)"),
    "report": ("webtext.pipeline.report.report:main", "write a corpus's report: funnel, plots, dataset card (CORPUS/_report/)"),
    "eval-extract": ("webtext.pipeline.extract.eval_command:main", "extraction P/R/F1 and docs/s per setting on ground-truth folders"),
    "train-quality-classifier": ("webtext.pipeline.run.train_classifier:main", "train the GPT-3-style fastText quality classifier"),
    "train-tokenizer": ("webtext.tokenizer.cli:train_tokenizer_main", "train a byte-level BPE on a corpus"),
    "tokenize": ("webtext.tokenizer.cli:tokenize_main", "encode a corpus into llm.c-format token shards"),
    "train-on-shards": ("webtext.train.cli:train_main", "pretrain a GPT on token shards"),
    "overlap": ("webtext.pipeline.filters.decontam.overlap:main", "share of each eval set's n-grams and passages found in a corpus (GPT-2 §4)"),
    "estimate": ("webtext.train.estimate:main", "parameters, training FLOPs, PF-days and cost of a preset"),
    "sample": ("webtext.train.sample:main", "generate text from a checkpoint"),
    "export-hf": ("webtext.train.export_hf:main", "write a trained run as a Hugging Face transformers folder"),
    "eval": ("webtext.train.evaluate:main", "loss, perplexity and bits per byte of a model on shards or a corpus"),
    "finetune": ("webtext.train.finetune:main", "fine-tune a pretrained GPT as a text classifier (L2 + lambda * L1)"),
    "classify": ("webtext.train.classify:main", "label a Parquet/JSONL file with a fine-tuned classifier"),
}


# Top-level modules of optional extras -> the extra that installs them.
_EXTRAS = {"torch": "train", "matplotlib": "train", "safetensors": "train"}


def _usage() -> str:
    width = max(map(len, COMMANDS))
    lines = [f"usage: webtext COMMAND [options]   (webtext {__version__})", "", "commands:"]
    lines += [f"  {name:<{width}}  {help_}" for name, (_, help_) in COMMANDS.items()]
    lines += ["", "Run 'webtext COMMAND --help' for the options of one command."]
    return "\n".join(lines)


def run(name: str, argv: list[str]) -> int:
    """Run one subcommand; a UserError becomes one line on stderr and exit status 2."""
    target, _ = COMMANDS[name]
    module_name, func_name = target.split(":")
    prog = name if name in ("build-corpus", "train-on-shards") else f"webtext {name}"
    try:
        func = getattr(importlib.import_module(module_name), func_name)
        return int(func(argv) or 0)
    except UserError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as e:
        if e.name in _EXTRAS:  # an optional part that is not installed: say how to get it
            print(f"{prog}: error: needs {e.name}; install it with: pip install 'webtext[{_EXTRAS[e.name]}]'", file=sys.stderr)
            return 2
        raise
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print(_usage())
        return 0
    if argv[0] == "--version":
        print(f"webtext {__version__}")
        return 0
    if argv[0] not in COMMANDS:
        print(f"webtext: error: unknown command {argv[0]!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    return run(argv[0], argv[1:])


def build_corpus() -> int:
    return run("build-corpus", sys.argv[1:])


def train_on_shards() -> int:
    return run("train-on-shards", sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
