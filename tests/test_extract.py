"""Extraction: trafilatura's default quality, plus isolation from pages that hang or crash."""

import gzip
import json

import pytest

from webtext.pipeline.extract.evaluate import token_prf
from webtext.pipeline.extract.isolated import ExtractTimeout, IsolatedExtractor, decode_html
from webtext.pipeline.extract.worker import extract_page


@pytest.fixture(scope="module")
def aeb(data_dir):
    truth = json.loads((data_dir / "extraction/scrapinghub-aeb/ground-truth.json").read_text())
    pages = []
    for page_id, item in sorted(truth.items()):
        html = gzip.decompress((data_dir / f"extraction/scrapinghub-aeb/html/{page_id}.html.gz").read_bytes())
        pages.append((html, item["url"], item["articleBody"]))
    return pages


def test_quality_equals_trafilatura_defaults(aeb):
    import trafilatura

    ours_f1, raw_f1 = [], []
    for html, url, truth in aeb:
        ours = extract_page(html, url)
        raw = trafilatura.extract(html, url=url)
        assert (ours["text"] if ours else None) == raw
        meta = trafilatura.bare_extraction(html, url=url, with_metadata=True)
        assert (ours["title"], ours["date"]) == (meta.title, meta.date)
        ours_f1.append(token_prf(ours and ours["text"], truth)[2])
        raw_f1.append(token_prf(raw, truth)[2])
    assert len(aeb) == 181
    assert sum(ours_f1) >= sum(raw_f1)
    assert sum(ours_f1) / len(ours_f1) > 0.85  # trafilatura's published level on this benchmark


def test_metadata_title_and_date(aeb):
    html, url, _ = aeb[0]
    result = extract_page(html, url)
    assert result["title"] and len(result["title"]) > 10
    assert result["date"] is None or len(result["date"]) == 10


def test_empty_page_gives_none():
    assert extract_page(b"<html><head><title>x</title></head><body></body></html>") is None


def test_isolated_extractor_matches_in_process(aeb):
    ex = IsolatedExtractor(timeout_s=60)
    try:
        for html, url, _ in aeb[:5]:
            assert ex(html, url) == extract_page(html, url)
    finally:
        ex.close()


def test_a_page_over_time_is_cut_off_and_the_next_one_works(aeb):
    html, url, _ = aeb[1]
    ex = IsolatedExtractor(timeout_s=60)
    try:
        ex(aeb[0][0], None)  # worker started and warm
        ex.timeout_s = 0.0005  # no real extraction finishes this fast
        with pytest.raises(ExtractTimeout):
            ex(html, url)
        ex.timeout_s = 60
        assert ex(html, url) == extract_page(html, url)
    finally:
        ex.close()


def test_a_dead_worker_is_replaced(aeb):
    ex = IsolatedExtractor(timeout_s=60)
    try:
        ex(aeb[0][0], None)
        ex._proc.kill()
        ex._proc.wait()
        assert ex(aeb[2][0], None) == extract_page(aeb[2][0], None)
    finally:
        ex.close()


def test_http_charset_decides_decoding():
    html = "<html><body><p>Grüße aus Köln</p></body></html>".encode("latin-1")
    assert decode_html(html, "iso8859-1") == "<html><body><p>Grüße aus Köln</p></body></html>"
    assert decode_html(html, None) is html  # no header: trafilatura detects it
    assert decode_html(b"\xff\xfe\xfa", "utf-8") == b"\xff\xfe\xfa"  # a lying header: left to detection
