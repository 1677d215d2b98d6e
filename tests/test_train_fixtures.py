"""Shared helpers for the train/ tests: token shards made from real text.

The text is the Dolma Common Crawl sample in ../shared/data; the "tokenizer" is bytes-as-tokens
(ids 0-255, end-of-text 256, n_vocab 257), so these tests need nothing from tokenizer/ but the shard
writer. (Imported by the other test_train_*.py files; it holds no tests of its own besides a sanity check.)
"""

from __future__ import annotations

import gzip
import json
import os
import socket
import sys
from pathlib import Path

import numpy as np
import pytest

from webtext.tokenizer.shards import write_shard

TEXT = Path(__file__).resolve().parents[2] / "shared" / "data" / "text" / "dolma-cc_en_head-0091.jsonl.gz"
if not TEXT.is_file():  # the checkout may sit elsewhere; /work/shared is where this project keeps it
    TEXT = Path("/work/shared/data/text/dolma-cc_en_head-0091.jsonl.gz")
EOT, N_VOCAB = 256, 257
PYTHON = sys.executable
REPO = Path(__file__).resolve().parents[1]


def byte_tokens(texts: list[str]) -> np.ndarray:
    """Each document preceded by the end-of-text token, as `webtext tokenize` does."""
    out: list[int] = []
    for t in texts:
        out.append(EOT)
        out.extend(t.encode("utf-8"))
    return np.asarray(out, dtype=np.int64)


def make_byte_shards(bindir: Path, n_train_shards: int = 2) -> Path:
    """train_000000.bin ... + val_000000.bin + meta.json from the real text; returns bindir."""
    with gzip.open(TEXT, "rt", encoding="utf-8") as f:
        docs = [json.loads(line)["text"] for line in f]
    bindir.mkdir(parents=True, exist_ok=True)
    train = byte_tokens(docs[:-1])
    for i, part in enumerate(np.array_split(train, n_train_shards)):
        write_shard(bindir / f"train_{i:06d}.bin", part, N_VOCAB)
    write_shard(bindir / "val_000000.bin", byte_tokens(docs[-1:]), N_VOCAB)
    (bindir / "meta.json").write_text(json.dumps({"n_vocab": N_VOCAB, "eot": EOT}))
    return bindir


@pytest.fixture(scope="session")
def byte_shards(tmp_path_factory) -> Path:
    return make_byte_shards(tmp_path_factory.mktemp("bytes") / "bin")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def subprocess_env(tmp: Path) -> dict:
    env = dict(os.environ)
    env["XDG_CACHE_HOME"] = str(tmp / "cache")  # never touch the user's CPU-peak cache
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def test_byte_shards_are_real_text(byte_shards):
    from webtext.tokenizer.shards import open_shard

    toks = open_shard(byte_shards / "train_000000.bin")
    assert toks[0] == EOT and toks.size > 20_000
    text = bytes(np.asarray(toks[1:5000]).astype(np.uint8)).decode("utf-8", "replace")
    assert " the " in text
