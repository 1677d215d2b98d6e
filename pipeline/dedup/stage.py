"""The dedup stage: exact duplicates (normalised-text hash), then near-duplicates (MinHash LSH).

    docs ─► sketch ─► exact groups ─► LSH buckets ─► verified edges ─► connected components ─┐
      │     (key, node, signature)  (GroupByKey)   (GroupByKey)   (+ signatures)   (components.py)     │
      │                                                                                              ▼
      └──────────────────────────────────── join by id ◄──── drop list: id -> (reason, kept id) ◄────┘

Only small records travel through the grouping steps: a document's *node* (its keep-rank, below) and its
signature (num_perm x 4 bytes). The documents themselves are shuffled once, in the final join that
splits them into kept and dropped. Exact duplicates never reach the fuzzy steps (one of each goes on).

Keep rule (documented, deterministic across runs and runners): in each cluster keep the document with the
highest `reddit_score` (None counts as -1), then the longest text, then the smallest id. A node is the
tuple `(-score, -len(text), id)`, so "the node that sorts first" is the keeper everywhere: in an exact
group, in an LSH bucket, and as the label connected components assigns (the component's minimum).

Counters: dedup.exact and dedup.fuzzy (documents dropped: names fixed before the stage contract, so
the split counts them there rather than as dedup.dropped.<reason>), dedup.kept, dedup.clusters
(clusters of two or more documents, exact and fuzzy together: one keeper each), dedup.cc_not_converged
(see components.py), dedup.cluster_size.<2 | 3-4 | 5-8 ...> (clusters by size, for the report).

Config [dedup] (run/default_config.toml documents every key).
"""

from __future__ import annotations

import math

import apache_beam as beam
import numpy as np
from scipy.sparse.csgraph import connected_components

from webtext.errors import UserError
from webtext.pipeline.core.block import Block, Drop, Filter
from webtext.pipeline.core.counters import counter
from webtext.pipeline.dedup.components import ConnectedComponents
from webtext.pipeline.dedup.minhash import SCHEMES, Sketcher, band_keys, dedup_form, exact_key, lsh_params

# 4 bytes a permutation per document, and datasketch's band/row search on the driver takes ~2.5 s at
# 4096 (and grows faster than linearly): far past any published setting (FineWeb 112, others 128-450).
MAX_NUM_PERM = 4096
EXACT, FUZZY = "exact", "fuzzy"  # drop reasons: drop_reason dedup.exact / dedup.fuzzy
_CLUSTERS = counter("dedup.clusters")
CLUSTER_SIZE = "dedup.cluster_size"  # a histogram: dedup.cluster_size.<bucket>, clusters by their size


def size_bucket(n: int) -> str:
    """The histogram bucket of a cluster of `n` documents: 2, 3-4, 5-8, 9-16, ... (powers of two)."""
    if n <= 2:
        return str(n)
    hi = 1 << (n - 1).bit_length()
    return f"{hi // 2 + 1}-{hi}"


def _count_cluster_size(kv):
    counter(f"{CLUSTER_SIZE}.{size_bucket(1 + kv[1])}").inc()


def node(doc: dict) -> tuple:
    """The keep-rank of a document: smaller sorts first and is kept (see the module docstring)."""
    score = doc.get("reddit_score")
    return (-(score if score is not None else -1), -len(doc.get("text") or ""), doc["id"])


def _id(n: tuple) -> str:
    return n[2]


class _Sketch(beam.DoFn):
    """A batch of documents -> (exact key, node, signature bytes or None) per document."""

    def __init__(self, exact: bool, fuzzy: bool, num_perm: int, seed: int, ngram: int, scheme: str):
        self.exact, self.fuzzy = exact, fuzzy
        self.sketcher_args = (num_perm, seed, ngram, scheme)

    def setup(self):
        self.sketcher = Sketcher(*self.sketcher_args) if self.fuzzy else None

    def process(self, batch):
        texts = [dedup_form(doc.get("text")) for doc in batch]
        sigs = self.sketcher.signatures(texts, normalized=True) if self.fuzzy else [None] * len(batch)
        for doc, text, sig in zip(batch, texts, sigs):
            yield (
                exact_key(text, normalized=True) if self.exact else None,
                node(doc),
                sig.tobytes() if sig is not None else None,
            )


def _resolve_exact(kv):
    """One exact group -> its keeper's (node, signature); the others as tagged (keeper id, duplicate id).

    Two passes over the group instead of a sorted copy: a group of a million identical pages must not
    have to fit in one worker's memory."""
    _, members = kv
    keeper, sig = min(members, key=lambda m: m[0])
    yield keeper, sig
    for other, _ in members:
        if other != keeper:
            yield beam.pvalue.TaggedOutput("dups", (_id(keeper), _id(other)))


def _bands(survivor, bands: int, rows: int):
    """A survivor (node, signature) -> one (bucket key, node) per band."""
    n, sig = survivor
    return [(key, n) for key in band_keys(sig, bands, rows)]


def _star_edges(kv):
    """An unverified LSH bucket -> every member linked to its first node: linear, never all pairs."""
    _, members = kv
    members = sorted(members)
    for other in members[1:]:
        yield other, members[0]


def _memberships(kv):
    """An LSH bucket with two or more members -> (member id, bucket key), to fetch their signatures."""
    key, members = kv
    members = list(members)
    if len(members) > 1:
        for n in members:
            yield _id(n), key


def _attach_signature(kv):
    """A document's signature joined with the candidate buckets it is in -> (bucket key, (node, sig))."""
    _, joined = kv
    for n, sig in joined["sig"]:
        for key in joined["bucket"]:
            yield key, (n, sig)


class _VerifiedEdges(beam.DoFn):
    """A candidate bucket with signatures -> verified duplicate edges, linear in the bucket.

    A pair passes when its signatures agree on at least `bar` of their values (MinHash's Jaccard
    estimate), so pages that merely share one band are not merged. Up to PAIRWISE_MAX members, every
    pair is checked and each connected group of passing pairs becomes a star around its first node:
    exactly the components of the verified pairs, in as many edges as members. A larger bucket (a
    template shared by thousands of pages) goes by leaders instead, in time linear in its size: members
    in node order, each linked to the first earlier leader it passes with, or else a leader itself.
    """

    PAIRWISE_MAX = 64  # 64 x 64 x num_perm comparisons: well under a millisecond

    def __init__(self, bar: float):
        self.bar = bar

    def process(self, kv):
        _, members = kv
        members = sorted(members, key=lambda m: m[0])
        nodes = [n for n, _ in members]
        sigs = np.stack([np.frombuffer(sig, dtype=np.uint32) for _, sig in members])
        if len(nodes) <= self.PAIRWISE_MAX:
            passing = (sigs[:, None, :] == sigs[None, :, :]).mean(axis=2) >= self.bar
            _, component = connected_components(passing, directed=False)
            first = {}
            for i, c in enumerate(component):
                if c in first:
                    yield nodes[i], nodes[first[c]]
                else:
                    first[c] = i
            return
        leaders = []
        for i in range(len(nodes)):
            hits = np.flatnonzero((sigs[leaders] == sigs[i]).mean(axis=1) >= self.bar) if leaders else ()
            if len(hits):
                yield nodes[i], nodes[leaders[hits[0]]]
            else:
                leaders.append(i)


def verify_bar(threshold: float, num_perm: int, slack: float) -> float:
    """The estimated Jaccard a candidate pair needs: `slack` standard errors of the estimate (at the
    threshold) below the threshold. See default_config.toml [dedup] verify_slack for why."""
    return threshold - slack * math.sqrt(threshold * (1.0 - threshold) / num_perm)


class _FuzzyEdges(beam.PTransform):
    """Survivors (node, signature) -> candidate duplicate edges (node, node), from LSH buckets.

    Band records carry only the node. With verification the signatures are fetched afterwards, and only
    for documents in a bucket of two or more: a keyed join rather than a signature in each of the
    `bands` records, which cuts the shuffle of this step by about `bands` x num_perm x 4 bytes a document.
    """

    def __init__(self, bands: int, rows: int, bar: float | None):
        super().__init__()
        self.bands, self.rows, self.bar = bands, rows, bar

    def expand(self, survivors):
        buckets = (
            survivors
            | "bands" >> beam.FlatMap(_bands, self.bands, self.rows)
            | "group bands" >> beam.GroupByKey()
        )
        if self.bar is None:
            return buckets | "star edges" >> beam.FlatMap(_star_edges)
        return (
            {
                "sig": survivors | "sig by id" >> beam.Map(lambda s: (_id(s[0]), s)),
                "bucket": buckets | "memberships" >> beam.FlatMap(_memberships),
            }
            | "join signatures" >> beam.CoGroupByKey()
            | "attach signatures" >> beam.FlatMap(_attach_signature)
            | "group candidates" >> beam.GroupByKey()
            | "verified edges" >> beam.ParDo(_VerifiedEdges(self.bar))
        )


def _final_keeper(kv):
    """Per document id: where its exact duplicates and itself go, once fuzzy clusters are known.

    An exact keeper may itself be a fuzzy duplicate; its exact duplicates then point at the fuzzy
    keeper, so every dropped document names a document that was kept."""
    doc_id, joined = kv
    parents = sorted(joined["fuzzy"])
    kept = parents[0] if parents else doc_id
    if parents:
        yield doc_id, (FUZZY, kept)
    elif joined["dups"] or joined["root"]:
        _CLUSTERS.inc()
    for dup in joined["dups"]:
        yield dup, (EXACT, kept)


class _Split(Filter):
    """(document, its drop entries) -> the document, or Drop(exact | fuzzy, duplicate_of=keeper)."""

    name = "dedup"

    def drop_counter(self, drop: Drop) -> str:
        return drop.reason  # dedup.exact, dedup.fuzzy

    def decide(self, element):
        doc, drops = element
        if not drops:
            return doc
        reason, kept = min(drops)  # one per id; min so a (bug-)duplicated id resolves the same way
        return Drop(reason, doc=doc, duplicate_of=kept)


def _documents_with_drops(kv):
    _, joined = kv
    drops = list(joined["drop"])
    for doc in joined["doc"]:
        yield doc, drops


class Dedup(Block):
    """docs -> (kept, dropped)."""

    name = "dedup"
    funnel = ("dedup.exact", "dedup.fuzzy", "dedup.kept", "dedup.clusters", "dedup.cc_not_converged")
    flow_out = "dedup.kept"
    losses = ("dedup.exact", "dedup.fuzzy")
    errors = ("dedup.cc_not_converged",)
    histograms = (CLUSTER_SIZE,)

    @classmethod
    def validate(cls, cfg: dict) -> None:
        checks = [
            (0.0 < cfg["threshold"] <= 1.0, "threshold must be in (0, 1]"),
            (2 <= cfg["num_perm"] <= MAX_NUM_PERM, f"num_perm must lie in [2, {MAX_NUM_PERM}]"),
            (1 <= cfg["ngram"] <= 64, "ngram must lie in [1, 64]"),
            (cfg["scheme"] in SCHEMES, f"scheme must be one of {', '.join(SCHEMES)}"),
            (0.0 <= cfg["false_negative_weight"] <= 1.0, "false_negative_weight must be in [0, 1]"),
            (cfg["verify_slack"] >= 0.0, "verify_slack must not be negative"),
            (1 <= cfg["max_rounds"] <= 64, "max_rounds must lie in [1, 64]"),
            (1 <= cfg["batch_size"] <= 1_000_000, "batch_size must lie in [1, 1000000]"),
            (cfg["seed"] >= 0, "seed must not be negative"),
            ((cfg["bands"] == 0) == (cfg["rows"] == 0), "bands and rows are set together (or both 0)"),
            (cfg["bands"] * cfg["rows"] <= cfg["num_perm"], "bands x rows must not exceed num_perm"),
            (cfg["bands"] >= 0 and cfg["rows"] >= 0, "bands and rows must not be negative"),
        ]
        for ok, message in checks:
            if not ok:
                raise UserError(f"config: [dedup] {message}")

    def transform(self) -> beam.PTransform:
        return _Dedup(self.cfg)


class _Dedup(beam.PTransform):
    def __init__(self, cfg: dict):
        super().__init__()
        self.cfg = cfg
        if cfg["bands"]:
            self.bands, self.rows = cfg["bands"], cfg["rows"]
        else:
            self.bands, self.rows = lsh_params(cfg["threshold"], cfg["num_perm"], cfg["false_negative_weight"])

    def expand(self, docs):
        cfg = self.cfg
        if not (cfg["exact"] or cfg["fuzzy"]):
            return docs, docs.pipeline | "nothing dropped" >> beam.Create([])

        sketches = (
            docs
            | "batch" >> beam.BatchElements(min_batch_size=1, max_batch_size=cfg["batch_size"])
            | "sketch" >> beam.ParDo(
                _Sketch(cfg["exact"], cfg["fuzzy"], cfg["num_perm"], cfg["seed"], cfg["ngram"], cfg["scheme"])
            )
        )
        empty = docs.pipeline | "no pairs" >> beam.Create([])
        if cfg["exact"]:
            exact = (
                sketches
                | "key by text" >> beam.Map(lambda s: (s[0], (s[1], s[2])))
                | "group text" >> beam.GroupByKey()
                | "resolve exact" >> beam.FlatMap(_resolve_exact).with_outputs("dups", main="survivors")
            )
            survivors, dups = exact.survivors, exact.dups
        else:
            survivors, dups = sketches | "no exact" >> beam.Map(lambda s: (s[1], s[2])), empty

        if cfg["fuzzy"]:
            bar = verify_bar(cfg["threshold"], cfg["num_perm"], cfg["verify_slack"]) if cfg["verify"] else None
            members, roots = (
                survivors
                | "with text" >> beam.Filter(lambda s: s[1] is not None)
                | "fuzzy edges" >> _FuzzyEdges(self.bands, self.rows, bar)
                | "components" >> ConnectedComponents(cfg["max_rounds"])
            )
            fuzzy = members | "fuzzy ids" >> beam.Map(lambda m: (_id(m[0]), _id(m[1])))
            roots = roots | "root ids" >> beam.Map(lambda n: (_id(n), None))
        else:
            fuzzy = roots = empty

        drops = (
            {"dups": dups, "fuzzy": fuzzy, "root": roots}
            | "join clusters" >> beam.CoGroupByKey()
            | "final keepers" >> beam.FlatMap(_final_keeper)
        )
        _ = (  # the report's cluster sizes: a keeper and the documents dropped in its place
            drops
            | "by keeper" >> beam.Map(lambda d: (d[1][1], 1))
            | "cluster sizes" >> beam.CombinePerKey(sum)
            | "count sizes" >> beam.Map(_count_cluster_size)
        )
        return (
            {"doc": docs | "key by id" >> beam.Map(lambda d: (d["id"], d)), "drop": drops}
            | "join documents" >> beam.CoGroupByKey()
            | "with drops" >> beam.FlatMap(_documents_with_drops)
            | "split" >> _Split({}).transform()
        )
