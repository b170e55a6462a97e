//! `api-surface`: public items per module (metadata `visibility` and `module`), widest first.
//!
//! Config: `top` (default 15) modules listed; `max-public` (default 20) public items in one
//! module above which narrowing it is recommended.

use analysis_core::surface;
use guest_sdk::{AnalysisResult, GraphNode, Guest};

struct ApiSurface;

impl Guest for ApiSurface {
    fn analyze_graph(nodes: Vec<GraphNode>) -> AnalysisResult {
        // Visibility lives on the nodes; no edges needed.
        let graph = guest_sdk::code_graph(&nodes, &[]);
        surface::report(&graph, guest_sdk::config_usize("top", 15), guest_sdk::config_usize("max-public", 20))
            .into()
    }
}

guest_sdk::export_plugin!(ApiSurface);
