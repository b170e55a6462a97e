//! One live instance of a plugin and a call into it: limits armed, usage measured, failures
//! classified.

use std::time::{Duration, Instant};

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use wasmtime::{CallHook, Store, Trap, UpdateDeadline};

use crate::contract::{AnalysisResult, Analyzer, GraphNode};
use crate::error::{Clock, Error, Result};
use crate::graph::Graph;
use crate::policy::Limits;
use crate::sandbox::EPOCH_TICK;
use crate::sandbox::LogRecord;
use crate::sandbox::Plugin;
use crate::sandbox::store::{HOSTCALL_FUEL_EXHAUSTED, LimitExceeded, check_output, fuel_for};
use crate::sandbox::store::{HostCallLimit, StoreState};

/// What one call used. Reported after success and, through
/// [`PluginInstance::last_usage`], after failure too.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Usage {
    /// Wall-clock time of the call, including instantiation when it was needed.
    #[serde(rename = "wall_time_ms", serialize_with = "as_millis")]
    pub wall_time: Duration,
    /// CPU time spent running the plugin's code (instantiation included): what
    /// [`Limits::cpu_time`] limits and quotas count.
    #[serde(rename = "cpu_time_ms", serialize_with = "as_millis")]
    pub cpu_time: Duration,
    /// Fuel consumed, when the plugin runs with a fuel limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fuel_consumed: Option<u64>,
    /// Highest total linear memory during the call.
    pub peak_memory_bytes: u64,
    /// Calls the plugin made to `host.*`.
    pub host_calls: u64,
    /// Key-value writes refused by the plugin's write rate.
    pub kv_writes_refused: u64,
    /// Bytes of `host.log` messages kept.
    pub log_bytes: u64,
    /// Bytes of `host.log` messages dropped (whole or cut) by the per-call budgets.
    pub log_bytes_dropped: u64,
    /// `host.log` messages dropped whole by the per-call budget.
    pub log_messages_dropped: u64,
    /// Bytes of guest stdout and stderr dropped by the per-call budget.
    pub stdio_bytes_dropped: u64,
    /// Whether this call had to create a new instance first.
    pub fresh_instance: bool,
}

/// Serializes a duration as fractional milliseconds.
pub(crate) fn as_millis<S: serde::Serializer>(d: &Duration, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64() * 1000.0)
}

/// A successful call: the plugin's result and what it cost.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Analysis {
    /// The plugin's answer, already checked against the output limits.
    #[serde(flatten)]
    pub result: AnalysisResult,
    /// What the call used.
    pub usage: Usage,
    /// `host.log` messages kept within the budget.
    pub logs: Vec<LogRecord>,
    /// Guest stdout kept within the budget.
    pub stdout: String,
    /// Guest stderr kept within the budget.
    pub stderr: String,
}

/// The error a call's epoch callback raises when a time limit is reached.
#[derive(Debug, thiserror::Error)]
#[error("{0:?} time limit reached")]
struct TimeLimitReached(Clock);

struct Live {
    store: Store<StoreState>,
    bindings: Analyzer,
    /// The sandbox's live-instance count, decremented when this instance is dropped.
    counter: Arc<AtomicUsize>,
}

impl Live {
    fn new(store: Store<StoreState>, bindings: Analyzer, counter: Arc<AtomicUsize>) -> Self {
        counter.fetch_add(1, Ordering::AcqRel);
        Live { store, bindings, counter }
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        self.counter.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A handle that owns at most one live instance of a plugin.
///
/// Calls reuse the instance; a call that traps (or breaks a limit) drops it, and the next call
/// creates a fresh one, so one failure never poisons later calls.
pub struct PluginInstance {
    plugin: Plugin,
    live: Option<Live>,
    last_usage: Usage,
}

impl PluginInstance {
    pub(crate) fn new(plugin: Plugin) -> Self {
        PluginInstance { plugin, live: None, last_usage: Usage::default() }
    }

    /// The plugin this instance runs.
    pub fn plugin(&self) -> &Plugin {
        &self.plugin
    }

    /// Whether a live instance exists (false before the first call and after a trap).
    pub fn is_live(&self) -> bool {
        self.live.is_some()
    }

    /// What the last call used, whether it succeeded or not.
    pub fn last_usage(&self) -> &Usage {
        &self.last_usage
    }

    /// Instantiates now (if not live), so that the next call pays nothing for it.
    ///
    /// # Errors
    ///
    /// As instantiation in [`PluginInstance::analyze`]: a start function that traps or breaks
    /// a limit.
    pub async fn warm_up(&mut self) -> Result<()> {
        if self.live.is_none() {
            self.live = Some(instantiate(&self.plugin, Instant::now()).await?);
        }
        Ok(())
    }

    /// Runs `analyze-graph` on `graph`'s nodes, serving `graph`'s edges through `host.edges()`.
    ///
    /// # Errors
    ///
    /// [`Error::Timeout`], [`Error::FuelExhausted`], [`Error::MemoryLimit`],
    /// [`Error::StackOverflow`] or [`Error::Trap`] if the guest was stopped (the instance is
    /// then dropped), [`Error::OutputLimit`] if its result is too large.
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime with timers enabled: the wall-clock backstop is a tokio timer
    /// (and WASI, as wasmtime-wasi implements it, needs tokio too).
    pub async fn analyze(&mut self, graph: &Graph) -> Result<Analysis> {
        let started = Instant::now();
        let plugin = self.plugin.clone();
        let limits = &plugin.inner().limits;
        let fresh = self.live.is_none();
        let live = match &mut self.live {
            Some(live) => live,
            slot @ None => match instantiate(&plugin, started).await {
                Ok(live) => slot.insert(live),
                Err(error) => {
                    self.last_usage =
                        Usage { wall_time: started.elapsed(), fresh_instance: true, ..Usage::default() };
                    return Err(error);
                }
            },
        };
        // A fresh instance was armed when it was made: its start-up counts against this call.
        if !fresh {
            arm(&mut live.store, started, limits);
        }
        live.store.data_mut().edges = graph.shared_edges();
        let outcome = call(live, graph.nodes(), limits).await;
        live.store.data_mut().edges = Arc::new([]);

        let (usage, logs, stdout, stderr) = measure(&mut live.store, started, limits.fuel, fresh);
        self.last_usage = usage.clone();
        match outcome {
            Ok(result) => Ok(Analysis { result, usage, logs, stdout, stderr }),
            // Too much output breaks no invariant of the instance: keep it.
            Err(CallFailure::Output(error)) => Err(error),
            Err(CallFailure::Guest(error)) => {
                self.live = None;
                Err(classify(error, &plugin, &stderr))
            }
        }
    }
}

/// How a call went wrong: inside the guest (a trap or a limit, and the instance is dropped), or
/// in what it returned (too much output breaks no invariant of the instance, which is kept).
enum CallFailure {
    Guest(wasmtime::Error),
    Output(Error),
}

/// Calls `analyze-graph`, then applies the exact output limits.
async fn call(live: &mut Live, nodes: &[GraphNode], limits: &Limits) -> Result<AnalysisResult, CallFailure> {
    let deadline = live.store.data().wall_deadline;
    let call =
        live.bindings.parseltongue_plugin_parseltongue_plugin().call_analyze_graph(&mut live.store, nodes);
    let result = backstop(deadline, call).await.map_err(CallFailure::Guest)?;
    check_output(&result, limits).map_err(CallFailure::Output)?;
    Ok(result)
}

/// A new store and instance, under the plugin's limits from the first instruction on. A free
/// function, so the caller's future never holds a `&PluginInstance` (a `Store` is not `Sync`).
async fn instantiate(plugin: &Plugin, started: Instant) -> Result<Live> {
    let inner = plugin.inner();
    let state =
        StoreState::new(inner.name.clone(), &inner.limits, inner.config.clone(), inner.reach.clone())?;
    let mut store = Store::new(&inner.engine, state);
    store.limiter(|s| &mut s.limiter);
    store.set_hostcall_fuel(fuel_for(&inner.limits));
    // Every entry into wasm starts a CPU segment on the thread running it; every exit (a host
    // call, a libcall such as the epoch yield, the end of the call) closes it.
    store.call_hook(|mut cx, hook| {
        let cpu = &mut cx.data_mut().cpu;
        match hook {
            CallHook::CallingWasm | CallHook::ReturningFromHost => cpu.enter(),
            CallHook::ReturningFromWasm | CallHook::CallingHost => cpu.leave(),
        }
        Ok(())
    });
    store.epoch_deadline_callback(|ctx| {
        let state = ctx.data();
        if state.cpu.used() >= state.cpu_limit {
            Err(wasmtime::Error::new(TimeLimitReached(Clock::Cpu)))
        } else if Instant::now() >= state.wall_deadline {
            Err(wasmtime::Error::new(TimeLimitReached(Clock::Wall)))
        } else {
            Ok(UpdateDeadline::Yield(1))
        }
    });
    arm(&mut store, started, &inner.limits);
    let deadline = store.data().wall_deadline;
    match backstop(deadline, inner.pre.instantiate_async(&mut store)).await {
        Ok(bindings) => Ok(Live::new(store, bindings, inner.live.clone())),
        Err(e) => {
            let stderr = store.data().stderr.drain().text;
            Err(classify(e, plugin, &stderr))
        }
    }
}

/// Runs `call` (into the guest) no longer than the wall-clock backstop, and a little more. While
/// the guest runs wasm the epoch callback enforces the backstop to the tick; this catches a guest
/// waiting inside a host call (a clock subscription), where no epoch callback runs. Dropping the
/// call's future abandons the instance, which the caller then drops.
async fn backstop<T>(
    deadline: Instant,
    call: impl Future<Output = wasmtime::Result<T>>,
) -> wasmtime::Result<T> {
    // The timer runs on tokio's clock (which tests may pause and advance): give it the time
    // left, not the instant.
    let left = deadline.saturating_duration_since(Instant::now());
    match tokio::time::timeout(left + EPOCH_TICK * 5, call).await {
        Ok(result) => result,
        Err(_) => Err(wasmtime::Error::new(TimeLimitReached(Clock::Wall))),
    }
}

/// Sets the call's time limits, fuel and counters.
fn arm(store: &mut Store<StoreState>, started: Instant, limits: &Limits) {
    let state = store.data_mut();
    state.cpu.reset();
    state.cpu_limit = limits.cpu_time;
    state.wall_deadline = crate::sandbox::store::wall_deadline(started, limits);
    state.host_calls = 0;
    state.kv_writes_refused = 0;
    state.limiter.reset_peak();
    store.set_epoch_deadline(1);
    if let Some(fuel) = limits.fuel {
        // Only fails when fuel is not enabled, and the engine profile enables it whenever set.
        let _ = store.set_fuel(fuel);
    }
}

/// Collects the call's usage and drains what the guest said.
fn measure(
    store: &mut Store<StoreState>,
    started: Instant,
    fuel: Option<u64>,
    fresh: bool,
) -> (Usage, Vec<LogRecord>, String, String) {
    let fuel_consumed = fuel.map(|f| f.saturating_sub(store.get_fuel().unwrap_or(0)));
    let state = store.data_mut();
    let logs = state.logs.drain();
    let stdout = state.stdout.drain();
    let stderr = state.stderr.drain();
    for line in stdout.text.lines() {
        tracing::debug!(target: "ptplugin::guest", plugin = &*state.plugin, stream = "stdout", "{line}");
    }
    for line in stderr.text.lines() {
        tracing::debug!(target: "ptplugin::guest", plugin = &*state.plugin, stream = "stderr", "{line}");
    }
    let usage = Usage {
        wall_time: started.elapsed(),
        cpu_time: state.cpu.used(),
        fuel_consumed,
        peak_memory_bytes: state.limiter.peak(),
        host_calls: state.host_calls,
        kv_writes_refused: state.kv_writes_refused,
        log_bytes: logs.kept_bytes,
        log_bytes_dropped: logs.dropped_bytes,
        log_messages_dropped: logs.dropped_messages,
        stdio_bytes_dropped: stdout.dropped + stderr.dropped,
        fresh_instance: fresh,
    };
    (usage, logs.records, stdout.text, stderr.text)
}

/// Maps whatever stopped the guest to the error kind the user sees.
fn classify(error: wasmtime::Error, plugin: &Plugin, stderr: &str) -> Error {
    let limits = plugin.limits();
    let find = |error: &wasmtime::Error| -> Option<Error> {
        for cause in error.chain() {
            if let Some(TimeLimitReached(clock)) = cause.downcast_ref::<TimeLimitReached>() {
                let limit = match clock {
                    Clock::Cpu => limits.cpu_time,
                    Clock::Wall => limits.wall_limit(),
                };
                return Some(Error::Timeout { limit, clock: *clock });
            }
            if let Some(LimitExceeded(what)) = cause.downcast_ref::<LimitExceeded>() {
                return Some(Error::MemoryLimit { what: what.clone() });
            }
            if let Some(limit) = cause.downcast_ref::<HostCallLimit>() {
                return Some(Error::Throttled { what: limit.to_string() });
            }
            match cause.downcast_ref::<Trap>() {
                Some(Trap::StackOverflow) => {
                    return Some(Error::StackOverflow { limit: limits.max_wasm_stack });
                }
                Some(Trap::OutOfFuel) => {
                    return Some(Error::FuelExhausted { fuel: limits.fuel.unwrap_or(0) });
                }
                Some(Trap::Interrupt) => {
                    return Some(Error::Timeout { limit: limits.cpu_time, clock: Clock::Cpu });
                }
                _ => {}
            }
        }
        None
    };
    if let Some(classified) = find(&error) {
        return classified;
    }
    if error.chain().any(|c| c.to_string().contains(HOSTCALL_FUEL_EXHAUSTED)) {
        return Error::OutputLimit {
            message: format!(
                "the plugin tried to pass more than {} bytes to the host in one go",
                fuel_for(limits)
            ),
        };
    }
    let mut message = match error.downcast_ref::<Trap>() {
        Some(trap) => trap.to_string(),
        None => error.chain().map(|c| c.to_string()).collect::<Vec<_>>().join(": "),
    };
    let explanation = guest_explanation(stderr);
    if !explanation.is_empty() {
        message.push_str(" — the guest said: ");
        message.push_str(&explanation);
    }
    Error::Trap { message }
}

/// The useful tail of a guest's stderr (a Rust panic message), at most a few lines.
fn guest_explanation(stderr: &str) -> String {
    const MAX_LINES: usize = 4;
    const MAX_BYTES: usize = 1024;
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("note: run with `RUST_BACKTRACE"))
        .collect();
    let tail = lines[lines.len().saturating_sub(MAX_LINES)..].join(" / ");
    if tail.len() <= MAX_BYTES {
        return tail;
    }
    let cut = (0..=MAX_BYTES).rev().find(|&i| tail.is_char_boundary(i)).unwrap_or(0);
    format!("{}…", &tail[..cut])
}

/// Instances are made here, beside what they are: a plugin only knows how to compile and link.
impl Plugin {
    /// A new instance handle; it instantiates on its first call and again after any trap.
    pub fn instance(&self) -> PluginInstance {
        PluginInstance::new(self.clone())
    }

    /// Runs one analysis on a fresh instance, which is dropped afterwards.
    ///
    /// # Errors
    ///
    /// Any [`Error`] a call can end in: a limit, a trap, an output limit.
    pub async fn analyze(&self, graph: &Graph) -> Result<Analysis> {
        self.instance().analyze(graph).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guest_explanation_keeps_the_panic_message() {
        let stderr = "\nthread '<unnamed>' panicked at src/lib.rs:14:9:\nboom\nnote: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n";
        assert_eq!(guest_explanation(stderr), "thread '<unnamed>' panicked at src/lib.rs:14:9: / boom");
        assert_eq!(guest_explanation(""), "");
        assert!(guest_explanation(&"é".repeat(2000)).len() <= 1024 + '…'.len_utf8());
    }
}
