"""Beam's own flags (--runner, --direct_running_mode, --project, ...) pass through build-corpus.

We check them against every options class Beam knows, so a typo in one of ours or theirs is one clear
line instead of a flag Beam would silently discard.
"""

from __future__ import annotations

import argparse

from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

from webtext.errors import UserError

# Prism, Beam's new default local runner, downloads a binary at start-up; FnApiRunner runs anywhere.
DEFAULT_RUNNER = "FnApiRunner"


def _all_option_classes(cls=PipelineOptions):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_option_classes(sub)


def _beam_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
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
    try:
        _, unknown = _beam_parser().parse_known_args(beam_args)
    except SystemExit:
        raise UserError(f"invalid Beam option in: {' '.join(beam_args)}") from None
    flags = [a for a in unknown if a.startswith("-")]
    if flags:
        raise UserError(f"unknown option {flags[0]} (see build-corpus --help; Beam options are passed through)")
    if unknown:
        raise UserError(f"unexpected argument {unknown[0]!r}")
    options = PipelineOptions(beam_args)
    std = options.view_as(StandardOptions)
    if not std.runner:
        std.runner = DEFAULT_RUNNER
    return options
