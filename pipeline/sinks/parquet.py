"""The write stage: documents -> zstd Parquet shards, deterministic and atomic.

Shard of a document = hash of its id modulo the shard count, rows sorted by id inside a shard: the
same inputs give byte-for-byte the same rows in the same files on every runner. Every shard of the
count is written, an empty one too, so a re-run into the same folder replaces all of them. Each shard is
written under a temporary name and renamed into place (webtext/atomic.py), so a crash never leaves a
half file under a real name; _manifest.json (sinks/manifest.py, written after the run) marks the
corpus complete. Names: webtext/corpus_layout.py.

Config [write]: docs_per_shard, keep_dropped (also write the dropped documents, with drop_reason,
under OUT/_dropped/).
"""

from __future__ import annotations

import math

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems

from webtext.atomic import atomic_write
from webtext.corpus_layout import DROPPED_DIR, DROPPED_PREFIX, SHARD_PREFIX, shard_name
from webtext.errors import UserError
from webtext.pipeline.core.block import Block
from webtext.pipeline.core.counters import counter
from webtext.pipeline.core.document import DROPPED_SCHEMA, SCHEMA

ROW_GROUP_ROWS = 2000  # small row groups let readers stream a shard without holding it in memory


def shard_count(docs: int, docs_per_shard: int) -> int:
    return max(1, math.ceil(docs / docs_per_shard))


def write_parquet_atomic(path: str, rows: list[dict], schema: pa.Schema) -> int:
    """Write rows to `path` (local or any Beam filesystem) atomically; returns the bytes written."""
    table = pa.Table.from_pylist(rows, schema=schema)
    with atomic_write(path) as f:
        pq.write_table(table, f, compression="zstd", row_group_size=ROW_GROUP_ROWS)
    return FileSystems.match([path])[0].metadata_list[0].size_in_bytes


class _WriteShard(beam.DoFn):
    def __init__(self, out_dir: str, schema: pa.Schema, counter_name: str, prefix: str):
        self.out_dir, self.schema, self.prefix = out_dir, schema, prefix
        self.c_docs = counter(counter_name)

    def process(self, element, num_shards):
        index, docs = element
        rows = sorted((d for d in docs if d is not None), key=lambda d: d["id"])
        path = f"{self.out_dir}/{shard_name(index, num_shards, self.prefix)}"
        write_parquet_atomic(path, [{k: d.get(k) for k in self.schema.names} for d in rows], self.schema)
        self.c_docs.inc(len(rows))
        yield path


class WriteShards(beam.PTransform):
    """Documents -> OUT/train-XXXXX-of-NNNNN.parquet (or another prefix); outputs the paths written."""

    def __init__(self, out_dir: str, schema: pa.Schema, docs_per_shard: int, counter_name: str = "docs.written",
                 prefix: str = SHARD_PREFIX):
        super().__init__()
        self.out_dir, self.schema, self.prefix = out_dir.rstrip("/"), schema, prefix
        self.docs_per_shard, self.counter_name = docs_per_shard, counter_name

    def expand(self, docs):
        per_shard = self.docs_per_shard
        count = docs | "Count" >> beam.combiners.Count.Globally() | "ShardCount" >> beam.Map(shard_count, per_shard)
        num_shards = beam.pvalue.AsSingleton(count)
        keyed = docs | "KeyByShard" >> beam.Map(lambda d, n: (int(d["id"][:15], 16) % n, d), num_shards)
        # One (index, None) per shard, so every shard of the count is written, empty ones too: a shard
        # of an earlier run with the same count is then always replaced, never left stale.
        every_shard = count | "EveryShard" >> beam.FlatMap(lambda n: [(i, None) for i in range(n)])
        return (
            (keyed, every_shard)
            | "WithEveryShard" >> beam.Flatten()
            | "GroupShards" >> beam.GroupByKey()
            | "WriteShard" >> beam.ParDo(_WriteShard(self.out_dir, self.schema, self.counter_name, self.prefix), num_shards)
        )


class ParquetSink(Block):
    """The corpus shards (and, with keep_dropped, the dropped documents' shards) of OUT."""

    name = "write"
    counter_prefix = "docs"
    funnel = ("docs.written",)
    flow_in = flow_out = "docs.written"

    @classmethod
    def funnel_counters(cls, cfg: dict) -> tuple[str, ...]:
        return (*cls.funnel, "docs.dropped_written") if cfg.get("keep_dropped") else cls.funnel

    @classmethod
    def validate(cls, cfg: dict) -> None:
        if not 1 <= cfg["docs_per_shard"] <= 100_000_000:
            raise UserError(f"--docs-per-shard (write.docs_per_shard) must lie in [1, 100000000], got {cfg['docs_per_shard']}")

    def corpus(self, out: str) -> beam.PTransform:
        return WriteShards(out, SCHEMA, self.cfg["docs_per_shard"])

    def dropped(self, out: str) -> beam.PTransform:
        return WriteShards(f"{out.rstrip('/')}/{DROPPED_DIR}", DROPPED_SCHEMA, self.cfg["docs_per_shard"], "docs.dropped_written",
                           DROPPED_PREFIX)
