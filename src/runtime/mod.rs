//! The supervision runtime: ractor actors on tokio around the sandbox, and [`PluginHost`], the
//! handle an embedder holds.
//!
//! Owns supervision (restart with backoff, quarantine, poison inputs), routing and hot swap,
//! quotas acted on, the event bus, and the host API. Imports every layer below it (`observe`,
//! `sandbox`, `policy`, `graph`, `contract`); never `distribution` (which turns a verified
//! artifact into a [`PluginSpec`] itself) or anything above. All actor messages live in
//! `messages.rs`; actors import it, not each other.
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

mod discovery;
mod events;
mod host;
mod messages;
mod meter;
mod monitor;
mod poison;
mod registry;
mod reply;
mod restart;
mod spec;
mod supervisor;
mod worker;

pub use discovery::discover;
pub use host::{HostStatus, PluginHost, PluginHostBuilder, PluginStatus};
pub use messages::{FailedLoad, InstanceState, PluginState, SupervisorStatus};
pub use meter::PluginUsage;
pub use restart::{Backoff, RestartPolicy, Strategy};
pub use spec::PluginSpec;
