"""The dedup stage end to end (pipeline/dedup/stage.py) on the benchmark set built from real pages."""

import sys
from collections import defaultdict
from pathlib import Path

import pytest

from webtext.errors import UserError
from webtext.pipeline.dedup.stage import node
from webtext.pipeline.run.config import stage_config
from webtext.pipeline.dedup.minhash import exact_key

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import dedup_set  # noqa: E402  (bench/ is scripts, not a package)


@pytest.fixture(scope="module")
def pages():
    return dedup_set.load_pages()


@pytest.fixture(scope="module")
def bench(pages):
    docs, planted = dedup_set.build_set(pages)
    kept, dropped, counters = dedup_set.run(docs)
    return docs, planted, kept, dropped, counters


@pytest.mark.slow
def test_each_planted_cluster_keeps_exactly_one_and_distinct_pages_stay(bench):
    docs, planted, kept, dropped, _ = bench
    assert len(kept) + len(dropped) == len(docs)
    kept_per_origin = defaultdict(int)
    for d in kept:
        kept_per_origin[planted[d["id"]]] += 1
    assert set(kept_per_origin.values()) == {1}  # every original's cluster keeps one document
    assert len(kept_per_origin) == len(set(planted.values()))  # and no original lost all its copies
    for keeper, ids in dedup_set.clusters(kept, dropped).items():
        assert len({planted[i] for i in ids}) == 1, "two distinct pages were merged"


def test_precision_and_recall_against_exact_jaccard(bench):
    docs, _, kept, dropped, _ = bench
    scores = dedup_set.score(kept, dropped, dedup_set.true_pairs(docs))
    # Pairs below 0.8 inside a cluster (an edited copy and a cut copy of the same page, each >= 0.8 to
    # the original) are what keeps precision under 1: clusters are transitive, Jaccard is not.
    assert scores["precision"] >= 0.98, scores
    assert scores["recall"] >= 0.98, scores


def test_keep_rule_reasons_and_counters(bench):
    docs, _, kept, dropped, counters = bench
    by_id = {d["id"]: d for d in docs}
    kept_ids = {d["id"] for d in kept}
    for keeper, ids in dedup_set.clusters(kept, dropped).items():
        assert keeper == min(ids, key=lambda i: node(by_id[i]))  # highest score, longest, smallest id
    assert all(d["duplicate_of"] in kept_ids for d in dropped)
    reasons = defaultdict(int)
    for d in dropped:
        reasons[d["drop_reason"]] += 1
    assert reasons["dedup.exact"] == len(docs) - len({exact_key(d["text"]) for d in docs})
    assert counters["dedup.exact"] == reasons["dedup.exact"]
    assert counters["dedup.fuzzy"] == reasons["dedup.fuzzy"] > 0
    assert counters["dedup.clusters"] == sum(len(ids) > 1 for ids in dedup_set.clusters(kept, dropped).values())
    assert counters.get("dedup.cc_not_converged", 0) == 0


@pytest.mark.slow
def test_exact_duplicates_of_a_fuzzy_duplicate_point_at_the_final_keeper(pages):
    text = next(t for _, t in pages if len(t.split()) > 300)
    words = text.split()
    edited = " ".join(words[:-3])  # a near-duplicate, slightly shorter
    docs = [
        dedup_set.make_doc("https://a.example/1", text, 10),  # exact keeper (10 beats None) ...
        dedup_set.make_doc("https://b.example/1", text.upper(), None),  # ... of this one,
        dedup_set.make_doc("https://c.example/1", edited, 50),  # but this one wins the fuzzy cluster
        dedup_set.make_doc("https://d.example/1", pages[0][1], None),  # unrelated
    ]
    kept, dropped, _ = dedup_set.run(docs)
    ids = [d["id"] for d in docs]
    assert sorted(d["id"] for d in kept) == sorted([ids[2], ids[3]])
    assert {d["id"]: (d["drop_reason"], d["duplicate_of"]) for d in dropped} == {
        ids[0]: ("dedup.fuzzy", ids[2]),
        ids[1]: ("dedup.exact", ids[2]),
    }


@pytest.fixture(scope="module")
def small_set(pages):
    return dedup_set.build_set(pages[:60])


@pytest.mark.slow
@pytest.mark.parametrize(
    "config,dropped_reasons",
    [
        ({"fuzzy": False}, {"dedup.exact"}),
        ({"exact": False}, {"dedup.fuzzy"}),
        ({"exact": False, "fuzzy": False}, set()),
        ({"verify": False}, {"dedup.exact", "dedup.fuzzy"}),
    ],
)
def test_switches(small_set, config, dropped_reasons):
    docs, planted = small_set
    kept, dropped, _ = dedup_set.run(docs, config)
    assert {d["drop_reason"] for d in dropped} == dropped_reasons
    for ids in dedup_set.clusters(kept, dropped).values():
        assert len({planted[i] for i in ids}) == 1
    if config.get("fuzzy", True):  # with exact=False, fuzzy catches the exact copies too
        # Not 1.0: LSH misses a pair of Jaccard 0.86 here (no band in common, a 2% chance at 14 x 9).
        assert dedup_set.score(kept, dropped, dedup_set.true_pairs(docs))["recall"] >= 0.95


@pytest.mark.slow
def test_same_survivors_with_multi_processing(small_set):
    docs, _ = small_set
    local = dedup_set.run(docs)
    multi = dedup_set.run(docs, direct_running_mode="multi_processing", direct_num_workers=2)
    for a, b in zip(local[:2], multi[:2]):
        assert sorted((d["id"], d.get("duplicate_of")) for d in a) == sorted((d["id"], d.get("duplicate_of")) for d in b)
    assert local[2] == multi[2]


@pytest.mark.parametrize(
    "config", [{"threshold": 1.5}, {"bands": 4}, {"bands": 20, "rows": 20}, {"scheme": "md5"}, {"treshold": 0.8}]
)
def test_bad_config_is_a_user_error(config):
    with pytest.raises(UserError, match="dedup"):
        stage_config("dedup", **config)
