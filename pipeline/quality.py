"""Stage 7, quality: the named heuristic rules, then (with --quality-model) the GPT-3-style classifier.

Rules (rules.py, rules_gopher.py, rules_c4.py) run first, in order; the first rule a document fails
is its drop_reason, `quality.<rule>`, counted in `quality.dropped.<rule>`. Documents that pass may
then be scored by the fastText classifier (classifier.py): `quality_score` = P(positive), and the
document is kept by GPT-3's Pareto rule, seeded per document so that runs are deterministic, or,
with --quality-threshold P, when its score is at least P. Classifier drops are `quality.classifier`.

Configuration: the [quality] table of default_config.toml (overridable with --config).
"""

from __future__ import annotations

import os

import apache_beam as beam

from webtext.errors import UserError
from webtext.pipeline import classifier, rules, schema
from webtext.pipeline.counters import counter
from webtext.pipeline.lang import DROPPED, BatchedDoFn

_NOT_FRACTIONS = ("min_mean_word_length", "max_mean_word_length")  # the only float thresholds above 1


def validate_config(config: dict) -> None:
    """Check what the generic type check of config.load_config cannot: names and ranges."""
    known = set(r.name for r in rules.all_rules())
    unknown = [name for name in config["disabled_rules"] if name not in known]
    if unknown:
        raise UserError(f"config: quality.disabled_rules names unknown rule(s) {', '.join(map(str, unknown))} (known: {', '.join(sorted(known))})")
    if not all(isinstance(code, str) for code in config["languages"]):
        raise UserError("config: quality.languages must be a list of language codes, e.g. [\"en\"]")
    for family in rules.FAMILIES:
        for key, value in config[family].items():
            where = f"quality.{family}.{key}"
            if isinstance(value, float) and key not in _NOT_FRACTIONS and not 0.0 <= value <= 1.0:
                raise UserError(f"config: '{where}' is a fraction and must lie in [0, 1], got {value}")
            if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
                raise UserError(f"config: '{where}' must not be negative, got {value}")
    for low, high, family in (("min_words", "max_words", "gopher_quality"), ("min_mean_word_length", "max_mean_word_length", "gopher_quality")):
        if config[family][low] > config[family][high]:
            raise UserError(f"config: quality.{family}.{low} ({config[family][low]}) is above {high} ({config[family][high]})")
    cls = config["classifier"]
    if cls["pareto_alpha"] <= 0:
        raise UserError(f"config: 'quality.classifier.pareto_alpha' must be positive, got {cls['pareto_alpha']}")
    if cls["batch_size"] < 1:
        raise UserError(f"config: 'quality.classifier.batch_size' must be at least 1, got {cls['batch_size']}")


class _RulesDoFn(beam.DoFn):
    def __init__(self, config: dict, last: bool):
        self.config = config
        self.languages = frozenset(config["languages"])
        self.kept_name = "quality.kept" if last else "quality.rules_passed"  # quality.kept: the stage's output

    def setup(self):
        self.kept = counter(self.kept_name)
        self.not_checked = counter("quality.other_language")
        self.dropped = {r.name: counter(f"quality.dropped.{r.name}") for r in rules.all_rules()}

    def process(self, doc):
        language = doc.get("language")
        if language and self.languages and language not in self.languages:
            self.not_checked.inc()  # rules tuned on English would misjudge it: pass it on unchecked
            yield doc
            return
        reason, text = rules.apply_rules(doc.get("text") or "", self.config)
        if reason is not None:
            self.dropped[reason].inc()
            yield beam.pvalue.TaggedOutput(DROPPED, schema.drop(doc, f"quality.{reason}"))
            return
        self.kept.inc()
        yield doc if text == doc.get("text") else {**doc, "text": text}


class _ClassifierDoFn(BatchedDoFn):
    def __init__(self, model_path: str, threshold: float | None, alpha: float, seed: int, batch_size: int):
        super().__init__(batch_size)
        self.model_path, self.threshold, self.alpha, self.seed = model_path, threshold, alpha, seed
        self.kept, self.dropped = counter("quality.kept"), counter("quality.dropped.classifier")

    def setup(self):
        self.model = classifier.load_classifier(self.model_path)

    def decide(self, docs):
        out = []
        for doc, score in zip(docs, classifier.score_texts(self.model, [d.get("text") or "" for d in docs])):
            doc = {**doc, "quality_score": score}
            if self.threshold is not None:
                keep = score >= self.threshold
            else:
                keep = classifier.pareto_keep(doc["id"], score, self.alpha, self.seed)
            (self.kept if keep else self.dropped).inc()
            out.append((doc, None if keep else "quality.classifier"))
        return out


class QualityFilter(beam.PTransform):
    """docs -> (kept, dropped): heuristic rules, then the optional classifier.

    config: the [quality] table of the loaded config (config.load_config()["quality"]).
    model_path: a model from `webtext train-quality-classifier`; None skips the classifier.
    threshold: keep when quality_score >= threshold; None uses GPT-3's Pareto rule
    (alpha and seed from [quality.classifier])."""

    def __init__(self, config: dict, model_path: str | None = None, threshold: float | None = None):
        super().__init__()
        validate_config(config)
        if threshold is not None and not 0.0 <= threshold <= 1.0:
            raise UserError(f"--quality-threshold must lie in [0, 1], got {threshold}")
        if model_path is not None and not os.path.isfile(model_path):
            raise UserError(f"quality model not found: {model_path}")
        self.config, self.model_path, self.threshold = config, model_path, threshold

    def expand(self, docs):
        checked = docs | "Rules" >> beam.ParDo(_RulesDoFn(self.config, last=self.model_path is None)).with_outputs(DROPPED, main="kept")
        if self.model_path is None:
            return checked.kept, checked[DROPPED]
        cls = self.config["classifier"]
        scored = checked.kept | "Classifier" >> beam.ParDo(
            _ClassifierDoFn(self.model_path, self.threshold, cls["pareto_alpha"], cls["seed"], cls["batch_size"])
        ).with_outputs(DROPPED, main="kept")
        dropped = (checked[DROPPED], scored[DROPPED]) | "AllDropped" >> beam.Flatten()
        return scored.kept, dropped
