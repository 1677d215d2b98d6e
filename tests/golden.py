"""Golden figures of whole build-corpus runs, so a redesign can prove it changed no behaviour.

Three runs, every stage on and --keep-dropped:
  * `real`: all of ../shared/data/warc/** with a Pushshift-style dump naming every response record
    (the URLs listed with warcio, not with our reader, so the input does not depend on the code under
    test; one in three below the karma bar; host case, fragments and utm_* varied);
  * `nolinks`: the same WARCs with --no-links (every HTML page, no Reddit join);
  * `demo`: the embedded demo.

What is recorded (tests/golden/*.json): the shard names of the corpus and of dropped/, each shard's
rows as (id, sha256 of the row), and every counter but the timing one (extract.ms). No page text is
stored, only digests (the pages are third parties' content).

    python tests/golden.py          # re-record, only when a change of behaviour is intended
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pyarrow.parquet as pq
import zstandard
from warcio.archiveiterator import ArchiveIterator
from webtext.corpus_layout import DROPPED_DIR, MANIFEST

HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "golden"
TIMING_COUNTERS = {"extract.ms"}
SCORES = (1, 3, 7, 12, 2, 50)
NAMES = ("real", "nolinks", "demo")


def url_variant(url: str, i: int) -> str:
    """How Reddit users write the same URL: other host case, a fragment, tracking parameters."""
    scheme, _, rest = url.partition("://")
    host, _, path = rest.partition("/")
    if i % 4 == 1:
        return f"{scheme}://{host.upper()}/{path}"
    if i % 4 == 2:
        return f"{url}#comments"
    if i % 4 == 3:
        return f"{url}{'&' if '?' in url else '?'}utm_source=reddit"
    return url


def real_inputs(data_dir: Path, tmp: Path) -> tuple[list[str], str]:
    """(every real WARC, a dump naming every response record of them)."""
    warcs = sorted(str(p) for p in data_dir.glob("warc/**/*.warc*"))
    urls = []
    for w in warcs:
        with open(w, "rb") as f:
            try:
                for rec in ArchiveIterator(f, no_record_parse=True):
                    if rec.rec_type == "response":
                        urls.append(rec.rec_headers.get_header("WARC-Target-URI"))
            except Exception:  # noqa: BLE001 - the clipped WARC ends early; what was listed is enough
                pass
    lines = [json.dumps({"url": url_variant(u, i), "score": SCORES[i % len(SCORES)], "subreddit": f"sub{i % 3}",
                         "is_self": False}) for i, u in enumerate(urls)]
    lines += ["{broken json", json.dumps({"url": urls[0], "score": 99, "is_self": True})]
    dump = tmp / "RS_golden.zst"
    dump.write_bytes(zstandard.ZstdCompressor().compress("\n".join(lines).encode()))
    return warcs, str(dump)


def run_args(name: str, data_dir: Path, tmp: Path) -> list[str]:
    out = tmp / f"{name}-corpus"
    if name == "demo":
        return ["--out", str(out), "--keep-dropped"]
    warcs, dump = real_inputs(data_dir, tmp)
    if name == "nolinks":
        return ["--warcs", *warcs, "--no-links", "--out", str(out), "--keep-dropped"]
    return ["--warcs", *warcs, "--reddit", dump, "--out", str(out), "--keep-dropped"]


def _row_digest(row: dict) -> str:
    return hashlib.sha256(json.dumps(row, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()[:16]


def summarize(out: Path) -> dict:
    """The figures of a corpus folder that a behaviour-preserving change must not move."""
    manifest = json.loads((out / MANIFEST).read_text())

    def shards(entries, folder):
        return {s["path"]: [[r["id"], _row_digest(r)] for r in pq.read_table(folder / s["path"]).to_pylist()] for s in entries}

    return {
        "counters": {k: v for k, v in manifest["counters"].items() if k not in TIMING_COUNTERS},
        "shards": shards(manifest["shards"], out),
        "dropped_shards": shards(manifest["dropped_shards"] or [], out / DROPPED_DIR),
    }


def record(name: str, data_dir: Path, tmp: Path, extra: list[str] = ()) -> dict:
    from webtext.cli import main

    args = [*run_args(name, data_dir, tmp), *extra]
    assert main(["build-corpus", *args]) == 0
    return summarize(Path(args[args.index("--out") + 1]))


if __name__ == "__main__":
    import tempfile

    data = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parents[1] / "shared" / "data"
    GOLDEN.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name in NAMES:
            figures = record(name, data, Path(tmp))
            (GOLDEN / f"{name}.json").write_text(json.dumps(figures, indent=1, sort_keys=True) + "\n")
            print(name, len(figures["shards"]), "shards,", sum(map(len, figures["shards"].values())), "rows,",
                  sum(map(len, figures["dropped_shards"].values())), "dropped")
