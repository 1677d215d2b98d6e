"""`webtext run`: dumps and WARCs to a trained, evaluated model, one step after another, in one folder.

    build-corpus -> train-tokenizer -> tokenize -> train-on-shards -> eval -> sample -> summary.md

Each step is the command of the same name, run in this process with the options of its section of one
TOML file (webtext/run_default.toml documents them) plus the folders that link the steps, which only
this module sets:

    RUN/corpus/      build-corpus's Parquet shards and _manifest.json
    RUN/tokenizer/   train-tokenizer's folder
    RUN/tokens/      tokenize's llm.c shards and meta.json
    RUN/model/       train-on-shards's checkpoints, metrics.jsonl, loss.png
    RUN/eval.json    webtext eval on the validation shards (or on [eval] data)
    RUN/samples.txt  webtext sample's output
    RUN/summary.md   written last: funnel, token counts, loss curve, eval figures, samples

RUN/.webtext-run.json records, per step, the exact command line it ran with and whether it finished.
A finished step whose command line is unchanged and whose output is there is skipped (make-style);
once a step runs, every later step runs too, since its input may have changed. A training step that did
not finish with the same command line resumes from its newest checkpoint (`--resume`).
"""

from __future__ import annotations

import io
import shutil
import sys
import time
import tomllib
from contextlib import redirect_stdout
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from webtext import atomic
from webtext.cli_args import ArgumentParser
from webtext.errors import UserError

STATE = ".webtext-run.json"


@dataclass(frozen=True)
class Step:
    name: str                 # the command and its TOML section
    links: dict               # flag -> path relative to RUN, set by webtext run only
    output: str               # what exists once the step has finished (relative to RUN)
    extra: tuple = ()         # flags always passed (not options a user sets)
    fresh: tuple = ()         # what to remove before the step starts over (relative to RUN)


STEPS = (
    Step("build-corpus", {"--out": "corpus"}, "corpus/_manifest.json"),
    Step("train-tokenizer", {"--corpus": "corpus", "--out": "tokenizer"}, "tokenizer", fresh=("tokenizer",)),
    Step("tokenize", {"--corpus": "corpus", "--tokenizer": "tokenizer", "--out": "tokens"}, "tokens/meta.json",
         extra=("--overwrite",)),
    Step("train-on-shards", {"--data": "tokens", "--out": "model"}, "model/metrics.jsonl", extra=("--resume",),
         fresh=("model",)),
    Step("eval", {"--run": "model", "--out": "eval.json", "--data": "tokens"}, "eval.json", fresh=("eval.json",)),
    Step("sample", {"--run": "model"}, "samples.txt", fresh=("samples.txt",)),
)
OVERRIDABLE = {("eval", "--data")}  # links a user may point elsewhere


def default_config_text() -> str:
    return resources.files("webtext").joinpath("run_default.toml").read_text(encoding="utf-8")


def load_run_config(path: str | None) -> dict:
    text = default_config_text() if path is None else _read(path)
    try:
        config = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise UserError(f"{path or 'the default run config'}: not valid TOML ({e})") from None
    known = {"run", *(s.name for s in STEPS)}
    unknown = sorted(set(config) - known)
    if unknown:
        raise UserError(f"{path}: unknown section [{unknown[0]}]; the sections are " + ", ".join(f"[{k}]" for k in sorted(known)))
    if set(config.get("run", {})) - {"out"}:
        raise UserError(f"{path}: [run] takes only `out`, not {', '.join(sorted(set(config['run']) - {'out'}))}")
    return config


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise UserError(f"--config {path}: {e.strerror or e}") from None
    except UnicodeDecodeError:
        raise UserError(f"--config {path}: not UTF-8 text") from None


def step_argv(step: Step, options: dict, run: Path) -> list[str]:
    """The command line of one step: the run's links, then the section's options as flags."""
    links = dict(step.links)
    argv: list[str] = []
    for key, value in options.items():
        flag = f"--{key}"
        if flag in links and (step.name, flag) not in OVERRIDABLE:
            raise UserError(f"[{step.name}] {key}: set by webtext run (RUN/{links[flag]}); remove it from the config")
        links.pop(flag, None)  # an overridable link the section sets is the section's
        if isinstance(value, bool):
            argv += [flag] if value else []
        elif isinstance(value, list):
            argv += [flag, *map(str, value)] if value else []
        elif isinstance(value, (str, int, float)):
            argv += [flag, str(value)]
        else:
            raise UserError(f"[{step.name}] {key}: a string, number, true/false or a list, not {type(value).__name__}")
    return [a for flag, rel in links.items() for a in (flag, str(run / rel))] + list(step.extra) + argv


def _finished(step: Step, run: Path, argv: list[str]) -> bool:
    out = run / step.output
    if step.name == "train-tokenizer":
        from webtext.tokenizer.encoding import meta_path

        return meta_path(out) is not None
    if step.name == "train-on-shards":
        from webtext.train import checkpoint as ckpt_io
        from webtext.train.cli import config_from_args

        steps = config_from_args(argv).steps
        saved = ckpt_io.list_checkpoints(run / "model")
        return out.is_file() and bool(saved) and max(s for s, _ in saved) >= steps
    return out.exists()


def _run_step(step: Step, argv: list[str], run: Path) -> int:
    from webtext.cli import run as run_command

    if step.name not in ("eval", "sample"):
        return run_command(step.name, argv)
    captured = io.StringIO()
    with redirect_stdout(captured):  # eval prints its JSON (also in eval.json), sample its texts
        code = run_command(step.name, argv)
    if step.name == "sample" and code == 0:
        atomic.write_text(run / "samples.txt", captured.getvalue())
        print(captured.getvalue(), end="")
    return code


def run_all(config: dict, config_name: str, redo: str | None = None, out: str | None = None) -> Path:
    run = Path(out or config.get("run", {}).get("out", "webtext-run"))
    run.mkdir(parents=True, exist_ok=True)
    state_path = run / STATE
    state = _read_state(state_path)
    names = [s.name for s in STEPS]
    if redo is not None and redo not in names:
        raise UserError(f"--redo {redo}: not a step; the steps are {', '.join(names)}")
    argvs = {s.name: step_argv(s, config.get(s.name, {}), run) for s in STEPS}  # every mistake before any work
    rerun = False
    for step in STEPS:
        argv, rec = argvs[step.name], state.get(step.name)
        same = rec is not None and rec["argv"] == argv
        rerun = rerun or step.name == redo
        if not rerun and same and rec.get("done") and _finished(step, run, argv):
            print(f"webtext run: {step.name}: done before, skipped")
            continue
        if not rerun and same and not rec.get("done") and step.name == "train-on-shards":
            print(f"webtext run: {step.name}: did not finish last time; resuming from its newest checkpoint")
        else:
            why = "first run" if rec is None else ("--redo" if step.name == redo else "an earlier step ran again") if rerun else (
                "options changed" if not same else
                "did not finish last time" if not rec.get("done") else "its output is missing")
            for rel in step.fresh:
                _remove(run / rel)
            print(f"webtext run: {step.name}: running ({why})")
        rerun = True  # every later step sees new inputs
        state[step.name] = {"argv": argv, "done": False}
        atomic.write_json(state_path, state)
        start = time.time()
        code = _run_step(step, argv, run)
        if code != 0:
            raise UserError(f"step {step.name} failed (exit status {code}); fix [{step.name}] in {config_name} and "
                            "run again: the finished steps are kept")
        state[step.name] = {"argv": argv, "done": True, "seconds": round(time.time() - start, 2)}
        atomic.write_json(state_path, state)
    from webtext.run_summary import write_summary

    path = write_summary(run, state, config_name)
    print(f"webtext run: summary in {path}")
    return run


def _read_state(path: Path) -> dict:
    import json

    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, OSError):
        return {}  # unreadable: every step runs again, nothing is trusted


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def main(argv: list[str]) -> int:
    ap = ArgumentParser(prog="webtext run", description="Reddit dumps and WARCs to a trained, evaluated model: "
                        "build-corpus, train-tokenizer, tokenize, train-on-shards, eval and sample, driven by one "
                        "TOML file, into one run folder with a summary.md. With no --config: the embedded demo.")
    ap.add_argument("--config", metavar="FILE", help="run config (default: webtext/run_default.toml, the demo)")
    ap.add_argument("--out", metavar="RUN", help="run folder (default: [run] out of the config)")
    ap.add_argument("--redo", metavar="STEP", help="run this step and every later one again even if finished")
    ap.add_argument("--print-config", action="store_true", help="print the default config (a documented example) and exit")
    args = ap.parse_args(argv)
    if args.print_config:
        sys.stdout.write(default_config_text())
        return 0
    config = load_run_config(args.config)
    run_all(config, args.config or "the default config (webtext run --print-config)", redo=args.redo, out=args.out)
    return 0
