"""Shared real text for the lang / quality / classifier tests (imported by test_lang.py,
test_quality*.py and test_classifier.py; its only test is a sanity check of the data).

- aeb: the 181 article pages of scrapinghub's article-extraction-benchmark, each with its
  ground-truth body, the extract stage's text of the HTML (shipped [extract] settings), and lid.176's label of the truth.
- eval: the 210 pages of trafilatura's own benchmark with their lid.176 labels (multilingual).
- warc: trafilatura's text of the HTML pages inside the real WARCs (Common Crawl, wget crawls,
  iana.org, ClueWeb): "the rest of the web" next to the articles.
Each is extracted once per test session (functools.cache, so every module shares it; a few
seconds in all).
"""

from __future__ import annotations

import functools
import gzip
import json
import re
from collections import Counter
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
if not SHARED.is_dir():
    SHARED = Path("/work/shared/data")
LID_MODEL = SHARED / "models" / "lid.176.ftz"


def extract(html: bytes) -> str:
    """trafilatura under the shipped [extract] settings, as the extract stage runs it (no URL, no title/date)."""
    from trafilatura.utils import load_html

    from webtext.pipeline.extract.worker import DEFAULT_SETTINGS, main_text

    tree = load_html(html)
    return (main_text(tree, None, DEFAULT_SETTINGS) if tree is not None else None) or ""


def token_f1(predicted: str, truth: str) -> float:
    """Token-level F1 of a text against the truth, as the article-extraction-benchmark scores it."""
    p, t = Counter(re.findall(r"\w+", predicted.lower())), Counter(re.findall(r"\w+", truth.lower()))
    common = sum((p & t).values())
    if not common:
        return 0.0
    precision, recall = common / sum(p.values()), common / sum(t.values())
    return 2 * precision * recall / (precision + recall)


def make_doc(doc_id: str, text: str, url: str = "", **extra) -> dict:
    """A pipeline document (schema.SCHEMA's keys) around real text."""
    from webtext.pipeline.core.document import COLUMNS

    doc = dict.fromkeys(COLUMNS)
    doc.update(id=doc_id, url=url, text=text, **extra)
    return doc


@functools.cache
def lid():
    from webtext.pipeline.filters.lang import LanguageIdentifier

    return LanguageIdentifier(str(LID_MODEL))


@functools.cache
def aeb() -> list[dict]:
    root = SHARED / "extraction" / "scrapinghub-aeb"
    truth = json.loads((root / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for page_id, entry in sorted(truth.items()):
        html = gzip.decompress((root / "html" / f"{page_id}.html.gz").read_bytes())
        pages.append({"id": page_id, "url": entry["url"], "truth": entry["articleBody"], "text": extract(html)})
    for page, (language, _) in zip(pages, lid().predict_batch([p["truth"] for p in pages])):
        page["truth_lang"] = language
    return pages


@functools.cache
def english_articles() -> list[dict]:
    return [p for p in aeb() if p["truth_lang"] == "en"]


@functools.cache
def eval_pages() -> list[dict]:
    root = SHARED / "extraction" / "trafilatura-eval"
    entries = json.loads((root / "evaldata-subset.json").read_text(encoding="utf-8"))
    return [
        {"url": url, "label": e["lang_lid176"], "text": extract(gzip.decompress((root / e["html_gz"]).read_bytes()))}
        for url, e in sorted(entries.items())
    ]


@functools.cache
def warc_texts() -> list[str]:
    """Non-empty extracted text of every HTTP-200 HTML response in the real WARCs."""
    from warcio.archiveiterator import ArchiveIterator

    texts = []
    for path in sorted((SHARED / "warc").glob("**/*.warc.gz")):
        if path.name.endswith((".wet.gz", ".wat.gz")):
            continue
        with open(path, "rb") as f:
            for record in ArchiveIterator(f):
                http = record.http_headers
                if record.rec_type != "response" or http is None or http.get_statuscode() != "200":
                    continue
                if "html" not in (http.get_header("Content-Type") or ""):
                    continue
                text = extract(record.content_stream().read())
                if text.strip():
                    texts.append(text)
    return texts


def test_the_real_text_is_there():
    assert len(english_articles()) == 161  # lid.176 labels 161 of the 181 ground truths en (data README)
    assert len(eval_pages()) == 210
    assert sum(bool(p["text"]) for p in english_articles()) >= 155
    assert len(warc_texts()) >= 50
