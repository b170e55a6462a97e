//! `god-objects`: types gathering too many methods (methods belong to the `impl` block whose
//! lines hold them) and functions calling too many distinct functions.
//!
//! Config: `max-methods` (default 20), `max-fan-out` (default 25).

use analysis_core::god::{self, Thresholds};
use analysis_core::model::CodeGraph;
use guest_sdk::{Analysis, Report, Rule, View};

struct GodObjects;

impl Analysis for GodObjects {
    fn rules() -> Vec<Rule> {
        guest_sdk::rules(&god::RULES)
    }

    fn analyze(graph: &View<'_>) -> Report {
        let graph = CodeGraph::new(*graph);
        let defaults = Thresholds::default();
        let limits = Thresholds {
            max_methods: guest_sdk::config_usize("max-methods", defaults.max_methods),
            max_fan_out: guest_sdk::config_usize("max-fan-out", defaults.max_fan_out),
        };
        god::report(&graph, limits).into()
    }
}

guest_sdk::export_plugin!(GodObjects);
