"""The decontam stage on real pages with eval passages planted in them.

The pages are real news articles (../shared/data, the article-extraction benchmark); the eval sets are
passages of real Common Crawl text that is not otherwise in that corpus (dolma's CCNet sample). Each
planted passage goes into its own page as a paragraph of the article, at one of several lengths:
an exact 13-gram, a 40-word span, a 13-gram with its case and punctuation changed (normalisation
must fold that), a 12-gram and a 30-word paraphrase with no 13 words in a row left (both must stay).
The pages are written into a WARC and run through build-corpus, in drop mode and in cut mode.
"""

from __future__ import annotations

import gzip
import json
import re

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from helpers import SKIP_ALL, read_corpus, run_build_corpus
from hostile import AEB, http_block, real_pages, submission, warc_file, warc_record

from webtext.corpus_layout import DROPPED_DIR
from webtext.errors import UserError
from webtext.pipeline.core.block import Drop
from webtext.pipeline.core.document import doc_id
from webtext.pipeline.extract.worker import extract_page
from webtext.pipeline.filters.decontam.evalsets import hash_set, passages, set_name
from webtext.pipeline.filters.decontam.ngrams import Normalisation, ngram_hashes, words
from webtext.pipeline.filters.decontam.stage import Decontaminate
from webtext.pipeline.run.config import stage_config
from webtext.pipeline.sources.urls import canonical_url

DOLMA = "text/dolma-cc_en_head-0091.jsonl.gz"


def _span(text: str) -> str:
    """A planted span that starts and ends with a word character (so a match covers it exactly)."""
    return re.sub(r"^\W+|\W+$", "", text)


def _eval_passages(data_dir) -> tuple[list[str], list[str]]:
    """Two eval sets of 60-word passages from dolma's real CC documents: set_a from the first five
    documents, set_b from the other five."""
    docs = [json.loads(line)["text"] for line in gzip.open(data_dir / DOLMA)]

    def cut(ds):
        out = []
        for d in ds:
            w = d.split()
            out += [" ".join(w[i : i + 60]) for i in range(0, min(len(w), 600) - 59, 60)]
        return out

    return cut(docs[:5]), cut(docs[5:])


def _plant(html: bytes, url: str, body: str, paragraph: str) -> bytes | None:
    """The page with `paragraph` as a new <p> after the one holding the article's second long line;
    None when extraction would not keep it there."""
    lines = [line for line in body.split("\n") if len(line) > 80]
    s = html.decode("utf-8", "replace")
    i = s.find(lines[1][:60]) if len(lines) > 1 else -1
    j = s.find("</p>", i)
    if i < 0 or j < 0:
        return None
    planted = (s[: j + 4] + f"<p>{paragraph}</p>" + s[j + 4 :]).encode("utf-8")
    got = extract_page(planted.decode("utf-8"), url)
    return planted if got is not None and paragraph in got["text"] else None


@pytest.fixture(scope="module")
def planted(data_dir, tmp_path_factory):
    """The WARC, the dump, the two eval files and what was planted where."""
    tmp = tmp_path_factory.mktemp("decontam")
    set_a, set_b = _eval_passages(data_dir)
    (tmp / "set_a.jsonl").write_text("".join(json.dumps({"text": p, "label": 0}) + "\n" for p in set_a) + "{not json\n")
    (tmp / "set_b.txt").write_text("\n\n".join(set_b) + "\n")
    wa = [p.split() for p in set_a]
    shouted = " ".join(w.upper() + ("," if k % 3 == 0 else "") for k, w in enumerate(set_b[2].split()[10:23]))
    para = wa[3][:30]
    plants = {  # kind -> (the paragraph, the set that must catch it or None)
        "exact13": (_span(" ".join(wa[0][5:18])), "set_a"),
        "span40": (_span(" ".join(wa[1][10:50])), "set_a"),
        "case_punct": (_span(shouted), "set_b"),
        "gram12": (_span(" ".join(wa[2][20:32])), None),
        "paraphrase": (" ".join("indeed" if k % 6 == 5 else w for k, w in enumerate(para)), None),
    }
    truth = json.loads((data_dir / AEB / "ground-truth.json").read_text())
    body_of = {v["url"]: v["articleBody"] for v in truth.values()}
    pages, where, kinds = [], {}, list(plants)
    for url, html in real_pages(data_dir, 16):
        if kinds:
            page = _plant(html, url, body_of[url], plants[kinds[0]][0])
            if page is None:
                continue
            where[kinds.pop(0)] = doc_id(canonical_url(url))
            html = page
        pages.append((url, html))
        if not kinds and len(pages) == len(plants) + 2:
            break
    assert not kinds and len(pages) == 7
    (tmp / "crawl.warc.gz").write_bytes(warc_file([warc_record(u, http_block(h)) for u, h in pages]))
    (tmp / "RS.ndjson").write_text("".join(submission(u) + "\n" for u, _ in pages))
    return {"dir": tmp, "plants": plants, "where": where, "ids": {doc_id(canonical_url(u)) for u, _ in pages},
            "evals": [str(tmp / "set_a.jsonl"), str(tmp / "set_b.txt")], "passages": {"set_a": len(set_a), "set_b": len(set_b)}}


def _run(planted, name: str, extra: list[str]):
    d = planted["dir"]
    out = d / name
    args = ["--warcs", str(d / "crawl.warc.gz"), "--reddit", str(d / "RS.ndjson"), "--out", str(out), *SKIP_ALL,
            "--keep-dropped", "--decontaminate", *planted["evals"], *extra]
    assert run_build_corpus(args) == 0
    manifest, rows = read_corpus(out)
    dropped = [r for s in manifest["dropped_shards"] for r in pq.read_table(out / DROPPED_DIR / s["path"]).to_pylist()]
    return manifest, rows, dropped


@pytest.fixture(scope="module")
def drop_run(planted):
    return _run(planted, "drop", [])


@pytest.mark.slow
def test_exact_ngrams_are_dropped_per_set_and_shorter_overlaps_kept(planted, drop_run):
    manifest, rows, dropped = drop_run
    where, c = planted["where"], manifest["counters"]
    caught = {k: s for k, (_, s) in planted["plants"].items() if s}
    assert {r["id"]: r["drop_reason"] for r in dropped} == {where[k]: f"decontam.{s}" for k, s in caught.items()}
    kept = {r["id"] for r in rows}
    assert kept == planted["ids"] - {where[k] for k in caught}
    assert {where["gram12"], where["paraphrase"]} <= kept
    text = {r["id"]: r["text"] for r in rows}
    assert planted["plants"]["gram12"][0] in text[where["gram12"]]  # the 12-gram really is in the kept text
    assert c["decontam.dropped.set_a"] == 2 and c["decontam.dropped.set_b"] == 1 and c["decontam.kept"] == 4
    assert c["decontam.matched.set_a"] == 2 and c["decontam.matched.set_b"] == 1
    assert c["decontam.eval_passages.set_a"] == planted["passages"]["set_a"] and c["decontam.eval_bad_lines.set_a"] == 1
    assert c["decontam.eval_ngrams.set_a"] == len(hash_set(planted["evals"][0], 13, Normalisation()).hashes)
    assert manifest["options"]["stages"][-2:] == ["decontam", "write"] and manifest["options"]["config"]["decontam"]["mode"] == "drop"


@pytest.mark.slow
def test_cut_mode_removes_the_span_and_200_chars_each_side(planted, drop_run, tmp_path):
    _, _, whole = drop_run  # the contaminated documents, uncut, as the drop run set them aside
    original = {r["id"]: r["text"] for r in whole}
    url_of = {r["id"]: r["url"] for r in whole}
    toml = planted["dir"] / "cut.toml"
    toml.write_text('[decontam]\nmode = "cut"\n')
    manifest, rows, dropped = _run(planted, "cut", ["--config", str(toml)])
    c = manifest["counters"]
    by_id = {r["id"]: r for r in rows}
    expected_pieces = 0
    for kind in ("exact13", "span40", "case_punct"):
        doc, span = planted["where"][kind], planted["plants"][kind][0]
        text = original[doc]
        a = text.find(span)
        assert a >= 0
        rest = [text[: max(a - 200, 0)].strip(), text[a + len(span) + 200 :].strip()]
        want = [p for p in rest if len(p) >= 200]
        got = [by_id[f"{doc}-{k}"]["text"] for k in range(len(want))]
        assert got == want and f"{doc}-{len(want)}" not in by_id and doc not in by_id
        assert all(by_id[f"{doc}-{k}"]["url"] == url_of[doc] for k in range(len(want)))
        expected_pieces += len(want)
    assert expected_pieces >= 3 and all(r["drop_reason"].startswith("decontam.") for r in dropped)
    assert c["decontam.cut.set_a"] + c["decontam.cut.set_b"] + c.get("decontam.nothing_left", 0) == 3
    assert c["decontam.pieces"] == expected_pieces and c["docs.written"] == 4 + expected_pieces


def _long_text(data_dir) -> str:
    return max((json.loads(line)["text"] for line in gzip.open(data_dir / DOLMA)), key=len)


def _bound(flt, path) -> None:
    flt.bind([(s.name, s.hashes) for s in (hash_set(p, flt.n, flt.norm) for p in path)])


def test_cut_pieces_and_the_ten_piece_rule_in_plain_python(data_dir, tmp_path):
    text = _long_text(data_dir)  # a real 65k-character CC document
    ws = text.split()
    at = [1000 * k + 500 for k in range(11)]  # eleven 13-grams, ~6k characters apart
    (tmp_path / "grams.txt").write_text("\n".join(" ".join(ws[i : i + 13]) for i in at) + "\n")
    cfg = stage_config("decontam", eval=[str(tmp_path / "grams.txt")], mode="cut")
    flt = Decontaminate(cfg)
    _bound(flt, [str(tmp_path / "grams.txt")])
    assert flt.decide({"id": "d", "text": text}) == Drop("grams")  # 12 pieces > 10
    assert flt.counts["too_many_pieces"] == 1

    (tmp_path / "three.txt").write_text("\n".join(" ".join(ws[i : i + 13]) for i in at[:3]) + "\n")
    flt = Decontaminate(stage_config("decontam", eval=[str(tmp_path / "three.txt")], mode="cut"))
    _bound(flt, [str(tmp_path / "three.txt")])
    pieces = flt.decide({"id": "d", "text": text, "url": "u"})
    assert [p["id"] for p in pieces] == ["d-0", "d-1", "d-2", "d-3"] and all(p["url"] == "u" for p in pieces)
    assert all(len(p["text"]) >= 200 for p in pieces) and "".join(p["text"] for p in pieces) != text
    norm = Normalisation()
    grams = {tuple(words(" ".join(ws[i : i + 13]), norm)) for i in at[:3]}
    for p in pieces:
        pw = words(p["text"], norm)
        assert p["text"] in text and not any(tuple(pw[j : j + 13]) in grams for j in range(len(pw)))
    assert flt.counts == {"matched.three": 1, "cut.three": 1, "pieces": 4}


def test_eval_files_read_by_kind_and_mistakes_are_one_line(data_dir, tmp_path):
    set_a, _ = _eval_passages(data_dir)
    pq.write_table(pa.table({"text": set_a[:5] + [None]}), tmp_path / "hella.parquet")
    (tmp_path / "lines.txt.gz").write_bytes(gzip.compress("\n".join(set_a[:4]).encode()))
    (tmp_path / "ctx.jsonl").write_text("".join(json.dumps({"ctx": p}) + "\n" for p in set_a[:3]))
    assert passages(str(tmp_path / "hella.parquet")).texts == set_a[:5] and passages(str(tmp_path / "hella.parquet")).bad == 1
    assert passages(str(tmp_path / "lines.txt.gz")).texts == set_a[:4]  # no blank line: one passage a line
    assert passages(str(tmp_path / "ctx.jsonl")).texts == set_a[:3]
    assert [set_name(str(tmp_path / n)) for n in ("hella.parquet", "lines.txt.gz", "ctx.jsonl")] == ["hella", "lines", "ctx"]
    (tmp_path / "empty.jsonl").write_text(json.dumps({"label": 1}) + "\n")
    pq.write_table(pa.table({"body": ["x"]}), tmp_path / "nocol.parquet")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "ctx.json").write_text(json.dumps({"text": "x y"}) + "\n")
    for paths, message in [(["missing.jsonl"], "no --decontaminate"), (["empty.jsonl"], "has no passage"),
                           (["nocol.parquet"], "no 'text' column"), (["ctx.jsonl", "other/ctx.json"], "both be named 'ctx'")]:
        with pytest.raises(UserError, match=message):
            stage_config("decontam", eval=[str(tmp_path / p) for p in paths])
    for key, value, message in [("n", 0, "decontam.n"), ("mode", "erase", "decontam.mode"), ("max_pieces", 0, "max_pieces")]:
        with pytest.raises(UserError, match=message):
            stage_config("decontam", **{key: value})


def test_the_side_input_is_8_bytes_per_eval_ngram(data_dir, tmp_path):
    set_a, set_b = _eval_passages(data_dir)
    (tmp_path / "all.txt").write_text("\n".join(set_a + set_b))
    s = hash_set(str(tmp_path / "all.txt"), 13, Normalisation())
    distinct = {tuple(g) for p in set_a + set_b for w in [words(p, Normalisation())] for g in zip(*(w[i:] for i in range(13)))}
    assert len(s.hashes) == len(distinct) and s.hashes.dtype == np.uint64 and s.hashes.nbytes == 8 * len(distinct)
    assert np.all(s.hashes[1:] > s.hashes[:-1])  # sorted and unique: what searchsorted needs
    w = words(set_a[0], Normalisation())
    assert len(ngram_hashes(w, 13)) == len(w) - 12 and len(ngram_hashes(w[:12], 13)) == 0
