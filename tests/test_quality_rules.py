"""The heuristic rules on real text: real articles pass; real articles degraded in one specific way
fail, and with the rule named for that degradation."""

from __future__ import annotations

import copy
import gzip
import json
import re

import pytest
from test_quality_fixtures import SHARED, english_articles

from webtext.pipeline.filters.quality import rules, textview
from webtext.pipeline.run import config


@pytest.fixture(scope="module")
def cfg() -> dict:
    return config.load_config()["quality"]


@pytest.fixture(scope="module")
def articles(cfg) -> list[str]:
    """Extracted English articles of 12+ lines that pass every rule as they are."""
    chosen = [p["text"] for p in english_articles() if len(_lines(p["text"])) >= 12 and rules.apply_rules(p["text"], cfg)[0] is None]
    assert len(chosen) >= 20
    return chosen[:12]


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def _sentence_lines(text: str) -> list[str]:
    return [line for line in _lines(text) if line.endswith(textview.TERMINAL_PUNCT)]


def _unpunctuated(line: str) -> str:
    return line.rstrip(".!?\"'”’")


# Each degradation of a real article, and the rule it must trip. `first`: it must also be the first
# rule to fail (the drop_reason); otherwise an earlier rule may catch the page first.
DEGRADATIONS = {
    "gopher_dup_lines": (True, lambda t: "\n".join(line for line in _lines(t) for _ in range(3))),
    "gopher_dup_paragraphs": (False, lambda t: "\n\n".join(_lines(t) * 2)),
    "gopher_dup_line_chars": (False, lambda t: "\n".join(_lines(t) + sorted(_lines(t), key=len)[len(_lines(t)) // 2 :])),
    "gopher_top_2gram": (True, lambda t: " ".join(w + " buy now" for w in t.split())),
    "gopher_dup_5gram": (True, lambda t: " ".join(t.split() * 2)),  # the article twice, as one line
    "gopher_min_words": (False, lambda t: " ".join(t.split()[:40])),
    "gopher_mean_word_length": (True, lambda t: re.sub(r"(\S+) (\S+) (\S+)", r"\1\2\3", t)),
    "gopher_symbol_ratio": (True, lambda t: " ".join(w + (" #trending" if i % 5 == 0 else "") for i, w in enumerate(t.split(" ")))),
    "gopher_bullet_lines": (True, lambda t: "\n".join("• " + line for line in _lines(t))),
    "gopher_ellipsis_lines": (False, lambda t: "\n".join(line[:80].rsplit(" ", 1)[0] + "..." for line in _lines(t))),
    "gopher_alpha_words": (True, lambda t: " ".join(w if i % 3 else str(1000 + i) for i, w in enumerate(t.split(" ")))),
    "gopher_stop_words": (True, lambda t: re.sub(r"\b(the|be|to|of|and|that|have|with)\b", "", t, flags=re.IGNORECASE)),
    "c4_lorem_ipsum": (True, lambda t: t + "\nLorem ipsum dolor sit amet, consectetur adipiscing elit."),
    "c4_curly_bracket": (False, lambda t: t + "\nbody { margin: 0; }"),
    "c4_min_sentences": (True, lambda t: "\n".join(_unpunctuated(line) for line in _lines(t))),
    # Three real sentence lines joined into one keep C4 content; no other line ends a sentence.
    "fineweb_line_punct": (True, lambda t: "\n".join([" ".join(_sentence_lines(t)[:3])] + [_unpunctuated(line) for line in _lines(t) if line not in _sentence_lines(t)[:3]])),
    "fineweb_short_lines": (False, lambda t: "\n".join(part for line in _lines(t) for part in re.findall(r".{1,30}(?:\s|$)", line))),
}


def _rule(name: str) -> rules.Rule:
    return next(r for r in rules.all_rules() if r.name == name)


@pytest.mark.parametrize("name", sorted(DEGRADATIONS))
def test_each_rule_catches_its_degradation_of_real_articles(name, articles, cfg):
    first, degrade = DEGRADATIONS[name]
    rule = _rule(name)
    for text in articles:
        assert not rule.fails(textview.TextView(text), cfg[rule.family]), "the real article itself must pass"
        bad = degrade(text)
        assert rule.fails(textview.TextView(bad), cfg[rule.family])
        if first:
            assert rules.apply_rules(bad, cfg)[0] == name


def test_every_rule_is_tested_and_documented(cfg):
    tested = set(DEGRADATIONS) | {f"gopher_top_{n}gram" for n in (3, 4)} | {f"gopher_dup_{n}gram" for n in range(6, 11)}
    tested |= {"gopher_max_words", "gopher_dup_paragraph_chars", "fineweb_dup_line_chars"}  # below
    assert {r.name for r in rules.all_rules()} == tested
    for r in rules.all_rules():
        assert r.doc.startswith("Fails"), r.name
        for key in re.findall(r"`(\w+)`", r.doc):
            assert key in cfg[r.family], f"{r.name} documents `{key}`, which [quality.{r.family}] lacks"


def test_long_repeated_passages_trip_every_dup_ngram_rule(articles, cfg):
    doubled = textview.TextView(" ".join(articles[0].split() * 2))
    for n in range(5, 11):
        assert textview.duplicate_ngram_char_fraction(doubled, n) == pytest.approx(0.5, abs=0.02)
        assert _rule(f"gopher_dup_{n}gram").fails(doubled, cfg["gopher_repetition"])


def test_a_repeated_phrase_trips_the_top_ngram_rules(articles, cfg):
    spam = textview.TextView(" ".join(w + " get the deal now" for w in articles[0].split()))
    for n in (2, 3, 4):
        assert _rule(f"gopher_top_{n}gram").fails(spam, cfg["gopher_repetition"])


def test_the_remaining_rules_on_real_text(articles, cfg):
    text = articles[0]
    assert _rule("gopher_max_words").fails(textview.TextView(text), {**cfg["gopher_quality"], "max_words": 100})
    repeated = "\n\n".join(_lines(text) + _lines(text)[:6])
    assert _rule("gopher_dup_paragraph_chars").fails(textview.TextView(repeated), cfg["gopher_repetition"])
    # FineWeb's line-duplication cut (0.1) is stricter than Gopher's (0.2): repeat one line of ~6%
    # of the characters until repeats hold 10%; FineWeb drops the page, Gopher keeps it.
    lines = _lines(text)
    line = min(lines, key=lambda s: abs(len(s) - 0.06 * sum(map(len, lines))))
    extra = []
    while True:
        extra.append(line)
        view = textview.TextView("\n".join(lines + extra))
        if view.dup_lines[1] >= 0.1:
            break
    assert view.dup_lines[1] < 0.2
    assert _rule("fineweb_dup_line_chars").fails(view, cfg["fineweb"])
    assert not _rule("gopher_dup_line_chars").fails(view, cfg["gopher_repetition"])


def test_almost_all_real_english_articles_pass(cfg):
    """The defaults keep the well-written articles: 155 of the 161 English aeb pages as the extract
    stage extracts them (154 with trafilatura's defaults, which extract one page twice over), and 154
    of their ground truths (measured). The 6 extracted misses: two short hard-wrapped blurbs
    (c4_min_sentences), a meal-plan listing (gopher_dup_lines), an arrest list and a festival post
    repeating long phrases (gopher_dup_5gram), a high-school score roundup (gopher_alpha_words)."""
    articles = english_articles()
    reasons = [rules.apply_rules(p["text"], cfg)[0] for p in articles]
    assert sum(r is None for r in reasons) / len(articles) >= 0.93
    truths = [rules.apply_rules(p["truth"], cfg)[0] for p in articles]
    assert sum(r is None for r in truths) / len(articles) >= 0.93


def test_a_page_extracted_twice_over_is_caught(cfg):
    """Real failure: trafilatura with its defaults emits this businessinsider page's article twice (the
    shipped [extract] settings do not); the truth once."""
    import trafilatura

    page = next(p for p in english_articles() if p["id"].startswith("fde930b0"))
    html = gzip.decompress((SHARED / "extraction/scrapinghub-aeb/html" / f"{page['id']}.html.gz").read_bytes())
    assert rules.apply_rules(trafilatura.extract(html), cfg)[0] == "gopher_dup_lines"
    assert rules.apply_rules(page["text"], cfg)[0] is None
    assert rules.apply_rules(page["truth"], cfg)[0] is None


def test_real_common_crawl_documents_pass(cfg):
    """The ten CCNet 'head' (best perplexity bucket) English documents of the Dolma sample."""
    with gzip.open(SHARED / "text" / "dolma-cc_en_head-0091.jsonl.gz", "rt", encoding="utf-8") as f:
        texts = [json.loads(line)["text"] for line in f]
    assert len(texts) == 10
    assert [rules.apply_rules(t, cfg)[0] for t in texts] == [None] * 10


def test_c4_edit_lines_keeps_only_sentence_lines(articles, cfg):
    edit = copy.deepcopy(cfg)
    edit["c4"]["edit_lines"] = True
    text = "A Heading Without A Full Stop\n" + articles[0]
    reason, edited = rules.apply_rules(text, edit)
    assert reason is None
    assert "A Heading Without A Full Stop" not in edited
    assert all(line.endswith(textview.TERMINAL_PUNCT) for line in edited.splitlines())
    assert rules.apply_rules(text, cfg) == (None, text)  # the default leaves the text alone


def test_rules_can_be_switched_off(articles, cfg):
    lorem = DEGRADATIONS["c4_lorem_ipsum"][1](articles[0])
    assert rules.apply_rules(lorem, {**cfg, "disabled_rules": ["c4_lorem_ipsum"]})[0] is None
    code = DEGRADATIONS["c4_curly_bracket"][1](articles[0])
    assert rules.apply_rules(code, cfg)[0] is None  # off by default (see default_config.toml)
    assert rules.apply_rules(code, {**cfg, "disabled_rules": []})[0] == "c4_curly_bracket"
    off = copy.deepcopy(cfg)
    off["c4"]["enabled"] = False
    assert rules.apply_rules(lorem, off)[0] is None
