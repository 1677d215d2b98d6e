"""Index mode against hostile index entries and servers: nothing read outside --cc-base, no request
off its host, every bad entry counted, every sound one still fetched."""

from __future__ import annotations

import builtins
import json
import os

import pytest
from helpers import SKIP_ALL, read_corpus, run_build_corpus
from hostile import cdxj_line, http_block, member, offsets, real_pages, submission, warc_record
from range_server import RangeServer

from webtext.pipeline.core.document import doc_id
from webtext.pipeline.io import http_filesystem
from webtext.pipeline.sources.urls import canonical_url

SECRET_URL = "https://secret.example/page"
SECRET_TEXT = "THE SECRET SENTENCE THAT MUST NEVER REACH A CORPUS. " * 40


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch):
    monkeypatch.setattr(http_filesystem.RetryPolicy, "base_s", 0.01)


@pytest.fixture
def layout(data_dir, tmp_path):
    """base/crawl.warc.gz (eight real pages), base/../secret/secret.warc.gz (a page nobody may read)."""
    pages = real_pages(data_dir, 8)
    base, secret = tmp_path / "base", tmp_path / "secret"
    base.mkdir(), secret.mkdir()
    members = [member(warc_record(u, http_block(h))) for u, h in pages]
    (base / "crawl.warc.gz").write_bytes(b"".join(members))
    secret_html = f"<html><body><article><p>{SECRET_TEXT}</p></article></body></html>".encode()
    secret_member = member(warc_record(SECRET_URL, http_block(secret_html)))
    (secret / "secret.warc.gz").write_bytes(secret_member)
    good = [cdxj_line(u, "crawl.warc.gz", o, n) for (u, _), (o, n) in zip(pages, offsets(members))]
    return {"pages": pages, "base": base, "secret": secret, "good": good, "secret_len": len(secret_member), "tmp": tmp_path}


def _ids(pages):
    return {doc_id(canonical_url(u)) for u, _ in pages}


def _run(layout, extra_lines, cc_base=None, extra_urls=(), exit_code=0):
    tmp = layout["tmp"]
    lines = layout["good"][:4] + list(extra_lines) + layout["good"][4:]
    (tmp / "cdx.cdxj").write_text("\n".join(lines) + "\n")
    urls = [u for u, _ in layout["pages"]] + [SECRET_URL, *extra_urls]
    (tmp / "RS.ndjson").write_text("\n".join(submission(u) for u in urls) + "\n")
    out = tmp / "out"
    assert run_build_corpus(["--cc-index", str(tmp / "cdx.cdxj"), "--cc-base", str(cc_base or layout["base"]),
                             "--reddit", str(tmp / "RS.ndjson"), "--out", str(out), *SKIP_ALL]) == exit_code
    manifest, rows = read_corpus(out)
    assert not any("SECRET SENTENCE" in (r["text"] or "") for r in rows)
    return manifest["counters"], {r["id"] for r in rows}


@pytest.fixture
def opened(monkeypatch):
    """Every path this process opens while the test runs (Beam's local filesystem opens with open())."""
    seen = []
    real_open, real_os_open = builtins.open, os.open

    def spy_open(file, *a, **k):
        seen.append(os.fspath(file) if isinstance(file, (str, bytes, os.PathLike)) else file)
        return real_open(file, *a, **k)

    def spy_os_open(path, *a, **k):
        seen.append(os.fspath(path))
        return real_os_open(path, *a, **k)

    monkeypatch.setattr(builtins, "open", spy_open)
    monkeypatch.setattr(os, "open", spy_os_open)
    return seen


@pytest.mark.slow
@pytest.mark.parametrize("filename", ["../secret/secret.warc.gz", "{secret}/secret.warc.gz", "crawl.warc.gz/../../secret/secret.warc.gz",
                                      "/dev/zero", "/etc/passwd", "file:///{secret}/secret.warc.gz", "C:/secret.warc.gz"])
def test_index_filenames_outside_the_base_are_refused_and_never_opened(layout, opened, filename):
    name = filename.format(secret=layout["secret"])
    counters, ids = _run(layout, [cdxj_line(SECRET_URL, name, 0, 10**9 if "zero" in name else layout["secret_len"])])
    assert ids == _ids(layout["pages"])
    assert counters["index.unsafe_filename"] == 1
    secret = str(layout["secret"])
    assert not [p for p in opened if isinstance(p, str) and (p.startswith(secret) or p in ("/dev/zero", "/etc/passwd"))]


@pytest.mark.slow
def test_a_redirect_off_the_base_host_is_not_followed(layout, tmp_path):
    (tmp_path / "elsewhere").mkdir()
    os.replace(layout["base"] / "crawl.warc.gz", tmp_path / "elsewhere" / "crawl.warc.gz")
    with RangeServer(tmp_path / "elsewhere") as elsewhere, RangeServer(layout["base"], redirect_to=elsewhere.url) as base:
        counters, ids = _run(layout, [], cc_base=base.url, exit_code=1)  # every record failed: the run says so
        assert base.requests >= 8 and elsewhere.requests == 0
    assert ids == set() and counters["warc.errors"] == 8 and counters["join.fetch_failed"] == 8  # the secret URL has no entry at all


BAD_ENTRIES = {
    "offset_past_eof": (lambda L: cdxj_line(SECRET_URL, "crawl.warc.gz", 10**9, 500), "join.fetch_failed"),
    "length_zero": (lambda L: cdxj_line(SECRET_URL, "crawl.warc.gz", 0, 0), "index.invalid"),
    "negative_offset": (lambda L: cdxj_line(SECRET_URL, "crawl.warc.gz", -10, 500), "index.invalid"),
    "offset_not_a_number": (lambda L: cdxj_line(SECRET_URL, "crawl.warc.gz", "ten", 500), "index.invalid"),
    "length_absurd": (lambda L: cdxj_line(SECRET_URL, "crawl.warc.gz", 0, 10**12), "index.invalid"),
    "range_inside_a_record": (lambda L: cdxj_line(SECRET_URL, "crawl.warc.gz", 100, 500), "join.fetch_failed"),
    "not_json": (lambda L: "com,example)/ 20240101 {not json", "index.invalid"),
    "json_not_an_object": (lambda L: "com,example)/ 20240101 [1, 2]", "index.invalid"),
    "deep_json": (lambda L: "com,example)/ 20240101 " + "[" * 100_000, "index.invalid"),
    "two_fields": (lambda L: "com,example)/ 20240101", "index.invalid"),
    "huge_line": (lambda L: "com,example)/ 20240101 " + json.dumps({"url": SECRET_URL, "x": "y" * (20 << 20)}), "index.invalid"),
    "url_not_a_url": (lambda L: cdxj_line("javascript:alert(1)", "crawl.warc.gz", 0, 500), "index.invalid"),
    "offset_a_boolean": (lambda L: cdxj_line(SECRET_URL, "crawl.warc.gz", 0, 500).replace('"offset": "0"', '"offset": true'), "index.invalid"),
    "length_a_fraction": (lambda L: cdxj_line(SECRET_URL, "crawl.warc.gz", 0, 500).replace('"length": "500"', '"length": 1.5'), "index.invalid"),
    "filename_with_a_newline": (lambda L: cdxj_line(SECRET_URL, "crawl.warc.gz\n", 0, 500), "index.unsafe_filename"),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(BAD_ENTRIES))
def test_a_bad_index_entry_costs_only_itself(layout, case):
    make, counter = BAD_ENTRIES[case]
    counters, ids = _run(layout, [make(layout)])
    assert ids == _ids(layout["pages"])
    assert counters[counter] == 1
    assert counters["join.matched"] == len(layout["pages"])  # a URL counts as matched only once it has a page


@pytest.mark.slow
def test_a_failed_capture_falls_back_to_an_older_one(layout):
    """The newest capture of a URL points past the end of its file; the older one is sound."""
    url = layout["pages"][0][0]
    newest = cdxj_line(url, "crawl.warc.gz", 10**8, 500).replace(" 20240501000000 ", " 20250101000000 ")
    counters, ids = _run(layout, [newest])
    assert ids == _ids(layout["pages"]) and counters["warc.errors"] == 1 and counters["join.duplicate_captures"] == 1


@pytest.mark.slow
def test_a_symbolic_link_inside_the_base_cannot_lead_out(layout):
    (layout["base"] / "link").symlink_to(layout["secret"], target_is_directory=True)
    counters, ids = _run(layout, [cdxj_line(SECRET_URL, "link/secret.warc.gz", 0, layout["secret_len"])])
    assert ids == _ids(layout["pages"]) and counters["warc.errors"] == 1


@pytest.mark.slow
def test_a_parquet_index_with_status_as_text_and_binary_urls(layout):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = []
    for line in layout["good"]:
        meta = json.loads(line.split(" ", 2)[2])
        rows.append({"url": meta["url"].encode(), "fetch_status": "200", "content_mime_type": "text/html",
                     "warc_filename": meta["filename"], "warc_record_offset": int(meta["offset"]),
                     "warc_record_length": int(meta["length"])})
    rows.append({**rows[0], "warc_record_offset": None})  # a null in a column: that entry alone is invalid
    tmp = layout["tmp"]
    pq.write_table(pa.Table.from_pylist(rows), tmp / "cdx.parquet")
    (tmp / "RS.ndjson").write_text("\n".join(submission(u) for u, _ in layout["pages"]) + "\n")
    assert run_build_corpus(["--cc-index", str(tmp / "cdx.parquet"), "--cc-base", str(layout["base"]),
                             "--reddit", str(tmp / "RS.ndjson"), "--out", str(tmp / "out"), *SKIP_ALL]) == 0
    manifest, rows_out = read_corpus(tmp / "out")
    assert {r["id"] for r in rows_out} == _ids(layout["pages"]) and manifest["counters"]["index.invalid"] == 1
