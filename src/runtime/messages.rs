//! Every message the runtime's actors exchange, and the data that travels in them (replies,
//! snapshots, what a load hands the registry). Actors depend on this file, not on each other:
//! the supervisor and its instances, the registry and the monitor each know the messages they
//! send without importing the actor that receives them (as ractor's `factory/mod.rs` holds
//! `FactoryMessage` for `worker.rs` and `factoryimpl.rs`).

use ractor::{ActorId, ActorRef, RpcReplyPort};

use crate::error::Result;
use crate::observe::{PluginKey, Quota};
use crate::runtime::meter::{Meter, PluginUsage};
use crate::runtime::reply::Job;
use crate::runtime::restart::RestartPolicy;
use crate::sandbox::{Plugin, PluginInstance};

/// Messages to the registry.
pub(crate) enum RegistryMsg {
    /// Start `Loaded`; if the name is already served, it replaces that version (hot swap).
    Start(Box<Loaded>, RpcReplyPort<Result<PluginKey>>),
    /// Stop serving `name`; its supervisor drains and stops.
    Unload(String, RpcReplyPort<Result<()>>),
    /// Every running version, active or draining, and the failed loads.
    Snapshot(RpcReplyPort<RegistrySnapshot>),
    /// Remember a plugin that could not be loaded, for status.
    Failed(FailedLoad),
    /// Stop every supervisor (and so every instance), then the registry itself.
    Shutdown(RpcReplyPort<()>),
}

/// What the registry holds, for status.
pub(crate) struct RegistrySnapshot {
    pub(crate) entries: Vec<Entry>,
    pub(crate) failed: Vec<FailedLoad>,
}

/// A running plugin version.
#[derive(Clone)]
pub(crate) struct Entry {
    pub(crate) key: PluginKey,
    pub(crate) plugin: Plugin,
    pub(crate) supervisor: ActorRef<SupervisorMsg>,
    pub(crate) active: bool,
}

/// A plugin that could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FailedLoad {
    /// Where it came from (a path, or a name for bytes).
    pub source: String,
    /// The error kind.
    pub kind: crate::ErrorKind,
    /// The error.
    pub error: String,
}

/// A compiled plugin and how to run it.
pub(crate) struct Loaded {
    pub(crate) key: PluginKey,
    pub(crate) plugin: Plugin,
    pub(crate) instances: usize,
    pub(crate) policy: RestartPolicy,
    pub(crate) quota: Quota,
    pub(crate) queue_capacity: usize,
    /// The instance the loader started to prove the plugin can start.
    pub(crate) warm: Option<PluginInstance>,
}

/// Messages to a supervisor.
pub(crate) enum SupervisorMsg {
    /// A request, admitted by the host (which bounds how many are outstanding).
    Analyze(Job),
    /// An instance finished its job and can take another.
    Idle { index: usize, actor: ActorId },
    /// A backoff timer fired: start instance `index` again.
    Restart { index: usize },
    /// An operator lifts the quarantine; answers whether the plugin was quarantined.
    Release(RpcReplyPort<bool>),
    /// The resource monitor stops the plugin (quota exhausted).
    Quarantine(String),
    /// The resource monitor holds back (true) or lets through (false) new dispatches.
    Throttle(bool),
    /// Hot swap or unload: take no new work from the host, finish what is queued, then stop.
    Drain,
    /// A snapshot for `PluginHost::status`.
    Status(RpcReplyPort<SupervisorStatus>),
}

/// What a supervisor reports about its plugin.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SupervisorStatus {
    /// Running, quarantined or draining.
    pub state: PluginState,
    /// One entry per instance.
    pub instances: Vec<InstanceState>,
    /// Requests waiting for an instance.
    pub queued: usize,
    /// Crashes seen (each followed by a restart, unless it led to quarantine).
    pub crashes: u64,
    /// Instances started again after a crash.
    pub restarts: u64,
    /// Inputs refused as poison.
    pub poison_inputs: usize,
    /// Whether the resource monitor is holding calls back.
    pub throttled: bool,
}

/// The plugin's state as its supervisor sees it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case", tag = "state", content = "reason")]
pub enum PluginState {
    /// Serving calls.
    Running,
    /// Refusing calls until released.
    Quarantined(String),
    /// Replaced or unloaded: finishing its queue, then stopping.
    Draining,
}

/// One instance's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum InstanceState {
    /// Waiting for work.
    Idle,
    /// Running a job.
    Busy,
    /// Waiting out a backoff delay before restarting.
    BackingOff,
    /// Finishing its job before a restart or a stop.
    Stopping,
    /// Not running.
    Stopped,
}

/// Messages to the monitor. Calls are not among them: instances write their usage into the
/// plugin's [`Meter`] directly, and the monitor is told only when a quota level may change.
pub(crate) enum MonitorMsg {
    /// A plugin version started: watch its account.
    Register { meter: Meter, supervisor: ActorRef<SupervisorMsg> },
    /// It stopped: forget it.
    Unregister { key: PluginKey },
    /// Its quota level may have changed: act on it.
    Evaluate { key: PluginKey },
    /// Re-check windows (sent to itself every second).
    Tick,
    /// Per-plugin usage.
    Snapshot(RpcReplyPort<Vec<PluginUsage>>),
}

/// Messages to an instance. Its supervisor sends one only when the instance is idle, so the
/// mailbox never holds more than one.
pub(crate) enum InstanceMsg {
    /// Run this job and answer it.
    Run(Job),
}
