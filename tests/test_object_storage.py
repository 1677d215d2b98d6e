"""build-corpus with every input and the output on object storage, against real servers on loopback:
S3 (moto in server mode, through Beam's own --s3_* options) and GCS (gcp-storage-emulator, through
STORAGE_EMULATOR_HOST). The rows and counters equal the same run on local files, and index mode reads
each record with one ranged GET of exactly its bytes (counted by the server)."""

from __future__ import annotations

import gzip
import io
import json
import shutil

import pyarrow.parquet as pq
import pytest
from helpers import read_corpus, run_build_corpus
from object_stores import GcsServer, S3Server
from test_scale import _cdxj_lines
from webtext.corpus_layout import DROPPED_DIR, MANIFEST

TIMING = {"extract.ms"}
STAGES = ["--skip", "dedup", "--keep-dropped"]  # lang and quality on, so dropped/ has documents too


@pytest.fixture(scope="module")
def crawl(real_warcs, tmp_path_factory):
    """The real gzipped WARCs laid out as a crawl, with a gzipped CDXJ index of them (offsets by warcio)."""
    root = tmp_path_factory.mktemp("crawl")
    lines = []
    for warc in real_warcs:
        if warc.name.endswith(".warc.gz") and "wat" not in warc.name and "wet" not in warc.name:
            rel = f"crawl-data/CC-MAIN-2099-01/segments/0/warc/{warc.parent.name}-{warc.name}"
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(warc, root / rel)
            lines += _cdxj_lines(warc, rel)
    (root / "cdx-00000.gz").write_bytes(gzip.compress("\n".join(sorted(lines)).encode()))
    return root


@pytest.fixture(params=["s3", "gs"])
def store(request, monkeypatch):
    server = S3Server() if request.param == "s3" else GcsServer(monkeypatch)
    with server:
        yield server


def _upload(store, crawl, dump) -> dict:
    warcs = [store.put(f"cc/{p.relative_to(crawl)}", p.read_bytes()) for p in sorted(crawl.glob("crawl-data/**/*.warc.gz"))]
    return {"warcs": warcs, "index": store.put("cc/cdx-00000.gz", (crawl / "cdx-00000.gz").read_bytes()),
            "dump": store.put("reddit/RS_real.zst", open(dump, "rb").read()),
            "base": warcs[0].split("/cc/")[0] + "/cc"}


def _remote_corpus(store, prefix: str) -> tuple[dict, list, list]:
    manifest = json.loads(store.get(f"{prefix}/{MANIFEST}"))

    def rows(folder, shards):
        return [r for s in shards for r in pq.read_table(io.BytesIO(store.get(f"{folder}/{s['path']}"))).to_pylist()]

    return manifest, rows(prefix, manifest["shards"]), rows(f"{prefix}/{DROPPED_DIR}", manifest["dropped_shards"] or [])


def _same_run(local_out, remote) -> None:
    local_manifest, local_rows = read_corpus(local_out)
    local_dropped = [r for s in local_manifest["dropped_shards"] for r in pq.read_table(local_out / DROPPED_DIR / s["path"]).to_pylist()]
    manifest, rows, dropped = remote
    assert rows == local_rows and len(rows) > 20
    assert dropped == local_dropped and dropped
    drop = lambda c: {k: v for k, v in c.items() if k not in TIMING}  # noqa: E731
    assert drop(manifest["counters"]) == drop(local_manifest["counters"])
    assert [s["path"] for s in manifest["shards"]] == [s["path"] for s in local_manifest["shards"]]


@pytest.mark.slow
def test_scan_mode_on_object_storage_equals_local(store, crawl, real_run_inputs, tmp_path):
    local = tmp_path / "local"
    warcs = [str(p) for p in sorted(crawl.glob("crawl-data/**/*.warc.gz"))]
    assert run_build_corpus(["--warcs", *warcs, "--reddit", real_run_inputs["dump"], "--out", str(local), *STAGES]) == 0
    remote = _upload(store, crawl, real_run_inputs["dump"])
    glob = remote["base"] + "/crawl-data/CC-MAIN-2099-01/segments/0/warc/*.warc.gz"
    out = remote["base"].rsplit("/cc", 1)[0] + "/corpus"
    assert run_build_corpus(["--warcs", glob, "--reddit", remote["dump"], "--out", out, *STAGES, *store.beam_args]) == 0
    _same_run(local, _remote_corpus(store, "corpus"))
    manifest = json.loads(store.get(f"corpus/{MANIFEST}"))
    expected = {f"corpus/{s['path']}" for s in manifest["shards"]} | {f"corpus/{DROPPED_DIR}/{s['path']}" for s in manifest["dropped_shards"]}
    assert set(store.keys("corpus/")) == expected | {f"corpus/{MANIFEST}"}  # no temp file left behind


@pytest.mark.slow
def test_index_mode_reads_each_record_by_one_exact_ranged_get(store, crawl, real_run_inputs, tmp_path):
    local = tmp_path / "local"
    assert run_build_corpus(["--cc-index", str(crawl / "cdx-00000.gz"), "--cc-base", str(crawl), "--reddit", real_run_inputs["dump"],
                             "--out", str(local), *STAGES]) == 0
    remote = _upload(store, crawl, real_run_inputs["dump"])
    before = len(store.ranged_gets("crawl-data/"))
    out = remote["base"].rsplit("/cc", 1)[0] + "/index-corpus"
    assert run_build_corpus(["--cc-index", remote["index"], "--cc-base", remote["base"], "--reddit", remote["dump"],
                             "--out", out, *STAGES, *store.beam_args]) == 0
    _same_run(local, _remote_corpus(store, "index-corpus"))
    counters = json.loads(store.get(f"index-corpus/{MANIFEST}"))["counters"]
    ranges = store.ranged_gets("crawl-data/")[before:]
    assert len(ranges) == counters["join.matched"] > 20  # one GET per record: the WARCs are never scanned
    spans = [tuple(map(int, r.removeprefix("bytes=").split("-"))) for r in ranges]
    assert sum(b - a + 1 for a, b in spans) == counters["warc.bytes_read"]  # exactly the records' bytes


def test_an_object_store_path_without_its_extra_is_one_line(monkeypatch, capsys, tmp_path):
    from webtext.pipeline.io import object_store

    monkeypatch.setattr(object_store, "_installed", lambda module: False)
    for path, extra in (("s3://bucket/crawl/*.warc.gz", "aws"), ("gs://bucket/crawl/*.warc.gz", "gcp")):
        assert run_build_corpus(["--warcs", path, "--reddit", "x.zst", "--out", str(tmp_path / "o")]) == 2
        err = capsys.readouterr().err
        assert f"pip install 'webtext[{extra}]'" in err and err.count("\n") == 1
