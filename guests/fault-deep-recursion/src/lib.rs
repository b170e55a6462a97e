//! Fault fixture: on any non-empty graph, recurses without bound. The host's wasm stack limit must
//! stop it with a stack-overflow trap.

use guest_sdk::{AnalysisResult, GraphNode, Guest};

struct DeepRecursion;

#[inline(never)]
fn descend(depth: u64) -> u64 {
    if std::hint::black_box(depth) == u64::MAX {
        return 0;
    }
    // The addition after the call keeps this from becoming a loop.
    std::hint::black_box(descend(std::hint::black_box(depth + 1))) + 1
}

impl Guest for DeepRecursion {
    fn analyze_graph(nodes: Vec<GraphNode>) -> AnalysisResult {
        if nodes.is_empty() {
            return AnalysisResult::empty("nothing to descend into");
        }
        let depth = descend(nodes.len() as u64);
        AnalysisResult {
            findings: vec![format!("reached depth {depth}")],
            confidence: 0.0,
            recommendations: vec![],
        }
    }
}

guest_sdk::export_plugin!(DeepRecursion);
