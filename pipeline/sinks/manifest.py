"""_manifest.json: the funnel counters, the shard list and the options of one build-corpus run.

Written last, atomically: a corpus folder with a manifest is complete; one without is not.
"""

from __future__ import annotations

import time

import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics.metric import MetricsFilter

from webtext import __version__, atomic
from webtext.corpus_layout import LEGACY, MANIFEST, SHARD_PREFIX
from webtext.pipeline.core.counters import NAMESPACE


def read_counters(result, blocks) -> dict[str, int]:
    """Our Beam counters after the run, summed over steps, in funnel order: each block's (in the order
    of `blocks`) with its funnel counters first and present even when nothing was counted; then any
    counter no block claims."""
    counted: dict[str, int] = {}
    for c in result.metrics().query(MetricsFilter().with_namespace(NAMESPACE))["counters"]:
        value = c.committed if c.committed is not None else c.attempted
        counted[c.key.metric.name] = counted.get(c.key.metric.name, 0) + int(value or 0)
    ordered: dict[str, int] = {}
    for block in blocks:
        for name in block.funnel_counters(block.cfg):
            if name not in ordered:
                ordered[name] = counted.pop(name, 0)
        prefix = block.prefix() + "."
        for name in sorted(n for n in counted if n.startswith(prefix)):
            ordered[name] = counted.pop(name)
    ordered.update(sorted(counted.items()))
    return ordered


def list_shards(directory: str, prefix: str = SHARD_PREFIX) -> list[dict]:
    """The shards under `directory` with their row counts and sizes (from the Parquet footers)."""
    shards = []
    for m in sorted(FileSystems.match([f"{directory}/{prefix}*.parquet"])[0].metadata_list, key=lambda m: m.path):
        with FileSystems.open(m.path, compression_type="uncompressed") as f:
            rows = pq.ParquetFile(f).metadata.num_rows
        shards.append({"path": m.path.rsplit("/", 1)[-1], "rows": rows, "bytes": m.size_in_bytes})
    return shards


def _delete(paths: list[str]) -> None:
    if paths:
        FileSystems.delete(paths)


def _matching(pattern: str) -> list:
    try:
        return FileSystems.match([pattern])[0].metadata_list
    except Exception:  # noqa: BLE001 - a folder that does not exist holds nothing stale
        return []


def remove_legacy(out: str) -> None:
    """Delete what a run of the layout before this one left in `out` (manifest.json, part-*.parquet,
    dropped/part-*.parquet): readers of the folder would take those shards for corpus too."""
    legacy_dropped = f"{out}/{LEGACY['dropped_dir']}/{LEGACY['shard_prefix']}*.parquet"
    _delete([m.path for pattern in (f"{out}/{LEGACY['manifest']}", f"{out}/{LEGACY['shard_prefix']}*.parquet", legacy_dropped)
             for m in _matching(pattern)])


def remove_stale(directory: str, keep_suffix: str, prefix: str = SHARD_PREFIX) -> None:
    """Delete temp files of crashed runs and shards of an earlier run with another shard count (this
    run wrote every shard of its own count, so those are all fresh)."""
    atomic.remove_stale_temps(directory, f"{prefix}*")
    parts = _matching(f"{directory}/{prefix}*.parquet")
    _delete([m.path for m in parts if not m.path.endswith(keep_suffix)])


def remove_stale_before(directory: str, start: float, prefix: str = SHARD_PREFIX) -> None:
    """Without counters (a runner that reports none) the shard count of the run is unknown: delete the
    temp files and the shards last written before the run started (`start`, in seconds)."""
    atomic.remove_stale_temps(directory, f"{prefix}*")
    _delete([m.path for m in _matching(f"{directory}/{prefix}*.parquet") if m.last_updated_in_seconds < start - 1])


def manifest_path(out: str) -> str:
    return f"{out.rstrip('/')}/{MANIFEST}"


def write_manifest(out: str, manifest: dict) -> str:
    return atomic.write_json(manifest_path(out), manifest, indent=2)


def build_manifest(*, counters: dict, shards: list[dict], dropped: list[dict] | None, options: dict, inputs: dict,
                   elapsed_s: float, counters_available: bool = True) -> dict:
    return {
        "webtext_version": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "elapsed_s": round(elapsed_s, 2),
        "documents": sum(s["rows"] for s in shards),
        "counters_available": counters_available,  # false: the runner reported none, `counters` is empty
        "counters": counters,
        "shards": shards,
        "dropped_shards": dropped,
        "options": options,
        "inputs": inputs,
    }
