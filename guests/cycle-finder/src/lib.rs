//! `cycle-finder`: dependency cycles among the graph's nodes (Tarjan's SCC algorithm over node
//! indices), and cycles between modules when the nodes carry `module` metadata (as imported
//! Parseltongue graphs do).
//!
//! Config: `edge-types` (comma-separated, default: all) restricts which edges count as
//! dependencies; `max-cycles` (default 100) caps how many cycles are listed; `bench-repeat`
//! (default 0) runs the analysis that many extra times on the same input, so benchmarks can
//! separate compute from the transfer.

use analysis_core::model::CodeGraph;
use analysis_core::report;
use guest_sdk::{Analysis, Level, Report, Rule, View, host};

struct CycleFinder;

const DEFAULT_MAX_CYCLES: usize = 100;

impl Analysis for CycleFinder {
    fn rules() -> Vec<Rule> {
        guest_sdk::rules(&report::CYCLE_RULES)
    }

    fn analyze(graph: &View<'_>) -> Report {
        let edge_types: Option<Vec<String>> = host::config("edge-types")
            .map(|s| s.split(',').map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).collect());
        let max_cycles = guest_sdk::config_usize("max-cycles", DEFAULT_MAX_CYCLES);
        let keep = |kind: &str| edge_types.as_ref().is_none_or(|ts| ts.iter().any(|t| t == kind));
        let run = || {
            let graph = CodeGraph::new(*graph);
            let mut r = report::cycles(&graph, &keep, max_cycles);
            // Imported graphs say which module each node is in: cycles between modules too.
            if graph.keys.module.is_some() {
                let modules = report::module_cycles(&graph, max_cycles);
                r.summary = format!("{}; {}", r.summary, modules.summary);
                r.findings.extend(modules.findings);
                r.recommendations.extend(modules.recommendations);
            }
            r
        };
        guest_sdk::repeat_for_benchmarks(&run);
        let r = run();
        host::log(Level::Info, &format!("{} (of {} edges)", r.summary, graph.edge_count()));
        Report::from(r)
    }
}

guest_sdk::export_plugin!(CycleFinder);
