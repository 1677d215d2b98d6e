"""The dedup benchmark set: real article texts plus planted duplicates, and how to score a dedup run.

Built from ../shared/data/extraction/scrapinghub-aeb/ground-truth.json (181 real news and blog articles
from 126 sites, so several sites have more than one distinct page). Each original may get copies:

    exact    the same text at another URL (a syndicated or mirrored page)
    variant  the same text re-cased and re-spaced, with punctuation changed (exact after normalisation)
    edit     ~1% of the words replaced by words from other pages (Jaccard of 5-gram shingles ~0.9)
    tail     the last 5-15% of the words cut off (Jaccard >= 0.8, checked; else the copy is not planted)

Truth is not the plan but exact Jaccard: a pair of documents is a duplicate pair when the Jaccard
similarity of their shingle sets (the pipeline's own shingles) is >= the threshold. A run is scored by
the pairs it puts in one cluster (a kept document and every document whose duplicate_of names it).
Used by bench/bench_dedup.py and tests/test_dedup.py.
"""

from __future__ import annotations

import itertools
import json
import random
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import urlsplit

from webtext.pipeline.core import document as schema
from webtext.pipeline.dedup.minhash import shingles

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "extraction" / "scrapinghub-aeb"
KINDS = ("exact", "variant", "edit", "tail")
# Which copies the n-th long-enough original gets, in turn: every kind alone, all together, none.
PLAN = (("exact",), ("edit",), ("tail",), ("exact", "variant", "edit", "tail"), ("variant", "tail"), ())


def load_pages(data: Path = DATA) -> list[tuple[str, str]]:
    """(url, articleBody) of every ground-truth page, in a fixed order (by page id)."""
    truth = json.loads((data / "ground-truth.json").read_text(encoding="utf-8"))
    return [(truth[k]["url"], truth[k]["articleBody"]) for k in sorted(truth)]


def make_doc(url: str, text: str, reddit_score: int | None) -> dict:
    """A pipeline document for `url` (every schema column present; the rest empty)."""
    doc = dict.fromkeys(schema.COLUMNS)
    doc.update(id=schema.doc_id(url), url=url, host=urlsplit(url).hostname, text=text, reddit_score=reddit_score)
    return doc


def jaccard(a: str, b: str, ngram: int = 5) -> float:
    sa, sb = set(shingles(a, ngram)), set(shingles(b, ngram))
    return len(sa & sb) / len(sa | sb) if sa or sb else 1.0


def _copy(kind: str, text: str, rng: random.Random, vocabulary: list[str], threshold: float) -> str | None:
    words = text.split()
    if kind == "exact":
        return text
    if kind == "variant":
        return "  ".join(w.upper() if i % 7 == 0 else w.rstrip(".,;:") for i, w in enumerate(words)) + " !"
    if kind == "edit":
        for i in rng.sample(range(len(words)), max(1, len(words) // 100)):
            words[i] = rng.choice(vocabulary)
        return " ".join(words)
    cut = " ".join(words[: round(len(words) * (1 - rng.uniform(0.05, 0.15)))])
    return cut if jaccard(text, cut) >= threshold else None


def build_set(pages, min_words: int = 150, threshold: float = 0.8, seed: int = 0):
    """(docs, planted): the documents, and for each document id the index of the original it copies.

    Originals shorter than `min_words` get no copies (a 1% edit of a short text is not "small"); they
    stay in the set as distinct pages.
    """
    rng = random.Random(seed)
    vocabulary = sorted({w for _, text in pages for w in text.split() if w.isalpha()})
    docs, planted = [], {}

    def add(url, text, origin):
        score = None if rng.random() < 0.2 else rng.randint(3, 500)
        doc = make_doc(url, text, score)
        docs.append(doc)
        planted[doc["id"]] = origin

    plans = itertools.cycle(PLAN)
    for origin, (url, text) in enumerate(pages):
        add(url, text, origin)
        if len(text.split()) < min_words:
            continue
        parts = urlsplit(url)
        for k, kind in enumerate(next(plans)):
            copy = _copy(kind, text, rng, vocabulary, threshold)
            if copy is not None:
                add(f"https://{kind}{k}.mirror.example{parts.path}?utm_x={origin}", copy, origin)
    return docs, planted


def true_pairs(docs, threshold: float = 0.8, ngram: int = 5) -> set[frozenset]:
    """Id pairs whose shingle sets have exact Jaccard >= threshold (via an inverted index, not all pairs)."""
    sets = {d["id"]: set(shingles(d["text"], ngram)) for d in docs}
    posting = defaultdict(list)
    for doc_id in sorted(sets):
        for s in sets[doc_id]:
            posting[s].append(doc_id)
    shared = Counter(pair for ids in posting.values() if len(ids) > 1 for pair in itertools.combinations(ids, 2))
    return {
        frozenset(pair)
        for pair, n in shared.items()
        if n / (len(sets[pair[0]]) + len(sets[pair[1]]) - n) >= threshold
    }


def clusters(kept, dropped) -> dict[str, list[str]]:
    """keeper id -> ids of its cluster (keeper included), from a run's output."""
    out = {d["id"]: [d["id"]] for d in kept}
    for d in dropped:
        out.setdefault(d["duplicate_of"], [d["duplicate_of"]]).append(d["id"])
    return out


def score(kept, dropped, truth: set[frozenset]) -> dict:
    """Precision and recall of the run's same-cluster pairs against the true duplicate pairs."""
    predicted = {frozenset(p) for ids in clusters(kept, dropped).values() for p in itertools.combinations(ids, 2)}
    hit = len(predicted & truth)
    return {
        "predicted_pairs": len(predicted),
        "true_pairs": len(truth),
        "precision": hit / len(predicted) if predicted else 1.0,
        "recall": hit / len(truth) if truth else 1.0,
    }


def run(docs, config: dict | None = None, dedup: bool = True, **options) -> tuple[list, list, dict]:
    """Run the Dedup stage alone on `docs`, with the [dedup] defaults and `config`'s changes: (kept, dropped, counters).

    Outputs go through files, not an in-memory list, so this works with multi-process runners too.
    `options` are Beam pipeline options (default: FnApiRunner, in-process). `dedup=False` runs the same
    pipeline without the stage (everything kept), to time what the stage itself adds.
    """
    import tempfile

    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    from webtext.pipeline.dedup.stage import Dedup
    from webtext.pipeline.run.config import stage_config

    options = {"runner": "FnApiRunner", **options}
    with tempfile.TemporaryDirectory() as tmp:
        pipeline = beam.Pipeline(options=PipelineOptions.from_dictionary(options))
        pcoll = pipeline | beam.Create(docs)
        kept, dropped = pcoll | Dedup(stage_config("dedup", **(config or {}))).transform() if dedup else (pcoll, pipeline | "none" >> beam.Create([]))
        for name, pcoll in (("kept", kept), ("dropped", dropped)):
            pcoll | f"json {name}" >> beam.Map(json.dumps) | f"write {name}" >> beam.io.WriteToText(f"{tmp}/{name}")
        result = pipeline.run()
        result.wait_until_finish()
        out = {
            name: [json.loads(line) for f in sorted(Path(tmp).glob(f"{name}*")) for line in f.read_text().splitlines()]
            for name in ("kept", "dropped")
        }
    counters = {m.key.metric.name: m.committed for m in result.metrics().query()["counters"]}
    return out["kept"], out["dropped"], counters
