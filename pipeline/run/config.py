"""The one config of build-corpus: a TOML file with a section per stage, defaults shipped in
`default_config.toml`, overlaid by the user's --config file, then by command-line flags.

A user file only has to name what it changes. Every key it names must exist in the defaults and
have the same type, so a typo ("min_word" for "min_words") is an error with the key's full path,
not a silently ignored setting. Flags (--min-karma, --langs, ...) are overrides written into their
sections, checked the same way. Then each stage checks its own section's ranges (`Block.validate`),
once, at load: a bad value is one line before any work starts.
"""

from __future__ import annotations

import copy
import tomllib
from importlib import resources
from pathlib import Path

from webtext.errors import UserError


def default_config() -> dict:
    text = resources.files("webtext.pipeline.run").joinpath("default_config.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def _type_name(value) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list", dict: "a table"}.get(
        type(value), type(value).__name__
    )


def merge_over_defaults(defaults: dict, user: dict, path: str) -> dict:
    """`user` over `defaults`: every key must exist there with the same type (path names it in errors)."""
    out = copy.deepcopy(defaults)
    for key, value in user.items():
        where = f"{path}.{key}" if path else key
        if key not in defaults:
            known = ", ".join(sorted(defaults)) or "(none)"
            raise UserError(f"config: unknown key '{where}' (known here: {known})")
        want = defaults[key]
        if isinstance(want, dict):
            if not isinstance(value, dict):
                raise UserError(f"config: '{where}' must be a table")
            out[key] = merge_over_defaults(want, value, where)
            continue
        ok = isinstance(value, type(want)) and not (isinstance(value, bool) and not isinstance(want, bool))
        if isinstance(want, float) and isinstance(value, int) and not isinstance(value, bool):
            value, ok = float(value), True  # 1 is as good as 1.0 in a threshold
        if not ok:
            raise UserError(f"config: '{where}' must be {_type_name(want)}, got {value!r}")
        out[key] = value
    return out


def read_toml(path: str | Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise UserError(f"config file not found: {path}")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise UserError(f"config file {path} is not valid TOML: {e}") from None


def validate(config: dict, names=None) -> None:
    """Each stage's range checks on its own section (all stages, or those named)."""
    from webtext.pipeline.run.stages import ALL_BLOCKS

    for block in ALL_BLOCKS:
        if names is None or block.name in names:
            block.validate(config.get(block.name, {}))


def load_config(path: str | Path | None = None, overrides: dict | None = None) -> dict:
    """The defaults, overlaid with the user's TOML file (when given), then with `overrides` (a dict
    shaped like the file: {"lang": {"threshold": 0.5}}); type-checked and validated."""
    config = default_config()
    if path is not None:
        config = merge_over_defaults(config, read_toml(path), "")
    if overrides:
        config = merge_over_defaults(config, overrides, "")
    validate(config)
    return config


def stage_config(name: str, **overrides) -> dict:
    """One stage's section, the defaults with `overrides`, checked like a loaded config (for using a
    block from Python: `LanguageFilter(stage_config("lang", langs=["de"]))`)."""
    config = merge_over_defaults(default_config(), {name: overrides} if overrides else {}, "")
    validate(config, {name})
    return config[name]
