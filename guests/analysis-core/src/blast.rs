//! Blast radius: what depends on each definition, directly and transitively — the answer to
//! "what breaks if this changes". Ranked by transitive dependents, then direct ones.

use std::collections::VecDeque;

use crate::model::CodeGraph;
use crate::report::{Finding, Report, Rule, Severity};

/// What `blast-radius` reports.
pub const RULES: [Rule; 1] = [Rule {
    id: "blast-radius.hot-spot",
    summary: "a definition whose change reaches many others (direct and transitive dependents)",
    severity: Severity::Note,
    help: "keep its signature stable, cover it with tests, and review its callers before changing behaviour",
}];

/// One definition's dependents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Radius {
    /// Node index.
    pub node: usize,
    /// Distinct nodes with an edge to it (itself excluded).
    pub direct: usize,
    /// Of `direct`, those in test code.
    pub direct_tests: usize,
    /// Distinct nodes that reach it by any path (itself excluded).
    pub transitive: usize,
}

/// The `top` definitions with the largest blast radius. Transitive counts cost a reverse walk
/// each, so only the `top × 4` (at least 64) with the most direct dependents are walked.
pub fn radii(graph: &CodeGraph<'_>, top: usize) -> Vec<Radius> {
    let mut direct: Vec<Radius> = (0..graph.len())
        .filter(|&v| graph.nodes[v].is_definition() && graph.nodes[v].node_type != "file")
        .map(|v| {
            let mut sources: Vec<usize> =
                graph.predecessors(v).iter().map(|(s, _)| *s).filter(|&s| s != v).collect();
            sources.sort_unstable();
            sources.dedup();
            let direct_tests = sources.iter().filter(|&&s| graph.nodes[s].is_test()).count();
            Radius { node: v, direct: sources.len(), direct_tests, transitive: 0 }
        })
        .filter(|r| r.direct > 0)
        .collect();
    let by_direct = |a: &Radius, b: &Radius| {
        b.direct.cmp(&a.direct).then_with(|| graph.nodes[a.node].id.cmp(graph.nodes[b.node].id))
    };
    // Only the head is walked: select it (linear), then sort just that.
    let head = (top * 4).max(64);
    if head < direct.len() {
        direct.select_nth_unstable_by(head, by_direct);
        direct.truncate(head);
    }
    direct.sort_by(by_direct);
    let mut seen = vec![usize::MAX; graph.len()];
    for r in &mut direct {
        r.transitive = reverse_reach(graph, r.node, &mut seen);
    }
    direct.sort_by(|a, b| {
        b.transitive
            .cmp(&a.transitive)
            .then(b.direct.cmp(&a.direct))
            .then_with(|| graph.nodes[a.node].id.cmp(graph.nodes[b.node].id))
    });
    direct.truncate(top);
    direct
}

/// How many nodes reach `start`; `seen` is scratch space marked with `start`.
fn reverse_reach(graph: &CodeGraph<'_>, start: usize, seen: &mut [usize]) -> usize {
    let mut queue = VecDeque::from([start]);
    seen[start] = start;
    let mut count = 0;
    while let Some(v) = queue.pop_front() {
        for &(s, _) in graph.predecessors(v) {
            if seen[s] != start {
                seen[s] = start;
                count += 1;
                queue.push_back(s);
            }
        }
    }
    count
}

/// Findings for the `top` hot spots.
pub fn report(graph: &CodeGraph<'_>, top: usize) -> Report {
    let radii = radii(graph, top);
    let findings = radii
        .iter()
        .map(|r| {
            let n = &graph.nodes[r.node];
            let tests =
                if r.direct_tests > 0 { format!(" ({} in tests)", r.direct_tests) } else { String::new() };
            Finding::new(
                &RULES[0],
                format!(
                    "{} `{}`: {} direct dependents{tests}, {} transitive",
                    n.node_type,
                    graph.qualified_name(r.node),
                    r.direct,
                    r.transitive
                ),
                vec![r.node as u32],
            )
        })
        .collect();
    let recommendations = radii
        .first()
        .map(|r| {
            vec![format!(
                "a change to {} reaches {} other entities: keep its signature stable, cover it with tests, and review its callers before changing behaviour",
                graph.label(r.node),
                r.transitive
            )]
        })
        .unwrap_or_default();
    let summary = format!("{} hot spots ranked among {} nodes", radii.len(), graph.len());
    Report { findings, recommendations, summary }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fixtures::Owned;

    /// core <- util <- {api, cli}; api <- test_api; util -> external `unwrap`.
    fn layered() -> Owned {
        Owned::new()
            .node("core", "function", &[])
            .node("util", "function", &[])
            .node("api", "function", &[])
            .node("cli", "function", &[])
            .node("test_api", "function", &["test=true"])
            .node("unwrap", "external", &[])
            .edge("util", "core", "Calls")
            .edge("api", "util", "Calls")
            .edge("cli", "util", "Calls")
            .edge("test_api", "api", "Calls")
            .edge("util", "unwrap", "Calls")
            .edge("api", "unwrap", "Calls")
            .edge("cli", "unwrap", "Calls")
    }

    #[test]
    fn transitive_dependents_rank_first_and_externals_are_not_hot_spots() {
        let o = layered();
        let g = o.graph();
        let r = radii(&g, 10);
        let got: Vec<(&str, usize, usize, usize)> =
            r.iter().map(|r| (g.nodes[r.node].id, r.direct, r.direct_tests, r.transitive)).collect();
        assert_eq!(got, [("core", 1, 0, 4), ("util", 2, 0, 3), ("api", 1, 1, 1)]);
    }

    #[test]
    fn cycles_do_not_loop_and_self_edges_do_not_count() {
        let o = Owned::new()
            .node("a", "function", &[])
            .node("b", "function", &[])
            .edge("a", "b", "Calls")
            .edge("b", "a", "Calls")
            .edge("a", "a", "Calls");
        let g = o.graph();
        let r = radii(&g, 5);
        assert_eq!(r.iter().map(|r| (r.direct, r.transitive)).collect::<Vec<_>>(), [(1, 1), (1, 1)]);
    }

    #[test]
    fn report_names_the_top_hot_spot() {
        let o = layered();
        let r = report(&o.graph(), 2);
        assert_eq!(r.findings[0].nodes, [0]);
        assert_eq!(
            r.messages(),
            [
                "function `core`: 1 direct dependents, 4 transitive",
                "function `util`: 2 direct dependents, 3 transitive"
            ]
        );
        assert!(r.recommendations[0].contains("core reaches 4 other entities"));
    }
}
