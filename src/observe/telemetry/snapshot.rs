//! A host's figures at one moment, as plain data: what `PluginHost::metrics` returns, what the
//! endpoint serves at `/snapshot` (JSON), and what `ptplugin top` draws — locally or remotely.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::observe::process::ProcessSample;
use crate::observe::telemetry::LatencyHistogram;

/// Everything a live view needs, serializable both ways.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MetricsSnapshot {
    /// When it was taken, milliseconds since the Unix epoch.
    pub taken_at_unix_ms: u64,
    /// Since the host started, milliseconds.
    pub uptime_ms: u64,
    /// The host process.
    pub process: ProcessSample,
    /// Every loaded plugin version.
    pub plugins: Vec<PluginMetrics>,
    /// Plugins that could not be loaded: name and why.
    pub failed: Vec<(String, String)>,
}

/// One plugin version's figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PluginMetrics {
    /// The plugin's name.
    pub plugin: String,
    /// Its version.
    pub version: String,
    /// Whether new calls go to this version.
    pub active: bool,
    /// `running`, `quarantined`, `draining` or `unknown` (the supervisor did not answer).
    pub state: String,
    /// Why it is quarantined.
    pub state_reason: Option<String>,
    /// Each instance: `idle`, `busy`, `backing-off`, `stopping` or `stopped`.
    pub instances: Vec<String>,
    /// Requests waiting for an instance.
    pub queued: usize,
    /// Whether the resource monitor holds calls back.
    pub throttled: bool,
    /// Calls answered.
    pub calls: u64,
    /// Calls that ended in an error, by kind.
    pub errors: BTreeMap<String, u64>,
    /// Crashes seen.
    pub crashes: u64,
    /// Instances restarted after a crash.
    pub restarts: u64,
    /// Times quarantined.
    pub quarantines: u64,
    /// Call latency.
    pub latency: LatencyHistogram,
    /// Guest CPU time in the quota window, milliseconds.
    pub window_time_ms: f64,
    /// The CPU budget per window, milliseconds, if any.
    pub cpu_budget_ms: Option<f64>,
    /// The quota window, seconds.
    pub window_secs: f64,
    /// `normal`, `warned`, `throttled` or `stopped`.
    pub quota_level: String,
    /// Guest CPU time, all calls, milliseconds.
    pub guest_time_ms: f64,
    /// Fuel, all metered calls.
    pub fuel: u64,
    /// The highest linear memory any call reached, bytes.
    pub peak_memory_bytes: u64,
    /// Its memory limit, bytes.
    pub memory_limit_bytes: u64,
    /// Its CPU time limit per call, milliseconds.
    pub cpu_time_limit_ms: f64,
    /// Log and stdio bytes dropped by budgets and rate limits.
    pub throttled_bytes: u64,
    /// The latest errors, newest last.
    pub recent_errors: Vec<RecentError>,
}

/// One error a call ended in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecentError {
    /// When, milliseconds since the Unix epoch.
    pub at_unix_ms: u64,
    /// The error kind.
    pub kind: String,
    /// The message.
    pub message: String,
}

impl PluginMetrics {
    /// Calls that ended in an error, all kinds.
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }
}

/// Milliseconds since the Unix epoch, now.
pub(crate) fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
