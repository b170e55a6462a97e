//! The resource monitor: one per host. Every instance reports each call's usage here; the monitor
//! keeps per-plugin totals and a rolling window, escalates against the plugin's [`Quota`]
//! (warn → throttle → quarantine) by telling the plugin's supervisor, and answers snapshots.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::error::ErrorKind;
use crate::instance::Usage;
use crate::runtime::PluginKey;
use crate::runtime::events::{EventKind, Events};
use crate::runtime::quota::{Quota, QuotaLevel, Window};
use crate::runtime::supervisor::SupervisorMsg;

/// How often throttled plugins are re-checked against their window.
const TICK: Duration = Duration::from_secs(1);

/// Messages to the monitor.
pub(crate) enum MonitorMsg {
    /// A plugin version started: watch it under `quota`.
    Register { key: PluginKey, supervisor: ActorRef<SupervisorMsg>, quota: Quota },
    /// It stopped: forget it.
    Unregister { key: PluginKey },
    /// One call's usage and outcome.
    Report { key: PluginKey, usage: Usage, error: Option<ErrorKind> },
    /// It was released from quarantine: start its window afresh.
    Released { key: PluginKey },
    /// Re-check windows (sent to itself every second).
    Tick,
    /// Per-plugin usage.
    Snapshot(RpcReplyPort<Vec<PluginUsage>>),
}

/// What one plugin version has used.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct PluginUsage {
    /// The plugin's name.
    pub plugin: String,
    /// Its version.
    pub version: String,
    /// Calls answered.
    pub calls: u64,
    /// Calls that ended in an error, by kind.
    pub errors: BTreeMap<ErrorKind, u64>,
    /// Guest time, all calls together.
    #[serde(serialize_with = "crate::instance::as_millis", rename = "wall_time_ms")]
    pub wall_time: Duration,
    /// Guest time in the current quota window.
    #[serde(serialize_with = "crate::instance::as_millis", rename = "window_time_ms")]
    pub window_time: Duration,
    /// Fuel, all metered calls together.
    pub fuel: u64,
    /// The highest linear memory any call reached.
    pub peak_memory_bytes: u64,
    /// `host.*` calls.
    pub host_calls: u64,
    /// `host.log` bytes kept.
    pub log_bytes: u64,
    /// Log, stdout and stderr bytes dropped by the budgets.
    pub dropped_bytes: u64,
    /// Standing against the quota.
    pub level: QuotaLevel,
    /// The most recent call's usage, whatever its outcome.
    pub last_call: Option<Usage>,
}

struct Watched {
    supervisor: ActorRef<SupervisorMsg>,
    quota: Quota,
    window: Window,
    usage: PluginUsage,
}

pub(crate) struct Monitor;

pub(crate) struct MonitorState {
    plugins: HashMap<PluginKey, Watched>,
    events: Events,
    ticker: Option<JoinHandle<()>>,
}

impl MonitorState {
    /// Re-evaluates `key`'s level and acts on a change.
    fn evaluate(&mut self, key: &PluginKey, now: Instant) {
        let Some(w) = self.plugins.get_mut(key) else { return };
        let used = w.window.used(now, w.quota.window);
        w.usage.window_time = used;
        let level = w.quota.level(used);
        let was = w.usage.level;
        if level == was || was == QuotaLevel::Stopped {
            return;
        }
        w.usage.level = level;
        match level {
            QuotaLevel::Stopped => {
                let budget = w.quota.cpu_per_window.unwrap_or_default();
                let _ = w.supervisor.cast(SupervisorMsg::Quarantine(format!(
                    "used {:.0} ms of guest time in {} s, {:.1}× its budget of {} ms",
                    used.as_secs_f64() * 1000.0,
                    w.quota.window.as_secs(),
                    used.as_secs_f64() / budget.as_secs_f64().max(f64::MIN_POSITIVE),
                    budget.as_millis()
                )));
            }
            QuotaLevel::Throttled => {
                let _ = w.supervisor.cast(SupervisorMsg::Throttle(true));
            }
            QuotaLevel::Warned | QuotaLevel::Normal if was == QuotaLevel::Throttled => {
                let _ = w.supervisor.cast(SupervisorMsg::Throttle(false));
            }
            _ => {}
        }
        if level >= QuotaLevel::Warned {
            tracing::warn!(plugin = %key.name, ?level, "quota: {:.0} ms used in the window", used.as_secs_f64() * 1000.0);
        }
        self.events.emit(key, EventKind::Quota { level, used });
    }
}

impl Actor for Monitor {
    type Msg = MonitorMsg;
    type State = MonitorState;
    type Arguments = Events;

    async fn pre_start(
        &self,
        me: ActorRef<MonitorMsg>,
        events: Events,
    ) -> Result<MonitorState, ActorProcessingErr> {
        let ticker = tokio::spawn(async move {
            let mut interval = tokio::time::interval(TICK);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                interval.tick().await;
                if me.cast(MonitorMsg::Tick).is_err() {
                    break;
                }
            }
        });
        Ok(MonitorState { plugins: HashMap::new(), events, ticker: Some(ticker) })
    }

    async fn handle(
        &self,
        _me: ActorRef<MonitorMsg>,
        msg: MonitorMsg,
        state: &mut MonitorState,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            MonitorMsg::Register { key, supervisor, quota } => {
                let usage = PluginUsage {
                    plugin: key.name.to_string(),
                    version: key.version.to_string(),
                    ..PluginUsage::default()
                };
                state.plugins.insert(key, Watched { supervisor, quota, window: Window::default(), usage });
            }
            MonitorMsg::Unregister { key } => {
                state.plugins.remove(&key);
            }
            MonitorMsg::Report { key, usage, error } => {
                let now = Instant::now();
                if let Some(w) = state.plugins.get_mut(&key) {
                    let u = &mut w.usage;
                    u.calls += 1;
                    if let Some(kind) = error {
                        *u.errors.entry(kind).or_default() += 1;
                    }
                    u.wall_time += usage.wall_time;
                    u.fuel += usage.fuel_consumed.unwrap_or(0);
                    u.peak_memory_bytes = u.peak_memory_bytes.max(usage.peak_memory_bytes);
                    u.host_calls += usage.host_calls;
                    u.log_bytes += usage.log_bytes;
                    u.dropped_bytes += usage.log_bytes_dropped + usage.stdio_bytes_dropped;
                    w.window.push(now, usage.wall_time, w.quota.window);
                    u.last_call = Some(usage);
                }
                state.evaluate(&key, now);
            }
            MonitorMsg::Released { key } => {
                if let Some(w) = state.plugins.get_mut(&key) {
                    w.window = Window::default();
                    w.usage.level = QuotaLevel::Normal;
                    w.usage.window_time = Duration::ZERO;
                }
            }
            MonitorMsg::Tick => {
                let now = Instant::now();
                let keys: Vec<PluginKey> = state.plugins.keys().cloned().collect();
                for key in keys {
                    state.evaluate(&key, now);
                }
            }
            MonitorMsg::Snapshot(reply) => {
                let mut all: Vec<PluginUsage> = state.plugins.values().map(|w| w.usage.clone()).collect();
                all.sort_by(|a, b| (&a.plugin, &a.version).cmp(&(&b.plugin, &b.version)));
                let _ = reply.send(all);
            }
        }
        Ok(())
    }

    async fn post_stop(
        &self,
        _me: ActorRef<MonitorMsg>,
        state: &mut MonitorState,
    ) -> Result<(), ActorProcessingErr> {
        if let Some(ticker) = state.ticker.take() {
            ticker.abort();
        }
        Ok(())
    }
}
