//! `blast-radius`: "what breaks if this changes" — the definitions with the most dependents,
//! direct and transitive, over `host.edges()`.
//!
//! Config: `top` (default 10) hot spots listed.

use analysis_core::blast;
use guest_sdk::{AnalysisResult, GraphNode, Guest, host};

struct BlastRadius;

impl Guest for BlastRadius {
    fn analyze_graph(nodes: Vec<GraphNode>) -> AnalysisResult {
        let edges = host::edges();
        let graph = guest_sdk::code_graph(&nodes, &edges);
        blast::report(&graph, guest_sdk::config_usize("top", 10)).into()
    }
}

guest_sdk::export_plugin!(BlastRadius);
