//! `cycle-finder`: dependency cycles among the graph's nodes, found with Tarjan's SCC algorithm
//! over the edges the host hands out through `host.edges()`, and cycles between modules when
//! the nodes carry `module` metadata (as imported Parseltongue graphs do).
//!
//! Config: `edge-types` (comma-separated, default: all) restricts which edges count as
//! dependencies; `max-cycles` (default 100) caps how many cycles are listed; `bench-repeat`
//! (default 0) runs the analysis that many extra times on the same input, so benchmarks can
//! separate compute from marshalling.

use analysis_core::report;
use guest_sdk::{AnalysisResult, GraphNode, Guest, Level, host};

struct CycleFinder;

const DEFAULT_MAX_CYCLES: usize = 100;

impl Guest for CycleFinder {
    fn analyze_graph(nodes: Vec<GraphNode>) -> AnalysisResult {
        let edge_types: Option<Vec<String>> = host::config("edge-types")
            .map(|s| s.split(',').map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).collect());
        let max_cycles = guest_sdk::config_usize("max-cycles", DEFAULT_MAX_CYCLES);
        let edges = host::edges();
        let edges_used = || {
            edges
                .iter()
                .filter(|e| edge_types.as_ref().is_none_or(|ts| ts.contains(&e.edge_type)))
                .map(|e| (e.source.as_str(), e.target.as_str()))
        };
        // Imported graphs say where each node is: findings then name `Type::method (file:line)`
        // instead of ISG keys, and cycles between modules are looked for too.
        if nodes.iter().any(|n| n.metadata.iter().any(|(k, _)| k == "module")) {
            let graph = guest_sdk::code_graph(&nodes, &edges);
            let label = |id: &str| graph.find(id).map(|v| graph.label(v)).unwrap_or_else(|| id.to_string());
            let mut r = report::cycles_labelled(
                nodes.iter().map(|n| n.id.as_str()),
                edges_used(),
                max_cycles,
                &label,
            );
            let modules = report::module_cycles(&graph, max_cycles);
            host::log(Level::Info, &format!("{}; {}", r.summary, modules.summary));
            r.findings.extend(modules.findings);
            r.recommendations.extend(modules.recommendations);
            return AnalysisResult {
                findings: r.findings,
                confidence: 1.0,
                recommendations: r.recommendations,
            };
        }
        let run = || report::cycles(nodes.iter().map(|n| n.id.as_str()), edges_used(), max_cycles);
        guest_sdk::repeat_for_benchmarks(&run);
        let r = run();
        host::log(Level::Info, &format!("{} (of {} edges)", r.summary, edges.len()));
        AnalysisResult { findings: r.findings, confidence: 1.0, recommendations: r.recommendations }
    }
}

guest_sdk::export_plugin!(CycleFinder);
