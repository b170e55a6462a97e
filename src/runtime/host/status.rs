//! What a host reports about itself: each plugin's state, limits and usage, and metrics.

use std::net::SocketAddr;

use super::handle::{PluginHost, ask};
use crate::contract::Rule;
use crate::observe::telemetry::MetricsSnapshot;
use crate::policy::Limits;
use crate::runtime::messages::MonitorMsg;
use crate::runtime::messages::{FailedLoad, RegistryMsg};
use crate::runtime::messages::{PluginState, SupervisorMsg, SupervisorStatus};
use crate::runtime::meter::PluginUsage;
use crate::sandbox::LoadReport;

/// One plugin version in [`HostStatus`].
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PluginStatus {
    /// The plugin's name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// Whether new calls go to this version (false while an older version drains).
    pub active: bool,
    /// SHA-256 of the component, lowercase hex.
    pub sha256: String,
    /// How loading went (compile cache, time).
    pub load: LoadReport,
    /// The limits every call runs under.
    pub limits: Limits,
    /// Its supervisor's view; `None` if the supervisor did not answer in time.
    pub supervisor: Option<SupervisorStatus>,
    /// What it used, from the resource monitor.
    pub usage: Option<PluginUsage>,
    /// The rules its findings may name (asked at load; a 0.1 plugin has one, its name).
    #[serde(skip)]
    pub rules: Vec<Rule>,
}

impl PluginStatus {
    /// Running, quarantined or draining (`None` if unknown).
    pub fn state(&self) -> Option<&PluginState> {
        self.supervisor.as_ref().map(|s| &s.state)
    }
}

/// Everything [`PluginHost::status`] reports.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct HostStatus {
    /// Every running plugin version, by name then version.
    pub plugins: Vec<PluginStatus>,
    /// Plugins that could not be loaded.
    pub failed: Vec<FailedLoad>,
}

impl HostStatus {
    /// The active version of `name`.
    pub fn plugin(&self, name: &str) -> Option<&PluginStatus> {
        self.plugins.iter().find(|p| p.name == name && p.active)
    }
}

impl PluginHost {
    /// Every plugin's state, instances, restarts and usage, and the plugins that failed to load.
    pub async fn status(&self) -> HostStatus {
        let Ok(snapshot) = ask(&self.inner.registry, RegistryMsg::Snapshot, "", "the registry").await else {
            return HostStatus { plugins: Vec::new(), failed: Vec::new() };
        };
        let usage =
            ask(&self.inner.monitor, MonitorMsg::Snapshot, "", "the monitor").await.unwrap_or_default();
        let mut plugins = Vec::new();
        for entry in snapshot.entries {
            let supervisor = ask(&entry.supervisor, SupervisorMsg::Status, "", "a supervisor").await.ok();
            let (name, version) = (entry.key.name.to_string(), entry.key.version.to_string());
            let usage = usage.iter().find(|u| u.plugin == name && u.version == version).cloned();
            plugins.push(PluginStatus {
                name,
                version,
                active: entry.active,
                sha256: hex::encode(entry.plugin.sha256()),
                load: entry.plugin.load_report().clone(),
                limits: entry.plugin.limits().clone(),
                supervisor,
                usage,
                rules: entry.plugin.rules().map(<[Rule]>::to_vec).unwrap_or_default(),
            });
        }
        HostStatus { plugins, failed: snapshot.failed }
    }

    /// Every plugin's figures now — calls, errors by kind, restarts, quarantines, latency
    /// histogram, guest time and fuel, peak memory against its limit, throttled bytes, recent
    /// errors — with the process's memory and descriptors. The same data `/snapshot` serves.
    pub async fn metrics(&self) -> MetricsSnapshot {
        MetricsSnapshot::from_status(&self.status().await, self.inner.started.elapsed())
    }

    /// The metrics in the Prometheus text format, if this host has an endpoint (and so its own
    /// recorder).
    pub fn prometheus_text(&self) -> Option<String> {
        self.inner.sink.handle().map(|h| h.render())
    }

    /// The address the metrics endpoint listens on, if one was asked for.
    pub fn metrics_endpoint(&self) -> Option<SocketAddr> {
        self.inner.endpoint
    }
}
