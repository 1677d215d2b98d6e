"""Shared test fixtures: where the real test data lives, and a few builders on top of it.

The data is ../shared/data next to the repository (see its README): real WARCs, real Pushshift
dumps, real pages with ground truth and the lid.176 model. Tests never download anything.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path

import pytest
import zstandard
from golden import SCORES, url_variant

from webtext.pipeline.extract.isolated import decode_html
from webtext.pipeline.extract.worker import extract_page
from webtext.pipeline.sources.join import best_capture
from webtext.pipeline.sources.urls import host_of, is_wikipedia
from webtext.pipeline.sources.warc_reader import warc_pages

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("WEBTEXT_TEST_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not DATA.is_dir():
        pytest.fail(f"test data not found at {DATA} (set WEBTEXT_TEST_DATA)")
    return DATA


@pytest.fixture(scope="session")
def real_warcs(data_dir) -> list[Path]:
    """Every real WARC file in the shared data (WET/WAT included: they must be read without harm)."""
    return sorted(data_dir.glob("warc/**/*.warc*"))


@pytest.fixture(scope="session")
def real_run_inputs(real_warcs, tmp_path_factory):
    """A Pushshift-format dump naming every HTML page of the real WARCs, and the documents we expect."""
    tmp = tmp_path_factory.mktemp("real")
    pages = [p for w in real_warcs for p in warc_pages(str(w))]
    lines, score_of = [], defaultdict(int)
    for i, page in enumerate(pages):
        score = SCORES[i % len(SCORES)]
        lines.append(json.dumps({"url": url_variant(page.url, i), "score": score, "subreddit": f"sub{i % 3}", "is_self": False}))
        score_of[page.canonical] = max(score_of[page.canonical], score)
    lines += ["{broken json", json.dumps({"url": pages[0].url, "score": 99, "is_self": True})]
    dump = tmp / "RS_real.zst"
    dump.write_bytes(zstandard.ZstdCompressor().compress("\n".join(lines).encode()))

    by_url = defaultdict(list)
    for page in pages:
        by_url[page.canonical].append(page)
    expected = {}
    for canonical, captures in by_url.items():
        if score_of[canonical] < 3 or is_wikipedia(host_of(canonical)):
            continue
        page = best_capture(captures)
        if extract_page(decode_html(page.html, page.charset), page.url) is not None:
            expected[canonical] = (page.url, score_of[canonical])
    wiki_linked = sum(1 for c in by_url if score_of[c] >= 3 and is_wikipedia(host_of(c)))
    linked = {c for c, s in score_of.items() if s >= 3}
    return {"warcs": [str(w) for w in real_warcs], "dump": str(dump), "expected": expected, "wiki": wiki_linked, "linked": linked}
