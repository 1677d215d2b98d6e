"""build-corpus end to end, as a user runs it: real WARCs, a Reddit dump naming their pages."""

import pytest
from helpers import SKIP_ALL, read_corpus as _corpus, run_build_corpus as _run

from webtext.pipeline.sources.urls import is_wikipedia
from webtext.corpus_layout import MANIFEST


@pytest.mark.slow
def test_real_crawls_give_every_eligible_page_once(real_run_inputs, tmp_path):
    out = tmp_path / "corpus"
    assert _run(["--warcs", *real_run_inputs["warcs"], "--reddit", real_run_inputs["dump"], "--out", str(out), *SKIP_ALL]) == 0
    manifest, rows = _corpus(out)
    got = {(r["url"], r["reddit_score"]) for r in rows}
    assert got == set(real_run_inputs["expected"].values())
    assert len(rows) == len(got) == manifest["documents"] > 40
    assert len({r["id"] for r in rows}) == len(rows)
    assert all(r["reddit_score"] >= 3 and not is_wikipedia(r["host"]) and r["text"].strip() for r in rows)
    c = manifest["counters"]
    assert c["warc.errors"] == 1  # the clipped record
    assert c["wikipedia.dropped"] == real_run_inputs["wiki"] >= 1
    assert c["reddit.invalid"] == 1 and c["reddit.self"] == 1
    assert c["docs.written"] == len(rows)
    assert c["join.matched"] == len(rows) + c["wikipedia.dropped"] + c["extract.empty"] + c["extract.errors"]
    assert manifest["options"]["skip"] == ["dedup", "lang", "quality"]


@pytest.mark.slow
def test_multi_processing_gives_the_same_corpus(real_run_inputs, tmp_path):
    base = ["--warcs", *real_run_inputs["warcs"], "--reddit", real_run_inputs["dump"], *SKIP_ALL]
    assert _run([*base, "--out", str(tmp_path / "a")]) == 0
    assert _run([*base, "--out", str(tmp_path / "b"), "--direct_running_mode=multi_processing", "--direct_num_workers=2"]) == 0
    ma, rows_a = _corpus(tmp_path / "a")
    mb, rows_b = _corpus(tmp_path / "b")
    assert rows_a == rows_b and len(rows_a) > 40
    assert ma["counters"]["docs.written"] == mb["counters"]["docs.written"] == len(rows_a)
    assert mb["options"]["beam_args"] == ["--direct_running_mode=multi_processing", "--direct_num_workers=2"]


@pytest.mark.slow
def test_sharding_is_deterministic_and_reruns_leave_no_stale_files(real_run_inputs, tmp_path):
    out = tmp_path / "c"
    base = ["--warcs", *real_run_inputs["warcs"], "--reddit", real_run_inputs["dump"], "--out", str(out), *SKIP_ALL]
    out.mkdir()
    (out / ".train-00000-of-00004.parquet.tmp-deadbeef").write_bytes(b"half a file from a crash")
    (out / "train-00009-of-00010.parquet").write_bytes(b"an earlier run's shard")
    (out / "part-00000-of-00001.parquet").write_bytes(b"a shard of the layout before")
    (out / "manifest.json").write_text("{}")
    assert _run([*base, "--docs-per-shard", "10"]) == 0
    manifest, rows = _corpus(out)
    names = sorted(p.name for p in out.iterdir() if p.is_file())
    assert names == sorted([s["path"] for s in manifest["shards"]] + [MANIFEST])
    assert len(manifest["shards"]) >= 3 and sum(s["rows"] for s in manifest["shards"]) == len(rows)
    first = {s["path"]: (out / s["path"]).read_bytes() for s in manifest["shards"]}
    assert _run([*base, "--docs-per-shard", "10"]) == 0
    assert first == {s["path"]: (out / s["path"]).read_bytes() for s in _corpus(out)[0]["shards"]}


@pytest.mark.slow
def test_demo_runs_every_stage_it_can(tmp_path):
    out = tmp_path / "demo"
    assert _run(["--out", str(out), *SKIP_ALL]) == 0
    manifest, rows = _corpus(out)
    c = manifest["counters"]
    assert manifest["inputs"]["demo"] is True
    assert c["reddit.invalid"] == 3 and c["reddit.self"] == 1 and c["reddit.below_karma"] == 1
    assert c["warc.errors"] == 1 and c["wikipedia.dropped"] == 1 and c["join.duplicate_captures"] == 1
    by_url = {r["url"]: r for r in rows}
    garden = by_url["https://www.riverside-gazette.example/2024/05/parking-lot-garden"]
    assert garden["reddit_score"] == 57 and garden["reddit_subreddits"] == ["gardening", "urbanplanning"] and garden["reddit_submissions"] == 2
    assert "https://www.riverside-gazette.example/2024/06/library-of-things?utm_source=rss" in by_url  # canonical join
    assert by_url["https://www.riverside-gazette.example/2024/05/bike-workshop"]["warc_date"].startswith("2024-06-01")  # newest capture
    assert not any("night-bakery" in u or "wikipedia" in u or "last-ferry" in u for u in by_url)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--warcs", "/nonexistent/*.warc.gz", "--reddit", "x.zst", "--out", "o"], "no WARC input matches"),
        (["--warcs", "{warc}", "--reddit", "/nonexistent/RS.zst", "--out", "o"], "no Reddit dump input matches"),
        (["--warcs", "{warc}", "--reddit", "{bad_dump}", "--out", "o"], "cannot read Reddit dump"),
        (["--warcs", "{warc}", "--reddit", "{dump}", "--out", "o", "--skip", "lang,typo"], "unknown stage 'typo'"),
        (["--warcs", "{warc}", "--reddit", "{dump}", "--out", "o", "--min-karm", "3"], "unknown option --min-karm"),
        (["--warcs", "{warc}", "--out", "o"], "--reddit is required"),
        (["--warcs", "{warc}", "--reddit", "{dump}"], "--out DIR is required"),
        (["--warcs", "{warc}", "--reddit", "{dump}", "--out", "o", "--config", "/nonexistent.toml"], "config file not found"),
        (["--warcs", "{warc}", "--reddit", "{dump}", "--out", "{warc}"], "cannot write to --out"),
        (["--warcs", "{warc}", "--reddit", "{dump}", "--out", "o", "--langs", "xx"], "unknown language code"),
    ],
)
def test_user_mistakes_are_one_clear_line(args, message, data_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    bad_dump = tmp_path / "RS_bad.zst"
    bad_dump.write_bytes(b"not zstd" * 20)
    fill = {"warc": str(data_dir / "warc/whirlwind/whirlwind.warc.gz"), "bad_dump": str(bad_dump),
            "dump": str(data_dir / "reddit/jcpeterson-openwebtext/RS_v2_2005-06.xz")}
    assert _run([a.format(**fill) for a in args]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("build-corpus: error: ") and message in err
    assert "\n" not in err and "Traceback" not in err
