//! `legacy-census`: `node-census` on contract 0.1 — the nodes arrive as records of strings and
//! findings leave as text. Kept so that the seed's contract stays exercised by a real analysis.
//!
//! Config: `threshold` (a share between 0 and 1, default 0.5), as `node-census`.

use analysis_core::census::Census;
use guest_sdk::{AnalysisResult, GraphNode, Guest, Level, host};

struct LegacyCensus;

impl Guest for LegacyCensus {
    fn analyze_graph(nodes: Vec<GraphNode>) -> AnalysisResult {
        if nodes.is_empty() {
            return AnalysisResult::empty("the graph has no nodes to count");
        }
        let threshold = guest_sdk::config_f64("threshold", 0.0..=1.0, 0.5);
        let report = Census::count(nodes.iter().map(|n| n.node_type.as_str())).report(threshold);
        host::log(Level::Info, &report.summary);
        AnalysisResult {
            findings: report.findings.into_iter().map(|f| f.message).collect(),
            confidence: 1.0,
            recommendations: report.recommendations,
        }
    }
}

guest_sdk::export_plugin!(LegacyCensus);
