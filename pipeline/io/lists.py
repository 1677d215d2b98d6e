"""Name lists users keep in files (blocked hosts, excluded subreddits): one name a line.

Importing this module does not import Beam.
"""

from __future__ import annotations

from webtext.errors import UserError


def read_name_list(path: str, key: str) -> list[str]:
    """The names in a file, lower-cased and stripped: one a line, blank lines and '#' comments skipped.
    `key` names the setting in a UserError when the file cannot be read."""
    try:
        with open(path, encoding="utf-8") as f:
            lines = [line.split("#", 1)[0].strip().lower() for line in f]
    except (OSError, UnicodeDecodeError) as e:
        raise UserError(f"{key}: cannot read {path}: {e}") from None
    return [line for line in lines if line]
