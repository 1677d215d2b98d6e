"""The quality stage: the named heuristic rules, then (with a model) the GPT-3-style classifier.

Rules (rules.py: Gopher, C4, FineWeb families) run first, in order; the first rule a document fails
is its drop reason, `quality.<rule>`, counted in `quality.dropped.<rule>`. Documents in a language the
rules are not tuned for pass unchecked (`quality.other_language`). Documents that pass may then be
scored by the fastText classifier (classifier.py): `quality_score` = P(positive), and the document
is kept by GPT-3's Pareto rule, seeded per document so that runs are deterministic, or, with
`keep_rule = "threshold"`, when its score is at least `threshold`. Classifier drops are
`quality.classifier`.

Config: [quality] and its sub-tables in run/default_config.toml (build-corpus --quality-model and
--quality-threshold write [quality.classifier]).
"""

from __future__ import annotations

import os

from webtext.errors import UserError
from webtext.pipeline.core.block import Drop, Filter
from webtext.pipeline.filters.quality import classifier
from webtext.pipeline.filters.quality.rules import FAMILY_NAMES, active_rules, all_rules, apply_rules

_NOT_FRACTIONS = ("min_mean_word_length", "max_mean_word_length")  # the only float thresholds above 1
KEEP_RULES = ("pareto", "threshold")


class QualityFilter(Filter):
    name = "quality"

    def __init__(self, cfg: dict):
        super().__init__(cfg)
        self.languages = frozenset(cfg["languages"])
        self.classifier_cfg = cfg["classifier"]
        self.model_path = self.classifier_cfg["model"] or None
        # Rules are per document; the classifier scores a batch per fastText call.
        self.batch_size = self.classifier_cfg["batch_size"] if self.model_path else 1

    @classmethod
    def funnel_counters(cls, cfg: dict) -> tuple[str, ...]:
        """kept, a drop counter per rule that runs (and the classifier's, with a model), other_language."""
        rules = [f"quality.dropped.{name}" for name in active_rules(cfg)]
        model = ["quality.dropped.classifier"] if cfg["classifier"]["model"] else []
        return ("quality.kept", *rules, *model, "quality.other_language")

    @classmethod
    def validate(cls, cfg: dict) -> None:
        known = set(r.name for r in all_rules())
        unknown = [name for name in cfg["disabled_rules"] if name not in known]
        if unknown:
            raise UserError(f"config: quality.disabled_rules names unknown rule(s) {', '.join(map(str, unknown))} (known: {', '.join(sorted(known))})")
        if not all(isinstance(code, str) for code in cfg["languages"]):
            raise UserError("config: quality.languages must be a list of language codes, e.g. [\"en\"]")
        for family in FAMILY_NAMES:
            for key, value in cfg[family].items():
                where = f"quality.{family}.{key}"
                if isinstance(value, float) and key not in _NOT_FRACTIONS and not 0.0 <= value <= 1.0:
                    raise UserError(f"config: '{where}' is a fraction and must lie in [0, 1], got {value}")
                if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
                    raise UserError(f"config: '{where}' must not be negative, got {value}")
        gq = cfg["gopher_quality"]
        for low, high in (("min_words", "max_words"), ("min_mean_word_length", "max_mean_word_length")):
            if gq[low] > gq[high]:
                raise UserError(f"config: quality.gopher_quality.{low} ({gq[low]}) is above {high} ({gq[high]})")
        cls_cfg = cfg["classifier"]
        if cls_cfg["pareto_alpha"] <= 0:
            raise UserError(f"config: 'quality.classifier.pareto_alpha' must be positive, got {cls_cfg['pareto_alpha']}")
        if not 1 <= cls_cfg["batch_size"] <= 1_000_000:
            raise UserError(f"config: 'quality.classifier.batch_size' must lie in [1, 1000000], got {cls_cfg['batch_size']}")
        if cls_cfg["keep_rule"] not in KEEP_RULES:
            raise UserError(f"config: 'quality.classifier.keep_rule' must be one of {', '.join(KEEP_RULES)}, got {cls_cfg['keep_rule']!r}")
        if not 0.0 <= cls_cfg["threshold"] <= 1.0:
            raise UserError(f"quality.classifier.threshold (--quality-threshold) must lie in [0, 1], got {cls_cfg['threshold']}")
        if cls_cfg["model"] and not os.path.isfile(cls_cfg["model"]):
            raise UserError(f"quality model not found: {cls_cfg['model']}")

    def setup(self):
        self.model = classifier.load_classifier(self.model_path) if self.model_path else None

    def _rules(self, doc: dict) -> dict | Drop:
        language = doc.get("language")
        if language and self.languages and language not in self.languages:
            self.count("other_language")  # rules tuned on English would misjudge it: passed on unchecked
            return doc
        reason, text = apply_rules(doc.get("text") or "", self.cfg)
        if reason is not None:
            return Drop(reason)
        return doc if text == doc.get("text") else {**doc, "text": text}

    def decide(self, doc: dict):
        return self._rules(doc)

    def decide_batch(self, docs: list[dict]):
        verdicts = [self._rules(doc) for doc in docs]
        if self.model is None:
            return verdicts
        passed = [i for i, v in enumerate(verdicts) if not isinstance(v, Drop)]
        scores = classifier.score_texts(self.model, [verdicts[i].get("text") or "" for i in passed])
        cfg = self.classifier_cfg
        for i, score in zip(passed, scores):
            doc = {**verdicts[i], "quality_score": score}
            if cfg["keep_rule"] == "threshold":
                keep = score >= cfg["threshold"]
            else:
                keep = classifier.pareto_keep(doc["id"], score, cfg["pareto_alpha"], cfg["seed"])
            verdicts[i] = doc if keep else Drop("classifier", doc=doc)
        return verdicts
