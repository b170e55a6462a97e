//! census-rust: how many nodes of each type the graph holds, and whether one type dominates.
//! Config `threshold` (0..1, default 0.5): the share above which a type is called dominant.

wit_bindgen::generate!({ path: "wit", world: "analyzer" });

use exports::parseltongue::plugin::parseltongue_plugin::{AnalysisResult, GraphNode, Guest};
use parseltongue::plugin::host::{self, Level};

struct Census;

/// A share as a percentage with one decimal, rounded half up in integers.
fn percent(count: usize, total: usize) -> String {
    let tenths = (2000 * count + total) / (2 * total);
    format!("{}.{}", tenths / 10, tenths % 10)
}

impl Guest for Census {
    fn analyze_graph(nodes: Vec<GraphNode>) -> AnalysisResult {
        if nodes.is_empty() {
            let reason = "the graph has no nodes to count".to_string();
            return AnalysisResult { findings: vec![], confidence: 1.0, recommendations: vec![reason] };
        }
        let threshold = match host::config("threshold").map(|t| t.parse::<f64>()) {
            None => 0.5,
            Some(Ok(t)) if (0.0..=1.0).contains(&t) => t,
            Some(_) => {
                host::log(Level::Warn, "config `threshold` must be a number between 0 and 1; using 0.5");
                0.5
            }
        };
        let mut counts = std::collections::BTreeMap::<&str, usize>::new();
        for n in &nodes {
            *counts.entry(n.node_type.as_str()).or_default() += 1;
        }
        let mut counts: Vec<(&str, usize)> = counts.into_iter().collect();
        counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let total = nodes.len();
        let findings = counts.iter().map(|(t, n)| format!("{t}: {n} of {total} nodes ({}%)", percent(*n, total))).collect();
        let (top, top_count) = counts[0];
        let mut recommendations = Vec::new();
        if counts.len() > 1 && top_count as f64 / total as f64 >= threshold {
            recommendations.push(format!(
                "`{top}` makes up {}% of all nodes: review whether it should be split into more specific types or modules",
                percent(top_count, total)
            ));
        }
        host::log(Level::Info, &format!("counted {total} nodes of {} types", counts.len()));
        AnalysisResult { findings, confidence: 1.0, recommendations }
    }
}

export!(Census);
