"""census-python: how many nodes of each type the graph holds, and whether one type dominates.

Config `threshold` (0..1, default 0.5): the share above which a type is called dominant.

Contract 0.2: the graph arrives as columns. Every string lives once in `graph.text` (bytes);
`graph.string_ends[i]` is where string `i` ends. Node `v`'s type is string `graph.node_types[v]`;
edges are node indices (`graph.edge_sources[e]` -> `graph.edge_targets[e]`).
"""

from typing import List

from wit_world import exports
from wit_world.imports import graph_types as types
from wit_world.imports import host


def span(graph: types.Graph, i: int) -> str:
    """String `i` of the graph's string table."""
    start = graph.string_ends[i - 1] if i > 0 else 0
    return bytes(graph.text[start : graph.string_ends[i]]).decode("utf-8")


def percent(count: int, total: int) -> str:
    """A share as a percentage with one decimal, rounded half up in integers."""
    tenths = (2000 * count + total) // (2 * total)
    return f"{tenths // 10}.{tenths % 10}"


def threshold() -> float:
    text = host.config("threshold")
    if text is None:
        return 0.5
    try:
        t = float(text)
    except ValueError:
        t = -1.0
    if not 0.0 <= t <= 1.0:
        host.log(host.Level.WARN, "config `threshold` must be a number between 0 and 1; using 0.5")
        return 0.5
    return t


class Analysis(exports.Analysis):
    def rules(self) -> List[types.Rule]:
        return [
            types.Rule(
                "census.type",
                "how many nodes of one type the graph holds",
                types.Severity.NOTE,
                "when one type dominates, check whether it should be split into more specific types or modules",
            )
        ]

    def analyze(self, graph: types.Graph) -> types.Report:
        total = len(graph.node_types)
        if total == 0:
            return types.Report([], 1.0, ["the graph has no nodes to count"])
        limit = threshold()
        # Count by string index: equal types have equal indices.
        by_index = {}
        for t in graph.node_types:
            by_index[t] = by_index.get(t, 0) + 1
        named = [(span(graph, t), n) for t, n in by_index.items()]
        ordered = sorted(named, key=lambda kv: (-kv[1], kv[0].encode()))
        findings = [
            types.Finding("census.type", types.Severity.NOTE, f"{t}: {n} of {total} nodes ({percent(n, total)}%)", [])
            for t, n in ordered
        ]
        recommendations = []
        top, top_count = ordered[0]
        if len(ordered) > 1 and top_count / total >= limit:
            recommendations.append(
                f"`{top}` makes up {percent(top_count, total)}% of all nodes: "
                "review whether it should be split into more specific types or modules"
            )
        host.log(host.Level.INFO, f"counted {total} nodes of {len(ordered)} types")
        return types.Report(findings, 1.0, recommendations)
