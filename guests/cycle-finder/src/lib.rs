//! `cycle-finder`: dependency cycles among the graph's nodes, found with Tarjan's SCC algorithm
//! over the edges the host hands out through `host.edges()`.
//!
//! Config: `edge-types` (comma-separated, default: all) restricts which edges count as
//! dependencies; `max-cycles` (default 100) caps how many cycles are listed.

use analysis_core::scc::Digraph;
use guest_sdk::{AnalysisResult, GraphNode, Guest, Level, host};

struct CycleFinder;

const DEFAULT_MAX_CYCLES: usize = 100;
/// How many members of one cycle are named in its finding before the rest are summarised.
const NAMED_MEMBERS: usize = 12;

impl Guest for CycleFinder {
    fn analyze_graph(nodes: Vec<GraphNode>) -> AnalysisResult {
        let edge_types: Option<Vec<String>> = host::config("edge-types")
            .map(|s| s.split(',').map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).collect());
        let max_cycles =
            host::config("max-cycles").and_then(|s| s.parse().ok()).unwrap_or(DEFAULT_MAX_CYCLES);

        let mut graph = Digraph::new();
        for node in &nodes {
            graph.vertex(&node.id);
        }
        let edges = host::edges();
        let mut used = 0usize;
        for edge in &edges {
            if edge_types.as_ref().is_some_and(|ts| !ts.contains(&edge.edge_type)) {
                continue;
            }
            graph.edge(&edge.source, &edge.target);
            used += 1;
        }
        let cycles = graph.cycles();
        host::log(
            Level::Info,
            &format!(
                "{} nodes, {used} of {} edges considered, {} cycles",
                graph.len(),
                edges.len(),
                cycles.len()
            ),
        );

        let mut findings = Vec::new();
        for cycle in cycles.iter().take(max_cycles) {
            let mut names: Vec<&str> = cycle.iter().take(NAMED_MEMBERS).map(|&v| graph.name(v)).collect();
            let more = cycle.len().saturating_sub(NAMED_MEMBERS);
            let rest = if more > 0 { format!(" and {more} more") } else { String::new() };
            if cycle.len() == 1 {
                findings.push(format!("self-dependency: {}", names[0]));
            } else {
                names.push(names[0]);
                findings.push(format!(
                    "dependency cycle of {} nodes: {}{rest}",
                    cycle.len(),
                    names.join(" -> ")
                ));
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
                graph.name(largest[0])
            )],
        };
        AnalysisResult { findings, confidence: 1.0, recommendations }
    }
}

guest_sdk::export_plugin!(CycleFinder);
