//! Building a [`MetricsSnapshot`] from a host's status: the runtime's view turned into the plain
//! data `observe` defines, for the embedding API, the `/snapshot` endpoint and `ptplugin top`.

use std::time::Duration;

use serde::Serialize;

use crate::observe::telemetry::{MetricsSnapshot, PluginMetrics, unix_ms};
use crate::runtime::host::HostStatus;
use crate::runtime::messages::{InstanceState, PluginState};

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
            process: crate::observe::sample_process(0),
            plugins,
            failed: status
                .failed
                .iter()
                .map(|f| (f.source.clone(), format!("{}: {}", f.kind, f.error)))
                .collect(),
        }
    }
}
