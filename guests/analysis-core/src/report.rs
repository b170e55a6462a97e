//! Whole analyses, from node ids and edges to findings: what a plugin returns, written once so
//! the plugins and the native benchmarks run exactly the same code.

use crate::model::CodeGraph;
use crate::pagerank::pagerank;
use crate::scc::Digraph;

/// Findings and recommendations, as the contract's `analysis-result` carries them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    /// One line per finding.
    pub findings: Vec<String>,
    /// What to do about them.
    pub recommendations: Vec<String>,
    /// One line for the log.
    pub summary: String,
}

/// How many members of one cycle are named in its finding before the rest are summarised.
const NAMED_MEMBERS: usize = 12;

fn digraph<'a>(
    ids: impl IntoIterator<Item = &'a str>,
    edges: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> (Digraph<'a>, usize) {
    let mut graph = Digraph::new();
    let ids = ids.into_iter();
    graph.reserve(ids.size_hint().0);
    for id in ids {
        graph.vertex(id);
    }
    let mut used = 0;
    for (from, to) in edges {
        graph.edge(from, to);
        used += 1;
    }
    (graph, used)
}

/// Dependency cycles (Tarjan SCC), largest first, at most `max_cycles` listed.
pub fn cycles<'a>(
    ids: impl IntoIterator<Item = &'a str>,
    edges: impl IntoIterator<Item = (&'a str, &'a str)>,
    max_cycles: usize,
) -> Report {
    cycles_labelled(ids, edges, max_cycles, &|id| id.to_string())
}

/// [`cycles`], naming each node by `label(id)` in findings (e.g. `Store::open (src/store.rs:12)`
/// instead of an ISG key).
pub fn cycles_labelled<'a>(
    ids: impl IntoIterator<Item = &'a str>,
    edges: impl IntoIterator<Item = (&'a str, &'a str)>,
    max_cycles: usize,
    label: &dyn Fn(&str) -> String,
) -> Report {
    let (graph, used) = digraph(ids, edges);
    let cycles = graph.cycles();
    let mut findings = Vec::new();
    for cycle in cycles.iter().take(max_cycles) {
        let mut names: Vec<String> =
            cycle.iter().take(NAMED_MEMBERS).map(|&v| label(graph.name(v))).collect();
        let more = cycle.len().saturating_sub(NAMED_MEMBERS);
        let rest = if more > 0 { format!(" and {more} more") } else { String::new() };
        if cycle.len() == 1 {
            findings.push(format!("self-dependency: {}", names[0]));
        } else {
            names.push(names[0].clone());
            findings.push(format!("dependency cycle of {} nodes: {}{rest}", cycle.len(), names.join(" -> ")));
        }
    }
    if cycles.len() > max_cycles {
        findings.push(format!(
            "{} further cycles not listed (max-cycles = {max_cycles})",
            cycles.len() - max_cycles
        ));
    }
    let recommendations = match cycles.first() {
        None => vec![],
        Some(largest) => vec![format!(
            "break the largest cycle ({} nodes, including {}) by extracting the shared part into its own module or inverting one dependency behind a trait",
            largest.len(),
            label(graph.name(largest[0]))
        )],
    };
    let summary = format!("{} nodes, {used} edges considered, {} cycles", graph.len(), cycles.len());
    Report { findings, recommendations, summary }
}

/// Cycles between modules (metadata `module`): an edge between definitions in two modules is a
/// dependency of the first module on the second. At most `max_cycles` listed.
pub fn module_cycles(graph: &CodeGraph<'_>, max_cycles: usize) -> Report {
    let mut modules = Digraph::new();
    let mut used = 0;
    for (v, n) in graph.nodes.iter().enumerate() {
        let Some(from) = n.get("module") else { continue };
        for &(t, _) in graph.successors(v) {
            match graph.nodes[t].get("module") {
                Some(to) if to != from && graph.nodes[t].is_definition() => {
                    modules.edge(from, to);
                    used += 1;
                }
                _ => {}
            }
        }
    }
    let cycles = modules.cycles();
    let mut findings: Vec<String> = cycles
        .iter()
        .take(max_cycles)
        .map(|cycle| {
            let mut names: Vec<&str> = cycle.iter().take(NAMED_MEMBERS).map(|&v| modules.name(v)).collect();
            names.push(names[0]);
            format!("module cycle of {} modules: {}", cycle.len(), names.join(" -> "))
        })
        .collect();
    if cycles.len() > max_cycles {
        findings.push(format!("{} further module cycles not listed", cycles.len() - max_cycles));
    }
    let recommendations = cycles
        .first()
        .map(|c| {
            vec![format!(
                "untangle the cycle through {}: move what both sides need into a module both depend on",
                modules.name(c[0])
            )]
        })
        .unwrap_or_default();
    let summary =
        format!("{} modules, {used} cross-module edges, {} module cycles", modules.len(), cycles.len());
    Report { findings, recommendations, summary }
}

/// The `top` most depended-upon nodes by PageRank (20 iterations, damping 0.85).
pub fn ranking<'a>(
    ids: impl IntoIterator<Item = &'a str>,
    edges: impl IntoIterator<Item = (&'a str, &'a str)>,
    top: usize,
) -> Report {
    let (graph, used) = digraph(ids, edges);
    let adjacency: Vec<Vec<usize>> = (0..graph.len()).map(|v| graph.successors(v).to_vec()).collect();
    let rank = pagerank(&adjacency, 20, 0.85);
    let mut order: Vec<usize> = (0..rank.len()).collect();
    order.sort_by(|&a, &b| rank[b].total_cmp(&rank[a]).then_with(|| graph.name(a).cmp(graph.name(b))));
    let n = rank.len().max(1) as f64;
    let findings = order
        .iter()
        .take(top)
        .map(|&v| format!("{:.2}× average rank: {}", rank[v] * n, graph.name(v)))
        .collect();
    let recommendations = match order.first() {
        Some(&v) if rank[v] * n > 10.0 => vec![format!(
            "{} carries {:.0}× the average weight: keep its interface stable and well tested",
            graph.name(v),
            rank[v] * n
        )],
        _ => vec![],
    };
    let summary = format!("{} nodes, {used} edges ranked", graph.len());
    Report { findings, recommendations, summary }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cycles_are_reported_largest_first() {
        let r = cycles(["a", "b", "c", "d"], [("a", "b"), ("b", "a"), ("c", "c")], 10);
        assert_eq!(r.findings, vec!["dependency cycle of 2 nodes: a -> b -> a", "self-dependency: c"]);
        assert_eq!(r.summary, "4 nodes, 3 edges considered, 2 cycles");
    }

    #[test]
    fn module_cycles_come_from_edges_between_modules() {
        let o = crate::model::fixtures::Owned::new()
            .node("a1", "function", &["module=app::a"])
            .node("a2", "function", &["module=app::a"])
            .node("b1", "function", &["module=app::b"])
            .node("c1", "function", &["module=app::c"])
            .node("ext", "external", &[])
            .edge("a1", "a2", "Calls")
            .edge("a2", "b1", "Calls")
            .edge("b1", "a1", "Calls")
            .edge("b1", "c1", "Calls")
            .edge("c1", "ext", "Calls");
        let r = module_cycles(&o.graph(), 10);
        assert_eq!(r.findings, ["module cycle of 2 modules: app::a -> app::b -> app::a"]);
        assert_eq!(r.summary, "3 modules, 3 cross-module edges, 1 module cycles");
    }

    #[test]
    fn the_most_depended_upon_node_ranks_first() {
        let r = ranking(["hub", "a", "b", "c"], [("a", "hub"), ("b", "hub"), ("c", "hub"), ("hub", "a")], 2);
        assert!(r.findings[0].ends_with(": hub"), "{:?}", r.findings);
        assert_eq!(r.findings.len(), 2);
    }
}
