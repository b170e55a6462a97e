//! Fault fixture: on any non-empty graph, allocates 1 MiB blocks (and touches them) forever.
//! The host's memory limit must stop it.

use guest_sdk::{AnalysisResult, GraphNode, Guest};

struct MemoryBomb;

impl Guest for MemoryBomb {
    fn analyze_graph(nodes: Vec<GraphNode>) -> AnalysisResult {
        if nodes.is_empty() {
            return AnalysisResult::empty("nothing to allocate for");
        }
        let mut hoard: Vec<Vec<u8>> = Vec::new();
        loop {
            hoard.push(vec![0xA5; 1 << 20]);
            std::hint::black_box(&mut hoard);
        }
    }
}

guest_sdk::export_plugin!(MemoryBomb);
