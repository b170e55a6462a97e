//! Guest-side bindings for contract 0.2 (`parseltongue:plugin@0.2.0`): the graph arrives as
//! columns and is read through a borrowed [`View`] — ids, types and metadata as `&str` slices of
//! the one text buffer, edges as node indices — without copying anything the host sent.
//!
//! Every bundled 0.2 plugin depends on this crate instead of running `wit_bindgen::generate!`
//! itself, so the contract is bound exactly once. A plugin implements [`Analysis`] and registers
//! it with `guest_sdk::export_plugin!(MyPlugin);`.

wit_bindgen::generate!({
    path: "../../wit/v0.2",
    world: "analyzer",
    pub_export_macro: true,
    export_macro_name: "export_analyzer",
    default_bindings_module: "guest_sdk",
});

pub use analysis_core::columns::{Columns, View};
pub use exports::parseltongue::plugin::analysis::Guest;
pub use parseltongue::plugin::graph_types::{Finding, Graph, Report, Rule, Severity};
pub use parseltongue::plugin::host::{self, Level};

/// What a 0.2 plugin implements.
pub trait Analysis {
    /// Every rule its findings may name.
    fn rules() -> Vec<Rule>;

    /// The analysis, on the call's graph.
    fn analyze(graph: &View<'_>) -> Report;
}

/// Registers `$plugin` (a type implementing [`Analysis`]) as the component's export. The graph
/// is checked once and handed over as a [`View`]; the report gets this call's warnings about
/// malformed config values ([`config_usize`] and friends) first among its recommendations, so
/// the operator sees them in the output, not only in a log.
#[macro_export]
macro_rules! export_plugin {
    ($plugin:ident) => {
        #[doc(hidden)]
        pub struct GuestSdkExport;
        impl $crate::Guest for GuestSdkExport {
            fn rules() -> ::std::vec::Vec<$crate::Rule> {
                <$plugin as $crate::Analysis>::rules()
            }
            fn analyze(graph: $crate::Graph) -> $crate::Report {
                $crate::run::<$plugin>(&graph)
            }
        }
        $crate::export_analyzer!(GuestSdkExport);
    };
}

/// The columns of `graph`, borrowed.
pub fn columns(graph: &Graph) -> Columns<'_> {
    Columns {
        text: &graph.text,
        string_ends: &graph.string_ends,
        node_types: &graph.node_types,
        meta_starts: &graph.meta_starts,
        meta_keys: &graph.meta_keys,
        meta_values: &graph.meta_values,
        edge_sources: &graph.edge_sources,
        edge_targets: &graph.edge_targets,
        edge_types: &graph.edge_types,
    }
}

/// Checks `graph`, runs `P` on its view, adds the config warnings.
#[doc(hidden)]
pub fn run<P: Analysis>(graph: &Graph) -> Report {
    let report = match View::new(columns(graph)) {
        Ok(view) => P::analyze(&view),
        Err(problem) => {
            host::log(Level::Error, &format!("the host sent inconsistent columns: {problem}"));
            Report {
                findings: Vec::new(),
                confidence: 0.0,
                recommendations: vec![format!(
                    "nothing analysed: the graph's columns are inconsistent ({problem})"
                )],
            }
        }
    };
    with_config_warnings(report)
}

std::thread_local! {
    /// Malformed config values met during the current call.
    static CONFIG_WARNINGS: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Reports a config value the plugin could not use: a warning in the host log, and a line at the
/// top of the call's recommendations.
pub fn config_warning(message: String) {
    host::log(Level::Warn, &message);
    CONFIG_WARNINGS.with(|w| w.borrow_mut().push(message));
}

fn with_config_warnings(mut report: Report) -> Report {
    let warnings = CONFIG_WARNINGS.with(|w| std::mem::take(&mut *w.borrow_mut()));
    if !warnings.is_empty() {
        report.recommendations.splice(0..0, warnings);
    }
    report
}

/// A config value as the operator wrote it, cut short for messages.
fn shown(value: &str) -> String {
    const LONGEST: usize = 40;
    match value.char_indices().nth(LONGEST) {
        Some((cut, _)) => format!("{}… ({} characters)", &value[..cut], value.chars().count()),
        None => value.to_string(),
    }
}

/// Runs `analysis` as many extra times as the operator's `bench-repeat` config says (default
/// none), discarding the results. Benchmarks time a call with and without repeats: the
/// difference is pure compute inside the sandbox, with the transfer the same on both sides.
pub fn repeat_for_benchmarks<T>(analysis: &dyn Fn() -> T) {
    let extra = config_usize("bench-repeat", 0);
    for _ in 0..extra {
        std::hint::black_box(analysis());
    }
}

/// A whole-number config value, or `default` (with a [`config_warning`] if it is malformed:
/// negative, fractional, too large, not a number).
pub fn config_usize(key: &str, default: usize) -> usize {
    let value = host::config(key);
    match value.as_deref().map(|v| v.trim().parse::<usize>()) {
        None => default,
        Some(Ok(n)) => n,
        Some(Err(_)) => {
            config_warning(format!(
                "config `{key}` = `{}` is not a whole number from 0 to {}: used {default}",
                shown(value.as_deref().unwrap_or_default()),
                usize::MAX
            ));
            default
        }
    }
}

/// A number config value within `range`, or `default` (with a [`config_warning`] if it is
/// malformed or out of range).
pub fn config_f64(key: &str, range: std::ops::RangeInclusive<f64>, default: f64) -> f64 {
    let value = host::config(key);
    match value.as_deref().map(|v| v.trim().parse::<f64>()) {
        None => default,
        Some(Ok(x)) if range.contains(&x) => x,
        Some(_) => {
            config_warning(format!(
                "config `{key}` = `{}` is not a number from {} to {}: used {default}",
                shown(value.as_deref().unwrap_or_default()),
                range.start(),
                range.end()
            ));
            default
        }
    }
}

impl From<analysis_core::report::Severity> for Severity {
    fn from(s: analysis_core::report::Severity) -> Self {
        match s {
            analysis_core::report::Severity::Note => Severity::Note,
            analysis_core::report::Severity::Warning => Severity::Warning,
            analysis_core::report::Severity::Error => Severity::Error,
        }
    }
}

/// The contract's rule list from an analysis's rule table.
pub fn rules(table: &[analysis_core::report::Rule]) -> Vec<Rule> {
    table
        .iter()
        .map(|r| Rule {
            id: r.id.to_string(),
            summary: r.summary.to_string(),
            default_severity: r.severity.into(),
            help: r.help.to_string(),
        })
        .collect()
}

impl From<analysis_core::report::Report> for Report {
    /// The contract's report (confidence 1.0); the summary goes to the host log.
    fn from(r: analysis_core::report::Report) -> Self {
        host::log(Level::Info, &r.summary);
        Report {
            findings: r
                .findings
                .into_iter()
                .map(|f| Finding {
                    rule: f.rule.to_string(),
                    severity: f.severity.into(),
                    message: f.message,
                    nodes: f.nodes,
                })
                .collect(),
            confidence: 1.0,
            recommendations: r.recommendations,
        }
    }
}

impl Report {
    /// A report with no findings, for inputs that leave a plugin nothing to say.
    pub fn empty(reason: &str) -> Self {
        Report { findings: Vec::new(), confidence: 1.0, recommendations: vec![reason.to_string()] }
    }
}
