"""Text keys for dedup: the normalised-text hash (exact) and batched MinHash signatures (fuzzy).

The signatures are datasketch's, bit for bit (tests/test_dedup_minhash.py proves it): each shingle is
hashed with datasketch's `sha1_hash32` (the first 4 bytes of SHA-1, little-endian), and the permutation
parameters come from datasketch itself (`MinHash(num_perm, seed, scheme=...).permutations`). So a
signature made here can be loaded into a `datasketch.MinHash` or `MinHashLSH` and compared with one made
there. What differs is only the speed: datasketch's `update_batch` works one document at a time
(a Python int per shingle, `struct.unpack`, one small numpy product); here the SHA-1 digests of many
documents are joined into one buffer, read with one `np.frombuffer`, permuted as one matrix, and reduced
per document with `np.minimum.reduceat`.
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata

import numpy as np

# Any run of characters that are not letters, digits or "_" (punctuation, symbols, whitespace of any
# kind) becomes one ASCII space: one pass, and the result splits the same as str or as UTF-8 bytes.
_NON_WORD = re.compile(r"\W+")


def dedup_form(text: str | None) -> str:
    """Fold what syndication and mirroring change but a reader would not notice: Unicode forms (NFKC),
    case, punctuation and whitespace. Exact dedup hashes this; shingles are cut from it."""
    if not text:
        return ""
    if not text.isascii():  # ASCII is already in NFKC; skipping the call saves a copy of most texts
        text = unicodedata.normalize("NFKC", text)
    return _NON_WORD.sub(" ", text.casefold()).strip()


def exact_key(text: str | None, *, normalized: bool = False) -> bytes:
    """The exact-dedup key: 128 bits of BLAKE2b of the normalised text (collisions: ~2^-64 per pair).

    `normalized=True` says `text` is already dedup_form()'s output (normalising twice is not a no-op
    for every Unicode string, and it is a quarter of the sketching time)."""
    return hashlib.blake2b((text if normalized else dedup_form(text)).encode("utf-8"), digest_size=16).digest()


def shingles(text: str | None, ngram: int, *, normalized: bool = False) -> list[bytes]:
    """Word `ngram`-grams of the normalised text, as UTF-8 bytes joined by single spaces.

    A text shorter than `ngram` words is one shingle of all its words (so two short texts still compare);
    an empty text has none, and gets no signature.
    """
    words = ((text or "") if normalized else dedup_form(text)).encode("utf-8").split()
    if len(words) < ngram:
        return [b" ".join(words)] if words else []
    return list(map(b" ".join, zip(*(words[i:] for i in range(ngram)))))


@functools.lru_cache(maxsize=None)  # the search integrates ~700 curves: half a second, so once per setting
def lsh_params(threshold: float, num_perm: int, false_negative_weight: float = 0.5) -> tuple[int, int]:
    """(bands, rows) from datasketch's optimal parameter search: the split of `num_perm` that minimises
    the weighted false-positive and false-negative probability mass around `threshold`."""
    from datasketch import MinHashLSH  # the search runs in its constructor; it is public there

    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm, weights=(1.0 - false_negative_weight, false_negative_weight))
    return lsh.b, lsh.r


# datasketch's constants (datasketch/minhash.py): the legacy scheme's Mersenne prime and 32-bit mask,
# and the MurmurHash3 32-bit finalizer that the affine32 scheme applies before its permutations.
_MERSENNE = np.uint64((1 << 61) - 1)
_MAX32 = np.uint64((1 << 32) - 1)
_FMIX32 = (np.uint32(16), np.uint32(0x85EBCA6B), np.uint32(13), np.uint32(0xC2B2AE35), np.uint32(16))
SCHEMES = ("affine32", "legacy")


def _fmix32(h: np.ndarray) -> np.ndarray:
    s1, m1, s2, m2, s3 = _FMIX32
    h = h ^ (h >> s1)
    h = h * m1  # uint32 arithmetic wraps: that is the intended mod 2^32
    h = h ^ (h >> s2)
    h = h * m2
    return h ^ (h >> s3)


def sha1_hash32_array(items: list[bytes]) -> np.ndarray:
    """datasketch's `sha1_hash32` of every item, as one uint32 array.

    One join and one `frombuffer` instead of a `struct.unpack` and a Python int per item; taking column 0
    of the 5-word SHA-1 digests is the "first 4 bytes, little-endian" of sha1_hash32.
    """
    sha1 = hashlib.sha1
    buf = b"".join([sha1(s).digest() for s in items])
    return np.frombuffer(buf, dtype="<u4").reshape(-1, 5)[:, 0].astype(np.uint32)


class Sketcher:
    """MinHash signatures (uint32, `num_perm` per document) for batches of documents.

    Build it once per worker (DoFn.setup): the permutations are drawn by datasketch from `seed`.
    """

    # Shingles permuted at once: bounds memory (2 MiB of uint32 at 128 permutations) whatever the batch
    # or document size, while keeping numpy's per-call overhead small.
    BLOCK_ROWS = 4096

    def __init__(self, num_perm: int = 128, seed: int = 1, ngram: int = 5, scheme: str = "affine32"):
        from datasketch import MinHash

        if scheme not in SCHEMES:
            raise ValueError(f"scheme must be one of {SCHEMES}, got {scheme!r}")
        self.num_perm, self.seed, self.ngram, self.scheme = num_perm, seed, ngram, scheme
        a, b = MinHash(num_perm=num_perm, seed=seed, scheme=scheme).permutations
        if scheme == "legacy":
            self._a, self._b = np.asarray(a, dtype=np.uint64), np.asarray(b, dtype=np.uint64)
        else:
            self._a, self._b = np.asarray(a, dtype=np.uint32), np.asarray(b, dtype=np.uint32)

    def _permute(self, hv: np.ndarray) -> np.ndarray:
        """(n,) shingle hashes -> (num_perm, n) permuted hashes, exactly as datasketch computes them.

        Permutations on rows, shingles on columns: the per-document minimum is then a reduction along
        contiguous memory, which is ~5x faster in numpy than reducing down columns."""
        if self.scheme == "legacy":
            # uint64 products wrap before the modulo, as they do in datasketch; kept for equality.
            return ((np.multiply.outer(self._a, hv.astype(np.uint64)) + self._b[:, None]) % _MERSENNE) & _MAX32
        out = np.multiply.outer(self._a, _fmix32(hv))  # uint32 arithmetic wraps: the scheme's mod 2^32
        out += self._b[:, None]
        return out

    def signatures_from_hashes(self, hashes: list[np.ndarray]) -> np.ndarray:
        """(len(hashes), num_perm) uint32 signatures; every array in `hashes` must be non-empty."""
        out = np.empty((len(hashes), self.num_perm), dtype=np.uint32)
        i = 0
        while i < len(hashes):
            # Pack consecutive documents into one block; a document larger than a block goes alone.
            j, rows = i + 1, len(hashes[i])
            while j < len(hashes) and rows + len(hashes[j]) <= self.BLOCK_ROWS:
                rows += len(hashes[j])
                j += 1
            if rows > self.BLOCK_ROWS:
                hv = hashes[i]
                parts = [self._permute(hv[s : s + self.BLOCK_ROWS]).min(axis=1) for s in range(0, rows, self.BLOCK_ROWS)]
                out[i] = np.min(parts, axis=0)
            else:
                starts = np.cumsum([0] + [len(h) for h in hashes[i : j - 1]])
                out[i:j] = np.minimum.reduceat(self._permute(np.concatenate(hashes[i:j])), starts, axis=1).T
            i = j
        return out

    def signatures(self, texts: list[str | None], *, normalized: bool = False) -> list[np.ndarray | None]:
        """One signature per text, None for a text without shingles (empty after normalisation)."""
        cut = (shingles(t, self.ngram, normalized=normalized) for t in texts)
        hashes = [sha1_hash32_array(s) if s else None for s in cut]
        present = [h for h in hashes if h is not None]
        sigs = iter(self.signatures_from_hashes(present)) if present else iter(())
        return [next(sigs) if h is not None else None for h in hashes]


def band_keys(sig: bytes, bands: int, rows: int) -> list[bytes]:
    """LSH bucket keys of a signature (its uint32 values as bytes): band index + that band's raw values.

    Raw values rather than a hash of them, so two documents share a bucket only if they truly agree on
    all `rows` values of the band.
    """
    width = rows * 4
    return [i.to_bytes(2, "big") + sig[i * width : (i + 1) * width] for i in range(bands)]
