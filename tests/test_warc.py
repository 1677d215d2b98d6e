"""The WARC stage on real archives: same pages as warcio, broken input counted and survived."""

import gzip

import apache_beam as beam
import pytest
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.testing.test_pipeline import TestPipeline
from warcio.archiveiterator import ArchiveIterator as WarcioIterator

from webtext.pipeline.core.counters import NAMESPACE
from webtext.pipeline.sources.warc import WarcSource
from webtext.pipeline.sources.warc_reader import warc_pages


def _warcio_html_pages(path):
    """The independent reference: warcio's HTTP-200 HTML responses, bodies de-chunked and decoded."""
    pages = []
    with open(path, "rb") as f:
        for r in WarcioIterator(f):
            if r.rec_type != "response" or not r.http_headers or r.http_headers.get_statuscode() != "200":
                continue
            if "html" in (r.http_headers.get_header("Content-Type") or "").lower():
                pages.append((r.rec_headers.get_header("WARC-Target-URI"), r.content_stream().read()))
    return pages


def test_same_pages_and_bodies_as_warcio(real_warcs):
    total = 0
    for path in real_warcs:
        stats = {}
        ours = [(p.url, p.html) for p in warc_pages(str(path), stats)]
        assert ours == _warcio_html_pages(path), path.name
        total += len(ours)
        assert stats["errors"] == (1 if path.name == "clipped.warc.gz" else 0), path.name
    assert total == 101


def test_metadata_of_real_common_crawl_records(data_dir):
    pages = list(warc_pages(str(data_dir / "warc/resiliparse/warcfile.warc.gz")))
    assert len(pages) == 16 and {p.crawl for p in pages} == {"CC-MAIN-2020-34"}
    first = pages[0]
    assert first.url == "http://003338.cn/l41/481397.html" and first.canonical == first.url
    assert first.record_id.startswith("urn:uuid:") and first.warc_date.startswith("2020-08-08")
    wiki = list(warc_pages(str(data_dir / "warc/whirlwind/whirlwind.warc.gz")))
    assert [p.crawl for p in wiki] == ["CC-MAIN-2024-22"]


def test_clueweb_warc_018_pages_keep_their_charset(data_dir):
    pages = list(warc_pages(str(data_dir / "warc/resiliparse/clueweb-quirk.warc.gz")))
    assert len(pages) == 29 and {p.charset for p in pages} == {"euc_jp"}
    assert "<html" in pages[0].html.decode("euc_jp").lower()


def test_truncated_record_is_counted_and_kept(data_dir):
    stats = {}
    pages = list(warc_pages(str(data_dir / "warc/resiliparse/clipped.warc.gz"), stats))
    assert len(pages) == 1 and pages[0].truncated
    assert stats["truncated"] == 1 and stats["errors"] == 1


def test_corrupt_gzip_member_is_skipped_and_reading_resumes(data_dir, tmp_path):
    src = data_dir / "warc/dolma/sample-0000.warc.gz"
    good = list(warc_pages(str(src)))
    data = bytearray(src.read_bytes())
    data[50_000:50_200] = b"\x00" * 200  # inside one record's gzip member
    bad = tmp_path / "corrupt.warc.gz"
    bad.write_bytes(bytes(data))
    stats = {}
    pages = list(warc_pages(str(bad), stats))
    assert stats["errors"] == 1
    assert len(pages) == len(good) - 1  # exactly the damaged page is lost
    assert {p.url for p in pages} < {p.url for p in good}
    assert pages[-1].url == good[-1].url  # everything after the damage is still read


def test_file_cut_mid_record_is_an_error(data_dir, tmp_path):
    data = (data_dir / "warc/dolma/sample-0001.warc.gz").read_bytes()
    cut = tmp_path / "cut.warc.gz"
    cut.write_bytes(data[: len(data) // 2])
    stats = {}
    pages = list(warc_pages(str(cut), stats))
    assert 0 < len(pages) < 15 and stats["errors"] == 1


def test_plain_warc_and_garbage_in_between(data_dir, tmp_path):
    raw = gzip.decompress((data_dir / "warc/dolma/sample-0000.warc.gz").read_bytes())
    plain = tmp_path / "plain.warc"
    plain.write_bytes(raw)
    assert [p.html for p in warc_pages(str(plain))] == [p.html for p in warc_pages(str(data_dir / "warc/dolma/sample-0000.warc.gz"))]
    # Garbage replacing one record header: counted, then reading resumes at the next "WARC/" line.
    second = raw.index(b"WARC/1.", 10)
    damaged = tmp_path / "damaged.warc"
    damaged.write_bytes(raw[:second] + b"JUNK/9.9 garbage" + raw[second + 16 :])
    stats = {}
    pages = list(warc_pages(str(damaged), stats))
    assert stats["errors"] == 1 and len(pages) >= 20


def _old_warc_record(version: str, url: str, body: bytes) -> bytes:
    block = b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n" + body
    head = (
        f"WARC/{version}\r\nWARC-Type: response\r\nWARC-Target-URI: {url}\r\n"
        f"WARC-Date: 2008-03-01T10:00:00Z\r\nWARC-Record-ID: <urn:uuid:00000000-0000-0000-0000-00000000000{version[-1]}>\r\n"
        f"Content-Type: application/http; msgtype=response\r\nContent-Length: {len(block)}\r\n\r\n"
    ).encode()
    return head + block + b"\r\n\r\n"


@pytest.mark.parametrize("version", ["0.17", "0.18", "1.0", "1.1"])
def test_warc_versions(tmp_path, version):
    path = tmp_path / f"v{version}.warc.gz"
    path.write_bytes(gzip.compress(_old_warc_record(version, "http://old.example/page", b"<html><p>hi</p></html>")))
    pages = list(warc_pages(str(path)))
    assert [(p.url, p.html) for p in pages] == [("http://old.example/page", b"<html><p>hi</p></html>")]


def test_not_a_warc_file_is_counted(tmp_path):
    path = tmp_path / "notes.warc.gz"
    path.write_bytes(gzip.compress(b"these are not the records you are looking for\n" * 50))
    stats = {}
    assert list(warc_pages(str(path), stats)) == [] and stats["errors"] == 1


@pytest.mark.slow
def test_beam_stage_counts_across_files(real_warcs, tmp_path):
    broken = tmp_path / "broken.warc.gz"
    broken.write_bytes(b"\x1f\x8b\x08\x00garbage")
    p = TestPipeline(runner="FnApiRunner")
    _ = p | WarcSource().pages([str(w) for w in real_warcs] + [str(broken)]) | beam.Map(lambda kv: kv[1].url)
    result = p.run()
    result.wait_until_finish()
    counters = {c.key.metric.name: c.committed for c in result.metrics().query(MetricsFilter().with_namespace(NAMESPACE))["counters"]}
    assert counters["warc.html"] == 101
    assert counters["warc.errors"] == 2  # the clipped record and the broken file
    assert counters["warc.files"] == len(real_warcs) + 1
    assert counters["warc.bytes_read"] >= sum(w.stat().st_size for w in real_warcs)
