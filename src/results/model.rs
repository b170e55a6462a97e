//! One run of a set of plugins on one graph, as data: what `ptplugin analyze --format json`
//! writes, what a baseline is read back into, and what SARIF, the HTML report and the CI gate
//! are made from.

use serde::{Deserialize, Serialize};

use crate::contract::{Finding, Rule, Severity};
use crate::error::ErrorKind;

/// The `format` of our JSON results; a baseline must carry it.
pub const RESULTS_FORMAT: &str = "ptplugin-results/1";

/// Every plugin's outcome on one graph.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Results {
    /// [`RESULTS_FORMAT`]: says what this file is when it comes back as a baseline.
    pub format: String,
    /// The tool that made it.
    pub tool: ToolInfo,
    /// The graph analysed.
    pub graph: GraphInfo,
    /// One entry per plugin, in the order they were asked for.
    pub plugins: Vec<PluginResults>,
    /// The comparison with a baseline, when one was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<BaselineSummary>,
}

/// `ptplugin` and its version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolInfo {
    /// `ptplugin`.
    pub name: String,
    /// This crate's version.
    pub version: String,
}

impl Default for ToolInfo {
    fn default() -> Self {
        ToolInfo { name: "ptplugin".into(), version: env!("CARGO_PKG_VERSION").into() }
    }
}

/// Where the graph came from and how big it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GraphInfo {
    /// What `--graph` named (a URL, a directory, a file).
    pub source: String,
    /// Nodes.
    pub nodes: usize,
    /// Edges.
    pub edges: usize,
}

/// One plugin's outcome: its findings, or why it has none.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PluginResults {
    /// Its name.
    pub name: String,
    /// Its version (empty when it did not load).
    #[serde(default)]
    pub version: String,
    /// SHA-256 of its component, lowercase hex (empty when it did not load).
    #[serde(default)]
    pub sha256: String,
    /// The rules it declares.
    #[serde(default)]
    pub rules: Vec<Rule>,
    /// Why it produced no findings, when it failed (to load or to analyse).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<PluginFailure>,
    /// What it found.
    #[serde(default)]
    pub findings: Vec<ResultFinding>,
    /// What it recommends.
    #[serde(default)]
    pub recommendations: Vec<String>,
    /// How sure it is, 0.0 to 1.0 (when it answered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f32>,
    /// What the call used (when it ran).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<RunUsage>,
}

impl PluginResults {
    /// Findings of each severity: `[note, warning, error]`.
    pub fn by_severity(&self) -> [usize; 3] {
        let mut counts = [0; 3];
        for f in &self.findings {
            counts[f.finding.severity as usize] += 1;
        }
        counts
    }

    /// The rule `id` as the plugin declared it.
    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }
}

/// A plugin that failed: the error's kind and message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginFailure {
    /// The stable error kind (`timeout`, `trap`, `not-found`, …).
    pub kind: ErrorKind,
    /// What happened.
    pub message: String,
}

/// A finding with what identifies it across runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultFinding {
    /// The finding as the plugin reported it (nodes resolved).
    #[serde(flatten)]
    pub finding: Finding,
    /// Stable across runs: plugin, rule and node ids — never line numbers
    /// ([`fingerprint`](crate::results::fingerprint)).
    pub fingerprint: String,
    /// Against the baseline, when one was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline_state: Option<BaselineState>,
}

/// A finding compared with the baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BaselineState {
    /// Not in the baseline.
    New,
    /// In the baseline too.
    Unchanged,
    /// In the baseline, gone now.
    Absent,
}

impl BaselineState {
    /// The lowercase word, as SARIF's `baselineState` spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            BaselineState::New => "new",
            BaselineState::Unchanged => "unchanged",
            BaselineState::Absent => "absent",
        }
    }
}

/// What one call used.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RunUsage {
    /// Wall-clock time of the call.
    pub wall_time_ms: f64,
    /// CPU time of the call.
    pub cpu_time_ms: f64,
    /// Highest linear memory during the call.
    pub peak_memory_bytes: u64,
}

/// The comparison with a baseline: counts, and the findings that went away.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaselineSummary {
    /// The baseline file.
    pub path: String,
    /// Findings not in the baseline.
    pub new: usize,
    /// Findings in both.
    pub unchanged: usize,
    /// Findings of the baseline that are gone.
    pub absent: Vec<AbsentFinding>,
}

/// A baseline finding no longer reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AbsentFinding {
    /// The plugin that reported it.
    pub plugin: String,
    /// Its rule.
    pub rule: String,
    /// Its severity then.
    pub severity: Severity,
    /// Its message then.
    pub message: String,
    /// Its fingerprint.
    pub fingerprint: String,
}

impl Results {
    /// Results with no plugins yet.
    pub fn new(graph: GraphInfo) -> Results {
        Results {
            format: RESULTS_FORMAT.into(),
            tool: ToolInfo::default(),
            graph,
            plugins: Vec::new(),
            baseline: None,
        }
    }

    /// The plugins that failed.
    pub fn failed(&self) -> impl Iterator<Item = &PluginResults> {
        self.plugins.iter().filter(|p| p.error.is_some())
    }

    /// Every finding with its plugin.
    pub fn findings(&self) -> impl Iterator<Item = (&PluginResults, &ResultFinding)> {
        self.plugins.iter().flat_map(|p| p.findings.iter().map(move |f| (p, f)))
    }
}
