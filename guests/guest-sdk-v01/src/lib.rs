//! Guest-side bindings for contract 0.1 (`parseltongue:plugin@0.1.0`, the seed's contract).
//!
//! The bundled plugins kept on 0.1 — the fault and escape fixtures, `legacy-census` — depend on
//! this crate (renamed to `guest_sdk` in their manifests), so 0.1 stays bound exactly once and
//! tested. New plugins use `guest-sdk` (contract 0.2). A plugin implements [`Guest`] and
//! registers it with `guest_sdk::export_plugin!(MyPlugin);`.

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
/// Its results get the warnings about malformed config values ([`config_usize`] and friends)
/// added to their recommendations, so the operator sees them in the output, not only in a log.
#[macro_export]
macro_rules! export_plugin {
    ($plugin:ident) => {
        #[doc(hidden)]
        pub struct GuestSdkExport;
        impl $crate::Guest for GuestSdkExport {
            fn analyze_graph(nodes: ::std::vec::Vec<$crate::GraphNode>) -> $crate::AnalysisResult {
                $crate::with_config_warnings(<$plugin as $crate::Guest>::analyze_graph(nodes))
            }
        }
        $crate::export_analyzer!(GuestSdkExport);
    };
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

/// `result` with this call's config warnings put first among its recommendations.
#[doc(hidden)]
pub fn with_config_warnings(mut result: AnalysisResult) -> AnalysisResult {
    let warnings = CONFIG_WARNINGS.with(|w| std::mem::take(&mut *w.borrow_mut()));
    if !warnings.is_empty() {
        result.recommendations.splice(0..0, warnings);
    }
    result
}

/// A config value as the operator wrote it, cut short for messages.
fn shown(value: &str) -> String {
    const LONGEST: usize = 40;
    match value.char_indices().nth(LONGEST) {
        Some((cut, _)) => format!("{}… ({} characters)", &value[..cut], value.chars().count()),
        None => value.to_string(),
    }
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
