"""A Bloom filter of 64-bit hashes, in numpy: what `webtext overlap` keeps of a corpus's n-grams.

    bf = BloomFilter.for_capacity(10**9, fpr=1e-4)   # 19.2 bits (2.4 bytes) per n-gram, 13 hash functions
    bf.add(hashes); bf.contains(hashes) -> bool array

m bits, k positions per item by double hashing (Kirsch & Mitzenmacher 2006: position_i = h1 + i*h2
mod m, h1 the item's hash, h2 a second mix of it, odd). For n distinct items the false-positive rate
is (1 - e^(-kn/m))^k; `fpr()` gives the rate the filter has now, (bits set / m)^k, which needs no
count of distinct items (repeats set no new bits) and is what a lookup of an absent item meets.
Sized for n at rate p: m = -n ln p / (ln 2)^2, k = (m/n) ln 2 (tests/test_decontam_ngrams.py checks the
rate empirically).
"""

from __future__ import annotations

import math

import numpy as np

_C1, _C2, _S = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xBF58476D1CE4E5B9), np.uint64(31)


def _second_hash(h: np.ndarray) -> np.ndarray:
    """An odd hash of h independent enough of h itself (SplitMix64's mixer of h + golden ratio)."""
    z = h + _C1
    z = (z ^ (z >> np.uint64(30))) * _C2
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return (z ^ (z >> _S)) | np.uint64(1)


class BloomFilter:
    def __init__(self, bits: int, hashes: int):
        if bits < 64 or not 1 <= hashes <= 64:
            raise ValueError(f"a Bloom filter needs >= 64 bits and 1..64 hashes, got {bits} and {hashes}")
        self.words = np.zeros((bits + 63) // 64, dtype=np.uint64)
        self.m = np.uint64(len(self.words) * 64)
        self.k = hashes

    @classmethod
    def for_capacity(cls, n: int, fpr: float) -> "BloomFilter":
        """The smallest filter holding n distinct items at false-positive rate `fpr`."""
        if not 0 < fpr < 1:
            raise ValueError(f"false-positive rate must lie in (0, 1), got {fpr}")
        n = max(int(n), 1)
        bits = max(64, math.ceil(-n * math.log(fpr) / math.log(2) ** 2))
        return cls(bits, max(1, round(bits / n * math.log(2))))

    @property
    def bits(self) -> int:
        return int(self.m)

    @property
    def nbytes(self) -> int:
        return self.words.nbytes

    def _positions(self, h: np.ndarray):
        h = np.asarray(h, dtype=np.uint64)
        h2 = _second_hash(h)
        for i in range(self.k):
            yield (h + np.uint64(i) * h2) % self.m  # wraps mod 2^64 first: a bias of m/2^64, nothing

    def add(self, hashes: np.ndarray) -> None:
        for pos in self._positions(hashes):
            # .at, not words[...] |= ...: two items of one batch may set bits of the same word
            np.bitwise_or.at(self.words, pos >> np.uint64(6), np.uint64(1) << (pos & np.uint64(63)))

    def contains(self, hashes: np.ndarray) -> np.ndarray:
        hashes = np.asarray(hashes, dtype=np.uint64)
        found = np.ones(len(hashes), dtype=bool)
        for pos in self._positions(hashes):
            found &= ((self.words[pos >> np.uint64(6)] >> (pos & np.uint64(63))) & np.uint64(1)).astype(bool)
        return found

    def fill(self) -> float:
        """The share of bits set."""
        if hasattr(np, "bitwise_count"):  # numpy >= 2
            return int(np.bitwise_count(self.words).sum(dtype=np.uint64)) / self.bits
        step = 1 << 20  # numpy 1.x: unpack a piece at a time (8 bytes of bits per bit otherwise)
        return sum(int(np.unpackbits(self.words[i : i + step].view(np.uint8)).sum()) for i in range(0, len(self.words), step)) / self.bits

    def fpr(self) -> float:
        """The false-positive rate of a lookup now: (share of bits set)^k."""
        return self.fill() ** self.k

    def expected_fpr(self, n: int) -> float:
        """The rate after n distinct items: (1 - e^(-kn/m))^k."""
        return (1.0 - math.exp(-self.k * n / self.bits)) ** self.k
