"""Less extraction, same corpus: one extraction per payload, and the optional language pre-filter."""

import gzip
import json

import pytest
from helpers import SKIP_ALL, read_corpus, run_build_corpus, write_config, write_warc

from webtext.pipeline.extract.same_payload import SamePayload, payload_key
from webtext.pipeline.extract.worker import extract_page
from webtext.pipeline.run.config import default_config


@pytest.fixture(scope="module")
def aeb_pages(data_dir):
    truth = json.loads((data_dir / "extraction/scrapinghub-aeb/ground-truth.json").read_text())
    return [(item["url"], gzip.decompress((data_dir / f"extraction/scrapinghub-aeb/html/{pid}.html.gz").read_bytes()))
            for pid, item in sorted(truth.items())]


def test_one_representative_per_payload_whatever_the_order():
    pages = [{"id": i, "html": b"<p>same</p>", "charset": None, "url": f"u{i}"} for i in ("c", "a", "b")]
    fn = SamePayload()
    left = fn.add_input(fn.add_input(fn.create_accumulator(), pages[0]), pages[1])
    rep, others = fn.extract_output(fn.merge_accumulators([left, fn.add_input(None, pages[2])]))
    assert rep["id"] == "a" and rep["html"] == b"<p>same</p>"
    assert sorted(o["id"] for o in others) == ["b", "c"] and all(o["html"] == b"" for o in others)
    assert payload_key(pages[0]) == payload_key(pages[1]) != payload_key({**pages[0], "charset": "latin-1"})
    assert payload_key({"id": "x", "too_large": True, "html": b""}) != payload_key({"id": "y", "too_large": True, "html": b""})


def test_each_url_gets_its_own_date(aeb_pages):
    """The date may come from the URL: a payload extracted once still dates each capture as its own
    extraction would."""
    html = next(h for _, h in aeb_pages if b'rel="canonical"' not in h and b"og:url" not in h)
    urls = ["https://mirror.example/2001/02/03/a.html", "https://mirror.example/1999/12/31/b.html"]
    once = extract_page(html, urls[0], more_urls=urls[1:])
    assert [once["date"], *once["dates"]] == [extract_page(html, u)["date"] for u in urls] == ["2001-02-03", "1999-12-31"]


@pytest.mark.slow
def test_same_payload_once_gives_the_same_corpus(aeb_pages, tmp_path):
    base = aeb_pages[:40]
    # Every page twice (its own URL and a mirror whose path holds a date), a third of them three times.
    pages = [*base, *((f"https://mirror.example/2001/02/{i % 28 + 1:02d}/p{i}", h) for i, (_, h) in enumerate(base)),
             *((f"https://copy.example/p{i}", h) for i, (_, h) in enumerate(base) if i % 3 == 0)]
    warc = write_warc(tmp_path / "dup.warc.gz", pages)
    corpora = {}
    for once in (True, False):
        cfg = write_config(tmp_path / f"{once}.toml", f"[extract]\nsame_payload_once = {str(once).lower()}\n")
        out = tmp_path / f"out-{once}"
        assert run_build_corpus(["--warcs", warc, "--no-links", "--out", str(out), "--config", cfg, *SKIP_ALL]) == 0
        corpora[once] = read_corpus(out)
    (m_on, rows_on), (m_off, rows_off) = corpora[True], corpora[False]
    assert sorted(rows_on, key=lambda r: r["id"]) == sorted(rows_off, key=lambda r: r["id"])
    assert len(rows_on) >= len(pages) - 6  # a few AEB pages have no text for trafilatura; the rest are there
    assert m_on["counters"]["extract.same_payload"] == len(pages) - len(base)
    assert m_off["counters"].get("extract.same_payload", 0) == 0
    assert len({r["date"] for r in rows_on}) > len({r["date"] for r in rows_on if "mirror.example" not in r["url"]})


def test_prelang_is_off_by_default():
    cfg = default_config()
    assert cfg["prelang"]["enabled"] is False and cfg["extract"]["same_payload_once"] is True


@pytest.mark.slow
def test_prelang_keeps_the_english_documents_and_saves_extraction(real_warcs, aeb_pages, tmp_path):
    """On every real crawl of the test data (multilingual Common Crawl, Japanese ClueWeb, English
    crawls) plus the AEB articles (8 languages), the pre-filter keeps >= 99.5% of the English documents
    the run without it keeps, and spares trafilatura pages."""
    warcs = [str(w) for w in real_warcs] + [write_warc(tmp_path / "aeb.warc.gz", aeb_pages)]
    runs = {}
    for on in (False, True):
        cfg = write_config(tmp_path / f"{on}.toml", f"[prelang]\nenabled = {str(on).lower()}\n[quality]\nenabled = false\n[dedup]\nenabled = false\n")
        out = tmp_path / f"out-{on}"
        assert run_build_corpus(["--warcs", *warcs, "--no-links", "--out", str(out), "--config", cfg]) == 0
        runs[on] = read_corpus(out)
    (m_off, rows_off), (m_on, rows_on) = runs[False], runs[True]
    english_off = {r["id"] for r in rows_off if r["language"] == "en"}
    english_on = {r["id"] for r in rows_on if r["language"] == "en"}
    assert len(english_off) > 150
    assert len(english_on & english_off) >= 0.995 * len(english_off)
    assert english_on <= english_off  # it only removes pages
    dropped = m_on["counters"]["prelang.dropped.other_language"]
    assert dropped >= 40  # of ~280 pages, most of the non-English ones
    assert m_on["counters"]["extract.pages"] == m_off["counters"]["extract.pages"] - dropped
