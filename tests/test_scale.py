"""Scale-out paths: Common Crawl index mode, remote reads with failures, crawl listings.

Every remote read goes to a Range-capable HTTP server the test starts on 127.0.0.1, never to a
real network.
"""

import gzip
import json
import shutil

import pytest
from helpers import SKIP_ALL, read_corpus, run_build_corpus
from range_server import RangeServer
from warcio.archiveiterator import ArchiveIterator

from webtext.pipeline.io import http_filesystem as httpfs
from webtext.pipeline.sources.ccindex import parse_cdxj_line
from webtext.pipeline.sources.join import newest
from webtext.pipeline.sources.urls import canonical_url


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch):
    monkeypatch.setattr(httpfs.RetryPolicy, "base_s", 0.01)


def _cdxj_lines(warc_path, filename):
    """CC-index-server-style CDXJ for one WARC, built with warcio's record offsets (independent of us)."""
    lines = []
    with open(warc_path, "rb") as f:
        it = ArchiveIterator(f)
        for rec in it:
            offset, length = it.get_record_offset(), it.get_record_length()
            if rec.rec_type != "response" or rec.http_headers is None:
                continue
            url = rec.rec_headers.get_header("WARC-Target-URI")
            stamp = (rec.rec_headers.get_header("WARC-Date") or "")[:19].replace("-", "").replace(":", "").replace("T", "")
            meta = {"url": url, "mime": (rec.http_headers.get_header("Content-Type") or "").split(";")[0],
                    "status": rec.http_headers.get_statuscode(), "length": str(length), "offset": str(offset), "filename": filename,
                    "digest": rec.rec_headers.get_header("WARC-Payload-Digest") or ""}
            lines.append(f"{url} {stamp} {json.dumps(meta)}")
    return lines


@pytest.fixture(scope="module")
def cc_layout(real_warcs, data_dir, tmp_path_factory):
    """The real gzipped WARCs laid out as a crawl (crawl-data/...), with a gzipped CDXJ index of them."""
    root = tmp_path_factory.mktemp("cc")
    lines = []
    for warc in real_warcs:
        if not warc.name.endswith(".warc.gz") or "wat" in warc.name or "wet" in warc.name:
            continue
        rel = f"crawl-data/CC-MAIN-2099-01/segments/0/warc/{warc.parent.name}-{warc.name}"
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(warc, root / rel)
        lines += _cdxj_lines(warc, rel)
    index = root / "cdx-00000.gz"
    index.write_bytes(gzip.compress("\n".join(sorted(lines)).encode()))
    listing = "\n".join(sorted(str(p.relative_to(root)) for p in root.glob("crawl-data/**/*.warc.gz")))
    (root / "crawl-data/CC-MAIN-2099-01/warc.paths.gz").write_bytes(gzip.compress(listing.encode()))
    return root


def test_cdxj_parsing():
    assert parse_cdxj_line(b'org,iana)/ 20140126200624 {"url": "http://www.iana.org/", "mime": "text/html", "status": "200", '
                           b'"length": "2258", "offset": "334", "filename": "iana.warc.gz"}').offset == 334
    assert parse_cdxj_line('org,iana)/x 20140126200912 {"url": "http://www.iana.org/x", "mime": "warc/revisit", '
                           '"length": "546", "offset": "6", "filename": "iana.warc.gz"}') is None
    assert parse_cdxj_line('org,x)/ 2014 {"url": "http://x.org/", "mime": "text/html", "status": "404", "length": "1", '
                           '"offset": "1", "filename": "f"}') is None
    assert parse_cdxj_line("garbage line") is None
    line = ('org,iana)/ 20140126200624 {"url": "http://www.iana.org/", "mime": "text/html", "status": "200", '
            '"length": "2258", "offset": "334", "filename": "iana.warc.gz", "digest": "%s"}')
    assert parse_cdxj_line(line % "sha1:G4T5QGJZ6DUWTCJ3BJBXMEQ4QZQKRYHB").digest == "BJBXMEQ4QZQKRYHB"
    assert parse_cdxj_line(line % "").digest is None and parse_cdxj_line(line.replace(', "digest": "%s"', "")).digest is None
    assert parse_cdxj_line(line % "-").digest is None and parse_cdxj_line(line % "sha1:").digest is None  # no digest: no group


@pytest.mark.slow
def test_index_mode_equals_scan_and_reads_only_the_records(real_run_inputs, cc_layout, tmp_path):
    scan_out, index_out = tmp_path / "scan", tmp_path / "index"
    warcs = [str(p) for p in cc_layout.glob("crawl-data/**/*.warc.gz")]
    assert run_build_corpus(["--warcs", *warcs, "--reddit", real_run_inputs["dump"], "--out", str(scan_out), *SKIP_ALL]) == 0
    assert run_build_corpus(["--cc-index", str(cc_layout / "cdx-00000.gz"), "--cc-base", str(cc_layout),
                             "--reddit", real_run_inputs["dump"], "--out", str(index_out), *SKIP_ALL]) == 0
    scan_m, scan_rows = read_corpus(scan_out)
    index_m, index_rows = read_corpus(index_out)
    assert [(r["id"], r["text"], r["reddit_score"]) for r in index_rows] == [(r["id"], r["text"], r["reddit_score"]) for r in scan_rows]
    assert len(index_rows) > 40
    # Bytes read: the fetched records only, a small part of the WARCs.
    fetched = index_m["counters"]["warc.bytes_read"]
    scanned = scan_m["counters"]["warc.bytes_read"]
    assert fetched < scanned / 2
    # ... and within 20% of (here: exactly) the lengths of the matched records, the newest capture of each URL.
    captures = {}
    for line in gzip.decompress((cc_layout / "cdx-00000.gz").read_bytes()).decode().splitlines():
        c = parse_cdxj_line(line)
        if c is not None:
            captures.setdefault(canonical_url(c.url), []).append(c)
    matched = [newest(captures[u]).length for u in real_run_inputs["linked"] if u in captures]
    assert index_m["counters"]["join.matched"] == len(matched)
    assert fetched == sum(matched)  # the issue asks for within 20%: one byte-range read per record makes it exact


@pytest.mark.slow
def test_index_mode_on_pywbs_real_cdxj(data_dir, tmp_path):
    """pywb's real CDXJ of iana.warc.gz (revisits and all): index mode finds what a scan finds."""
    warc = data_dir / "warc/pywb/iana.warc.gz"
    urls = [json.loads(line.split(" ", 2)[2])["url"] for line in (data_dir / "warc/pywb/iana.cdxj").read_text().splitlines()]
    dump = tmp_path / "RS.ndjson"
    dump.write_text("\n".join(json.dumps({"url": u, "score": 5, "subreddit": "iana"}) for u in urls))
    assert run_build_corpus(["--warcs", str(warc), "--reddit", str(dump), "--out", str(tmp_path / "scan"), *SKIP_ALL]) == 0
    assert run_build_corpus(["--cc-index", str(data_dir / "warc/pywb/iana.cdxj"), "--cc-base", str(data_dir / "warc/pywb"),
                             "--reddit", str(dump), "--out", str(tmp_path / "index"), *SKIP_ALL]) == 0
    scan_m, scan = read_corpus(tmp_path / "scan")
    index_m, index = read_corpus(tmp_path / "index")
    assert [r["text"] for r in index] == [r["text"] for r in scan] and len(scan) >= 10
    assert index_m["counters"]["warc.bytes_read"] < warc.stat().st_size / 3


def test_http_reader_resumes_through_503s_and_cut_connections(cc_layout):
    path = next(cc_layout.glob("crawl-data/**/*.warc.gz"))
    rel = path.relative_to(cc_layout)
    with RangeServer(cc_layout, fail_every=3, cut_every=2) as server:
        with httpfs.HttpFileSystem(None).open(f"{server.url}/{rel}") as f:
            data = f.read()
        assert data == path.read_bytes()
        assert httpfs.read_range(f"{server.url}/{rel}", 100, 5000) == path.read_bytes()[100:5100]
        assert server.failed > 0 and server.cut > 0


@pytest.mark.slow
def test_remote_scan_and_index_mode_with_failures_lose_nothing(real_run_inputs, cc_layout, tmp_path):
    local = tmp_path / "local"
    warcs = sorted(cc_layout.glob("crawl-data/**/*.warc.gz"))
    assert run_build_corpus(["--warcs", *map(str, warcs), "--reddit", real_run_inputs["dump"], "--out", str(local), *SKIP_ALL]) == 0
    with RangeServer(cc_layout, fail_every=4, cut_every=5) as server:
        remote_warcs = [f"{server.url}/{w.relative_to(cc_layout)}" for w in warcs]
        assert run_build_corpus(["--warcs", *remote_warcs, "--reddit", real_run_inputs["dump"], "--out", str(tmp_path / "remote"), *SKIP_ALL]) == 0
        assert run_build_corpus(["--cc-index", f"{server.url}/cdx-00000.gz", "--cc-base", server.url,
                                 "--reddit", real_run_inputs["dump"], "--out", str(tmp_path / "index"), *SKIP_ALL]) == 0
        assert server.failed > 0 and server.cut > 0
    expected = read_corpus(local)[1]
    for name in ("remote", "index"):
        m, rows = read_corpus(tmp_path / name)
        assert [r["text"] for r in rows] == [r["text"] for r in expected], name
        assert m["counters"]["warc.errors"] == read_corpus(local)[0]["counters"]["warc.errors"]


@pytest.mark.slow
def test_crawl_mode_lists_and_reads_the_crawl(real_run_inputs, cc_layout, tmp_path, capsys):
    with RangeServer(cc_layout) as server:
        assert run_build_corpus(["--crawl", "CC-MAIN-2099-01", "--max-warcs", "2", "--cc-base", server.url,
                                 "--reddit", real_run_inputs["dump"], "--out", str(tmp_path / "c"), *SKIP_ALL]) == 0
        m, rows = read_corpus(tmp_path / "c")
        assert len(m["inputs"]["warcs"]) == 2 and all(w.startswith(server.url) for w in m["inputs"]["warcs"])
        assert m["counters"]["warc.files"] == 2 and rows
        assert run_build_corpus(["--crawl", "CC-MAIN-1999-99", "--cc-base", server.url,
                                 "--reddit", real_run_inputs["dump"], "--out", str(tmp_path / "d")]) == 2
        assert "cannot read the WARC listing" in capsys.readouterr().err
    assert run_build_corpus(["--crawl", "latest", "--reddit", real_run_inputs["dump"], "--out", str(tmp_path / "e")]) == 2


def _fetch_time(stamp: str):
    """A CDX timestamp as a datetime; ClueWeb09's malformed WARC-Dates ("2008-10-294T...") become the epoch."""
    import datetime

    try:
        return datetime.datetime.strptime(stamp, "%Y%m%d%H%M%S").replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        return datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


@pytest.mark.slow
def test_columnar_parquet_index_gives_the_same_corpus(real_run_inputs, cc_layout, tmp_path):
    """Common Crawl's columnar index (Parquet, its column names and types) works like the CDXJ one."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = []
    for line in gzip.decompress((cc_layout / "cdx-00000.gz").read_bytes()).decode().splitlines():
        meta = json.loads(line.split(" ", 2)[2])
        stamp = line.split(" ", 2)[1]
        rows.append({
            "url": meta["url"], "fetch_status": int(meta["status"]) if meta["status"].isdigit() else None,
            "fetch_time": _fetch_time(stamp),
            "content_mime_type": meta["mime"], "content_mime_detected": None,
            "warc_filename": meta["filename"], "warc_record_offset": int(meta["offset"]), "warc_record_length": int(meta["length"]),
        })
    schema = pa.schema([("url", pa.string()), ("fetch_status", pa.int16()), ("fetch_time", pa.timestamp("ms", tz="UTC")),
                        ("content_mime_type", pa.string()), ("content_mime_detected", pa.string()), ("warc_filename", pa.string()),
                        ("warc_record_offset", pa.int32()), ("warc_record_length", pa.int32())])
    index = tmp_path / "part-00000.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), index)
    for name, idx in (("cdxj", cc_layout / "cdx-00000.gz"), ("parquet", index)):
        assert run_build_corpus(["--cc-index", str(idx), "--cc-base", str(cc_layout), "--reddit", real_run_inputs["dump"],
                                 "--out", str(tmp_path / name), *SKIP_ALL]) == 0
    cdxj, parquet = read_corpus(tmp_path / "cdxj"), read_corpus(tmp_path / "parquet")
    assert [r["text"] for r in parquet[1]] == [r["text"] for r in cdxj[1]] and len(cdxj[1]) > 40
    assert parquet[0]["counters"]["warc.bytes_read"] == cdxj[0]["counters"]["warc.bytes_read"]
