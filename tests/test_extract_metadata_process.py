"""Title and date in a process of their own ([extract] metadata_process): the text's process then does
exactly trafilatura.extract's work, and the documents are those of one process doing both."""

import pytest
from apache_beam.transforms.window import GlobalWindow
from apache_beam.utils.timestamp import Timestamp
from helpers import SKIP_ALL, read_corpus, run_build_corpus, write_config, write_warc

from test_extract import aeb  # noqa: F401 - the real AEB pages, as (html, url, truth)
from webtext.errors import UserError
from webtext.pipeline.extract import stage
from webtext.pipeline.extract.isolated import ExtractError, ExtractTimeout
from webtext.pipeline.extract.stage import _ExtractDoFn, _merged
from webtext.pipeline.extract.worker import extract_page
from webtext.pipeline.run import beam_options
from webtext.pipeline.run.beam_options import local_workers_have_a_spare_core, pipeline_options
from webtext.pipeline.run.config import load_config


def test_text_and_metadata_parts_make_up_the_whole_page(aeb):  # noqa: F811
    mirrors = ["https://mirror.example/2001/02/03/a.html", "https://copy.example/b"]
    empty = 0
    for html, url, _ in aeb[:40]:
        whole = extract_page(html, url, more_urls=mirrors)
        text, meta = extract_page(html, url, more_urls=mirrors, part="text"), extract_page(html, url, more_urls=mirrors, part="meta")
        assert set(meta) == {"title", "date", "dates"} and len(meta["dates"]) == 2
        assert _merged([text, meta]) == whole
        assert (text is None) == (whole is None) and (text is None or text == {"text": whole["text"]})
        empty += whole is None
    assert empty < 5  # the comparison ran on pages with text
    with pytest.raises(ValueError):
        extract_page(aeb[0][0], aeb[0][1], part="title")


def test_how_the_answers_of_two_children_merge():
    timeout, died = ExtractTimeout("slow"), ExtractError("died")
    assert _merged([{"text": "t", "title": "x", "date": None}]) == {"text": "t", "title": "x", "date": None}
    assert _merged([{"text": "t"}, {"title": "x", "date": "2001-02-03"}]) == {"text": "t", "title": "x", "date": "2001-02-03"}
    assert _merged([None, {"title": "x", "date": None}]) is None
    assert _merged([None, timeout]) is None  # no text: empty, whatever its metadata did
    assert _merged([died, {"title": "x", "date": None}]) is died
    assert _merged([{"text": "t"}, timeout]) is timeout  # a hang anywhere costs the page, as in one process
    assert _merged([{"text": "t"}, None]) == {"text": "t", "title": None, "date": None}


def _run_dofn(dofn, pages, before=lambda k, dofn: None):
    """Every document the DoFn emits for `pages`, as a bundle of them would (`before(k, dofn)` runs
    before the k-th page goes in)."""
    dofn.setup()
    docs = []
    try:
        for k, page in enumerate(pages):
            before(k, dofn)
            docs += list(dofn.process(page, timestamp=Timestamp(0), window=GlobalWindow()) or ())
        docs += [wv.value for wv in dofn.finish_bundle() or ()]
    finally:
        dofn.teardown()
    return docs


def _page(i, html, url):
    return {"id": f"{i:04d}", "url": url, "html": html, "charset": None, "too_large": False}


def test_a_dead_metadata_child_costs_one_page(aeb):  # noqa: F811
    pages = [_page(i, html, url) for i, (html, url, _) in enumerate(aeb[:6])]
    expected = {p["id"] for p in pages if extract_page(p["html"], p["url"]) is not None}

    def kill_the_metadata_child(k, dofn):
        if k == 3:
            dofn.extractors[1]._proc.kill()  # it dies with pages in flight

    docs = _run_dofn(_ExtractDoFn(60, 1 << 30, stage.ExtractSettings(), own_metadata_process=True), pages, kill_the_metadata_child)
    got = {d["id"] for d in docs}
    assert got <= expected and len(expected - got) <= 2  # the pages in flight to the dead child, no more
    assert "0005" in got  # the child was restarted for what came after


@pytest.mark.parametrize("own", [True, False])
def test_one_dofn_gives_what_extract_page_gives(aeb, own):  # noqa: F811
    pages = [_page(i, html, url) for i, (html, url, _) in enumerate(aeb[:5])]
    docs = _run_dofn(_ExtractDoFn(60, 1 << 30, stage.ExtractSettings(), own_metadata_process=own), pages)
    want = {p["id"]: extract_page(p["html"], p["url"]) for p in pages}
    assert {d["id"]: {"text": d["text"], "title": d["title"], "date": d["date"]} for d in docs} == \
        {k: v for k, v in want.items() if v is not None}


def test_auto_gives_the_metadata_a_process_only_where_a_core_would_idle(monkeypatch):
    def spare(*args):
        return local_workers_have_a_spare_core(pipeline_options(list(args)))

    monkeypatch.setattr(beam_options.os, "sched_getaffinity", lambda pid: {0, 1})
    assert spare() and spare("--runner", "DirectRunner") and spare("--direct_running_mode=in_memory")
    assert spare("--direct_running_mode=multi_processing", "--direct_num_workers=1")
    assert not spare("--direct_running_mode=multi_processing", "--direct_num_workers=2")
    assert not spare("--direct_num_workers=2") and not spare("--direct_num_workers=0")  # 0: one worker per core
    assert not spare("--runner", "PortableRunner", "--job_endpoint", "embed")
    monkeypatch.setattr(beam_options.os, "sched_getaffinity", lambda pid: set(range(8)))
    assert spare("--direct_running_mode=multi_processing", "--direct_num_workers=4")
    assert not spare("--direct_running_mode=multi_processing", "--direct_num_workers=5")
    monkeypatch.setattr(beam_options.os, "sched_getaffinity", lambda pid: {0})
    assert not spare()


def test_a_bad_metadata_process_is_one_line():
    with pytest.raises(UserError, match="extract.metadata_process must be one of auto, shared, own"):
        load_config(None, {"extract": {"metadata_process": "both"}})
    assert load_config(None)["extract"]["metadata_process"] == "auto"


@pytest.mark.slow
def test_own_and_shared_metadata_processes_give_the_same_corpus(aeb, tmp_path):  # noqa: F811
    base = [(url, html) for html, url, _ in aeb[:24]]
    pages = [*base, *((f"https://mirror.example/2001/02/{i % 28 + 1:02d}/p{i}", h) for i, (_, h) in enumerate(base) if i % 2)]
    warc = write_warc(tmp_path / "pages.warc.gz", pages)
    corpora = {}
    for mode in ("own", "shared", "auto"):
        cfg = write_config(tmp_path / f"{mode}.toml", f'[extract]\nmetadata_process = "{mode}"\n')
        out = tmp_path / f"out-{mode}"
        assert run_build_corpus(["--warcs", warc, "--no-links", "--out", str(out), "--config", cfg, *SKIP_ALL]) == 0
        corpora[mode] = read_corpus(out)
    rows = {mode: sorted(r, key=lambda r: r["id"]) for mode, (_, r) in corpora.items()}
    assert rows["own"] == rows["shared"] == rows["auto"] and len(rows["own"]) >= len(pages) - 4
    assert corpora["own"][0]["counters"]["extract.same_payload"] == len(pages) - len(base)
    settled = corpora["auto"][0]["options"]["config"]["extract"]["metadata_process"]
    assert settled == ("own" if local_workers_have_a_spare_core(pipeline_options([])) else "shared")
