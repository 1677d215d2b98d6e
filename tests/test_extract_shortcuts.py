"""Less extraction, same corpus: one extraction per payload, and the optional language pre-filter."""

import gzip
import json

import pytest
from helpers import SKIP_ALL, read_corpus, run_build_corpus, write_config, write_dump, write_warc

from webtext.pipeline.core.document import payload_key
from webtext.pipeline.extract.same_payload import PayloadRuns
from webtext.pipeline.extract.worker import extract_page
from webtext.pipeline.run.config import default_config


@pytest.fixture(scope="module")
def aeb_pages(data_dir):
    truth = json.loads((data_dir / "extraction/scrapinghub-aeb/ground-truth.json").read_text())
    return [(item["url"], gzip.decompress((data_dir / f"extraction/scrapinghub-aeb/html/{pid}.html.gz").read_bytes()))
            for pid, item in sorted(truth.items())]


def test_consecutive_pages_with_one_payload_form_one_run():
    page = {"id": "a", "html": b"<p>same</p>", "charset": None, "url": "u"}
    other = {**page, "id": "b", "html": b"<p>other</p>"}
    runs = PayloadRuns(max_run=2)
    keys = [payload_key(p) for p in (page, other)]
    got = [runs.add({**page, "id": str(i)}, keys[0], i) for i in range(3)]  # a run of 3 capped at 1 + 2
    assert got == [(False, None), (True, None), (True, None)]
    assert runs.run[0]["id"] == "0" and [p["id"] for p in runs.run[1]] == ["1", "2"]
    assert all(p["html"] == b"" for p in runs.run[1])  # the others' bodies are dropped
    joined, ((first, rest), context) = runs.add({**page, "id": "3"}, keys[0], 3)  # over the cap: a new run of the same payload
    assert (joined, first["id"], len(rest), context) == (False, "0", 2, 0)
    joined, ((first, rest), context) = runs.add(other, keys[1], 4)
    assert (joined, first["id"], rest, context) == (False, "3", [], 3)
    joined, ((first, _), _) = runs.add({**other, "id": "c"}, None, 5)  # no key (same_payload_once off): no run
    assert not joined and first["id"] == "b" and runs.add({**other, "id": "d"}, None, 6)[0] is False
    assert runs.flush()[0][0]["id"] == "d" and runs.flush() is None
    assert keys[0] == payload_key({**page, "id": "z"}) != payload_key({**page, "charset": "latin-1"})
    assert payload_key({"id": "x", "too_large": True, "html": b""}) != payload_key({"id": "y", "too_large": True, "html": b""})


def test_each_url_gets_its_own_date(aeb_pages):
    """The date may come from the URL: a payload extracted once still dates each capture as its own
    extraction would."""
    html = next(h for _, h in aeb_pages if b'rel="canonical"' not in h and b"og:url" not in h)
    urls = ["https://mirror.example/2001/02/03/a.html", "https://mirror.example/1999/12/31/b.html"]
    once = extract_page(html, urls[0], more_urls=urls[1:])
    assert [once["date"], *once["dates"]] == [extract_page(html, u)["date"] for u in urls] == ["2001-02-03", "1999-12-31"]


def test_a_page_with_its_own_url_is_dated_once_for_all_its_captures(aeb_pages, monkeypatch):
    """A run of many captures must finish within one page's timeout: a page whose canonical URL
    decides its date is searched once, not once per capture."""
    import htmldate

    html, url = next((h, u) for u, h in aeb_pages if b'rel="canonical"' in h)
    calls = []
    real = htmldate.find_date
    monkeypatch.setattr(htmldate, "find_date", lambda *a, **k: calls.append(k["url"]) or real(*a, **k))
    mirrors = [f"https://mirror.example/2001/02/{i % 28 + 1:02d}/p{i}" for i in range(300)]
    once = extract_page(html, url, more_urls=mirrors)
    assert len(calls) == 1 and once["dates"] == [once["date"]] * 300
    assert once["date"] == extract_page(html, mirrors[7])["date"]


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


@pytest.mark.slow
def test_linked_pages_are_grouped_by_their_claimed_digest_and_the_claim_is_checked(aeb_pages, tmp_path):
    """Scan mode: pages with one payload under several URLs are extracted once, grouped by the digest
    their WARC records claim before any body is read; two different pages claiming one digest (a
    false claim) each get their own text."""
    base = aeb_pages[:12]
    liars = [(f"https://liar.example/{i}", h, "sha1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA") for i, (_, h) in enumerate(aeb_pages[12:14])]
    pages = [*base, *((f"https://mirror.example/2001/02/{i + 1:02d}/p{i}", h) for i, (_, h) in enumerate(base)), *liars]
    warc = write_warc(tmp_path / "pages.warc.gz", pages)
    dump = write_dump(tmp_path / "RS_test.zst", [p[0] for p in pages])
    corpora = {}
    for once in (True, False):
        cfg = write_config(tmp_path / f"{once}.toml", f"[extract]\nsame_payload_once = {str(once).lower()}\n")
        out = tmp_path / f"out-{once}"
        assert run_build_corpus(["--warcs", warc, "--reddit", dump, "--out", str(out), "--config", cfg, *SKIP_ALL]) == 0
        corpora[once] = read_corpus(out)
    (m_on, rows_on), (m_off, rows_off) = corpora[True], corpora[False]
    assert sorted(rows_on, key=lambda r: r["id"]) == sorted(rows_off, key=lambda r: r["id"])
    assert m_on["counters"]["extract.same_payload"] == len(base)  # each mirror: one extraction saved
    texts = {r["url"]: r["text"] for r in rows_on}
    assert all(texts[url] == extract_page(html, url)["text"] for url, html, _ in liars)
    assert texts[liars[0][0]] != texts[liars[1][0]]


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
