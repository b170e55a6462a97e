//! `node-census`: how many nodes of each type the graph holds, and whether one type dominates.
//!
//! Config: `threshold` (a share between 0 and 1, default 0.5) above which the most common type
//! is called dominant.

use analysis_core::census::{self, Census};
use guest_sdk::{Analysis, Report, Rule, View};

struct NodeCensus;

const DEFAULT_THRESHOLD: f64 = 0.5;

impl Analysis for NodeCensus {
    fn rules() -> Vec<Rule> {
        guest_sdk::rules(&census::RULES)
    }

    fn analyze(graph: &View<'_>) -> Report {
        if graph.node_count() == 0 {
            return Report::empty("the graph has no nodes to count");
        }
        let threshold = guest_sdk::config_f64("threshold", 0.0..=1.0, DEFAULT_THRESHOLD);
        let census = Census::count((0..graph.node_count()).map(|v| graph.node_type(v)));
        // The summary ("counted N nodes of M types") goes to the host log.
        census.report(threshold).into()
    }
}

guest_sdk::export_plugin!(NodeCensus);
