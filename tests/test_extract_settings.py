"""trafilatura's settings as config ([extract]) and the evaluation command that chose their defaults."""

import gzip
import json
import shutil

import pytest

from webtext.errors import UserError
from webtext.pipeline.extract.eval_command import main as eval_extract
from webtext.pipeline.extract.evaluate import bootstrap_interval, load_gold, segment_prf, token_prf
from webtext.pipeline.extract.settings import ExtractSettings
from webtext.pipeline.run.config import load_config


@pytest.mark.parametrize("override, message", [
    ({"focus": "recal"}, "extract.focus must be one of balanced, precision, recall, got 'recal'"),
    ({"fallback": "sometimes"}, "extract.fallback must be one of always, never, short"),
    ({"fallback_below": 0}, "extract.fallback_below must be a whole number of characters in [1, 1000000], got 0"),
    ({"include_comments": "no"}, "'extract.include_comments' must be a boolean"),
])
def test_a_bad_setting_is_one_line_at_config_load(override, message):
    with pytest.raises(UserError, match=message.replace("[", r"\[").replace("]", r"\]").replace("(", r"\(")):
        load_config(None, {"extract": override})


def test_settings_map_to_trafilatura_keywords_and_travel_as_json():
    s = ExtractSettings.from_config(load_config(None, {"extract": {"focus": "precision", "fallback": "never"}})["extract"])
    assert s.trafilatura_kwargs() == {"include_comments": False, "include_tables": True, "favor_precision": True,
                                      "favor_recall": False, "fast": True}
    assert s.trafilatura_kwargs(fast=False)["fast"] is False
    assert ExtractSettings.from_json(s.to_json()) == s
    with pytest.raises(UserError):
        ExtractSettings.from_json(json.dumps({**json.loads(s.to_json()), "fallback_below": True}))


def test_metrics():
    assert token_prf("a b b c", "a b c d") == (0.75, 0.75, 0.75)
    assert token_prf(None, "a") == (0.0, 0.0, 0.0)
    p, r, f = segment_prf("Intro.\nThe  main\ntext. Share on Facebook", ("The main text.", "Missing part"), ("Share on Facebook", "Footer"))
    assert (p, r) == (0.5, 0.5) and f == 0.5
    assert segment_prf("", ("x",), ()) == (0.0, 0.0, 0.0)
    values = [0.1, 0.9, 0.5, 0.7]
    lo, hi = bootstrap_interval(values, n=200)
    assert 0.1 <= lo < sum(values) / 4 < hi <= 0.9
    assert bootstrap_interval(values, values, n=50) == (0.0, 0.0)


@pytest.fixture()
def small_sets(data_dir, tmp_path):
    """Four pages of each ground-truth layout, copied into folders of their own (a held-out set's shape)."""
    src = data_dir / "extraction"
    aeb = tmp_path / "aeb-mini"
    (aeb / "html").mkdir(parents=True)
    truth = json.loads((src / "scrapinghub-aeb/ground-truth.json").read_text())
    keep = dict(sorted(truth.items())[:4])
    (aeb / "ground-truth.json").write_text(json.dumps(keep))
    for i, page_id in enumerate(keep):  # one page uncompressed: both spellings are read
        data = (src / f"scrapinghub-aeb/html/{page_id}.html.gz").read_bytes()
        if i:
            (aeb / f"html/{page_id}.html.gz").write_bytes(data)
        else:
            (aeb / f"html/{page_id}.html").write_bytes(gzip.decompress(data))
    seg = tmp_path / "seg-mini"
    (seg / "html").mkdir(parents=True)
    index = json.loads((src / "trafilatura-eval/evaldata-subset.json").read_text())
    keep = dict(sorted(index.items())[:4])
    for item in keep.values():
        shutil.copy(src / "trafilatura-eval" / item["html_gz"], seg / item["html_gz"])
    (seg / "index.json").write_text(json.dumps(keep))
    return aeb, seg


@pytest.mark.slow
def test_eval_extract_scores_any_folder_in_either_layout(small_sets, capsys):
    import trafilatura

    aeb, seg = small_sets
    assert [len(load_gold(f)) for f in small_sets] == [4, 4]
    assert eval_extract([str(aeb), str(seg), "--repeat", "2", "--bootstrap", "20"]) == 0
    out = capsys.readouterr().out
    pages = load_gold(aeb)
    ref_f1 = sum(p.score(trafilatura.extract(p.html, url=p.url))[2] for p in pages) / 4
    ref_row = next(line for line in out.splitlines() if line.strip().startswith("trafilatura defaults") and "[" in line)
    assert f"{ref_f1:.3f}" in ref_row.split()  # the first set's table: the reference row's F1 as computed here
    for name in ("aeb-mini (4 pages)", "seg-mini (4 pages)", "configured", "comments off, fast, recall", "x defaults"):
        assert name in out
    speed = out[out.index("speed on all 8 pages"):]
    assert speed.count("-") >= 2 * 6  # min-max docs/s and ratio for each of the six rows


def test_eval_extract_mistakes_are_one_line(tmp_path, small_sets):
    with pytest.raises(UserError, match="not a folder"):
        eval_extract([str(tmp_path / "nope")])
    with pytest.raises(UserError, match="neither ground-truth.json nor exactly one segment index"):
        eval_extract([str(tmp_path)])
    (small_sets[0] / "ground-truth.json").write_text("{broken")
    with pytest.raises(UserError, match="cannot read the ground truth"):
        eval_extract([str(small_sets[0])])
