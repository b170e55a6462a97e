//! The resource monitor: one per host. Every instance reports each call's usage here; the monitor
//! keeps per-plugin totals and a rolling window, escalates against the plugin's [`Quota`]
//! (warn → throttle → quarantine) by telling the plugin's supervisor, and answers snapshots.

use std::collections::HashMap;
use std::time::Duration;

use ractor::{Actor, ActorProcessingErr, ActorRef};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::observe::EventKind;
use crate::observe::PluginKey;
use crate::observe::QuotaLevel;
use crate::observe::telemetry::MetricsSink;
use crate::runtime::events::Events;
use crate::runtime::messages::MonitorMsg;
use crate::runtime::messages::SupervisorMsg;
use crate::runtime::meter::Meter;
use crate::runtime::meter::PluginUsage;

/// How often throttled plugins are re-checked against their window.
const TICK: Duration = Duration::from_secs(1);

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
                state.sink.process(&crate::observe::sample_process(0));
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
