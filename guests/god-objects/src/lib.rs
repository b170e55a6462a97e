//! `god-objects`: types gathering too many methods (methods belong to the `impl` block whose
//! lines hold them) and functions calling too many distinct functions.
//!
//! Config: `max-methods` (default 20), `max-fan-out` (default 25).

use analysis_core::god::{self, Thresholds};
use guest_sdk::{AnalysisResult, GraphNode, Guest, host};

struct GodObjects;

impl Guest for GodObjects {
    fn analyze_graph(nodes: Vec<GraphNode>) -> AnalysisResult {
        let edges = host::edges();
        let graph = guest_sdk::code_graph(&nodes, &edges);
        let defaults = Thresholds::default();
        let limits = Thresholds {
            max_methods: guest_sdk::config_usize("max-methods", defaults.max_methods),
            max_fan_out: guest_sdk::config_usize("max-fan-out", defaults.max_fan_out),
        };
        god::report(&graph, limits).into()
    }
}

guest_sdk::export_plugin!(GodObjects);
