//! Whole analyses, from a graph to findings: what a plugin returns, written once so the plugins
//! and the native benchmarks run exactly the same code. Findings carry a stable rule id, a
//! severity and the nodes they are about (indices into the graph), as contract 0.2 does.

use crate::model::CodeGraph;
use crate::pagerank::pagerank;
use crate::scc::{Csr, Digraph, Successors, tarjan};

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Worth knowing.
    Note,
    /// Worth fixing.
    Warning,
    /// Wrong.
    Error,
}

/// One finding.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// A rule id from the analysis's rule list.
    pub rule: &'static str,
    /// How bad it is.
    pub severity: Severity,
    /// What to say (it may name nodes by label; the host adds the first node's place).
    pub message: String,
    /// The nodes it is about, most relevant first.
    pub nodes: Vec<u32>,
}

impl Finding {
    /// A finding about `nodes`.
    pub fn new(rule: &'static Rule, message: String, nodes: Vec<u32>) -> Finding {
        Finding { rule: rule.id, severity: rule.severity, message, nodes }
    }
}

/// A rule an analysis reports under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// Stable and dotted: `cycle.dependency`.
    pub id: &'static str,
    /// One line.
    pub summary: &'static str,
    /// The severity of its findings.
    pub severity: Severity,
    /// What to do about a finding.
    pub help: &'static str,
}

/// Findings and recommendations, as the contract's `report` carries them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    /// What was found.
    pub findings: Vec<Finding>,
    /// What to do about it.
    pub recommendations: Vec<String>,
    /// One line for the log.
    pub summary: String,
}

impl Report {
    /// The findings' messages, in order.
    pub fn messages(&self) -> Vec<&str> {
        self.findings.iter().map(|f| f.message.as_str()).collect()
    }
}

/// How many members of one cycle are named in its message before the rest are summarised.
const NAMED_MEMBERS: usize = 12;
/// How many nodes one finding lists (the host accepts up to 1000).
pub const MAX_FINDING_NODES: usize = 100;

/// What `cycle-finder` reports.
pub const CYCLE_RULES: [Rule; 4] = [
    Rule {
        id: "cycle.dependency",
        summary: "definitions that depend on each other in a cycle",
        severity: Severity::Warning,
        help: "break the cycle: extract what the members share into its own module, or invert one dependency behind a trait",
    },
    Rule {
        id: "cycle.self",
        summary: "a definition that depends on itself (direct recursion, a self-referential type)",
        severity: Severity::Note,
        help: "usually intended; check that the recursion terminates",
    },
    Rule {
        id: "cycle.module",
        summary: "modules that depend on each other in a cycle",
        severity: Severity::Warning,
        help: "move what both sides need into a module both depend on",
    },
    Rule {
        id: "cycle.unlisted",
        summary: "more cycles than the plugin lists (max-cycles)",
        severity: Severity::Note,
        help: "raise max-cycles to see them all",
    },
];

/// What `page-rank` reports.
pub const RANK_RULES: [Rule; 1] = [Rule {
    id: "rank.central",
    summary: "a node much of the codebase leans on (high PageRank)",
    severity: Severity::Note,
    help: "keep its interface stable and well tested",
}];

/// The `(source, target)` pairs of `graph`'s edges whose type `keep` accepts.
fn pairs<'g>(
    graph: &'g CodeGraph<'_>,
    keep: &'g dyn Fn(&str) -> bool,
) -> impl Iterator<Item = (usize, usize)> + Clone + 'g {
    (0..graph.len()).flat_map(move |v| {
        graph.successors(v).iter().filter(move |(_, kind)| keep(kind)).map(move |&(t, _)| (v, t))
    })
}

/// Dependency cycles (Tarjan SCC) over the edges whose type `keep` accepts, largest first, at
/// most `max_cycles` listed; each member named by [`CodeGraph::label`].
pub fn cycles(graph: &CodeGraph<'_>, keep: &dyn Fn(&str) -> bool, max_cycles: usize) -> Report {
    let adjacency = Csr::new(graph.len(), pairs(graph, keep));
    let id = |v: usize| graph.nodes[v].id;
    let mut cycles: Vec<Vec<usize>> = tarjan(&adjacency)
        .into_iter()
        .filter(|c| c.len() > 1 || adjacency.successors_of(c[0]).contains(&c[0]))
        .map(|mut c| {
            c.sort_by(|&a, &b| id(a).cmp(id(b)));
            c
        })
        .collect();
    cycles.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| id(a[0]).cmp(id(b[0]))));
    let mut findings = Vec::new();
    for cycle in cycles.iter().take(max_cycles) {
        let nodes = cycle.iter().take(MAX_FINDING_NODES).map(|&v| v as u32).collect();
        if cycle.len() == 1 {
            findings.push(Finding::new(&CYCLE_RULES[1], "depends on itself".into(), nodes));
            continue;
        }
        let mut names: Vec<String> =
            cycle.iter().take(NAMED_MEMBERS).map(|&v| graph.qualified_name(v)).collect();
        let more = cycle.len().saturating_sub(NAMED_MEMBERS);
        let rest = if more > 0 { format!(" and {more} more") } else { String::new() };
        names.push(names[0].clone());
        findings.push(Finding::new(
            &CYCLE_RULES[0],
            format!("dependency cycle of {} nodes: {}{rest}", cycle.len(), names.join(" -> ")),
            nodes,
        ));
    }
    if cycles.len() > max_cycles {
        findings.push(Finding::new(
            &CYCLE_RULES[3],
            format!("{} further cycles not listed (max-cycles = {max_cycles})", cycles.len() - max_cycles),
            Vec::new(),
        ));
    }
    let recommendations = match cycles.first() {
        None => vec![],
        Some(largest) => vec![format!(
            "break the largest cycle ({} nodes, including {}) by extracting the shared part into its own module or inverting one dependency behind a trait",
            largest.len(),
            graph.label(largest[0])
        )],
    };
    let summary =
        format!("{} nodes, {} edges considered, {} cycles", graph.len(), adjacency.edges(), cycles.len());
    Report { findings, recommendations, summary }
}

/// [`cycles`] for input that arrives as ids and id pairs (contract 0.1): vertices numbered in
/// the order `ids` gives them (so a finding's nodes are indices into `ids`), ids hashed once
/// (FxHash), members named by id. Edges naming an id not in `ids` add it as a vertex beyond them
/// (left out of findings' nodes).
pub fn cycles_by_id<'a>(
    ids: impl IntoIterator<Item = &'a str>,
    edges: impl IntoIterator<Item = (&'a str, &'a str)>,
    max_cycles: usize,
) -> Report {
    let mut graph = Digraph::new();
    let ids = ids.into_iter();
    graph.reserve(ids.size_hint().0);
    for id in ids {
        graph.vertex(id);
    }
    let known = graph.len();
    let mut used = 0;
    for (from, to) in edges {
        graph.edge(from, to);
        used += 1;
    }
    let cycles = graph.cycles();
    let nodes = |cycle: &[usize]| -> Vec<u32> {
        cycle.iter().filter(|&&v| v < known).take(MAX_FINDING_NODES).map(|&v| v as u32).collect()
    };
    let mut findings = Vec::new();
    for cycle in cycles.iter().take(max_cycles) {
        if cycle.len() == 1 {
            findings.push(Finding::new(&CYCLE_RULES[1], "depends on itself".into(), nodes(cycle)));
            continue;
        }
        let mut names: Vec<&str> = cycle.iter().take(NAMED_MEMBERS).map(|&v| graph.name(v)).collect();
        let more = cycle.len().saturating_sub(NAMED_MEMBERS);
        let rest = if more > 0 { format!(" and {more} more") } else { String::new() };
        names.push(names[0]);
        findings.push(Finding::new(
            &CYCLE_RULES[0],
            format!("dependency cycle of {} nodes: {}{rest}", cycle.len(), names.join(" -> ")),
            nodes(cycle),
        ));
    }
    if cycles.len() > max_cycles {
        findings.push(Finding::new(
            &CYCLE_RULES[3],
            format!("{} further cycles not listed (max-cycles = {max_cycles})", cycles.len() - max_cycles),
            Vec::new(),
        ));
    }
    let summary = format!("{} nodes, {used} edges considered, {} cycles", graph.len(), cycles.len());
    Report { findings, recommendations: Vec::new(), summary }
}

/// Cycles between modules (metadata `module`): an edge between definitions in two modules is a
/// dependency of the first module on the second. At most `max_cycles` listed; each finding
/// names one definition per module (the first edge that leaves it along the cycle).
pub fn module_cycles(graph: &CodeGraph<'_>, max_cycles: usize) -> Report {
    let mut modules = Digraph::new();
    // Per module vertex, a definition in it (the first met), for the finding's nodes.
    let mut member: Vec<usize> = Vec::new();
    let mut used = 0;
    let key = graph.keys.module;
    if key.is_none() {
        return Report { findings: Vec::new(), recommendations: Vec::new(), summary: "no modules".into() };
    }
    // Each node's module once (integers compared), not once per edge.
    let module: Vec<Option<&str>> = graph.nodes.iter().map(|n| n.get_key(key)).collect();
    for (v, from) in module.iter().enumerate() {
        let Some(from) = *from else { continue };
        for &(t, _) in graph.successors(v) {
            match module[t] {
                Some(to) if to != from && graph.nodes[t].is_definition() => {
                    let (f, g) = (modules.vertex(from), modules.vertex(to));
                    member.resize(modules.len(), usize::MAX);
                    if member[f] == usize::MAX {
                        member[f] = v;
                    }
                    if member[g] == usize::MAX {
                        member[g] = t;
                    }
                    modules.edge(from, to);
                    used += 1;
                }
                _ => {}
            }
        }
    }
    let cycles = modules.cycles();
    let mut findings: Vec<Finding> = cycles
        .iter()
        .take(max_cycles)
        .map(|cycle| {
            let mut names: Vec<&str> = cycle.iter().take(NAMED_MEMBERS).map(|&v| modules.name(v)).collect();
            names.push(names[0]);
            let nodes = cycle.iter().take(MAX_FINDING_NODES).map(|&m| member[m] as u32).collect();
            Finding::new(
                &CYCLE_RULES[2],
                format!("module cycle of {} modules: {}", cycle.len(), names.join(" -> ")),
                nodes,
            )
        })
        .collect();
    if cycles.len() > max_cycles {
        findings.push(Finding::new(
            &CYCLE_RULES[3],
            format!("{} further module cycles not listed", cycles.len() - max_cycles),
            Vec::new(),
        ));
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

/// The `top` most depended-upon nodes by PageRank (20 iterations, damping 0.85) over every edge.
pub fn ranking(graph: &CodeGraph<'_>, top: usize) -> Report {
    let adjacency = Csr::new(graph.len(), pairs(graph, &|_| true));
    let rank = pagerank(&adjacency, 20, 0.85);
    let id = |v: usize| graph.nodes[v].id;
    let by_rank = |&a: &usize, &b: &usize| rank[b].total_cmp(&rank[a]).then_with(|| id(a).cmp(id(b)));
    // Only the top `top` are listed: select them (linear), then sort just those.
    let mut order: Vec<usize> = (0..rank.len()).collect();
    if top < order.len() {
        order.select_nth_unstable_by(top, by_rank);
        order.truncate(top);
    }
    order.sort_by(by_rank);
    let n = rank.len().max(1) as f64;
    let findings = order
        .iter()
        .take(top)
        .map(|&v| {
            Finding::new(
                &RANK_RULES[0],
                format!("{} has {:.2}× the average rank", graph.qualified_name(v), rank[v] * n),
                vec![v as u32],
            )
        })
        .collect();
    let recommendations = match order.first() {
        Some(&v) if rank[v] * n > 10.0 => vec![format!(
            "{} carries {:.0}× the average weight: keep its interface stable and well tested",
            graph.label(v),
            rank[v] * n
        )],
        _ => vec![],
    };
    let summary = format!("{} nodes, {} edges ranked", graph.len(), adjacency.edges());
    Report { findings, recommendations, summary }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fixtures::Owned;

    fn plain(ids: &[&str], edges: &[(&str, &str)]) -> Owned {
        let mut o = Owned::new();
        for id in ids {
            o = o.node(id, "function", &[]);
        }
        for (a, b) in edges {
            o = o.edge(a, b, "Calls");
        }
        o
    }

    #[test]
    fn cycles_are_reported_largest_first_with_their_nodes() {
        let o = plain(&["a", "b", "c", "d"], &[("a", "b"), ("b", "a"), ("c", "c")]);
        let r = cycles(&o.graph(), &|_| true, 10);
        assert_eq!(r.messages(), ["dependency cycle of 2 nodes: a -> b -> a", "depends on itself"]);
        assert_eq!(r.findings[1].nodes, [2]);
        assert_eq!((r.findings[0].rule, r.findings[0].nodes.as_slice()), ("cycle.dependency", &[0, 1][..]));
        assert_eq!((r.findings[1].rule, r.findings[1].severity), ("cycle.self", Severity::Note));
        assert_eq!(r.summary, "4 nodes, 3 edges considered, 2 cycles");
        let r = cycles(&o.graph(), &|_| true, 1);
        assert_eq!(r.findings[1].rule, "cycle.unlisted");
    }

    #[test]
    fn cycles_by_id_find_the_same_cycles() {
        let r = cycles_by_id(["a", "b", "c", "d"], [("a", "b"), ("b", "a"), ("c", "c"), ("d", "zz")], 10);
        assert_eq!(r.messages(), ["dependency cycle of 2 nodes: a -> b -> a", "depends on itself"]);
        assert_eq!((r.findings[0].nodes.as_slice(), r.findings[1].nodes.as_slice()), (&[0, 1][..], &[2][..]));
    }

    #[test]
    fn edge_types_can_be_left_out() {
        let o = plain(&["a", "b"], &[("a", "b")]).edge("b", "a", "Uses");
        assert_eq!(cycles(&o.graph(), &|_| true, 10).findings.len(), 1);
        assert!(cycles(&o.graph(), &|t| t == "Calls", 10).findings.is_empty());
    }

    #[test]
    fn module_cycles_come_from_edges_between_modules() {
        let o = Owned::new()
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
        assert_eq!(r.messages(), ["module cycle of 2 modules: app::a -> app::b -> app::a"]);
        assert_eq!((r.findings[0].rule, r.findings[0].nodes.as_slice()), ("cycle.module", &[1, 2][..]));
        assert_eq!(r.summary, "3 modules, 3 cross-module edges, 1 module cycles");
    }

    #[test]
    fn the_most_depended_upon_node_ranks_first() {
        let o = plain(&["hub", "a", "b", "c"], &[("a", "hub"), ("b", "hub"), ("c", "hub"), ("hub", "a")]);
        let r = ranking(&o.graph(), 2);
        assert!(r.findings[0].message.starts_with("hub has "), "{:?}", r.findings);
        assert_eq!(r.findings[0].nodes, [0]);
        assert_eq!(r.findings.len(), 2);
    }
}
