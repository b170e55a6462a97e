//! What a store holds for one plugin instance, and the host side of the `host` and `kv`
//! interfaces.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmtime::Engine;
use wasmtime::component::{HasSelf, Linker, ResourceTable};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::contract::parseltongue::plugin::{host, kv};
use crate::contract::{Analyzer, ColumnarAnalyzer, GraphEdge, Level, columnar_wit};
use crate::error::Result;
use crate::policy::Limits;
use crate::sandbox::SharedCpuClock;
use crate::sandbox::store::KvHandle;
use crate::sandbox::store::Limiter;
use crate::sandbox::store::throttle::{self, Throttles};
use crate::sandbox::store::{Access, DenialHook};
use crate::sandbox::store::{BoundedOutput, LogSink};

/// What a plugin may reach and how its I/O is bounded, shared by all its instances.
#[derive(Clone)]
pub(crate) struct Reach {
    pub(crate) access: Access,
    pub(crate) kv: Option<KvHandle>,
    pub(crate) throttles: Arc<Throttles>,
    pub(crate) on_denied: Option<DenialHook>,
}

/// The trap raised when a call makes more host calls than its limit.
#[derive(Debug, thiserror::Error)]
#[error("made more than {0} host calls in one call")]
pub(crate) struct HostCallLimit(pub(crate) u64);

/// Per-store data: WASI, the limiter, and the state behind `host.*` and `kv.*` calls.
pub(crate) struct StoreState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(crate) limiter: Limiter,
    /// The plugin's name, for attributing log lines.
    pub(crate) plugin: Arc<str>,
    /// Operator-set values served by `host.config`.
    config: Arc<BTreeMap<String, String>>,
    /// The edges of the graph under analysis, served by `host.edges`.
    pub(crate) edges: Arc<[GraphEdge]>,
    pub(crate) logs: LogSink,
    pub(crate) stdout: BoundedOutput,
    pub(crate) stderr: BoundedOutput,
    reach: Reach,
    /// Number of `host.*` and `kv.*` calls in the current call.
    pub(crate) host_calls: u64,
    max_host_calls: u64,
    /// Key-value writes refused by the write rate in the current call.
    pub(crate) kv_writes_refused: u64,
    /// The current call's CPU time, kept by the future that drives the call ([`crate::sandbox::metered`]).
    pub(crate) cpu: SharedCpuClock,
    /// CPU time the current call may use (checked at every epoch tick).
    pub(crate) cpu_limit: Duration,
    /// When the current call must end whatever its CPU time (checked at every epoch tick).
    pub(crate) wall_deadline: Instant,
}

impl StoreState {
    pub(crate) fn new(
        plugin: Arc<str>,
        limits: &Limits,
        config: Arc<BTreeMap<String, String>>,
        reach: Reach,
    ) -> Result<Self> {
        let stdout = BoundedOutput::new(limits.max_stdio_bytes, reach.throttles.clone());
        let stderr = BoundedOutput::new(limits.max_stdio_bytes, reach.throttles.clone());
        Ok(StoreState {
            wasi: crate::sandbox::store::wasi::context(
                &reach.access,
                &stdout,
                &stderr,
                reach.on_denied.clone(),
            )?,
            table: ResourceTable::new(),
            limiter: Limiter::new(limits),
            plugin,
            config,
            edges: Arc::new([]),
            logs: LogSink::new(limits.max_log_bytes, limits.max_log_message_bytes),
            stdout,
            stderr,
            reach,
            host_calls: 0,
            max_host_calls: limits.max_host_calls,
            kv_writes_refused: 0,
            cpu: SharedCpuClock::default(),
            cpu_limit: limits.cpu_time,
            wall_deadline: wall_deadline(Instant::now(), limits),
        })
    }

    /// Counts a host call; one past the limit traps the guest.
    fn count_call(&mut self) -> wasmtime::Result<()> {
        self.host_calls += 1;
        if self.host_calls > self.max_host_calls {
            return Err(wasmtime::Error::new(HostCallLimit(self.max_host_calls)));
        }
        Ok(())
    }

    /// The plugin's store, or the error the guest sees (and an audit record) without the grant.
    fn kv(&self, op: &str) -> Result<&KvHandle, String> {
        match &self.reach.kv {
            Some(kv) => Ok(kv),
            None => {
                if let Some(hook) = &self.reach.on_denied {
                    hook(format!("kv.{op} without a kv grant"));
                }
                Err("key-value storage is not granted to this plugin".into())
            }
        }
    }

    /// A write (set or delete) within the plugin's write rate; refusals are counted.
    fn kv_write(&mut self, op: &str) -> Result<&KvHandle, String> {
        self.kv(op)?;
        if !throttle::allows(&self.reach.throttles.kv_writes, 1) {
            self.kv_writes_refused += 1;
            return Err("throttled: too many writes per second".into());
        }
        self.kv(op)
    }
}

impl WasiView for StoreState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

/// A linker offering every WASI 0.2 interface (each 0.2.x import resolves against it) and the
/// `parseltongue:plugin` `host` and `kv` interfaces.
pub(crate) fn linker(engine: &Engine) -> wasmtime::Result<Linker<StoreState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    Analyzer::add_to_linker::<StoreState, HasSelf<StoreState>>(&mut linker, |state| state)?;
    ColumnarAnalyzer::add_to_linker::<StoreState, HasSelf<StoreState>>(&mut linker, |state| state)?;
    // `host.edges` again, without the owned `Vec` the generated binding would need: the shared
    // edge list is lowered straight from the graph (one `Arc` clone instead of a deep copy of
    // every edge's strings on every call).
    linker.allow_shadowing(true);
    let mut host = linker.instance(&format!(
        "{}@{}",
        crate::contract::HOST_INTERFACE,
        crate::contract::CONTRACT_VERSION
    ))?;
    host.func_wrap("edges", |mut store: wasmtime::StoreContextMut<'_, StoreState>, (): ()| {
        let state = store.data_mut();
        state.count_call()?;
        Ok((state.edges.clone(),))
    })?;
    linker.allow_shadowing(false);
    Ok(linker)
}

impl StoreState {
    /// `host.log` of either contract.
    fn log(&mut self, level: Level, message: String) -> wasmtime::Result<()> {
        self.count_call()?;
        // Only what the budgets keep reaches the host's log: a flood stays in the guest.
        if !throttle::allows(&self.reach.throttles.log, message.len()) {
            self.logs.refuse(message.len());
            return Ok(());
        }
        let Some(record) = self.logs.push(level, message) else {
            return Ok(());
        };
        let (plugin, message) = (&*self.plugin, &record.message);
        match level {
            Level::Trace => tracing::trace!(target: "ptplugin::guest", plugin, "{message}"),
            Level::Debug => tracing::debug!(target: "ptplugin::guest", plugin, "{message}"),
            Level::Info => tracing::info!(target: "ptplugin::guest", plugin, "{message}"),
            Level::Warn => tracing::warn!(target: "ptplugin::guest", plugin, "{message}"),
            Level::Error => tracing::error!(target: "ptplugin::guest", plugin, "{message}"),
        }
        Ok(())
    }

    /// `host.config` of either contract.
    fn config(&mut self, key: String) -> wasmtime::Result<Option<String>> {
        self.count_call()?;
        Ok(self.config.get(&key).cloned())
    }

    fn kv_get(&mut self, key: String) -> wasmtime::Result<Result<Option<Vec<u8>>, String>> {
        self.count_call()?;
        Ok(self.kv("get").and_then(|kv| kv.get(&key)))
    }

    fn kv_set(&mut self, key: String, value: Vec<u8>) -> wasmtime::Result<Result<(), String>> {
        self.count_call()?;
        Ok(self.kv_write("set").and_then(|kv| kv.set(&key, &value)))
    }

    fn kv_delete(&mut self, key: String) -> wasmtime::Result<Result<(), String>> {
        self.count_call()?;
        Ok(self.kv_write("delete").and_then(|kv| kv.delete(&key)))
    }

    fn kv_keys(&mut self) -> wasmtime::Result<Result<Vec<String>, String>> {
        self.count_call()?;
        Ok(self.kv("keys").and_then(|kv| kv.keys()))
    }
}

impl host::Host for StoreState {
    fn log(&mut self, level: Level, message: String) -> wasmtime::Result<()> {
        StoreState::log(self, level, message)
    }

    /// Shadowed in [`linker`] by a version that lowers the shared list without copying it.
    fn edges(&mut self) -> wasmtime::Result<Vec<GraphEdge>> {
        self.count_call()?;
        Ok(self.edges.to_vec())
    }

    fn config(&mut self, key: String) -> wasmtime::Result<Option<String>> {
        StoreState::config(self, key)
    }
}

impl kv::Host for StoreState {
    fn get(&mut self, key: String) -> wasmtime::Result<Result<Option<Vec<u8>>, String>> {
        self.kv_get(key)
    }

    fn set(&mut self, key: String, value: Vec<u8>) -> wasmtime::Result<Result<(), String>> {
        self.kv_set(key, value)
    }

    fn delete(&mut self, key: String) -> wasmtime::Result<Result<(), String>> {
        self.kv_delete(key)
    }

    fn keys(&mut self) -> wasmtime::Result<Result<Vec<String>, String>> {
        self.kv_keys()
    }
}

/// Contract 0.2's host: the same functions (no `edges`: the graph arrives whole, as columns).
impl columnar_wit::plugin::host::Host for StoreState {
    fn log(&mut self, level: columnar_wit::plugin::host::Level, message: String) -> wasmtime::Result<()> {
        use columnar_wit::plugin::host::Level as L;
        let level = match level {
            L::Trace => Level::Trace,
            L::Debug => Level::Debug,
            L::Info => Level::Info,
            L::Warn => Level::Warn,
            L::Error => Level::Error,
        };
        StoreState::log(self, level, message)
    }

    fn config(&mut self, key: String) -> wasmtime::Result<Option<String>> {
        StoreState::config(self, key)
    }
}

impl columnar_wit::plugin::kv::Host for StoreState {
    fn get(&mut self, key: String) -> wasmtime::Result<Result<Option<Vec<u8>>, String>> {
        self.kv_get(key)
    }

    fn set(&mut self, key: String, value: Vec<u8>) -> wasmtime::Result<Result<(), String>> {
        self.kv_set(key, value)
    }

    fn delete(&mut self, key: String) -> wasmtime::Result<Result<(), String>> {
        self.kv_delete(key)
    }

    fn keys(&mut self) -> wasmtime::Result<Result<Vec<String>, String>> {
        self.kv_keys()
    }
}

impl columnar_wit::plugin::graph_types::Host for StoreState {}

/// The longest wall-clock backstop honoured (a policy may allow absurd limits; `Instant`
/// arithmetic must not overflow, and tokio's timers reach about two years).
const LONGEST_BACKSTOP: Duration = Duration::from_secs(7 * 24 * 3600);

/// When a call started at `started` must end, whatever its CPU time.
pub(crate) fn wall_deadline(started: Instant, limits: &Limits) -> Instant {
    started + limits.wall_limit().min(LONGEST_BACKSTOP)
}
