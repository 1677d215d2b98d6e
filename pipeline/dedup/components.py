"""Connected components of the duplicate graph, in Beam: alternating large-star / small-star rounds.

The algorithm is Kiveris et al., "Connected Components in MapReduce and Beyond" (SoCC 2014). Each
round is two GroupByKeys over the edge list, never a single worker holding the whole graph, so it scales
with the runner. Nodes are any totally ordered values; every component ends as a star around its
smallest node, its label. (Dedup makes a node sort first when its document should be kept, so the
label is the keeper.)

Beam graphs are static, so the rounds are unrolled: `max_rounds` of them, then a check. On the graphs
LSH produces (near-cliques, short chains) two or three rounds converge; a long chain of edits needs
about log2 of its length. A round run on a converged graph changes nothing and costs little. If the
edges are still not stars after the last round, the check counts them in the not-converged counter and
each node takes its smallest parent as its label: a component may then come out split in two (fewer
documents dropped), never two components merged.
"""

from __future__ import annotations

import apache_beam as beam

from webtext.pipeline.core.counters import counter


def _large_star(kv):
    """Node u with neighbours N: link every neighbour larger than u to the smallest of N and u."""
    u, neighbours = kv
    neighbours = set(neighbours)
    m = min(min(neighbours), u)
    for v in neighbours:
        if v > u:
            yield v, m


def _small_star(kv):
    """Node u with its smaller neighbours N: link u and every node of N to the smallest of N."""
    u, smaller = kv
    smaller = set(smaller)
    m = min(smaller)
    for v in smaller | {u}:
        if v != m:
            yield v, m


def _both_ways(edge):
    a, b = edge
    return (a, b), (b, a)


class _Round(beam.PTransform):
    """One large-star then one small-star step: edges in, edges (larger node, smaller node) out.

    No Distinct between the steps: each step reads a node's neighbours as a set, so repeated edges
    change nothing, and each emits exactly one edge per distinct input edge, so repeats cannot pile up.
    That halves the shuffles of a round."""

    def expand(self, edges):
        return (
            edges
            | "large: both ways" >> beam.FlatMap(_both_ways)
            | "large: group" >> beam.GroupByKey()
            | "large: star" >> beam.FlatMap(_large_star)
            | "small: group" >> beam.GroupByKey()  # large-star's edges are already (larger, smaller)
            | "small: star" >> beam.FlatMap(_small_star)
        )


class _Label(beam.DoFn):
    """Per node, from the final edges: a member's label (its parent) or the fact that it is a root.

    Converged means every component is a star: each non-root has exactly one parent and that parent is
    a root. Edges that break this are counted; they are what another round would still change.
    """

    ROOT = "root"

    def __init__(self, not_converged: str):
        self._not_converged_name = not_converged

    def setup(self):
        self._not_converged = counter(self._not_converged_name)

    def process(self, kv):
        node, links = kv
        parents = [other for is_parent, other in links if is_parent]
        children = sum(1 for is_parent, _ in links if not is_parent)
        if parents:
            bad = (len(parents) - 1) + (children if children else 0)
            if bad:
                self._not_converged.inc(bad)
            yield node, min(parents)
        elif children:
            yield beam.pvalue.TaggedOutput(self.ROOT, node)


def _to_parent_and_child(edge):
    child, parent = edge
    return (child, (True, parent)), (parent, (False, child))


class ConnectedComponents(beam.PTransform):
    """Undirected edges (pairs of ordered nodes) -> (members, roots).

    `members`: (node, label) for every node that is not its component's smallest; `roots`: the label
    of every component (each appears once). Isolated nodes never appear (they have no edge).
    """

    def __init__(self, max_rounds: int, not_converged: str = "dedup.cc_not_converged"):
        super().__init__()
        if max_rounds < 1:
            raise ValueError("max_rounds must be at least 1")
        self.max_rounds = max_rounds
        self.not_converged = not_converged

    def expand(self, edges):
        edges = edges | "drop self-loops" >> beam.Filter(lambda e: e[0] != e[1])
        for i in range(self.max_rounds):
            edges = edges | f"round {i + 1}" >> _Round()
        labelled = (
            edges
            | "distinct" >> beam.Distinct()  # the check below counts parents, so each edge once
            | "links" >> beam.FlatMap(_to_parent_and_child)
            | "group links" >> beam.GroupByKey()
            | "label" >> beam.ParDo(_Label(self.not_converged)).with_outputs(_Label.ROOT, main="members")
        )
        return labelled.members, labelled[_Label.ROOT]
