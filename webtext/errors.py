"""The one exception type for mistakes a user can make (missing file, bad flag, unreadable input).

Every command catches it at the top and prints one line, never a traceback; anything else is a bug
and keeps its traceback.
"""


class UserError(Exception):
    """A problem with what the user asked for, reported as one line and exit status 2."""
