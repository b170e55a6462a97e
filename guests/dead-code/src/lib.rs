//! `dead-code`: definitions nothing in the graph uses, with likely false positives (entry
//! points, tests, trait-impl methods, names an ambiguous call may mean) set apart.
//!
//! Config: `max-findings` (default 50).

use analysis_core::dead;
use analysis_core::model::CodeGraph;
use guest_sdk::{Analysis, Report, Rule, View};

struct DeadCode;

impl Analysis for DeadCode {
    fn rules() -> Vec<Rule> {
        guest_sdk::rules(&dead::RULES)
    }

    fn analyze(graph: &View<'_>) -> Report {
        let graph = CodeGraph::new(*graph);
        let mut report: Report = dead::report(&graph, guest_sdk::config_usize("max-findings", 50)).into();
        // Absence of edges is weaker evidence than their presence: callers outside the graph exist.
        report.confidence = 0.7;
        report
    }
}

guest_sdk::export_plugin!(DeadCode);
