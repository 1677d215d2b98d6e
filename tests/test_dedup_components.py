"""Connected components by large-star / small-star rounds (pipeline/components.py) against union-find."""

import random

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from webtext.pipeline.dedup.components import ConnectedComponents


def union_find_labels(edges):
    parent = {}

    def find(x):
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        ra, rb = find(a), find(b)
        parent[max(ra, rb)] = min(ra, rb)
    return {x: find(x) for x in parent}


def run_components(edges, max_rounds):
    labels = union_find_labels(edges)
    pipeline = TestPipeline(runner="FnApiRunner")
    members, roots = pipeline | beam.Create(edges) | ConnectedComponents(max_rounds)
    return pipeline, members, roots, labels


def random_graph(seed):
    """Random node names; clusters of random shapes (paths, stars, cliques), plus duplicate edges and
    self-loops (a node alone with its self-loop is no component)."""
    rng = random.Random(seed)
    names = rng.sample(range(10_000), 400)
    edges, i = [], 0
    while i < len(names) - 10:
        size = rng.randint(2, 10)
        group = names[i : i + size]
        shape = rng.choice(["path", "star", "clique", "random"])
        if shape == "path":
            edges += list(zip(group, group[1:]))
        elif shape == "star":
            edges += [(group[0], g) for g in group[1:]]
        elif shape == "clique":
            edges += [(a, b) for a in group for b in group if a < b]
        else:
            edges += [(g, rng.choice(group[: k + 1])) for k, g in enumerate(group)]
        i += size
    return edges + edges[:20] + [(b, a) for a, b in edges[20:40]]


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1])
def test_components_equal_union_find(seed):
    pipeline, members, roots, labels = run_components(random_graph(seed), max_rounds=6)
    assert_that(members, equal_to([(x, r) for x, r in labels.items() if x != r]), label="members")
    assert_that(roots, equal_to(sorted({r for x, r in labels.items() if x != r})), label="roots")
    result = pipeline.run()
    result.wait_until_finish()
    assert not result.metrics().query()["counters"]  # converged: no dedup.cc_not_converged


@pytest.mark.slow
def test_long_path_converges_in_log_rounds():
    nodes = random.Random(3).sample(range(100_000), 512)
    pipeline, members, roots, labels = run_components(list(zip(nodes, nodes[1:])), max_rounds=8)
    assert_that(roots, equal_to([min(nodes)]))
    assert_that(members, equal_to([(x, min(nodes)) for x in nodes if x != min(nodes)]), label="members")
    pipeline.run().wait_until_finish()


def test_too_few_rounds_are_counted_and_never_merge_components():
    rng = random.Random(4)
    nodes = rng.sample(range(100_000), 600)
    a, b = nodes[:300], nodes[300:]
    edges = list(zip(a, a[1:])) + list(zip(b, b[1:]))
    pipeline = TestPipeline(runner="FnApiRunner")
    members, _ = pipeline | beam.Create(edges) | ConnectedComponents(max_rounds=1)

    def same_component(pairs):
        assert all((x in a) == (label in a) for x, label in pairs)

    assert_that(members, same_component)
    result = pipeline.run()
    result.wait_until_finish()
    counters = {m.key.metric.name: m.committed for m in result.metrics().query()["counters"]}
    assert counters["dedup.cc_not_converged"] > 0
