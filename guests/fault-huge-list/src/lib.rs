//! Fault fixture: on any non-empty graph, returns `entries` (config, default 2,000,000) empty
//! findings. Few bytes of text, but each entry costs the host a `String` when copied out, so
//! the host must refuse the list before it allocates for it.

use guest_sdk::{AnalysisResult, GraphNode, Guest};

struct HugeList;

impl Guest for HugeList {
    fn analyze_graph(nodes: Vec<GraphNode>) -> AnalysisResult {
        if nodes.is_empty() {
            return AnalysisResult::empty("nothing to list");
        }
        let entries = guest_sdk::config_usize("entries", 2_000_000);
        AnalysisResult { findings: vec![String::new(); entries], confidence: 1.0, recommendations: vec![] }
    }
}

guest_sdk::export_plugin!(HugeList);
