"""What every webtext command line shares: counts written 100M or 1.5T, mistakes as one line, and
flag defaults taken from the dataclass that holds the options (never restated in the parser)."""

from __future__ import annotations

import argparse
import dataclasses
import re

from webtext.errors import UserError

_COUNT = re.compile(r"([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)([KMBGTP]?)")
_UNITS = {"": 1, "K": 1e3, "M": 1e6, "B": 1e9, "G": 1e9, "T": 1e12, "P": 1e15}


def parse_count(text) -> float:
    """'300e9', '300B', '1.5T', '100M', '50k', '10_485_760', '10,485,760' -> a number (B and G are 10^9)."""
    t = str(text).strip().upper().replace("_", "").replace(",", "")
    m = _COUNT.fullmatch(t)
    if not m:
        raise UserError(f"cannot read {text!r} as a number (examples: 300e9, 300B, 1.5T, 100M)")
    return float(m.group(1)) * _UNITS[m.group(2)]


def count(text) -> int:
    """argparse type: a whole count written any way parse_count reads."""
    try:
        return int(parse_count(text))
    except UserError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


class ArgumentParser(argparse.ArgumentParser):
    """argparse whose mistakes are UserErrors (one line, exit status 2, like every other mistake),
    and whose help shows each flag's default."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _DefaultsFormatter)
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str):
        raise UserError(message)


class _DefaultsFormatter(argparse.HelpFormatter):
    """Appends "(default: X)" to a flag's help when it has a default and the help does not say it."""

    def _get_help_string(self, action):
        text = action.help or ""
        switch = action.nargs == 0  # store_true / store_false: the flag's presence is the value
        if switch or "default" in text or action.default in (None, argparse.SUPPRESS) or not action.option_strings:
            return text
        return f"{text} (default: %(default)s)" if text else "(default: %(default)s)"


def field_defaults(cls) -> dict:
    """{field name: default} of a dataclass, for `parser.set_defaults(**...)` or `default=`."""
    out = {}
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            out[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
            out[f.name] = f.default_factory()  # type: ignore[misc]
    return out


def add_flag_groups(parser: argparse.ArgumentParser, groups: dict[str, list[tuple]]) -> None:
    """Add each titled group's (flag, type, help) flags; a type of None makes a switch (store_true)."""
    for title, flags in groups.items():
        g = parser.add_argument_group(title)
        for flag, kind, text in flags:
            if kind is None:
                g.add_argument(flag, action="store_true", help=text)
            else:
                g.add_argument(flag, type=kind, help=text)
