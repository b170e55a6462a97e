//! Fault fixture: on any non-empty graph, panics (an abort, so a trap, in wasm).

use guest_sdk::{AnalysisResult, GraphNode, Guest};

struct FaultPanic;

impl Guest for FaultPanic {
    fn analyze_graph(nodes: Vec<GraphNode>) -> AnalysisResult {
        if nodes.is_empty() {
            return AnalysisResult::empty("nothing to panic about");
        }
        panic!("fault-panic was given {} nodes and gave up", nodes.len());
    }
}

guest_sdk::export_plugin!(FaultPanic);
