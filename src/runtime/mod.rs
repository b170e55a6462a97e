//! The supervision runtime: ractor actors on tokio around the sandbox.
//!
//! ```text
//! PluginHost (handle) ── routes (DashMap, read per call) ──┐
//!   │                                                       ▼
//!   ├─► Registry ── spawns, links ──► Supervisor (per plugin version) ── links ──► InstanceActor × N
//!   │     name → version → supervisors;   queue, dispatch, backoff,                owns one Store;
//!   │     hot swap = new route + Drain     quarantine, poison inputs                 one job at a time
//!   └─► Monitor ◄── reads the Meter accounts instances write after every call ──────┘
//!         totals, rolling windows; Throttle / Quarantine ──► Supervisor
//! ```
//!
//! Guest calls run as async wasmtime calls inside the instance actor's task; the epoch callback
//! yields every 10 ms, so a long call never holds a tokio worker for longer than one tick.

pub(crate) mod discovery;
pub(crate) mod events;
pub(crate) mod host;
pub(crate) mod instance_actor;
pub(crate) mod meter;
pub(crate) mod monitor;
pub(crate) mod poison;
pub(crate) mod quota;
pub(crate) mod registry;
pub(crate) mod reply;
pub(crate) mod restart;
pub(crate) mod spec;
pub(crate) mod supervisor;

use std::sync::Arc;

/// A loaded plugin version: the unit the registry, supervisors and monitor talk about.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct PluginKey {
    /// The plugin's name.
    pub name: Arc<str>,
    /// Its version.
    pub version: semver::Version,
}

impl std::fmt::Display for PluginKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}", self.name, self.version)
    }
}
