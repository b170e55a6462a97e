"""census-python: how many nodes of each type the graph holds, and whether one type dominates.

Config `threshold` (0..1, default 0.5): the share above which a type is called dominant.
"""

from typing import List

from wit_world import exports
from wit_world.exports import parseltongue_plugin as contract
from wit_world.imports import host


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


class ParseltonguePlugin(exports.ParseltonguePlugin):
    def analyze_graph(self, nodes: List[contract.GraphNode]) -> contract.AnalysisResult:
        if not nodes:
            return contract.AnalysisResult([], 1.0, ["the graph has no nodes to count"])
        limit = threshold()
        counts = {}
        for n in nodes:
            counts[n.node_type] = counts.get(n.node_type, 0) + 1
        ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0].encode()))
        total = len(nodes)
        findings = [f"{t}: {n} of {total} nodes ({percent(n, total)}%)" for t, n in ordered]
        recommendations = []
        top, top_count = ordered[0]
        if len(ordered) > 1 and top_count / total >= limit:
            recommendations.append(
                f"`{top}` makes up {percent(top_count, total)}% of all nodes: "
                "review whether it should be split into more specific types or modules"
            )
        host.log(host.Level.INFO, f"counted {total} nodes of {len(ordered)} types")
        return contract.AnalysisResult(findings, 1.0, recommendations)
