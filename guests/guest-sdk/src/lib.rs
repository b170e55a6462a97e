//! Guest-side bindings for the `parseltongue:plugin` contract.
//!
//! Every bundled plugin depends on this crate instead of running `wit_bindgen::generate!` itself,
//! so the contract is bound exactly once. A plugin implements [`Guest`] and registers it with
//! `guest_sdk::export_plugin!(MyPlugin);`.

wit_bindgen::generate!({
    path: "../../wit",
    world: "analyzer",
    pub_export_macro: true,
    export_macro_name: "export_analyzer",
    default_bindings_module: "guest_sdk",
});

pub use exports::parseltongue::plugin::parseltongue_plugin::{AnalysisResult, GraphNode, Guest};
pub use parseltongue::plugin::host::{self, GraphEdge, Level};

/// Registers `$plugin` (the name of a type implementing [`Guest`]) as the component's export.
#[macro_export]
macro_rules! export_plugin {
    ($plugin:ident) => {
        $crate::export_analyzer!($plugin);
    };
}

impl AnalysisResult {
    /// A result with no findings, for inputs that leave a plugin nothing to say.
    pub fn empty(reason: &str) -> Self {
        AnalysisResult { findings: Vec::new(), confidence: 1.0, recommendations: vec![reason.to_string()] }
    }
}

/// Runs `analysis` as many extra times as the operator's `bench-repeat` config says (default
/// none), discarding the results. Benchmarks time a call with and without repeats: the
/// difference is pure compute inside the sandbox, with marshalling the same on both sides.
pub fn repeat_for_benchmarks<T>(analysis: &dyn Fn() -> T) {
    let extra: usize = host::config("bench-repeat").and_then(|s| s.parse().ok()).unwrap_or(0);
    for _ in 0..extra {
        std::hint::black_box(analysis());
    }
}

/// The analyses' view of a call's input: `nodes` with the edges from `host.edges()`, borrowed.
pub fn code_graph<'a>(nodes: &'a [GraphNode], edges: &'a [GraphEdge]) -> analysis_core::model::CodeGraph<'a> {
    analysis_core::model::CodeGraph::new(
        nodes.iter().map(|n| analysis_core::model::Node {
            id: &n.id,
            node_type: &n.node_type,
            meta: &n.metadata,
        }),
        edges.iter().map(|e| (e.source.as_str(), e.target.as_str(), e.edge_type.as_str())),
    )
}

/// A whole-number config value, or `default` (with a warning in the host log if it is malformed).
pub fn config_usize(key: &str, default: usize) -> usize {
    match host::config(key).map(|v| v.trim().parse::<usize>()) {
        None => default,
        Some(Ok(n)) => n,
        Some(Err(_)) => {
            host::log(Level::Warn, &format!("config `{key}` must be a whole number; using {default}"));
            default
        }
    }
}

impl From<analysis_core::report::Report> for AnalysisResult {
    fn from(r: analysis_core::report::Report) -> Self {
        host::log(Level::Info, &r.summary);
        AnalysisResult { findings: r.findings, confidence: 1.0, recommendations: r.recommendations }
    }
}
