"""What the report measures in a corpus folder: document lengths, hosts, languages, Reddit scores.

Columns are read shard by shard (only those needed), lengths counted by Arrow's kernels; above
`max_docs` documents a uniform sample is measured: the documents whose id (a SHA-256 prefix, so
uniform) falls below the matching fraction of the id space, the same sample on every run.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from webtext.corpus_layout import corpus_files

COLUMNS = ("id", "host", "text", "language", "reddit_score")


@dataclass
class CorpusStats:
    documents: int = 0  # in the corpus
    measured: int = 0  # in the sample measured (= documents unless sampled)
    words: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # per measured document
    tokens: np.ndarray | None = None  # per measured document, with a tokenizer
    chars: int = 0
    hosts: Counter = field(default_factory=Counter)
    languages: Counter = field(default_factory=Counter)
    reddit_scores: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # documents that have one

    @property
    def sampled(self) -> bool:
        return self.measured < self.documents


def _sample(table: pa.Table, fraction: float) -> pa.Table:
    if fraction >= 1.0:
        return table
    bound = f"{int(fraction * 16**8):08x}"  # the first 8 hex digits of the id against the fraction
    return table.filter(pc.less(pc.utf8_slice_codeunits(table["id"], 0, 8), bound))


def measure(corpus: str | Path, max_docs: int = 1_000_000, encoding=None) -> CorpusStats:
    """The statistics of a corpus folder; `encoding` (tiktoken-like, with encode_ordinary_batch) adds token counts."""
    files = corpus_files(corpus)
    total = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
    fraction = min(1.0, max_docs / total) if total else 1.0
    st = CorpusStats(documents=total)
    words, tokens, scores = [], [], []
    for f in files:
        schema = pq.read_schema(f)
        table = _sample(pq.read_table(f, columns=[c for c in COLUMNS if c in schema.names]), fraction)
        if not table.num_rows:
            continue
        st.measured += table.num_rows
        text = pc.fill_null(table["text"], "")
        words.append(pc.list_value_length(pc.utf8_split_whitespace(text)).to_numpy(zero_copy_only=False))
        st.chars += pc.sum(pc.utf8_length(text)).as_py() or 0
        if encoding is not None:
            tokens.append(np.array([len(t) for t in encoding.encode_ordinary_batch(text.to_pylist())], np.int64))
        for column, counter in (("host", st.hosts), ("language", st.languages)):
            if column in table.column_names:
                counter.update(v if v is not None else "(none)" for v in table[column].to_pylist())
        if "reddit_score" in table.column_names:
            scores.append(table["reddit_score"].drop_null().to_numpy(zero_copy_only=False))
    st.words = np.concatenate(words).astype(np.int64) if words else st.words
    st.tokens = np.concatenate(tokens) if tokens else None
    st.reddit_scores = np.concatenate(scores).astype(np.int64) if scores else st.reddit_scores
    return st
