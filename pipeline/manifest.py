"""manifest.json: the funnel counters, the shard list and the options of one build-corpus run.

Written last, atomically: a corpus folder with a manifest is complete; one without is not.
"""

from __future__ import annotations

import json
import time
import uuid

import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics.metric import MetricsFilter

from webtext import __version__
from webtext.pipeline.counters import NAMESPACE

# The funnel DESIGN.md names; reported as 0 rather than left out when nothing was counted.
FUNNEL = {
    None: ("warc.records", "warc.errors", "warc.bytes_read", "join.matched", "wikipedia.dropped", "extract.empty", "extract.errors", "docs.written"),
    "links": ("reddit.lines", "reddit.invalid", "reddit.kept"),
    "lang": ("lang.dropped",),
    "dedup": ("dedup.exact", "dedup.fuzzy", "dedup.clusters"),
}


def read_counters(result, stages: set[str]) -> dict[str, int]:
    """Our Beam counters after the run, summed over steps, with the funnel names always present."""
    counters: dict[str, int] = {}
    for group, names in FUNNEL.items():
        if group is None or group in stages:
            counters.update(dict.fromkeys(names, 0))
    for c in result.metrics().query(MetricsFilter().with_namespace(NAMESPACE))["counters"]:
        value = c.committed if c.committed is not None else c.attempted
        counters[c.key.metric.name] = counters.get(c.key.metric.name, 0) + int(value or 0)
    return dict(sorted(counters.items()))


def list_shards(directory: str) -> list[dict]:
    """part-*.parquet under `directory` with their row counts and sizes (from the Parquet footers)."""
    shards = []
    for m in sorted(FileSystems.match([f"{directory}/part-*.parquet"])[0].metadata_list, key=lambda m: m.path):
        with FileSystems.open(m.path, compression_type="uncompressed") as f:
            rows = pq.ParquetFile(f).metadata.num_rows
        shards.append({"path": m.path.rsplit("/", 1)[-1], "rows": rows, "bytes": m.size_in_bytes})
    return shards


def remove_stale(directory: str, keep_suffix: str | None) -> None:
    """Delete temp files of crashed runs and part files of an earlier run with another shard count."""
    stale = [m.path for m in FileSystems.match([f"{directory}/.part-*.tmp-*"])[0].metadata_list]
    parts = FileSystems.match([f"{directory}/part-*.parquet"])[0].metadata_list
    stale += [m.path for m in parts if keep_suffix is None or not m.path.endswith(keep_suffix)]
    if stale:
        FileSystems.delete(stale)


def write_json_atomic(path: str, obj) -> None:
    directory, name = path.rsplit("/", 1)
    tmp = f"{directory}/.{name}.tmp-{uuid.uuid4().hex}"
    with FileSystems.create(tmp, mime_type="application/json") as f:
        f.write((json.dumps(obj, indent=2, sort_keys=False) + "\n").encode())
    FileSystems.rename([tmp], [path])


def build_manifest(*, counters: dict, shards: list[dict], dropped: list[dict] | None, options: dict, inputs: dict, elapsed_s: float) -> dict:
    return {
        "webtext_version": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "elapsed_s": round(elapsed_s, 2),
        "documents": sum(s["rows"] for s in shards),
        "counters": counters,
        "shards": shards,
        "dropped_shards": dropped,
        "options": options,
        "inputs": inputs,
    }
