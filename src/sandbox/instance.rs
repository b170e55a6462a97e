//! One live instance of a plugin and a call into it: limits armed, usage measured, failures
//! classified.

use std::time::{Duration, Instant};

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use wasmtime::{Store, Trap, UpdateDeadline};

use crate::contract::{Analyzer, ColumnarAnalyzer, Report, Rule, is_rule_id};
use crate::error::{Clock, Error, Result};
use crate::graph::Graph;
use crate::policy::Limits;
use crate::sandbox::EPOCH_TICK;
use crate::sandbox::LogRecord;
use crate::sandbox::Plugin;
use crate::sandbox::metered;
use crate::sandbox::plugin::Pre;
use crate::sandbox::store::{HOSTCALL_FUEL_EXHAUSTED, LimitExceeded, fuel_for, report_v1, report_v2};
use crate::sandbox::store::{HostCallLimit, StoreState};

/// What one call used. Reported after success and, through
/// [`PluginInstance::last_usage`], after failure too.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Usage {
    /// Wall-clock time of the call, including instantiation when it was needed.
    #[serde(rename = "wall_time_ms", serialize_with = "as_millis")]
    pub wall_time: Duration,
    /// CPU time the call used: the plugin's code and the host's work inside the call for it
    /// (instantiation included), not waits. What [`Limits::cpu_time`] limits and quotas count.
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
    /// The plugin's answer, already checked against the output limits, its findings' nodes
    /// resolved (a 0.1 plugin's strings are findings with its name as their rule).
    #[serde(flatten)]
    pub result: Report,
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

/// An instance's exports, under the contract it implements.
enum Bindings {
    V0_1(Analyzer),
    V0_2(ColumnarAnalyzer),
}

struct Live {
    store: Store<StoreState>,
    bindings: Bindings,
    /// The sandbox's live-instance count, decremented when this instance is dropped.
    counter: Arc<AtomicUsize>,
}

impl Live {
    fn new(store: Store<StoreState>, bindings: Bindings, counter: Arc<AtomicUsize>) -> Self {
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

    /// Runs the plugin on `graph`: a 0.2 plugin's `analyze` on the graph's columns (built once
    /// per graph, shared), a 0.1 plugin's `analyze-graph` on its nodes, with its edges served
    /// through `host.edges()`.
    ///
    /// # Errors
    ///
    /// [`Error::Timeout`], [`Error::FuelExhausted`], [`Error::MemoryLimit`],
    /// [`Error::StackOverflow`] or [`Error::Trap`] if the guest was stopped (the instance is
    /// then dropped), [`Error::OutputLimit`] if its result is too large, [`Error::InvalidOutput`]
    /// if it is malformed (the instance is dropped too).
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
        let outcome = call(live, graph, limits, &plugin).await;

        let (usage, logs, stdout, stderr) = measure(&mut live.store, started, limits.fuel, fresh);
        self.last_usage = usage.clone();
        match outcome {
            Ok(result) => Ok(Analysis { result, usage, logs, stdout, stderr }),
            // Too much output breaks no invariant of the instance: keep it.
            Err(CallFailure::Output(error)) if error.kind() != crate::ErrorKind::InvalidOutput => Err(error),
            Err(CallFailure::Output(error)) => {
                self.live = None;
                Err(error)
            }
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

/// Calls the plugin's analysis, then applies the exact output limits and turns its answer into
/// a [`Report`].
async fn call(
    live: &mut Live,
    graph: &Graph,
    limits: &Limits,
    plugin: &Plugin,
) -> Result<Report, CallFailure> {
    let deadline = live.store.data().wall_deadline;
    let cpu = live.store.data().cpu.clone();
    match &live.bindings {
        Bindings::V0_1(bindings) => {
            live.store.data_mut().edges = graph.shared_edges();
            let call = bindings
                .parseltongue_plugin_parseltongue_plugin()
                .call_analyze_graph(&mut live.store, graph.nodes());
            let result = backstop(deadline, metered(&cpu, call)).await;
            live.store.data_mut().edges = Arc::new([]);
            let result = result.map_err(CallFailure::Guest)?;
            report_v1(plugin.name(), result, limits).map_err(CallFailure::Output)
        }
        Bindings::V0_2(bindings) => {
            let columns = graph.columns();
            let call = bindings.parseltongue_plugin_analysis().call_analyze(&mut live.store, &columns);
            let raw = backstop(deadline, metered(&cpu, call)).await.map_err(CallFailure::Guest)?;
            report_v2(raw, limits, graph).map_err(CallFailure::Output)
        }
    }
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
    // The CPU clock's segments are the polls of the call's future (`metered`); the epoch
    // callback runs inside one and reads the time so far.
    store.epoch_deadline_callback(|ctx| {
        let state = ctx.data();
        let used = state.cpu.lock().unwrap_or_else(std::sync::PoisonError::into_inner).used();
        if used >= state.cpu_limit {
            Err(wasmtime::Error::new(TimeLimitReached(Clock::Cpu)))
        } else if Instant::now() >= state.wall_deadline {
            Err(wasmtime::Error::new(TimeLimitReached(Clock::Wall)))
        } else {
            Ok(UpdateDeadline::Yield(1))
        }
    });
    arm(&mut store, started, &inner.limits);
    let deadline = store.data().wall_deadline;
    let cpu = store.data().cpu.clone();
    let instantiated = match &inner.pre {
        Pre::V0_1(pre) => {
            backstop(deadline, metered(&cpu, pre.instantiate_async(&mut store))).await.map(Bindings::V0_1)
        }
        Pre::V0_2(pre) => {
            backstop(deadline, metered(&cpu, pre.instantiate_async(&mut store))).await.map(Bindings::V0_2)
        }
    };
    match instantiated {
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
    state.cpu.lock().unwrap_or_else(std::sync::PoisonError::into_inner).reset();
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
        cpu_time: state.cpu.lock().unwrap_or_else(std::sync::PoisonError::into_inner).used(),
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
    if let Some(message) = malformed(&error) {
        return Error::InvalidOutput { message };
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

/// Why the engine could not read what the guest returned, when that is what failed: a string
/// that is not UTF-8, a pointer or length outside its memory, a bad enum value. (The engine's
/// own error types are private; their messages are matched, and a test per case pins them.)
fn malformed(error: &wasmtime::Error) -> Option<String> {
    if error.downcast_ref::<Trap>().is_some() {
        return None;
    }
    for cause in error.chain() {
        if let Some(utf8) = cause.downcast_ref::<std::str::Utf8Error>() {
            return Some(format!("a string it returned is not UTF-8 ({utf8})"));
        }
        let text = cause.to_string();
        if ["out of bounds of memory", "pointer not aligned", "pointer is not aligned", "discriminant"]
            .iter()
            .any(|m| text.contains(m))
        {
            return Some(format!("the engine could not read its result: {text}"));
        }
    }
    None
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

impl PluginInstance {
    /// The rules a 0.2 plugin says its findings may name (its `rules` export), checked: ids
    /// are rule ids, no id twice, strings within the output limits. A 0.1 plugin has one rule,
    /// its name.
    ///
    /// # Errors
    ///
    /// As [`PluginInstance::analyze`]: a limit or trap while answering (the instance is then
    /// dropped), [`Error::InvalidOutput`] or [`Error::OutputLimit`] for a bad list.
    pub async fn rules(&mut self) -> Result<Vec<Rule>> {
        let plugin = self.plugin.clone();
        let limits = &plugin.inner().limits;
        let started = Instant::now();
        self.warm_up().await?;
        let Some(live) = &mut self.live else { unreachable!("warmed up") };
        let bindings = match &live.bindings {
            Bindings::V0_1(_) => {
                return Ok(vec![Rule {
                    id: plugin.name().to_string(),
                    summary: format!(
                        "what {} reports (a contract 0.1 plugin: findings are text)",
                        plugin.name()
                    ),
                    default_severity: crate::contract::Severity::Warning,
                    help: String::new(),
                }]);
            }
            Bindings::V0_2(bindings) => bindings,
        };
        arm(&mut live.store, started, limits);
        let deadline = live.store.data().wall_deadline;
        let cpu = live.store.data().cpu.clone();
        let call = bindings.parseltongue_plugin_analysis().call_rules(&mut live.store);
        let raw = match backstop(deadline, metered(&cpu, call)).await {
            Ok(raw) => raw,
            Err(error) => {
                let stderr = live.store.data_mut().stderr.drain().text;
                self.live = None;
                return Err(classify(error, &plugin, &stderr));
            }
        };
        check_rules(raw.into_iter().map(Rule::from).collect(), limits)
    }
}

/// A plugin's rule list, checked.
fn check_rules(rules: Vec<Rule>, limits: &Limits) -> Result<Vec<Rule>> {
    if rules.len() > limits.max_findings {
        return Err(Error::OutputLimit {
            message: format!("{} rules, over the limit of {}", rules.len(), limits.max_findings),
        });
    }
    let mut seen = std::collections::HashSet::new();
    for (i, rule) in rules.iter().enumerate() {
        if !is_rule_id(&rule.id) {
            let shown: String = rule.id.chars().take(40).collect();
            return Err(Error::InvalidOutput {
                message: format!("rules[{i}].id `{shown}` is not a rule id"),
            });
        }
        if !seen.insert(rule.id.as_str()) {
            return Err(Error::InvalidOutput {
                message: format!("rules[{i}].id `{}` appears twice", rule.id),
            });
        }
        for (field, text) in [("summary", &rule.summary), ("help", &rule.help)] {
            if text.len() > limits.max_string_bytes {
                return Err(Error::OutputLimit {
                    message: format!(
                        "rules[{i}].{field} is {} bytes, over the per-string limit of {}",
                        text.len(),
                        limits.max_string_bytes
                    ),
                });
            }
        }
    }
    Ok(rules)
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
