//! `node-census`: how many nodes of each type the graph holds, and whether one type dominates.
//!
//! Config: `threshold` (a share between 0 and 1, default 0.5) above which the most common type
//! is called dominant.

use analysis_core::census::Census;
use guest_sdk::{AnalysisResult, GraphNode, Guest, Level, host};

struct NodeCensus;

const DEFAULT_THRESHOLD: f64 = 0.5;

impl Guest for NodeCensus {
    fn analyze_graph(nodes: Vec<GraphNode>) -> AnalysisResult {
        if nodes.is_empty() {
            return AnalysisResult::empty("the graph has no nodes to count");
        }
        let threshold = guest_sdk::config_f64("threshold", 0.0..=1.0, DEFAULT_THRESHOLD);
        let census = Census::count(nodes.iter().map(|n| n.node_type.as_str()));
        let findings = census
            .counts
            .iter()
            .map(|(t, n)| format!("{t}: {n} of {} nodes ({}%)", census.total, census.percent(*n)))
            .collect();
        let recommendations = match census.dominant(threshold) {
            Some((t, _)) => vec![format!(
                "`{t}` makes up {}% of all nodes: review whether it should be split into more specific types or modules",
                census.percent(census.counts[0].1)
            )],
            None => Vec::new(),
        };
        host::log(Level::Info, &format!("counted {} nodes of {} types", census.total, census.counts.len()));
        AnalysisResult { findings, confidence: 1.0, recommendations }
    }
}

guest_sdk::export_plugin!(NodeCensus);
