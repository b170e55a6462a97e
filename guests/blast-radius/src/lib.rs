//! `blast-radius`: "what breaks if this changes" — the definitions with the most dependents,
//! direct and transitive.
//!
//! Config: `top` (default 10) hot spots listed; `bench-repeat` (default 0) runs the analysis
//! that many extra times on the same input, for benchmarks.

use analysis_core::blast;
use analysis_core::model::CodeGraph;
use guest_sdk::{Analysis, Report, Rule, View};

struct BlastRadius;

impl Analysis for BlastRadius {
    fn rules() -> Vec<Rule> {
        guest_sdk::rules(&blast::RULES)
    }

    fn analyze(graph: &View<'_>) -> Report {
        let top = guest_sdk::config_usize("top", 10);
        let run = || blast::report(&CodeGraph::new(*graph), top);
        guest_sdk::repeat_for_benchmarks(&run);
        run().into()
    }
}

guest_sdk::export_plugin!(BlastRadius);
