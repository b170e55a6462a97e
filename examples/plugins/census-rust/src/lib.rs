//! census-rust: how many nodes of each type the graph holds, and whether one type dominates.
//! Config `threshold` (0..1, default 0.5): the share above which a type is called dominant.
//!
//! Contract 0.2: the graph arrives as columns. Every string (ids, types, metadata) lives once in
//! `graph.text`; `graph.string_ends[i]` is where string `i` ends. Node `v`'s type is string
//! `graph.node_types[v]`; edges are node indices (`graph.edge_sources[e]` → `edge_targets[e]`).

wit_bindgen::generate!({ path: "wit", world: "analyzer" });

use exports::parseltongue::plugin::analysis::Guest;
use parseltongue::plugin::graph_types::{Finding, Graph, Report, Rule, Severity};
use parseltongue::plugin::host::{self, Level};

struct Census;

/// String `i` of the graph's string table, borrowed from `graph.text` (no copy). The host sends
/// valid UTF-8 cut at character boundaries; anything else reads as "".
fn string(graph: &Graph, i: u32) -> &str {
    let i = i as usize;
    let start = if i == 0 { 0 } else { graph.string_ends[i - 1] as usize };
    let end = graph.string_ends.get(i).map_or(start, |&e| e as usize);
    graph.text.get(start..end).and_then(|bytes| std::str::from_utf8(bytes).ok()).unwrap_or("")
}

/// A share as a percentage with one decimal, rounded half up in integers.
fn percent(count: usize, total: usize) -> String {
    let tenths = (2000 * count + total) / (2 * total);
    format!("{}.{}", tenths / 10, tenths % 10)
}

impl Guest for Census {
    fn rules() -> Vec<Rule> {
        vec![Rule {
            id: "census.type".into(),
            summary: "how many nodes of one type the graph holds".into(),
            default_severity: Severity::Note,
            help: "when one type dominates, check whether it should be split into more specific types or modules".into(),
        }]
    }

    fn analyze(graph: Graph) -> Report {
        let total = graph.node_types.len();
        if total == 0 {
            let reason = "the graph has no nodes to count".to_string();
            return Report { findings: vec![], confidence: 1.0, recommendations: vec![reason] };
        }
        let threshold = match host::config("threshold").map(|t| t.parse::<f64>()) {
            None => 0.5,
            Some(Ok(t)) if (0.0..=1.0).contains(&t) => t,
            Some(_) => {
                host::log(Level::Warn, "config `threshold` must be a number between 0 and 1; using 0.5");
                0.5
            }
        };
        // Count by string index (no hashing of strings), then name the types.
        let mut by_index = std::collections::BTreeMap::<u32, usize>::new();
        for &t in &graph.node_types {
            *by_index.entry(t).or_default() += 1;
        }
        let mut counts: Vec<(&str, usize)> = by_index.into_iter().map(|(t, n)| (string(&graph, t), n)).collect();
        counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let findings = counts
            .iter()
            .map(|(t, n)| Finding {
                rule: "census.type".into(),
                severity: Severity::Note,
                message: format!("{t}: {n} of {total} nodes ({}%)", percent(*n, total)),
                nodes: vec![],
            })
            .collect();
        let (top, top_count) = counts[0];
        let mut recommendations = Vec::new();
        if counts.len() > 1 && top_count as f64 / total as f64 >= threshold {
            recommendations.push(format!(
                "`{top}` makes up {}% of all nodes: review whether it should be split into more specific types or modules",
                percent(top_count, total)
            ));
        }
        host::log(Level::Info, &format!("counted {total} nodes of {} types", counts.len()));
        Report { findings, confidence: 1.0, recommendations }
    }
}

export!(Census);
