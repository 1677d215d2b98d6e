"""The quality stage in Beam on real pages, its config validation, and lang + quality end to end."""

from __future__ import annotations

import statistics

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to
from test_lang import counter_value
from test_quality_fixtures import LID_MODEL, aeb, english_articles, eval_pages, make_doc, token_f1

from webtext.errors import UserError
from webtext.pipeline.filters.quality import rules
from webtext.pipeline.run import config
from webtext.pipeline.filters.lang import LanguageFilter
from webtext.pipeline.filters.quality.stage import QualityFilter


@pytest.mark.slow
def test_multilingual_articles_become_a_corpus_of_english_articles_only():
    """All 181 aeb pages (9 languages) through lang (--langs en) and quality with the defaults: every
    kept page is English, nearly all English articles are kept, and the kept text is trafilatura's
    text unchanged, so its token F1 against the ground truth is trafilatura's own."""
    pages = {p["id"]: p for p in aeb()}
    docs = [make_doc(p["id"], p["text"], p["url"]) for p in pages.values()]
    english = [p for p in pages.values() if p["truth_lang"] == "en"]
    all_f1 = statistics.mean(token_f1(p["text"], p["truth"]) for p in english)
    counts = {}

    def check(kept_pairs):  # runs inside the pipeline, on everything kept
        assert kept_pairs, "nothing kept"
        assert all(pages[i]["truth_lang"] == "en" for i, _ in kept_pairs), "a non-English page was kept"
        assert all(text == pages[i]["text"] for i, text in kept_pairs), "the quality stage changed kept text"
        assert len(kept_pairs) / len(english) >= 0.90
        kept_f1 = statistics.mean(token_f1(text, pages[i]["truth"]) for i, text in kept_pairs)
        print(f"kept {len(kept_pairs)}/{len(english)} English articles; token F1 of kept {kept_f1:.3f} (trafilatura on all English: {all_f1:.3f})")
        assert kept_f1 >= all_f1 - 0.01

    p = TestPipeline(runner="FnApiRunner")
    kept, lang_dropped = p | beam.Create(docs) | LanguageFilter(config.stage_config("lang", model=str(LID_MODEL))).transform()
    kept, quality_dropped = kept | QualityFilter(config.load_config()["quality"]).transform()
    assert_that(kept | "Kept" >> beam.Map(lambda d: (d["id"], d["text"])), check)
    result = p.run()
    result.wait_until_finish()
    for name in ["quality.kept", "lang.dropped", "lang.kept"] + [f"quality.dropped.{r.name}" for r in rules.all_rules()]:
        counts[name] = counter_value(result, name)
    dropped_by_rules = sum(v for k, v in counts.items() if k.startswith("quality.dropped."))
    assert counts["lang.kept"] == counts["quality.kept"] + dropped_by_rules
    assert counts["lang.kept"] + counts["lang.dropped"] == len(docs)
    assert counts["quality.kept"] / len(english) >= 0.90


@pytest.mark.slow
def test_dropped_documents_carry_their_rule():
    articles = [p["text"] for p in english_articles() if rules.apply_rules(p["text"], config.load_config()["quality"])[0] is None][:3]
    docs = [make_doc("good", articles[0], language="en"), make_doc("lorem", articles[1] + "\nLorem ipsum dolor sit amet.", language="en")]
    docs.append(make_doc("bullets", "\n".join("• " + line for line in articles[2].splitlines() if line.strip()), language="en"))
    # A German page would fail the English stop-word rule: [quality] languages = ["en"] passes it on unchecked.
    german = next(p["text"] for p in eval_pages() if p["label"] == "de" and len(p["text"]) > 2000)
    docs.append(make_doc("german", german, language="de"))
    with TestPipeline(runner="FnApiRunner") as p:
        kept, dropped = p | beam.Create(docs) | QualityFilter(config.load_config()["quality"]).transform()
        assert_that(kept | beam.Map(lambda d: d["id"]), equal_to(["good", "german"]))
        assert_that(
            dropped | beam.Map(lambda d: (d["id"], d["drop_reason"])),
            equal_to([("lorem", "quality.c4_lorem_ipsum"), ("bullets", "quality.gopher_bullet_lines")]),
            label="dropped",
        )


def _write(tmp_path, text: str) -> str:
    path = tmp_path / "my.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(
    "toml, message",
    [
        ("[quality]\ndisabled_rules = ['c4_curly_brackets']", "unknown rule"),
        ("[quality.fineweb]\nmax_dup_line_chars = 10.0", "must lie in \\[0, 1\\]"),
        ("[quality.gopher_quality]\nmin_words = 500\nmax_words = 100", "above max_words"),
        ("[quality.gopher_quality]\nmin_stop_words = -1", "must not be negative"),
        ("[quality.classifier]\npareto_alpha = 0.0", "pareto_alpha"),
        ("[quality.gopher_quality]\nmin_word = 50", "unknown key 'quality.gopher_quality.min_word'"),
        ("[quality.c4]\nenabled = 'yes'", "must be a boolean"),
    ],
)
def test_config_mistakes_are_one_line_user_errors(tmp_path, toml, message):
    with pytest.raises(UserError, match=message):
        config.load_config(_write(tmp_path, toml))


def test_a_user_config_changes_only_what_it_names(tmp_path):
    path = _write(tmp_path, "[quality.gopher_quality]\nmin_words = 10\n[quality]\ndisabled_rules = []")
    cfg = config.load_config(path)["quality"]
    assert cfg["gopher_quality"]["min_words"] == 10 and cfg["gopher_quality"]["max_words"] == 100_000
    assert cfg["disabled_rules"] == []
    with pytest.raises(UserError, match="quality-threshold"):
        config.load_config(path, {"quality": {"classifier": {"keep_rule": "threshold", "threshold": 2.0}}})
    with pytest.raises(UserError, match="not found"):
        config.load_config(path, {"quality": {"classifier": {"model": "/nonexistent/model.bin"}}})
