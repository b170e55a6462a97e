//! What a store holds for one plugin instance, and the host side of the `host` interface.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use wasmtime::Engine;
use wasmtime::component::{HasSelf, Linker, ResourceTable};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::bindings::parseltongue::plugin::host;
use crate::bindings::{Analyzer, GraphEdge, Level};
use crate::capture::{BoundedOutput, LogSink};
use crate::limits::{Limiter, Limits};

/// Per-store data: WASI, the limiter, and the state behind `host.*` calls.
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
    /// Number of `host.*` calls in the current call.
    pub(crate) host_calls: u64,
    /// When the current call must end (checked at every epoch tick).
    pub(crate) deadline: Instant,
}

impl StoreState {
    pub(crate) fn new(plugin: Arc<str>, limits: &Limits, config: Arc<BTreeMap<String, String>>) -> Self {
        let stdout = BoundedOutput::new(limits.max_stdio_bytes);
        let stderr = BoundedOutput::new(limits.max_stdio_bytes);
        StoreState {
            wasi: crate::wasi::deny_by_default(&stdout, &stderr),
            table: ResourceTable::new(),
            limiter: Limiter::new(limits),
            plugin,
            config,
            edges: Arc::new([]),
            logs: LogSink::new(limits.max_log_bytes, limits.max_log_message_bytes),
            stdout,
            stderr,
            host_calls: 0,
            deadline: Instant::now() + limits.timeout,
        }
    }
}

impl WasiView for StoreState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

/// A linker offering every WASI 0.2 interface (each 0.2.x import resolves against it) and the
/// `parseltongue:plugin/host` interface.
pub(crate) fn linker(engine: &Engine) -> wasmtime::Result<Linker<StoreState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    Analyzer::add_to_linker::<StoreState, HasSelf<StoreState>>(&mut linker, |state| state)?;
    Ok(linker)
}

impl host::Host for StoreState {
    fn log(&mut self, level: Level, message: String) -> wasmtime::Result<()> {
        self.host_calls += 1;
        // Only what the budget keeps reaches the host's log: a flood stays in the guest.
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

    fn edges(&mut self) -> wasmtime::Result<Vec<GraphEdge>> {
        self.host_calls += 1;
        Ok(self.edges.to_vec())
    }

    fn config(&mut self, key: String) -> wasmtime::Result<Option<String>> {
        self.host_calls += 1;
        Ok(self.config.get(&key).cloned())
    }
}
