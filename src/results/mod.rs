//! Results people use: several plugins' outcomes on one graph gathered into [`Results`], and
//! what is made of them — SARIF 2.1.0 for code scanning ([`to_sarif`]), a comparison with a
//! baseline and a CI gate ([`compare`], [`Gate`]), and a self-contained HTML report with
//! pictures ([`to_html`]).
//!
//! Owns the result formats and the gate. Runs plugins only through a [`crate::PluginHost`]
//! (`collect`); must not touch the sandbox, the distribution or the CLI. A layer above `live`:
//! it imports the runtime, the graph and the contract's findings.

mod baseline;
mod collect;
mod fingerprint;
mod gate;
mod html;
mod model;
mod sarif;

pub use baseline::{Baseline, BaselineFinding};
pub use collect::{analyze, plugin_results};
pub use fingerprint::{FINGERPRINT_KEY, fingerprint};
pub use gate::{FailOn, Gate, Verdict, compare};
pub use html::{
    Figure, Figures, MAX_CYCLES, MAX_HOT_SPOTS, MAX_NODES, MAX_ROWS, Picture, Tone, figures, to_html,
};
pub use model::{
    AbsentFinding, BaselineState, BaselineSummary, GraphInfo, PluginFailure, PluginResults, RESULTS_FORMAT,
    ResultFinding, Results, RunUsage, ToolInfo,
};
pub use sarif::{RUN_MARKER, SARIF_SCHEMA, SOURCE_ROOT_ID, SarifOptions, level, to_sarif, to_sarif_json};
