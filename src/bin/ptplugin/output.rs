//! What each command prints, as types: `--format json` is serde's rendering of these (the CLI's
//! public contract, all in this file; `tests/all/json_output.rs` pins it) and `--format text` is
//! [`Output::text`] of the same value, implemented beside each command.

use std::collections::BTreeMap;
use std::io::Write;

use parseltongue_plugins::audit::VerifyReport;
use parseltongue_plugins::conformance::Check;
use parseltongue_plugins::distribution::Update;
use parseltongue_plugins::distribution::store::Installed;
use parseltongue_plugins::distribution::trust::Verdict;
use parseltongue_plugins::import::ImportStats;
use parseltongue_plugins::load::LoadReport as SustainedReport;
use parseltongue_plugins::sdk::harness::Report as HarnessReport;
use parseltongue_plugins::soak::SoakReport;
use parseltongue_plugins::{
    Analysis, Capabilities, Denied, Error, ErrorKind, Grants, HostStatus, Inspection, Limits, LoadReport,
    Policy, RequestedLimits, Usage,
};
use serde::Serialize;

use crate::args::Format;

/// A command's result, printable both ways.
pub trait Output: Serialize {
    /// The human-readable form, ending in a newline.
    fn text(&self) -> String;
}

/// Prints `out` in `format` on stdout.
pub fn print(format: Format, out: &impl Output) -> Result<(), Error> {
    match format {
        Format::Json => print_json(out),
        Format::Text => print_text(&out.text()),
    }
}

/// Pretty JSON on stdout; a closed pipe is not an error worth a panic.
pub fn print_json(value: &impl Serialize) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)
        .map_err(std::io::Error::from)
        .and_then(|()| writeln!(out))
        .or_else(ignore_broken_pipe)
}

/// Text on stdout, with the same broken-pipe tolerance.
pub fn print_text(text: &str) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes()).or_else(ignore_broken_pipe)
}

fn ignore_broken_pipe(e: std::io::Error) -> Result<(), Error> {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        Ok(())
    } else {
        Err(Error::Io { context: "cannot write to stdout".into(), source: e })
    }
}

/// `{"error": …, "usage": …}`: any command that failed. (Text goes to stderr: `report`.)
#[derive(Serialize)]
pub struct ErrorOutput<'a> {
    pub error: ErrorJson,
    /// What the failed call used, when it ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<&'a Usage>,
}

/// One error: its stable kind, its message, the causes under it, and where in a graph file.
#[derive(Serialize)]
pub struct ErrorJson {
    pub kind: ErrorKind,
    pub message: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub causes: Vec<String>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub position: Option<Position>,
}

/// 1-based line and column of a graph error.
#[derive(Serialize)]
pub struct Position {
    pub line: usize,
    pub column: Option<usize>,
}

/// `run`: the analysis, which plugin ran (and how it loaded), and the limits it ran under.
#[derive(Serialize)]
pub struct RunOutput<'a> {
    #[serde(flatten)]
    pub analysis: &'a Analysis,
    pub plugin: RunPlugin<'a>,
    pub limits: &'a Limits,
}

#[derive(Serialize)]
pub struct RunPlugin<'a> {
    pub name: &'a str,
    pub sha256: &'a str,
    pub load: &'a LoadReport,
}

/// `import`: what was read, made and resolved, and where the graph was written.
#[derive(Serialize)]
pub struct ImportOutput<'a> {
    #[serde(flatten)]
    pub stats: &'a ImportStats,
    pub nodes: usize,
    pub edges: usize,
    pub resolved: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
}

/// `inspect`: the component's surface, and the WASI policy for each WASI import.
#[derive(Serialize)]
pub struct InspectOutput<'a> {
    #[serde(flatten)]
    pub inspection: &'a Inspection,
    pub file: &'a str,
    pub name: &'a str,
    pub wasi_policy: BTreeMap<String, &'static str>,
}

/// `policy check`: what the plugin asks for, and what the policy grants and denies.
#[derive(Serialize)]
pub struct PolicyCheckOutput<'a> {
    pub plugin: &'a str,
    pub requested: &'a Capabilities,
    pub requested_limits: &'a RequestedLimits,
    pub granted: &'a Grants,
    pub denied: &'a [Denied],
    pub limits: &'a Limits,
}

/// `audit verify`: the verification report and its one-word verdict.
#[derive(Serialize)]
pub struct AuditVerifyOutput<'a> {
    #[serde(skip)]
    pub file: String,
    #[serde(flatten)]
    pub report: &'a VerifyReport,
    pub intact: bool,
}

/// `test`: the author harness's report.
#[derive(Serialize)]
pub struct TestOutput<'a> {
    pub passed: bool,
    pub report: &'a HarnessReport,
}

/// `conformance`: each threat's outcome under the policy.
#[derive(Serialize)]
pub struct ConformanceOutput<'a> {
    pub policy: &'a str,
    pub all_contained: bool,
    pub checks: &'a [Check],
}

/// `demo`: the graph, the limits, each bundled plugin's outcome, and the host's status after.
#[derive(Serialize)]
pub struct DemoOutput<'a> {
    pub graph: GraphSize,
    pub limits: &'a Limits,
    pub plugins: Vec<DemoPlugin<'a>>,
    pub status: &'a HostStatus,
    pub all_as_expected: bool,
    /// Where compiled plugins are cached ("off" without a cache), for the text form.
    #[serde(skip)]
    pub compile_cache: String,
}

#[derive(Serialize)]
pub struct GraphSize {
    pub nodes: usize,
    pub edges: usize,
}

#[derive(Serialize)]
pub struct DemoPlugin<'a> {
    pub name: &'a str,
    pub role: &'static str,
    pub as_expected: bool,
    pub summary: &'a str,
    pub wall_time_ms: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_kind: Option<ErrorKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<&'a Analysis>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovered: Option<bool>,
}

/// `push`: the pinned reference pushed.
#[derive(Serialize)]
pub struct PushOutput {
    pub pushed: String,
}

/// `pull` and `verify`: what was verified, where it came from, and why it was trusted.
#[derive(Serialize)]
pub struct ArtifactOutput<'a> {
    pub name: &'a str,
    pub version: String,
    pub reference: String,
    pub digest: &'a str,
    pub verdict: &'a Verdict,
    /// `pull` installed it; `verify` only checked.
    #[serde(skip)]
    pub installed: bool,
}

/// `update`: one entry per installed plugin that had a newer version, or the error that stopped it.
#[derive(Serialize)]
pub struct UpdatesOutput<'a> {
    pub updates: Vec<UpdateItem<'a>>,
    /// The host policy, to say in the text form whether added capabilities would be granted.
    #[serde(skip)]
    pub policy: Option<&'a Policy>,
}

#[derive(Serialize)]
#[serde(untagged)]
pub enum UpdateItem<'a> {
    Updated(&'a Update),
    Failed { error: ErrorJson },
}

/// `list`: installed plugins by name.
#[derive(Serialize)]
#[serde(transparent)]
pub struct ListOutput<'a>(pub &'a BTreeMap<String, Installed>);

/// `soak`: the samples, the growth over the run, and whether that is flat.
#[derive(Serialize)]
pub struct SoakOutput<'a> {
    #[serde(flatten)]
    pub report: &'a SoakReport,
    pub rss_growth_bytes: i64,
    pub fd_growth: i64,
    pub flat: bool,
}

/// `soak --load`: sustained load's samples, growth, throughput and verdict.
#[derive(Serialize)]
pub struct LoadOutput<'a> {
    #[serde(flatten)]
    pub report: &'a SustainedReport,
    pub rss_growth_bytes: i64,
    pub fd_growth: i64,
    pub calls_per_sec: f64,
    pub flat: bool,
}
