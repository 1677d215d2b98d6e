"""The decontam stage's side input: each eval file read and hashed on a worker, (name, hashes) out.

Counted per set: decontam.eval_passages.<set>, decontam.eval_ngrams.<set> (distinct n-grams),
decontam.eval_short.<set> (passages under n words, which no n-gram can match) and
decontam.eval_bad_lines.<set> (lines with no passage).
"""

from __future__ import annotations

import apache_beam as beam

from webtext.pipeline.core.counters import Counters
from webtext.pipeline.filters.decontam.evalsets import hash_set
from webtext.pipeline.filters.decontam.ngrams import Normalisation
from webtext.pipeline.io.files import ReadEachFile


class _HashFile(beam.DoFn):
    def __init__(self, n: int, norm: Normalisation):
        self.n, self.norm = n, norm

    def setup(self):
        self.counters = Counters("decontam")

    def process(self, path: str):
        s = hash_set(path, self.n, self.norm)
        self.counters.add({f"eval_passages.{s.name}": s.passages, f"eval_ngrams.{s.name}": len(s.hashes),
                           f"eval_short.{s.name}": s.short, f"eval_bad_lines.{s.name}": s.bad})
        yield s.name, s.hashes


def hash_eval_sets(paths: list[str], n: int, norm: Normalisation) -> beam.PTransform:
    """Pipeline root -> (set name, sorted unique uint64 n-gram hashes), one element per eval file."""
    return ReadEachFile(paths, _HashFile(n, norm))
