"""webtext.tokenizer: BPE training, tiktoken-backed encoding, llm.c token shards.

Kept light: `import webtext.tokenizer` loads nothing heavy; `load_encoding` imports tiktoken when called.
"""

from __future__ import annotations

import os


def load_encoding(tokdir: str | os.PathLike):
    """A tiktoken.Encoding from a tokenizer folder (tokenizer.tiktoken + tokenizer.json), offline."""
    from webtext.tokenizer.encoding import load_encoding as _load

    return _load(tokdir)


__all__ = ["load_encoding"]
