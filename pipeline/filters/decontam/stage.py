"""The decontam stage: benchmark text out of the corpus, after dedup (GPT-3, Appendix C).

A document that shares a word n-gram (n = 13 by default, normalised as filters/decontam/ngrams.py
says) with a passage of an eval set is either

* dropped (mode = "drop"): drop_reason `decontam.<set>`, counted `decontam.dropped.<set>`; or
* cut (mode = "cut", GPT-3's rule): each matching n-gram's span plus `cut_window_chars` (200)
  characters each side is removed and the document split there; pieces under `min_piece_chars`
  (200) go, and a document the cuts split into more than `max_pieces` (10) is dropped whole
  (`decontam.too_many_pieces`), as is one with no piece left (`decontam.nothing_left`), both with
  reason `decontam.<set>`. The pieces leave as documents of their own, id `<id>-<k>`, counted in
  `decontam.cut.<set>` (documents) and `decontam.pieces`.

A document matching several sets is dropped (or cut) under the first, in the order the sets were
given; `decontam.matched.<set>` counts it under each.

The eval sets are read and hashed in the pipeline (each file on a worker) and reach every worker as
a Beam side input: per set, the sorted unique uint64 hashes of its n-grams, 8 bytes each (8 MB per
million n-grams; a set of 50 million is 400 MB per worker, within a Dataflow n1-standard-2's 7.5 GB).
A lookup is numpy's binary search of a document's n-gram hashes: exact up to 64-bit collisions (see
ngrams.py), with no false positives to state. Config [decontam].
"""

from __future__ import annotations

import numpy as np

from webtext.errors import UserError
from webtext.pipeline.core.block import Drop, Filter
from webtext.pipeline.filters.decontam.evalsets import check_eval_paths, set_name
from webtext.pipeline.filters.decontam.ngrams import MAX_N, Normalisation, ngram_hashes, words

MODES = ("drop", "cut")


def matches(hashes: np.ndarray, eval_hashes: np.ndarray) -> np.ndarray:
    """Which of `hashes` are in the sorted array `eval_hashes` (a bool per hash)."""
    if not len(eval_hashes) or not len(hashes):
        return np.zeros(len(hashes), dtype=bool)
    at = np.searchsorted(eval_hashes, hashes)
    at[at == len(eval_hashes)] = 0
    return eval_hashes[at] == hashes


def cut_pieces(text: str, hit: np.ndarray, starts: np.ndarray, ends: np.ndarray, n: int, window: int) -> list[str]:
    """The text between the removed stretches: each hit n-gram's characters (its first word's start to
    its last word's end) widened by `window` each side. Every piece the cuts make, stripped, in order;
    an empty one (two stretches that touch the text's edge) is no piece."""
    first = np.flatnonzero(hit)
    lo = np.maximum(starts[first] - window, 0)
    hi = np.minimum(ends[first + n - 1] + window, len(text))
    pieces, pos = [], 0
    for a, b in zip(lo.tolist(), hi.tolist()):  # sorted by start already: n-grams come in text order
        if a > pos:
            pieces.append(text[pos:a])
        pos = max(pos, b)
    pieces.append(text[pos:])
    return [p.strip() for p in pieces if p.strip()]


class Decontaminate(Filter):
    name = "decontam"
    funnel = ("decontam.kept",)

    @classmethod
    def validate(cls, cfg: dict) -> None:
        if not 1 <= cfg["n"] <= MAX_N:
            raise UserError(f"decontam.n must lie in [1, {MAX_N}], got {cfg['n']}")
        if cfg["mode"] not in MODES:
            raise UserError(f"decontam.mode must be one of {', '.join(MODES)}, got {cfg['mode']!r}")
        for key in ("cut_window_chars", "min_piece_chars"):
            if cfg[key] < 0:
                raise UserError(f"decontam.{key} must be >= 0, got {cfg[key]}")
        if cfg["max_pieces"] < 1:
            raise UserError(f"decontam.max_pieces must be >= 1, got {cfg['max_pieces']}")
        if cfg["eval"] and cfg["enabled"]:
            check_eval_paths(cfg["eval"], "--decontaminate (decontam.eval)")

    @staticmethod
    def enabled(cfg: dict) -> bool:
        """Runs when it is switched on and has eval sets to check against."""
        return bool(cfg.get("enabled", True) and cfg.get("eval"))

    def __init__(self, cfg: dict):
        super().__init__(cfg)
        self.n, self.mode, self.norm = cfg["n"], cfg["mode"], Normalisation.from_config(cfg)
        # Expanded here, on the machine that builds the pipeline; read on the workers (local paths
        # with a local runner, gs:// or s3:// on a cloud one, as every other input).
        self.paths = check_eval_paths(cfg["eval"], "--decontaminate") if cfg["eval"] else []
        self.order = list(dict.fromkeys(set_name(p) for p in self.paths))
        self.sets: list[tuple[str, np.ndarray]] = []

    def side_input(self):
        from webtext.pipeline.filters.decontam.side_input import hash_eval_sets

        return hash_eval_sets(self.paths, self.n, self.norm)

    def bind(self, side: list) -> None:
        """The hashed eval sets, [(name, sorted hashes)], put in the order the sets were given."""
        by_name = dict(side)
        self.sets = [(name, by_name[name]) for name in self.order if name in by_name]

    def decide(self, doc: dict):
        text = doc.get("text") or ""
        hashes = ngram_hashes(words(text, self.norm), self.n)
        hit, first = None, None
        for name, eval_hashes in self.sets:
            m = matches(hashes, eval_hashes)
            if m.any():
                self.count(f"matched.{name}")
                hit, first = (m, name) if hit is None else (hit | m, first)
        if hit is None:
            return doc
        if self.mode == "drop":
            return Drop(first)
        _, starts, ends = words(text, self.norm, spans=True)
        pieces = cut_pieces(text, hit, starts, ends, self.n, self.cfg["cut_window_chars"])
        if len(pieces) > self.cfg["max_pieces"]:
            self.count("too_many_pieces")
            return Drop(first)
        pieces = [p for p in pieces if len(p) >= self.cfg["min_piece_chars"]]
        if not pieces:
            self.count("nothing_left")
            return Drop(first)
        self.count(f"cut.{first}")
        self.count("pieces", len(pieces))
        return [{**doc, "id": f"{doc['id']}-{k}", "text": piece} for k, piece in enumerate(pieces)]
