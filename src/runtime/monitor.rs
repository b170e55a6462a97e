//! The resource monitor: one per host. Every instance reports each call's usage here; the monitor
//! keeps per-plugin totals and a rolling window, escalates against the plugin's [`Quota`]
//! (warn → throttle → quarantine) by telling the plugin's supervisor, and answers snapshots.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::Duration;

use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::error::ErrorKind;
use crate::instance::Usage;
use crate::runtime::PluginKey;
use crate::runtime::events::{EventKind, Events};
use crate::runtime::meter::Meter;
use crate::runtime::quota::QuotaLevel;
use crate::runtime::supervisor::SupervisorMsg;
use crate::telemetry::latency::LatencyHistogram;
use crate::telemetry::recorder::MetricsSink;
use crate::telemetry::snapshot::{RecentError, unix_ms};

/// Errors kept per plugin for live views.
const RECENT_ERRORS: usize = 8;

/// How often throttled plugins are re-checked against their window.
const TICK: Duration = Duration::from_secs(1);

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
    /// Wall-clock time of calls, all together.
    #[serde(serialize_with = "crate::instance::as_millis", rename = "wall_time_ms")]
    pub wall_time: Duration,
    /// CPU time running guest code, all calls together.
    #[serde(serialize_with = "crate::instance::as_millis", rename = "cpu_time_ms")]
    pub cpu_time: Duration,
    /// Guest CPU time in the current quota window.
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
    /// Instances restarted after a crash.
    pub restarts: u64,
    /// Times quarantined (by crash loops or by the quota).
    pub quarantines: u64,
    /// Call latency (instantiation included).
    pub latency: LatencyHistogram,
    /// The latest errors and quarantines, newest last.
    pub recent_errors: VecDeque<RecentError>,
    /// The CPU budget per quota window, if any.
    #[serde(serialize_with = "opt_millis", rename = "cpu_budget_ms")]
    pub cpu_budget: Option<Duration>,
    /// The quota window.
    #[serde(serialize_with = "crate::instance::as_millis", rename = "window_ms")]
    pub window: Duration,
}

fn opt_millis<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => crate::instance::as_millis(d, s),
        None => s.serialize_none(),
    }
}

impl PluginUsage {
    pub(crate) fn remember(&mut self, kind: &str, message: String) {
        if self.recent_errors.len() == RECENT_ERRORS {
            self.recent_errors.pop_front();
        }
        self.recent_errors.push_back(RecentError { at_unix_ms: unix_ms(), kind: kind.to_string(), message });
    }
}

struct Watched {
    supervisor: ActorRef<SupervisorMsg>,
    meter: Meter,
}

pub(crate) struct Monitor;

pub(crate) struct MonitorState {
    plugins: HashMap<PluginKey, Watched>,
    sink: MetricsSink,
    events: Events,
    ticker: Option<JoinHandle<()>>,
}

impl MonitorState {
    /// Re-evaluates `key`'s level and acts on a change.
    fn evaluate(&mut self, key: &PluginKey, now: Instant) {
        let Some(w) = self.plugins.get(key) else { return };
        let mut account = w.meter.lock();
        Meter::evaluated(&mut account);
        let window = account.quota.window;
        let used = account.window.used(now, window);
        account.usage.window_time = used;
        let level = account.quota.level(used);
        let was = account.usage.level;
        if level == was || was == QuotaLevel::Stopped {
            return;
        }
        account.usage.level = level;
        let budget = account.quota.cpu_per_window.unwrap_or_default();
        drop(account);
        match level {
            QuotaLevel::Stopped => {
                let _ = w.supervisor.cast(SupervisorMsg::Quarantine(format!(
                    "used {:.0} ms of guest time in {} s, {:.1}× its budget of {} ms",
                    used.as_secs_f64() * 1000.0,
                    window.as_secs(),
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
    type Arguments = (Events, MetricsSink);

    async fn pre_start(
        &self,
        me: ActorRef<MonitorMsg>,
        (events, sink): (Events, MetricsSink),
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
        Ok(MonitorState { plugins: HashMap::new(), sink, events, ticker: Some(ticker) })
    }

    async fn handle(
        &self,
        _me: ActorRef<MonitorMsg>,
        msg: MonitorMsg,
        state: &mut MonitorState,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            MonitorMsg::Register { meter, supervisor } => {
                state.plugins.insert(meter.key().clone(), Watched { supervisor, meter });
            }
            MonitorMsg::Unregister { key } => {
                state.plugins.remove(&key);
            }
            MonitorMsg::Evaluate { key } => state.evaluate(&key, Instant::now()),
            MonitorMsg::Tick => {
                state.sink.process(&crate::process::sample_process(0));
                let now = Instant::now();
                let keys: Vec<PluginKey> = state.plugins.keys().cloned().collect();
                for key in keys {
                    state.evaluate(&key, now);
                }
            }
            MonitorMsg::Snapshot(reply) => {
                let mut all: Vec<PluginUsage> =
                    state.plugins.values().map(|w| w.meter.lock().usage.clone()).collect();
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
