//! A host's figures at one moment, as plain data: what `PluginHost::metrics` returns, what the
//! endpoint serves at `/snapshot` (JSON), and what `ptplugin top` draws — locally or remotely.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::process::ProcessSample;
use crate::runtime::host::HostStatus;
use crate::runtime::supervisor::{InstanceState, PluginState};
use crate::telemetry::latency::LatencyHistogram;

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

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn word<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(serde_json::Value::Object(o)) => {
            o.get("state").and_then(|s| s.as_str()).map(str::to_string).unwrap_or_default()
        }
        _ => String::new(),
    }
}

impl MetricsSnapshot {
    /// The snapshot of `status`, taken `uptime` after the host started.
    pub(crate) fn from_status(status: &HostStatus, uptime: Duration) -> MetricsSnapshot {
        let plugins = status
            .plugins
            .iter()
            .map(|p| {
                let sup = p.supervisor.as_ref();
                let usage = p.usage.clone().unwrap_or_default();
                let (state, state_reason) = match sup.map(|s| &s.state) {
                    Some(PluginState::Running) => ("running".to_string(), None),
                    Some(PluginState::Quarantined(why)) => ("quarantined".to_string(), Some(why.clone())),
                    Some(PluginState::Draining) => ("draining".to_string(), None),
                    None => ("unknown".to_string(), None),
                };
                PluginMetrics {
                    plugin: p.name.clone(),
                    version: p.version.clone(),
                    active: p.active,
                    state,
                    state_reason,
                    instances: sup
                        .map(|s| s.instances.iter().map(|i: &InstanceState| word(i)).collect())
                        .unwrap_or_default(),
                    queued: sup.map_or(0, |s| s.queued),
                    throttled: sup.is_some_and(|s| s.throttled),
                    calls: usage.calls,
                    errors: usage.errors.iter().map(|(k, n)| (k.to_string(), *n)).collect(),
                    crashes: sup.map_or(0, |s| s.crashes),
                    restarts: sup.map_or(usage.restarts, |s| s.restarts),
                    quarantines: usage.quarantines,
                    latency: usage.latency.clone(),
                    window_time_ms: ms(usage.window_time),
                    cpu_budget_ms: usage.cpu_budget.map(ms),
                    window_secs: usage.window.as_secs_f64(),
                    quota_level: word(&usage.level),
                    guest_time_ms: ms(usage.cpu_time),
                    fuel: usage.fuel,
                    peak_memory_bytes: usage.peak_memory_bytes,
                    memory_limit_bytes: p.limits.memory_bytes,
                    cpu_time_limit_ms: ms(p.limits.cpu_time),
                    throttled_bytes: usage.dropped_bytes,
                    recent_errors: usage.recent_errors.iter().cloned().collect(),
                }
            })
            .collect();
        MetricsSnapshot {
            taken_at_unix_ms: unix_ms(),
            uptime_ms: u64::try_from(uptime.as_millis()).unwrap_or(u64::MAX),
            process: crate::process::sample_process(0),
            plugins,
            failed: status
                .failed
                .iter()
                .map(|f| (f.source.clone(), format!("{}: {}", f.kind, f.error)))
                .collect(),
        }
    }
}
