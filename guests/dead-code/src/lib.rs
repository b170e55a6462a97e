//! `dead-code`: definitions nothing in the graph uses, with likely false positives (entry
//! points, tests, trait-impl methods, names an ambiguous call may mean) set apart.
//!
//! Config: `max-findings` (default 50).

use analysis_core::dead;
use guest_sdk::{AnalysisResult, GraphNode, Guest, host};

struct DeadCode;

impl Guest for DeadCode {
    fn analyze_graph(nodes: Vec<GraphNode>) -> AnalysisResult {
        let edges = host::edges();
        let graph = guest_sdk::code_graph(&nodes, &edges);
        let mut result: AnalysisResult =
            dead::report(&graph, guest_sdk::config_usize("max-findings", 50)).into();
        // Absence of edges is weaker evidence than their presence: callers outside the graph exist.
        result.confidence = 0.7;
        result
    }
}

guest_sdk::export_plugin!(DeadCode);
