//! Fault fixture: on any non-empty graph, returns 200,000 findings of 100 bytes (about 20 MB),
//! far beyond the host's output limits but within its memory limit.

use guest_sdk::{AnalysisResult, GraphNode, Guest};

struct OversizedOutput;

impl Guest for OversizedOutput {
    fn analyze_graph(nodes: Vec<GraphNode>) -> AnalysisResult {
        if nodes.is_empty() {
            return AnalysisResult::empty("nothing to report");
        }
        let findings = (0..200_000).map(|i| format!("{i:0>100}")).collect();
        AnalysisResult { findings, confidence: 1.0, recommendations: vec![] }
    }
}

guest_sdk::export_plugin!(OversizedOutput);
