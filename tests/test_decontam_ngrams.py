"""The n-gram module both decontamination and the overlap report use, and the Bloom filter, on real text."""

from __future__ import annotations

import gzip
import json
import math

import numpy as np
import pytest
from hostile import AEB

from webtext.pipeline.filters.decontam.bloom import BloomFilter
from webtext.pipeline.filters.decontam.ngrams import Normalisation, ngram_hashes, words


@pytest.fixture(scope="module")
def texts(data_dir) -> list[str]:
    """Real texts in many languages: the benchmark's article bodies (en, pt, ru, ko, ja, ...) and dolma's CC documents."""
    truth = json.loads((data_dir / AEB / "ground-truth.json").read_text())
    dolma = [json.loads(line)["text"] for line in gzip.open(data_dir / "text/dolma-cc_en_head-0091.jsonl.gz")]
    return [v["articleBody"] for _, v in sorted(truth.items())] + dolma


@pytest.mark.parametrize("norm", [Normalisation(), Normalisation(lowercase=False), Normalisation(strip_accents=True)], ids=str)
def test_words_with_spans_are_the_same_words_as_without(texts, norm):
    """Decisions use words() without spans, cuts with them: they must be the same words, and each span
    must hold its word."""
    non_ascii = 0
    for t in texts:
        ws, starts, ends = words(t, norm, spans=True)
        assert ws == words(t, norm)
        assert all(w in norm.fold(t[a:b]) for w, a, b in zip(ws, starts.tolist(), ends.tolist()))
        non_ascii += not t.isascii()
    assert non_ascii > 20  # the check covered Unicode folding, not ASCII only


def test_normalisation_folds_case_punctuation_whitespace_and_unicode_forms():
    n = Normalisation()
    assert words("The  quick,\n brown—FOX!", n) == words("the quick brown fox", n) == ["the", "quick", "brown", "fox"]
    assert words("ﬁne ＦＵＬＬ cafe\u0301", n) == ["fine", "full", "café"]  # ligature, full-width, combining accent
    assert words("café", Normalisation(strip_accents=True)) == ["cafe"] and words("Café", Normalisation(lowercase=False)) == ["Café"]
    assert np.array_equal(ngram_hashes(words("A, b; c!", n), 2), ngram_hashes(words("a b c", n), 2))


def test_ngram_hashes_are_position_free_and_collision_free_on_real_text(texts):
    n, norm = 8, Normalisation()
    grams, hashes = {}, {}
    for t in texts:
        ws = words(t, norm)
        for j, h in enumerate(ngram_hashes(ws, n).tolist()):
            g = tuple(ws[j : j + n])
            assert hashes.setdefault(g, h) == h  # the same n-gram, the same hash, wherever it stands
            assert grams.setdefault(h, g) == g  # no two n-grams share a hash
    assert len(grams) > 100_000
    assert ngram_hashes(["a", "b"], 2)[0] != ngram_hashes(["b", "a"], 2)[0]  # order counts


def _within(observed: int, trials: int, p: float, sigmas: float = 4.0) -> bool:
    return abs(observed - trials * p) <= sigmas * math.sqrt(trials * p * (1 - p)) + 1


@pytest.mark.parametrize("fpr", [0.01, 0.001])
def test_bloom_false_positive_rate_is_the_computed_one(texts, fpr):
    """Members: the 8-gram hashes of the benchmark's article bodies; absent queries: those of dolma's
    documents that are not members, plus 10^6 random hashes. The rate met must be the one computed from
    the filter's fill, within 4 standard deviations, and the one it was sized for."""
    norm = Normalisation()
    members = np.unique(np.concatenate([ngram_hashes(words(t, norm), 8) for t in texts[:181]]))
    bf = BloomFilter.for_capacity(len(members), fpr)
    bf.add(members)
    assert bf.contains(members).all()  # no false negatives, ever
    real = np.unique(np.concatenate([ngram_hashes(words(t, norm), 8) for t in texts[181:]]))
    real = real[~np.isin(real, members)]
    rand = np.random.default_rng(7).integers(0, 2**64, size=1_000_000, dtype=np.uint64, endpoint=False)
    rand = rand[~np.isin(rand, members)]
    now = bf.fpr()
    assert abs(now - bf.expected_fpr(len(members))) < 0.02 * now and abs(now - fpr) < 0.15 * fpr
    for queries in (real, rand):
        assert _within(int(bf.contains(queries).sum()), len(queries), now), (len(queries), int(bf.contains(queries).sum()), now)
    assert bf.nbytes * 8 >= len(members) * -math.log(fpr) / math.log(2) ** 2  # m = -n ln p / ln^2 2
