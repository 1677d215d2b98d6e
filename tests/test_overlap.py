"""`webtext overlap` on a corpus with a known planted share of an eval set.

The corpus is the article-extraction benchmark's 181 real article bodies; the eval set is 60-word
passages of dolma's real CC documents (not otherwise in those articles). Every fourth passage is
planted into one article. The truth is counted independently, with Python sets of word tuples (no
hashing, no Bloom filter); the report must meet it within the error it states.
"""

from __future__ import annotations

import gzip
import json
import math

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hostile import AEB

from webtext.cli import main
from webtext.pipeline.filters.decontam.ngrams import Normalisation, words

N = 8


def _grams(text: str) -> set[tuple]:
    w = words(text, Normalisation())
    return set(zip(*(w[i:] for i in range(N))))


@pytest.fixture(scope="module")
def planted(data_dir, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("overlap")
    truth = json.loads((data_dir / AEB / "ground-truth.json").read_text())
    articles = [v["articleBody"] for _, v in sorted(truth.items())]
    docs = [json.loads(line)["text"].split() for line in gzip.open(data_dir / "text/dolma-cc_en_head-0091.jsonl.gz")]
    passages = [" ".join(d[i : i + 60]) for d in docs for i in range(0, min(len(d), 600) - 59, 60)]
    planted = list(range(0, len(passages), 4))
    for k, i in enumerate(planted):
        articles[k * 3] += "\n\n" + passages[i]
    (tmp / "corpus").mkdir()
    pq.write_table(pa.table({"id": [str(i) for i in range(len(articles))], "text": articles}), tmp / "corpus" / "train-00000-of-00001.parquet")
    (tmp / "cc_passages.jsonl").write_text("".join(json.dumps({"text": p}) + "\n" for p in passages))
    corpus = set().union(*map(_grams, articles))
    per = [_grams(p) for p in passages]
    evals = set().union(*per)
    return {"dir": tmp, "true_share": len(evals & corpus) / len(evals), "ngrams": len(evals),
            "true_passages": sum(bool(g & corpus) for g in per) / len(per), "planted_passages": len(planted) / len(passages),
            "planted_share": len(set().union(*(per[i] for i in planted))) / len(evals), "corpus_ngrams": len(corpus)}


def _report(planted, *flags) -> dict:
    d = planted["dir"]
    assert main(["overlap", str(d / "corpus"), "--eval", str(d / "cc_passages.jsonl"), "--n", str(N), "--json", str(d / "r.json"), *flags]) == 0
    (s,) = json.loads((d / "r.json").read_text())["sets"]
    return json.loads((d / "r.json").read_text()) | {"set": s}


def test_the_planted_share_is_reported_within_the_stated_error(planted, capsys):
    r = _report(planted)
    s, fpr = r["set"], r["bloom"]["fpr"]
    assert s["name"] == "cc_passages" and s["ngrams"] == planted["ngrams"] and r["n"] == N
    assert planted["planted_share"] <= planted["true_share"] < planted["planted_share"] + 0.01  # little natural overlap
    # A Bloom filter only over-counts: by fpr * (1 - share) in expectation, plus its noise.
    tolerance = s["ngram_share_error"] + 4 * math.sqrt(fpr / s["ngrams"]) + 1 / s["ngrams"]
    assert planted["true_share"] <= s["ngram_share"] <= planted["true_share"] + tolerance
    assert planted["true_passages"] <= s["passage_share"] <= planted["true_passages"] + s["passage_share_error"] + 1 / s["passages"]
    assert fpr < 1e-4 and r["bloom"]["sized_fpr"] == 1e-4
    table = capsys.readouterr().out
    assert "cc_passages" in table and f"{s['ngram_share']:.2%}" in table and "false-positive rate" in table


def test_a_small_filter_overcounts_by_the_error_it_states(planted):
    """A filter sized for a 5% false-positive rate: the share it reports is high, by what it says."""
    r = _report(planted, "--fpr", "0.05", "--capacity", str(planted["corpus_ngrams"]))
    s, fpr = r["set"], r["bloom"]["fpr"]
    assert 0.03 < fpr < 0.07
    absent = s["ngrams"] * (1 - planted["true_share"])
    excess = s["ngrams_in_corpus"] - planted["true_share"] * s["ngrams"]
    assert abs(excess - absent * fpr) <= 4 * math.sqrt(absent * fpr * (1 - fpr)) + 1
    assert abs(s["ngram_share_error"] - fpr * (1 - s["ngram_share"])) < 1e-12


def test_mistakes_are_one_line(planted, tmp_path, capsys):
    d = planted["dir"]
    assert main(["overlap", str(tmp_path / "none"), "--eval", str(d / "cc_passages.jsonl")]) == 2
    assert main(["overlap", str(d / "corpus"), "--eval", str(d / "cc_passages.jsonl"), "--n", "0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 2 and "does not exist" in err and "--n must lie" in err
