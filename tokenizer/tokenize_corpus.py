"""`webtext tokenize`: encode a corpus's `text` column into llm.c-format token shards, on every core.

Layout of BINDIR:

    val_000000.bin ...    the validation split (absent with --val-tokens 0)
    train_000000.bin ...  the training split
    tokenizer/            a copy of the tokenizer folder, so the shards can be decoded without it
    meta.json             written last: its presence means the run finished

Order is deterministic: files sorted by path, rows in file order, each document preceded by
`<|endoftext|>`. Every shard but a split's last holds exactly --shard-tokens tokens (as llm.c's own
scripts do), so a document may continue into the next shard; a shard's `docs` count is the documents
that start in it.

Validation split: whole documents from the start of the corpus until they hold at least --val-tokens
tokens, but never more than half of the rows, so even a tiny corpus leaves documents for training.

Parallelism: the main process streams Arrow batches of `text` out of Parquet (cheap, C++) and hands
~1 MiB chunks to a pool of worker processes, which encode with tiktoken and send back token arrays;
the main process writes them in order. Processes rather than tiktoken's own threads, because tiktoken
holds the GIL for part of each call, so its threads gain little; and workers call encode_to_numpy, which
skips building a Python list of ints (a third of encode_ordinary's time). bench/bench_tokenize.py measures it.
"""

from __future__ import annotations

import multiprocessing
import pickle
import os
import sys
import time
from collections import deque
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from webtext import __version__, atomic
from webtext.atomic import AtomicFile
from webtext.errors import UserError
from webtext.processes import die_with_parent
from webtext.tokenizer import encoding, shards
from webtext.tokenizer.corpus import iter_text_arrays, list_corpus

DEFAULT_SHARD_TOKENS = 100_000_000
DEFAULT_VAL_TOKENS = 10_485_760  # modded-nanogpt's validation size: enough for a stable loss, cheap to evaluate
CHUNK_BYTES = 1 << 20  # text per task: small enough to balance the workers, large enough that IPC is noise
READ_ROWS = 128
# fork starts workers in milliseconds, with everything imported and the Encoding already built (forkserver
# and spawn pay a fresh interpreter, its imports and the vocabulary load, ~0.5 s of a small job). It is
# safe here because the workers are started before this process reads any Parquet data: the only threads
# alive then are OpenBLAS's and jemalloc's idle ones, which both handle fork; Arrow's reader threads are not.
START_METHOD = "fork" if sys.platform == "linux" else "spawn"

# --- worker side: one Encoding per process -----------------------------------------------------------

_enc = None
_dtype = None


def _set_encoding(enc) -> None:
    global _enc, _dtype
    _enc, _dtype = enc, shards.dtype_for_vocab(enc.n_vocab)


def _init_worker(parent_pid: int, tokdir: str | None) -> None:
    """Every worker dies with the main process; spawned ones load the Encoding (forked ones inherit it)."""
    die_with_parent(parent_pid)
    if tokdir is not None:
        _set_encoding(encoding.load_encoding(tokdir))


def encode_chunk(arrays: list[pa.Array]) -> tuple[np.ndarray, np.ndarray]:
    """Tokens of the chunk's documents, each preceded by <|endoftext|>, and each document's token count."""
    eot = np.array([_enc.eot_token], dtype=np.uint32)
    pieces, lengths = [], []
    for arr in arrays:
        for text in arr.to_pylist():
            if text is None:
                continue
            # encode_to_numpy skips building a Python list; with no special tokens allowed and none disallowed
            # it encodes exactly as encode_ordinary (a literal "<|endoftext|>" in a page is plain text)
            toks = _enc.encode_to_numpy(text, allowed_special=set(), disallowed_special=())
            pieces += (eot, toks)
            lengths.append(toks.size + 1)
    tokens = np.concatenate(pieces).astype(_dtype) if pieces else np.empty(0, _dtype)
    return tokens, np.asarray(lengths, dtype=np.int64)


# --- main side ------------------------------------------------------------------------------------------


class SplitWriter:
    """One split's shards: `<prefix>_000000.bin`, ... of exactly `shard_tokens` tokens, the last one shorter."""

    def __init__(self, out_dir: Path, prefix: str, shard_tokens: int, n_vocab: int, eot: int):
        self.out_dir, self.prefix, self.shard_tokens, self.n_vocab, self.eot = out_dir, prefix, shard_tokens, n_vocab, eot
        self.shards: list[dict] = []
        self.tokens = self.docs = 0
        self._writer: shards.ShardWriter | None = None
        self._docs_in_shard = 0

    def add(self, tokens: np.ndarray, docs: int) -> None:
        self.tokens += tokens.size
        self.docs += docs
        while tokens.size:
            if self._writer is None:
                name = f"{self.prefix}_{len(self.shards):06d}.bin"
                self._writer = shards.ShardWriter(self.out_dir / name, self.n_vocab)
                self._docs_in_shard = 0
            piece, tokens = np.split(tokens, [self.shard_tokens - self._writer.count])
            self._writer.write(piece)
            self._docs_in_shard += int(np.count_nonzero(piece == self.eot))
            if self._writer.count == self.shard_tokens:
                self._finish_shard()

    def _finish_shard(self) -> None:
        path = self._writer.close()
        self.shards.append({"file": path.name, "tokens": self._writer.count, "docs": self._docs_in_shard})
        self._writer = None

    def close(self) -> dict:
        if self._writer is not None:
            self._finish_shard()
        return {"docs": self.docs, "tokens": self.tokens, "shards": self.shards}

    def abort(self) -> None:
        if self._writer is not None:
            self._writer.abort()
            self._writer = None


class NanoGPTSplitWriter:
    """One split as nanoGPT's prepare.py writes it: `<prefix>.bin`, the tokens as raw uint16 (no
    header), one file for the split. The same interface as SplitWriter."""

    def __init__(self, out_dir: Path, prefix: str, n_vocab: int, eot: int):
        if n_vocab > 2**16:
            raise UserError(f"--format nanogpt stores tokens as uint16 (nanoGPT's np.uint16 memmap); a vocabulary of "
                            f"{n_vocab:,} needs llm.c's uint32 shards (--format llmc)")
        self.path, self.n_vocab, self.eot = out_dir / f"{prefix}.bin", n_vocab, eot
        self.tokens = self.docs = 0
        self._out = None

    def add(self, tokens: np.ndarray, docs: int) -> None:
        if self._out is None:
            self._out = AtomicFile(self.path, "wb")
        self._out.file.write(tokens.astype("<u2", copy=False).tobytes())
        self.tokens += tokens.size
        self.docs += docs

    def close(self) -> dict:
        if self._out is None and self.tokens == 0:
            return {"docs": 0, "tokens": 0, "shards": []}
        self._out.commit()
        return {"docs": self.docs, "tokens": self.tokens, "shards": [{"file": self.path.name, "tokens": self.tokens, "docs": self.docs}]}

    def abort(self) -> None:
        if self._out is not None:
            self._out.abort()


FORMATS = ("llmc", "nanogpt")


def _chunks(files, chunk_bytes: int):
    """Arrow arrays of `text` grouped into chunks of about `chunk_bytes`, and each chunk's UTF-8 bytes."""
    chunk, size = [], 0
    for arr in iter_text_arrays(files, READ_ROWS):
        chunk.append(arr)
        size += pc.sum(pc.binary_length(arr)).as_py() or 0
        if size >= chunk_bytes:
            yield chunk, size
            chunk, size = [], 0
    if chunk:
        yield chunk, size


def _encoded_chunks(files, tokdir: str, workers: int, chunk_bytes: int):
    """(tokens, doc lengths, text bytes) per chunk, in corpus order; encoded in `workers` processes."""
    if workers <= 1:
        for chunk, size in _chunks(files, chunk_bytes):
            yield (*encode_chunk(chunk), size)
        return
    from concurrent.futures import ProcessPoolExecutor

    ctx = multiprocessing.get_context(START_METHOD)
    initargs = (os.getpid(), None if START_METHOD == "fork" else tokdir)
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker, initargs=initargs) as pool:
        pool.submit(int).result()  # starts every worker now, before the first Parquet read (see START_METHOD)
        pending = deque()
        for chunk, size in _chunks(files, chunk_bytes):
            pending.append((pool.submit(encode_chunk, chunk), size))
            if len(pending) >= 2 * workers:  # bounded read-ahead: memory stays a few chunks per worker
                fut, sz = pending.popleft()
                yield (*fut.result(), sz)
        while pending:
            fut, sz = pending.popleft()
            yield (*fut.result(), sz)


def _prepare_out(out: Path, overwrite: bool) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for folder in (out, out / "tokenizer"):  # what a killed run left half-written
        atomic.remove_stale_temps(folder)
    old = [p for p in out.iterdir() if p.name in ("meta.json", "meta.pkl", "train.bin", "val.bin")
           or (p.suffix == ".bin" and p.name.startswith(("train_", "val_")))]
    if old and not overwrite:
        raise UserError(f"{out} already holds token shards or meta.json; pass --overwrite to replace them")
    (out / "meta.json").unlink(missing_ok=True)  # first, so a half-replaced folder never looks finished
    for p in old:
        p.unlink(missing_ok=True)


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def tokenize_corpus(corpus_dir, tokdir, out_dir, *, shard_tokens: int = DEFAULT_SHARD_TOKENS,
                    val_tokens: int = DEFAULT_VAL_TOKENS, workers: int | None = None, overwrite: bool = False,
                    chunk_bytes: int = CHUNK_BYTES, log=print, fmt: str = "llmc") -> dict:
    """Tokenize a corpus folder into BINDIR; returns the meta.json contents. `fmt` "llmc" writes llm.c
    shards, "nanogpt" nanoGPT's train.bin/val.bin and meta.pkl."""
    t0 = time.time()
    if shard_tokens < 1 or shard_tokens >= 2**31:
        raise UserError(f"--shard-tokens must be between 1 and {2**31 - 1}")
    if val_tokens < 0:
        raise UserError("--val-tokens must be 0 or more")
    files = list_corpus(corpus_dir)
    tokdir = Path(tokdir)
    tok_meta, ranks = encoding.read_tokenizer(tokdir)  # a UserError here, before any worker starts
    _set_encoding(encoding.build_encoding(tok_meta, ranks))  # for this process and the forked workers
    n_vocab, eot = tok_meta["n_vocab"], tok_meta["special_tokens"][encoding.EOT]
    out = Path(out_dir)
    _prepare_out(out, overwrite)
    workers = workers or default_workers()

    if fmt not in FORMATS:
        raise UserError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if fmt == "nanogpt":
        train, val = NanoGPTSplitWriter(out, "train", n_vocab, eot), NanoGPTSplitWriter(out, "val", n_vocab, eot)
    else:
        train = SplitWriter(out, "train", shard_tokens, n_vocab, eot)
        val = SplitWriter(out, "val", shard_tokens, n_vocab, eot)
    max_val_docs = sum(f.rows for f in files) // 2
    val_open = val_tokens > 0 and max_val_docs > 0
    text_bytes = 0
    try:
        for tokens, lengths, size in _encoded_chunks(files, str(tokdir), workers, chunk_bytes):
            text_bytes += size
            n_val = 0
            if val_open:  # whole documents up to and including the one that reaches --val-tokens
                ends = np.cumsum(lengths)
                n_val = int(np.searchsorted(ends, val_tokens - val.tokens, side="left")) + 1
                n_val = min(n_val, lengths.size, max_val_docs - val.docs)
                cut = int(ends[n_val - 1]) if n_val else 0
                val.add(tokens[:cut], n_val)
                tokens = tokens[cut:]
                val_open = val.tokens < val_tokens and val.docs < max_val_docs
            train.add(tokens, lengths.size - n_val)
        splits = {"val": val.close(), "train": train.close()}
    except BaseException:
        train.abort()
        val.abort()
        raise

    elapsed = time.time() - t0
    header = shards.magic_and_version(shards.dtype_for_vocab(n_vocab)) if fmt == "llmc" else (None, None)
    meta = {
        "format": "llm.c" if fmt == "llmc" else "nanogpt",
        "magic": header[0],
        "version": header[1],
        "dtype": str(shards.dtype_for_vocab(n_vocab)),  # '<u2' -> uint16
        "n_vocab": n_vocab,
        "eot_token": eot,
        "tokenizer": str(encoding.copy_tokenizer(tokdir, out / "tokenizer").resolve()),
        "tokenizer_name": tok_meta.get("name"),
        "tokenizer_fingerprint": tok_meta.get("fingerprint"),
        "tokenizer_source": str(tokdir.resolve()),
        "shard_tokens": shard_tokens,
        "val_tokens_requested": val_tokens,
        "val_rule": "whole documents from the start of the corpus until >= val_tokens tokens, at most half the rows",
        **splits,
        "docs": splits["train"]["docs"] + splits["val"]["docs"],
        "null_texts_skipped": sum(f.rows for f in files) - splits["train"]["docs"] - splits["val"]["docs"],
        "tokens": splits["train"]["tokens"] + splits["val"]["tokens"],
        "text_bytes": text_bytes,
        "corpus": str(Path(corpus_dir).resolve()),
        "sources": [{"path": f.rel, "rows": f.rows, "bytes": f.bytes} for f in files],
        "workers": workers,
        "elapsed_s": round(elapsed, 3),
        "webtext_version": __version__,
    }
    if fmt == "nanogpt":  # nanoGPT's train.py reads vocab_size from meta.pkl
        atomic.write_bytes(out / "meta.pkl", pickle.dumps({"vocab_size": n_vocab, "eot_token": eot, "tokenizer": meta["tokenizer"]}))
    atomic.write_json(out / "meta.json", meta, indent=2)
    log(f"{meta['docs']:,} docs, {meta['tokens']:,} tokens ({len(splits['train']['shards'])} train + "
        f"{len(splits['val']['shards'])} val shards) from {text_bytes / 1e6:,.1f} MB of text in {elapsed:.1f} s "
        f"({text_bytes / 1e6 / max(elapsed, 1e-9):,.1f} MB/s, {workers} workers) -> {out}")
    return meta
