//! `page-rank`: the nodes the rest of the codebase leans on most, by PageRank (20 iterations,
//! damping 0.85) over `host.edges()`.
//!
//! Config: `top` (default 10) names how many nodes are listed; `bench-repeat` (default 0) runs
//! the analysis that many extra times on the same input, for benchmarks.

use analysis_core::report;
use guest_sdk::{AnalysisResult, GraphNode, Guest, Level, host};

struct PageRank;

impl Guest for PageRank {
    fn analyze_graph(nodes: Vec<GraphNode>) -> AnalysisResult {
        let top = guest_sdk::config_usize("top", 10);
        let edges = host::edges();
        let run = || {
            report::ranking(
                nodes.iter().map(|n| n.id.as_str()),
                edges.iter().map(|e| (e.source.as_str(), e.target.as_str())),
                top,
            )
        };
        guest_sdk::repeat_for_benchmarks(&run);
        let r = run();
        host::log(Level::Info, &r.summary);
        let confidence = if nodes.is_empty() { 0.0 } else { 1.0 };
        AnalysisResult { findings: r.findings, confidence, recommendations: r.recommendations }
    }
}

guest_sdk::export_plugin!(PageRank);
