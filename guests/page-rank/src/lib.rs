//! `page-rank`: the nodes the rest of the codebase leans on most, by PageRank (20 iterations,
//! damping 0.85) over every edge.
//!
//! Config: `top` (default 10) names how many nodes are listed; `bench-repeat` (default 0) runs
//! the analysis that many extra times on the same input, for benchmarks.

use analysis_core::model::CodeGraph;
use analysis_core::report;
use guest_sdk::{Analysis, Report, Rule, View};

struct PageRank;

impl Analysis for PageRank {
    fn rules() -> Vec<Rule> {
        guest_sdk::rules(&report::RANK_RULES)
    }

    fn analyze(graph: &View<'_>) -> Report {
        let top = guest_sdk::config_usize("top", 10);
        let run = || report::ranking(&CodeGraph::new(*graph), top);
        guest_sdk::repeat_for_benchmarks(&run);
        let mut out: Report = run().into();
        if graph.node_count() == 0 {
            out.confidence = 0.0;
        }
        out
    }
}

guest_sdk::export_plugin!(PageRank);
