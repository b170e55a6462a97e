//! `api-surface`: public items per module (metadata `visibility` and `module`), widest first.
//!
//! Config: `top` (default 15) modules listed; `max-public` (default 20) public items in one
//! module above which narrowing it is recommended.

use analysis_core::model::CodeGraph;
use analysis_core::surface;
use guest_sdk::{Analysis, Report, Rule, View};

struct ApiSurface;

impl Analysis for ApiSurface {
    fn rules() -> Vec<Rule> {
        guest_sdk::rules(&surface::RULES)
    }

    fn analyze(graph: &View<'_>) -> Report {
        let graph = CodeGraph::new(*graph);
        surface::report(&graph, guest_sdk::config_usize("top", 15), guest_sdk::config_usize("max-public", 20))
            .into()
    }
}

guest_sdk::export_plugin!(ApiSurface);
