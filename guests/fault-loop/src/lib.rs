//! Fault fixture: on any non-empty graph, spins forever. The host's CPU limit must stop it.

use guest_sdk::{AnalysisResult, GraphNode, Guest};

struct FaultLoop;

impl Guest for FaultLoop {
    fn analyze_graph(nodes: Vec<GraphNode>) -> AnalysisResult {
        if nodes.is_empty() {
            return AnalysisResult::empty("nothing to loop over");
        }
        let mut spins: u64 = 0;
        loop {
            spins = std::hint::black_box(spins.wrapping_add(1));
        }
    }
}

guest_sdk::export_plugin!(FaultLoop);
