"""Dedup's text keys and signatures (pipeline/dedup/minhash.py): equal to datasketch's, bit for bit."""

import json
from pathlib import Path

import numpy as np
import pytest
from datasketch import MinHash, MinHashLSH

from webtext.pipeline.dedup.minhash import Sketcher, band_keys, exact_key, lsh_params, dedup_form, shingles

GROUND_TRUTH = Path(__file__).resolve().parents[2] / "shared/data/extraction/scrapinghub-aeb/ground-truth.json"


@pytest.fixture(scope="module")
def texts():
    truth = json.loads(GROUND_TRUTH.read_text(encoding="utf-8"))
    texts = [truth[k]["articleBody"] for k in sorted(truth)]
    # Edge cases next to real pages: empty, shorter than one shingle, and a text longer than a block.
    return texts + ["", "  ...  ", "two words", " ".join(texts[:40])]


@pytest.mark.parametrize("scheme", ["affine32", "legacy"])
@pytest.mark.parametrize("num_perm,seed", [(128, 1), (64, 7)])
def test_signatures_equal_datasketch(texts, scheme, num_perm, seed):
    sketcher = Sketcher(num_perm=num_perm, seed=seed, ngram=5, scheme=scheme)
    assert max(len(shingles(t, 5)) for t in texts) > Sketcher.BLOCK_ROWS  # the chunked path runs too
    ours = sketcher.signatures(texts)
    for text, sig in zip(texts, ours):
        items = shingles(text, 5)
        if not items:
            assert sig is None
            continue
        reference = MinHash(num_perm=num_perm, seed=seed, scheme=scheme)
        reference.update_batch(items)
        assert sig.dtype == np.uint32
        np.testing.assert_array_equal(sig, reference.hashvalues)


def test_batching_and_pre_normalising_do_not_change_signatures(texts):
    sketcher = Sketcher()
    together = sketcher.signatures(texts[:30])
    alone = [sketcher.signatures([t])[0] for t in texts[:30]]
    normalized = sketcher.signatures([dedup_form(t) for t in texts[:30]], normalized=True)
    for a, b, c in zip(together, alone, normalized):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)


def test_dedup_form_folds_case_punctuation_whitespace_and_unicode_forms():
    assert dedup_form("Hello,   World!\n\tIt's  ﬁne.") == "hello world it s fine"
    assert exact_key("Hello, World!") == exact_key("hello world") != exact_key("hello worlds")
    assert dedup_form(None) == dedup_form("") == ""
    assert exact_key(dedup_form("A, b!"), normalized=True) == exact_key("A, b!")


def test_shingles():
    assert shingles("a b c d e f", 5) == [b"a b c d e", b"b c d e f"]
    assert shingles("A, b!", 5) == [b"a b"]  # shorter than one shingle: one shingle of all its words
    assert shingles("  !! ", 5) == []
    assert shingles("Ünïcode wörds here", 2) == ["ünïcode wörds".encode(), "wörds here".encode()]


def test_lsh_params_are_datasketch_optimal_split():
    assert lsh_params(0.8, 128) == (9, 13)  # datasketch's default weights
    lsh = MinHashLSH(threshold=0.8, num_perm=128, weights=(0.1, 0.9))
    assert lsh_params(0.8, 128, 0.9) == (lsh.b, lsh.r) == (14, 9)


def test_band_keys_split_the_signature():
    sig = np.arange(12, dtype=np.uint32).tobytes()
    keys = band_keys(sig, bands=3, rows=4)
    assert len(set(keys)) == 3
    assert keys[1] == b"\x00\x01" + np.arange(4, 8, dtype=np.uint32).tobytes()
