//! Per-plugin accounting written where it happens: an instance records each call's usage, its
//! supervisor records restarts and quarantines, straight into the plugin's [`Account`] (a short
//! lock, no message). The resource monitor only reads accounts and is told when a plugin's quota
//! level changes, so however fast calls crash and restart, no mailbox grows with them.

use crate::observe::QuotaLevel;
use crate::observe::telemetry::{LatencyHistogram, RecentError, unix_ms};
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::time::Instant;

use crate::error::ErrorKind;
use crate::observe::PluginKey;
use crate::observe::telemetry::{MetricsSink, PluginHandles};
use crate::observe::{Quota, Window};
use crate::sandbox::Usage;

/// Errors kept per plugin for live views.
const RECENT_ERRORS: usize = 8;

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
    #[serde(serialize_with = "crate::sandbox::as_millis", rename = "wall_time_ms")]
    pub wall_time: Duration,
    /// CPU time running guest code, all calls together.
    #[serde(serialize_with = "crate::sandbox::as_millis", rename = "cpu_time_ms")]
    pub cpu_time: Duration,
    /// Guest CPU time in the current quota window.
    #[serde(serialize_with = "crate::sandbox::as_millis", rename = "window_time_ms")]
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
    #[serde(serialize_with = "crate::sandbox::as_millis", rename = "window_ms")]
    pub window: Duration,
}

fn opt_millis<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => crate::sandbox::as_millis(d, s),
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

/// One plugin version's usage, quota window and metric handles.
pub(crate) struct Account {
    pub(crate) usage: PluginUsage,
    pub(crate) window: Window,
    pub(crate) quota: Quota,
    handles: PluginHandles,
    /// An `Evaluate` is on its way to the monitor: do not send another.
    evaluation_pending: bool,
}

/// A handle on one plugin version's [`Account`], cheap to clone.
#[derive(Clone)]
pub(crate) struct Meter {
    key: PluginKey,
    account: Arc<Mutex<Account>>,
    /// Tells the monitor a quota level may have changed (it sends `Evaluate` for this plugin).
    evaluate: Arc<dyn Fn() + Send + Sync>,
}

impl Meter {
    pub(crate) fn new(
        key: PluginKey,
        quota: Quota,
        sink: &MetricsSink,
        evaluate: impl Fn() + Send + Sync + 'static,
    ) -> Meter {
        let usage = PluginUsage {
            plugin: key.name.to_string(),
            version: key.version.to_string(),
            cpu_budget: quota.cpu_per_window,
            window: quota.window,
            ..PluginUsage::default()
        };
        let account = Account {
            usage,
            window: Window::default(),
            quota,
            handles: sink.plugin(&key),
            evaluation_pending: false,
        };
        Meter { key, account: Arc::new(Mutex::new(account)), evaluate: Arc::new(evaluate) }
    }

    pub(crate) fn key(&self) -> &PluginKey {
        &self.key
    }

    /// The account, locked; a panic elsewhere while holding it leaves figures, not danger.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Account> {
        self.account.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// One call's usage and outcome.
    pub(crate) fn call(&self, usage: &Usage, error: Option<(ErrorKind, String)>) {
        let now = Instant::now();
        let mut a = self.lock();
        let peak = a.usage.peak_memory_bytes.max(usage.peak_memory_bytes);
        a.handles.call(usage, error.as_ref().map(|e| e.0), peak);
        let u = &mut a.usage;
        u.calls += 1;
        u.latency.record(usage.wall_time);
        u.wall_time += usage.wall_time;
        u.cpu_time += usage.cpu_time;
        u.fuel += usage.fuel_consumed.unwrap_or(0);
        u.peak_memory_bytes = peak;
        u.host_calls += usage.host_calls;
        u.log_bytes += usage.log_bytes;
        u.dropped_bytes += usage.log_bytes_dropped + usage.stdio_bytes_dropped;
        u.last_call = Some(usage.clone());
        if let Some((kind, message)) = error {
            *u.errors.entry(kind).or_default() += 1;
            u.remember(kind.as_str(), message);
        }
        let window = a.quota.window;
        a.window.push(now, usage.cpu_time, window);
        let used = a.window.used(now, window);
        a.usage.window_time = used;
        if a.quota.level(used) != a.usage.level && !a.evaluation_pending {
            a.evaluation_pending = true;
            drop(a);
            (self.evaluate)();
        }
    }

    /// The monitor took up the pending evaluation.
    pub(crate) fn evaluated(account: &mut Account) {
        account.evaluation_pending = false;
    }

    /// An instance was restarted after a crash.
    pub(crate) fn restarted(&self) {
        let mut a = self.lock();
        a.usage.restarts += 1;
        a.handles.restarted();
    }

    /// The plugin was quarantined (crash loop or quota).
    pub(crate) fn quarantined(&self, reason: &str) {
        let mut a = self.lock();
        a.usage.quarantines += 1;
        a.usage.remember("quarantined", reason.to_string());
        a.handles.quarantined(true);
    }

    /// Released from quarantine: the quota window starts afresh.
    pub(crate) fn released(&self) {
        let mut a = self.lock();
        a.handles.quarantined(false);
        a.window = Window::default();
        a.usage.level = Default::default();
        a.usage.window_time = Duration::ZERO;
    }
}
