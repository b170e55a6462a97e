//! Fault fixture: on any non-empty graph, spins forever. The host's CPU limit must stop it.
//!
//! With the config `iterations=N` it spins N times and returns instead: a call that costs a
//! known amount of CPU, for tests that tell CPU time from wall time.

use guest_sdk::{AnalysisResult, GraphNode, Guest, host};

struct FaultLoop;

impl Guest for FaultLoop {
    fn analyze_graph(nodes: Vec<GraphNode>) -> AnalysisResult {
        if nodes.is_empty() {
            return AnalysisResult::empty("nothing to loop over");
        }
        let limit: Option<u64> = host::config("iterations").and_then(|n| n.parse().ok());
        let mut spins: u64 = 0;
        while limit.is_none_or(|n| spins < n) {
            spins = std::hint::black_box(spins.wrapping_add(1));
        }
        AnalysisResult {
            findings: vec![format!("spun {spins} times")],
            confidence: 1.0,
            recommendations: vec![],
        }
    }
}

guest_sdk::export_plugin!(FaultLoop);
