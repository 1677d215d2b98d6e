"""Eval sets as decontamination reads them: files of passages, each file one named set.

    passages(path)                 the passages of one file, in order
    set_name(path)                 the set's name: the file stem ("lambada_test.jsonl.gz" -> "lambada_test")
    hash_set(path, n, norm)        (EvalSet: name, sorted unique uint64 n-gram hashes, counts)

A file is read by its name: `.jsonl`/`.json` (one JSON object a line, the passage in a `text` field,
or the first string field of `TEXT_FIELDS` it has), `.parquet` (a `text` column), anything else plain
text: one passage a line, or, when the file has blank lines, one passage a blank-line paragraph.
`.gz`, `.xz`, `.bz2` and `.zst` are read compressed. Paths go through Beam's FileSystems (local,
gs://, s3://), as every input does. A line that is not JSON, or has no passage, is counted, not fatal.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import numpy as np

from webtext.errors import UserError
from webtext.pipeline.filters.decontam.ngrams import Normalisation, ngram_hashes, words

# Where benchmark exports keep the passage (lm-eval-harness, HF datasets): the first one present wins.
TEXT_FIELDS = ("text", "passage", "context", "ctx", "question", "sentence", "document", "article")
_COMPRESSED = (".gz", ".xz", ".bz2", ".zst", ".zstd")
_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def _base(path: str) -> str:
    name = path.rstrip("/").rsplit("/", 1)[-1]
    for suffix in _COMPRESSED:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def kind(path: str) -> str:
    base = _base(path).lower()
    if base.endswith((".jsonl", ".json", ".ndjson")):
        return "jsonl"
    if base.endswith(".parquet"):
        return "parquet"
    return "text"


def set_name(path: str) -> str:
    """The file stem, with characters a counter name should not hold replaced by '_'."""
    base = _base(path)
    stem = base.rsplit(".", 1)[0] if "." in base.lstrip(".") else base
    return _SAFE.sub("_", stem).strip("_") or "eval"


@dataclass
class Passages:
    """The passages of one file and what could not be read of it."""

    texts: list[str] = field(default_factory=list)
    bad: int = 0  # lines that are not JSON objects, or hold no passage


def _from_record(record) -> str | None:
    if isinstance(record, str):
        return record
    if isinstance(record, dict):
        for key in TEXT_FIELDS:
            if isinstance(record.get(key), str):
                return record[key]
    return None


def passages(path: str, limit: int | None = None) -> Passages:
    """Every passage of the file (at most `limit`; a probe reads a few). UserError for a file that cannot
    be read at all (missing, not Parquet, no text column)."""
    from webtext.pipeline.io.files import iter_lines, open_text_lines  # Beam's filesystems: imported when used

    out = Passages()
    try:
        if kind(path) == "parquet":
            import pyarrow.parquet as pq
            from apache_beam.io.filesystems import FileSystems

            with FileSystems.open(path, compression_type="uncompressed") as f:
                pf = pq.ParquetFile(f)
                if "text" not in pf.schema_arrow.names:
                    raise UserError(f"decontam: eval set {path} has no 'text' column (columns: {', '.join(pf.schema_arrow.names[:12])})")
                for batch in pf.iter_batches(columns=["text"], batch_size=4096):
                    texts = batch.column(0).to_pylist()
                    out.texts += [t for t in texts if isinstance(t, str)]
                    out.bad += sum(not isinstance(t, str) for t in texts)
                    if limit is not None and len(out.texts) >= limit:
                        out.texts = out.texts[:limit]
                        return out
            return out
        with open_text_lines(path) as stream:
            lines = (line.decode("utf-8", "replace") for line in iter_lines(stream) if line is not None)
            if kind(path) == "jsonl":
                for line in lines:
                    if not line.strip():
                        continue
                    try:
                        text = _from_record(json.loads(line))
                    except (ValueError, RecursionError):
                        text = None
                    if text is None:
                        out.bad += 1
                    else:
                        out.texts.append(text)
                    if limit is not None and len(out.texts) >= limit:
                        return out
                return out
            body = "".join(lines)
    except UserError:
        raise
    except Exception as e:  # noqa: BLE001 - OS, decompression and Parquet errors all mean "cannot read it"
        raise UserError(f"decontam: cannot read eval set {path}: {str(e).splitlines()[0] if str(e) else type(e).__name__}") from None
    blocks = re.split(r"\n[ \t]*\n", body) if re.search(r"\S[ \t]*\n[ \t]*\n[ \t]*\S", body) else body.splitlines()
    out.texts = [b.strip() for b in blocks if b.strip()][:limit]
    return out


@dataclass
class EvalSet:
    """One eval set's n-grams: hashes sorted and unique (8 bytes each), and what went into them."""

    name: str
    hashes: np.ndarray
    passages: int = 0
    short: int = 0  # passages with fewer than n words: no n-gram, so never matched
    bad: int = 0


def passage_hashes(texts: list[str], n: int, norm: Normalisation) -> tuple[list[np.ndarray], int]:
    """Each passage's n-gram hashes, and how many passages are shorter than n words."""
    per, short = [], 0
    for t in texts:
        ws = words(t, norm)
        short += 0 < len(ws) < n
        per.append(ngram_hashes(ws, n))
    return per, short


def hash_set(path: str, n: int, norm: Normalisation) -> EvalSet:
    ps = passages(path)
    per, short = passage_hashes(ps.texts, n, norm)
    hashes = np.unique(np.concatenate(per)) if per else np.empty(0, dtype=np.uint64)
    return EvalSet(set_name(path), hashes, len(ps.texts), short, ps.bad)


def check_eval_paths(paths: list[str], what: str) -> list[str]:
    """The eval files (globs expanded), each probed for a first passage; one UserError line for a
    missing or unreadable file, a file with no passage, or two files whose sets would share a name."""
    from webtext.pipeline.io.files import expand

    files = expand(paths, f"{what} eval set")
    names: dict[str, str] = {}
    for p in files:
        name = set_name(p)
        if name in names:
            raise UserError(f"{what}: eval sets {names[name]} and {p} would both be named {name!r}; rename one")
        names[name] = p
        if not passages(p, limit=1).texts:
            raise UserError(f"{what}: eval set {p} has no passage (JSONL wants a 'text' field, Parquet a 'text' column)")
    return files
