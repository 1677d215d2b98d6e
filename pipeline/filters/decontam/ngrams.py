"""Word n-grams for decontamination and the overlap report: one normalisation, one 64-bit hash.

Both sides of a comparison go through the same two functions here (eval passages and corpus
documents, in the decontam stage and in `webtext overlap`), so they cannot drift apart:

    words(text, norm)        the normalised words; with spans=True also each word's [start, end) in `text`
    ngram_hashes(words, n)   one uint64 per word n-gram, in text order

A word is a run of letters, digits, "_" and combining marks, so punctuation and whitespace of any kind
fold away ("Hello,  world!" and "hello world" are the same 2 words). Then, per word: Unicode NFKC
(`nfkc`), case folding (`lowercase`) and removal of accents (`strip_accents`), as [decontam] says.
Words are normalised one at a time, not the text as a whole (as dedup's form is), so that each keeps
its character span in the original text: GPT-3's cut rule removes characters around a match.

The hash of a word is 8 bytes of BLAKE2b (stable across processes and machines, unlike Python's
hash()); an n-gram's is a multilinear combination of its words' hashes with fixed odd 64-bit keys,
finalised by MurmurHash3's 64-bit mixer, all in numpy. Two distinct n-grams collide with probability
about 2^-64: with E eval n-grams and D corpus n-grams, about D*E/2^64 false matches (10^11 corpus
n-grams against 10^7 eval n-grams: 0.05 in the whole corpus).

Importing this module does not import Beam.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

import numpy as np

# \w with combining marks (U+0300-036F and the other combining blocks): "cafe\u0301" stays one word,
# as NFKC then makes it "café".
_WORD = re.compile(r"[\w\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")
_SPLIT = re.compile(r"\W+")


@dataclass(frozen=True)
class Normalisation:
    """How words are folded before hashing: [decontam]'s lowercase, nfkc and strip_accents."""

    lowercase: bool = True
    nfkc: bool = True
    strip_accents: bool = False

    @classmethod
    def from_config(cls, cfg: dict) -> "Normalisation":
        return cls(cfg["lowercase"], cfg["nfkc"], cfg["strip_accents"])

    def fold(self, word: str) -> list[str]:
        """One word of the text -> its normalised word(s): NFKC may turn one word into two ("½" is
        "1⁄2"), and accents removed may leave none."""
        if self.nfkc:
            word = unicodedata.normalize("NFKC", word)
        if self.strip_accents:
            word = "".join(c for c in unicodedata.normalize("NFD", word) if not unicodedata.combining(c))
        if self.lowercase:
            word = word.casefold()
        return [w for w in _SPLIT.split(word) if w] if _SPLIT.search(word) else [word]


def words(text: str | None, norm: Normalisation, *, spans: bool = False):
    """The normalised words of `text`; with spans=True, (words, starts, ends) with each word's
    character span in `text` (int arrays, a word split by NFKC sharing its span)."""
    text = text or ""
    if not spans:
        raw = _WORD.findall(text)
        if text.isascii():  # ASCII needs no NFKC and has no accents: the common case, in one pass
            return (" ".join(raw).lower().split() if norm.lowercase else raw)
        out: list[str] = []
        for r in raw:
            if r.isascii():
                out.append(r.lower() if norm.lowercase else r)
            else:
                out += norm.fold(r)
        return out
    out, starts, ends = [], [], []
    for m in _WORD.finditer(text):
        folded = norm.fold(m.group()) if not m.group().isascii() else [m.group().lower() if norm.lowercase else m.group()]
        out += folded
        starts += [m.start()] * len(folded)
        ends += [m.end()] * len(folded)
    return out, np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64)


# Fixed odd 64-bit keys, one per position of an n-gram (n <= MAX_N): from a seeded generator, so every
# machine and every version of this module hashes the same n-gram to the same number.
MAX_N = 64
_KEYS = np.random.default_rng(0x6465636F6E74616D).integers(0, 2**63, size=MAX_N, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
_M1, _M2, _S = np.uint64(0xFF51AFD7ED558CCD), np.uint64(0xC4CEB9FE1A85EC53), np.uint64(33)


def _fmix64(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finaliser (uint64 arithmetic wraps: that is the intended mod 2^64)."""
    h = h ^ (h >> _S)
    h = h * _M1
    h = h ^ (h >> _S)
    h = h * _M2
    return h ^ (h >> _S)


class WordHasher:
    """Word -> 64-bit hash, with a cache for the words a worker meets again and again (most of them)."""

    def __init__(self, max_cache: int = 1 << 20):
        self._cache: dict[str, int] = {}
        self._max = max_cache

    def __call__(self, ws: list[str]) -> np.ndarray:
        cache = self._cache
        if len(cache) > self._max:  # a bounded memory: start again rather than grow without end
            cache.clear()
        get = cache.get
        hs = [get(w) for w in ws]
        if None in hs:
            for i, h in enumerate(hs):
                if h is None:
                    w = ws[i]
                    h = get(w)
                    if h is None:
                        h = cache[w] = int.from_bytes(hashlib.blake2b(w.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")
                    hs[i] = h
        return np.array(hs, dtype=np.uint64)


_default_hasher = WordHasher()


def ngram_hashes(ws: list[str], n: int, hasher: WordHasher = _default_hasher) -> np.ndarray:
    """One uint64 per word n-gram of `ws`, in order (len(ws) - n + 1 of them; none when fewer than n words)."""
    if not 1 <= n <= MAX_N:
        raise ValueError(f"n-gram size must lie in [1, {MAX_N}], got {n}")
    count = len(ws) - n + 1
    if count <= 0:
        return np.empty(0, dtype=np.uint64)
    w = hasher(ws)
    acc = w[:count] * _KEYS[0]
    for i in range(1, n):
        acc += w[i : i + count] * _KEYS[i]
    return _fmix64(acc)


def text_ngram_hashes(text: str | None, n: int, norm: Normalisation) -> np.ndarray:
    """The n-gram hashes of one text, normalised."""
    return ngram_hashes(words(text, norm), n)
