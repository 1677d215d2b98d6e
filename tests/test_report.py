"""What a user sees of a run: the funnel in stage order, the live progress line, the corpus report
(report.md, PNG plots, report.json, dataset card) and a run whose every input failed."""

from __future__ import annotations

import io
import json
import shutil

import pyarrow.parquet as pq
import pytest

from webtext.cli import main as webtext
from webtext.corpus_layout import MANIFEST, REPORT_DIR
from webtext.pipeline.core import live_counts
from webtext.pipeline.dedup.stage import size_bucket
from webtext.pipeline.run.funnel import failed_inputs, funnel, render
from webtext.pipeline.run.progress import ProgressLine, progress_text
from webtext.train.progress import StepProgress

PLOTS = ("funnel.png", "lengths.png", "hosts.png", "languages.png", "reddit_score.png", "drop_reasons.png", "clusters.png")


def _manifest(stages, counters, config=None):
    return {"counters": counters, "options": {"stages": stages, "config": config or {}}, "documents": 0}


def test_funnel_is_in_stage_order_with_in_out_kept_and_reasons_under_their_stage():
    m = _manifest(["reddit", "warc", "join", "lang", "write"], {
        "warc.records": 10, "warc.html": 4, "warc.errors": 2, "reddit.lines": 8, "reddit.kept": 5, "reddit.invalid": 3,
        "reddit.urls": 5, "join.matched": 4, "join.links_without_page": 1, "lang.kept": 3, "lang.dropped": 1,
        "docs.written": 3})
    stages = funnel(m)
    assert [s.name for s in stages] == ["reddit", "warc", "join", "lang", "write"]
    reddit, warc, join, lang, write = stages
    assert (reddit.n_in, reddit.n_out) == (8, 5) and [line.label for line in reddit.losses] == ["invalid", "self", "below_karma", "nsfw", "blocked_subreddit"]
    assert (warc.n_in, warc.n_out, warc.kept) == (10, 4, 0.4)
    assert (join.n_in, join.n_out) == (5, 4)  # the links in, the pages out
    assert (lang.n_in, lang.n_out) == (4, 3)  # a filter: kept plus dropped in
    # every counter of a stage is shown, zeros too (those the stage declares), and damage is marked
    assert {line.counter: line.value for line in warc.lines} == {"warc.files": 0, "warc.errors": 2, "warc.truncated": 0,
                                                               "warc.bytes_read": 0}
    assert warc.has_errors and not lang.has_errors
    text = render(stages)
    assert text.index("reddit") < text.index("warc") < text.index("join") < text.index("lang") < text.index("write")
    assert "! " in [line for line in text.splitlines() if "errors" in line and " 2" in line][0]
    assert "62.5%" in text and "40.0%" in text


def test_a_stage_this_code_does_not_know_renders_from_its_counters_alone():
    """A new stage (another branch's, or a newer manifest's) appears with no code of its own."""
    m = _manifest(["extract", "decontaminate", "write"], {
        "extract.pages": 5, "extract.docs": 5, "decontaminate.kept": 3, "decontaminate.dropped.ngram_overlap": 2,
        "docs.written": 3, "stray.thing": 7})
    stages = funnel(m)
    assert [s.name for s in stages] == ["extract", "decontaminate", "write", "stray"]
    d = stages[1]
    assert (d.n_in, d.n_out) == (5, 3) and [(line.label, line.value) for line in d.losses] == [("ngram_overlap", 2)]
    assert stages[3].lines[0].counter == "stray.thing"


def test_quality_shows_a_counter_for_every_rule_that_runs(tmp_path):
    from webtext.pipeline.run.config import default_config

    cfg = default_config()
    m = _manifest(["quality"], {"quality.kept": 4, "quality.dropped.gopher_top_2gram": 1}, cfg)
    q = funnel(m)[0]
    assert len(q.losses) > 20 and all(line.counter.startswith("quality.dropped.") for line in q.losses)
    assert "quality.dropped.classifier" not in {line.counter for line in q.losses}  # no model, no classifier counter
    assert "0 each:" in render([q])  # the many zero rules gathered


def test_failed_inputs_names_the_stage_whose_whole_input_failed():
    bad = funnel(_manifest(["warc"], {"warc.files": 1, "warc.records": 0, "warc.errors": 1}))
    assert "warc" in failed_inputs(bad) and "warc.errors 1" in failed_inputs(bad)
    fetches = funnel(_manifest(["reddit", "join"], {"reddit.urls": 3, "join.matched": 0, "join.fetch_failed": 3}))
    assert "join" in failed_inputs(fetches)
    assert failed_inputs(funnel(_manifest(["warc"], {"warc.records": 5, "warc.html": 2, "warc.errors": 1}))) is None
    assert failed_inputs(funnel(_manifest(["lang"], {"lang.kept": 0, "lang.dropped": 4}))) is None  # filtered, not failed


def test_cluster_size_buckets():
    assert [size_bucket(n) for n in (2, 3, 4, 5, 8, 9, 1000)] == ["2", "3-4", "3-4", "5-8", "5-8", "9-16", "513-1024"]


def test_live_counts_are_summed_over_processes_and_off_without_a_directory(tmp_path):
    live_counts.add("x.y", 5)  # no directory: nothing is written anywhere
    live_counts.start(str(tmp_path))
    try:
        live_counts.add("extract.docs", 2)
        live_counts.add("extract.docs", 3)
        (tmp_path / "99999.json").write_text(json.dumps({"extract.docs": 10}))  # another worker process
    finally:
        live_counts.stop()
    assert live_counts.read(str(tmp_path))["extract.docs"] == 15
    assert "x.y" not in live_counts.read(str(tmp_path))


def test_progress_line_text_and_log_mode():
    text = progress_text({"warc.files": 1, "warc.records": 25, "warc.html": 10, "extract.docs": 6, "docs.written": 3}, 2.0, 4)
    assert text == "[0:00:02] WARC files 1/4 | records 25 | pages 10 | docs 6 (3.0/s) | written 3"
    out = io.StringIO()  # not a terminal: plain lines, the last one when the run ends
    with ProgressLine(total_files=1, stream=out, log_every_s=3600):
        live_counts.add("extract.docs", 4)
    assert "docs 4" in out.getvalue().splitlines()[-1]
    assert "\r" not in out.getvalue()


def test_train_progress_line():
    out = io.StringIO()
    p = StepProgress(100, 0, stream=out, log_every_s=0)
    p.update(10, 1234.0)
    line = out.getvalue().strip()
    assert line.startswith("step 10/100 | 1,234 tok/s | elapsed 0:00:00 | ETA ")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "corpus"
    assert webtext(["build-corpus", "--out", str(out)]) == 0
    return out


@pytest.mark.slow
def test_build_corpus_writes_the_report_with_the_manifests_numbers(demo):
    report = demo / REPORT_DIR
    manifest = json.loads((demo / MANIFEST).read_text())
    for name in PLOTS:
        assert (report / name).stat().st_size > 8_000, name  # a real figure, not an empty canvas
        assert f"]({name})" in (report / "report.md").read_text()
    data = json.loads((report / "report.json").read_text())
    rows = sum(pq.ParquetFile(f).metadata.num_rows for f in demo.glob("train-*.parquet"))
    assert data["documents"] == manifest["documents"] == data["measured"] == rows
    shown = {name: value for stage in data["funnel"] for name, value in stage["counters"].items()}
    for stage in data["funnel"]:
        for bucket, value in stage["histograms"].get("cluster_size", {}).items():
            shown[f"dedup.cluster_size.{bucket}"] = value
    flows = {s["stage"]: (s["in"], s["out"]) for s in data["funnel"]}
    c = manifest["counters"]
    assert flows["warc"] == (c["warc.records"], c["warc.html"]) and flows["extract"] == (c["extract.pages"], c["extract.docs"])
    assert flows["write"][1] == c["docs.written"] == manifest["documents"]
    for name, value in shown.items():
        assert c[name] == value, name
    # every manifest counter is in the report, but those it shows as a stage's in/out
    flow_names = {"reddit.lines", "reddit.kept", "warc.records", "warc.html", "join.matched", "extract.pages",
                  "extract.docs", "docs.written"} | {f"{s}.kept" for s in ("wikipedia", "lang", "quality", "dedup")}
    assert set(c) - set(shown) <= flow_names
    assert [s["stage"] for s in data["funnel"]] == manifest["options"]["stages"]
    assert sum(data["languages"].values()) == rows and sum(data["hosts"].values()) == rows


@pytest.mark.slow
def test_the_dataset_card_loads_with_datasets(demo, tmp_path):
    import datasets

    repo = tmp_path / "repo"
    repo.mkdir()
    for shard in demo.glob("train-*.parquet"):
        shutil.copy(shard, repo)
    card = (demo / REPORT_DIR / "dataset_card.md").read_text()
    (repo / "README.md").write_text(card)
    for section in ("## Dataset Summary", "## Source Data", "## Processing Steps", "### Filters and their thresholds",
                    "## Personal and Sensitive Information", "## Licensing Information", "## Limitations"):
        assert section in card
    assert "`min_karma` | `3`" in card and "| dedup | `threshold` | `0.8` |" in card
    ds = datasets.load_dataset(str(repo), split="train")
    assert len(ds) == json.loads((demo / MANIFEST).read_text())["documents"]


@pytest.mark.slow
def test_webtext_report_rewrites_it_and_counts_tokens(demo, tmp_path, capsys):
    tok = tmp_path / "tok"
    assert webtext(["train-tokenizer", "--corpus", str(demo), "--vocab-size", "300", "--out", str(tok)]) == 0
    assert webtext(["report", str(demo), "--out", str(tmp_path / "r"), "--tokenizer", str(tok)]) == 0
    data = json.loads((tmp_path / "r" / "report.json").read_text())
    assert data["tokens"]["total"] > data["words"]["total"]  # a 300-token vocabulary cuts words into pieces
    assert (tmp_path / "r" / "lengths.png").stat().st_size > 8_000
    assert webtext(["report", str(tmp_path)]) == 2  # no manifest: one line
    assert "no _manifest.json" in capsys.readouterr().err


@pytest.mark.slow
def test_a_run_whose_only_warc_is_not_a_warc_exits_1_with_one_line(data_dir, tmp_path, capsys):
    not_a_warc = data_dir / "reddit/lsb-webtext/RS_v2_2005-06.urk.json-00.gz"
    dump = data_dir / "reddit/jcpeterson-openwebtext/RS_v2_2005-06.xz"
    rc = webtext(["build-corpus", "--warcs", str(not_a_warc), "--reddit", str(dump), "--out", str(tmp_path / "o"), "-q"])
    err = capsys.readouterr().err
    assert rc == 1
    assert [line for line in err.splitlines() if line.startswith("build-corpus: error:")] == [err.strip().splitlines()[-1]]
    assert "stage 'warc' failed" in err and "offset None" not in err
