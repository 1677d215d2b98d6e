"""Beam's own flags (--runner, --direct_running_mode, --project, ...) pass through build-corpus.

We check them against every options class Beam knows, so a typo in one of ours or theirs is one clear
line instead of a flag Beam would silently discard.
"""

from __future__ import annotations

import argparse
import os

from apache_beam.options.pipeline_options import DirectOptions, PipelineOptions, StandardOptions

from webtext.errors import UserError

# Prism, Beam's new default local runner, downloads a binary at start-up; FnApiRunner runs anywhere.
DEFAULT_RUNNER = "FnApiRunner"

# Runners that would run the graph wrong rather than fail: refused before anything runs.
REFUSED_RUNNERS = {
    "daskrunner": "Beam's DaskRunner drops what DoFns emit in finish_bundle and on tagged outputs (the "
                  "batched filters' and every stage's dropped documents) and reports no counters; use "
                  "FnApiRunner or --direct_running_mode=multi_processing on one machine, PortableRunner "
                  "(Flink, Spark) or DataflowRunner beyond it",
}


def _all_option_classes(cls=PipelineOptions):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_option_classes(sub)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        raise UserError(f"Beam option: {message}")  # one line, not argparse's usage text


def _beam_parser() -> argparse.ArgumentParser:
    parser = _Parser(add_help=False, allow_abbrev=False)
    seen = set()
    for cls in _all_option_classes():
        if cls in seen or "_add_argparse_args" not in vars(cls):
            continue
        seen.add(cls)
        try:
            cls._add_argparse_args(parser)
        except argparse.ArgumentError:
            pass  # an option two classes both declare: the first one is enough for checking
    return parser


def pipeline_options(beam_args: list[str]) -> PipelineOptions:
    """PipelineOptions from the flags build-corpus did not recognise; UserError for unknown ones."""
    _, unknown = _beam_parser().parse_known_args(beam_args)
    flags = [a for a in unknown if a.startswith("-")]
    if flags:
        raise UserError(f"unknown option {flags[0]} (see build-corpus --help; Beam options are passed through)")
    if unknown:
        raise UserError(f"unexpected argument {unknown[0]!r}")
    options = PipelineOptions(beam_args)
    std = options.view_as(StandardOptions)
    if not std.runner:
        std.runner = DEFAULT_RUNNER
    name = str(std.runner).rsplit(".", 1)[-1].lower()
    refused = REFUSED_RUNNERS.get(name) or REFUSED_RUNNERS.get(name + "runner")
    if refused:
        raise UserError(f"--runner {std.runner}: {refused}")
    try:
        from apache_beam.runners.runner import create_runner

        create_runner(std.runner)  # an unknown name, or a runner whose extra is missing: one line now
    except ValueError as e:
        raise UserError(f"--runner {std.runner}: {str(e).splitlines()[0]}") from None
    except ImportError as e:
        extra = " (pip install 'webtext[gcp]')" if "dataflow" in name else ""
        raise UserError(f"--runner {std.runner} needs a package that is not installed: {e}{extra}") from None
    return options


def local_workers_have_a_spare_core(options: PipelineOptions) -> bool:
    """True when the local runner's workers leave a core idle each (2 x workers <= cores): what a second
    extractor child of every worker can use. The workers of Dataflow, Flink and Spark are as many as
    the cores already."""
    name = str(options.view_as(StandardOptions).runner or DEFAULT_RUNNER).rsplit(".", 1)[-1].lower()
    if name not in ("fnapirunner", "directrunner", "direct", "fnapi"):
        return False
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)  # macOS has no affinity
    workers = options.view_as(DirectOptions).direct_num_workers
    workers = cores if workers == 0 else (workers or 1)  # Beam's 0: one per core
    return 2 * workers <= cores
