//! Engines, one per distinct set of code-generation settings, and the epoch ticker that drives
//! every call's time checks (its CPU time, and the wall-clock backstop).
//!
//! Fuel metering and the wasm stack size are engine-wide settings in wasmtime, so plugins that ask
//! for different ones get different engines. Most plugins share the default one.

use std::collections::HashMap;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use wasmtime::component::Linker;
use wasmtime::{Config, Engine};

use crate::error::{Error, Result};
use crate::policy::Limits;
use crate::sandbox::store::StoreState;

/// How often the epoch advances. A call overruns its time limits by at most about one tick.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Extra fiber stack beyond the wasm stack, for host functions called from wasm.
const HOST_STACK_HEADROOM: usize = 1024 * 1024;

/// The engine-wide settings a plugin's limits decide.
/// Pre-allocated instance slots (wasmtime's pooling allocator): instantiation takes a ready slot
/// and resets memory copy-on-write instead of mapping fresh memory, at the price of reserving
/// address space for every slot up front.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Pooling {
    /// Component instances alive at once, across every plugin of the sandbox.
    pub instances: u32,
    /// Linear memory per slot, MiB: the most any plugin in this sandbox may use, whatever its
    /// limits say.
    pub memory_mb: u64,
}

impl Default for Pooling {
    fn default() -> Self {
        Pooling { instances: 1000, memory_mb: 64 }
    }
}

impl Pooling {
    fn strategy(&self) -> wasmtime::InstanceAllocationStrategy {
        // A Rust component has a handful of core instances, one or two memories, a few
        // tables; the per-component caps leave room for bigger (JS, Python) components.
        let n = self.instances;
        let mut pool = wasmtime::PoolingAllocationConfig::default();
        pool.total_component_instances(n)
            .total_core_instances(n.saturating_mul(16))
            .max_core_instances_per_component(64)
            .total_memories(n.saturating_mul(2))
            .max_memories_per_component(8)
            .total_tables(n.saturating_mul(16))
            .max_tables_per_component(64)
            .total_stacks(n)
            .max_memory_size(usize::try_from(self.memory_mb * 1024 * 1024).unwrap_or(usize::MAX));
        wasmtime::InstanceAllocationStrategy::Pooling(pool)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct EngineProfile {
    pub(crate) fuel: bool,
    pub(crate) max_wasm_stack: usize,
    pub(crate) pooling: Option<Pooling>,
}

impl EngineProfile {
    pub(crate) fn for_limits(limits: &Limits) -> Self {
        EngineProfile { fuel: limits.fuel.is_some(), max_wasm_stack: limits.max_wasm_stack, pooling: None }
    }

    fn config(&self) -> Config {
        let mut config = Config::new();
        config
            .wasm_component_model(true)
            .epoch_interruption(true)
            .consume_fuel(self.fuel)
            .max_wasm_stack(self.max_wasm_stack)
            .async_stack_size(self.max_wasm_stack + HOST_STACK_HEADROOM);
        if let Some(pooling) = &self.pooling {
            config.allocation_strategy(pooling.strategy());
        }
        config
    }
}

/// An engine and the linker that offers WASI and the `host` interface on it.
#[derive(Clone)]
pub(crate) struct EngineSlot {
    pub(crate) engine: Engine,
    pub(crate) linker: Arc<Linker<StoreState>>,
    /// Components already compiled or deserialized on this engine, by SHA-256: plugins loaded
    /// from the same bytes share one copy of the machine code.
    pub(crate) components: Arc<Mutex<HashMap<[u8; 32], wasmtime::component::Component>>>,
    /// Whether loads share components (on unless the sandbox was built without it).
    pub(crate) sharing: bool,
    /// One gate per component being made, so concurrent loads of the same bytes wait for the
    /// first instead of all compiling (1,000 plugins loaded at once compiled 1,000 times).
    gates: Arc<Mutex<HashMap<[u8; 32], Gate>>>,
}

/// Held while one component is being made.
type Gate = Arc<Mutex<()>>;

/// How many distinct components an engine keeps for sharing; past it the memo starts afresh
/// (plugins keep their own references, so nothing loaded is lost).
const SHARED_COMPONENTS: usize = 256;

impl EngineSlot {
    /// The component for `sha`: the one already made on this engine, or `make`'s, made once
    /// however many loads ask at the same time. The flag says whether it was shared.
    pub(crate) fn component<T>(
        &self,
        sha: &[u8; 32],
        make: impl FnOnce() -> Result<(wasmtime::component::Component, T)>,
    ) -> Result<(wasmtime::component::Component, Option<T>)> {
        if !self.sharing {
            return make().map(|(c, t)| (c, Some(t)));
        }
        let gate = self.gates.lock().unwrap_or_else(|p| p.into_inner()).entry(*sha).or_default().clone();
        let _held = gate.lock().unwrap_or_else(|p| p.into_inner());
        let result = match self.shared(sha) {
            Some(component) => Ok((component, None)),
            None => make().map(|(component, t)| {
                self.share(*sha, &component);
                (component, Some(t))
            }),
        };
        self.gates.lock().unwrap_or_else(|p| p.into_inner()).remove(sha);
        result
    }

    fn shared(&self, sha: &[u8; 32]) -> Option<wasmtime::component::Component> {
        self.components.lock().unwrap_or_else(|p| p.into_inner()).get(sha).cloned()
    }

    fn share(&self, sha: [u8; 32], component: &wasmtime::component::Component) {
        let mut memo = self.components.lock().unwrap_or_else(|p| p.into_inner());
        if memo.len() >= SHARED_COMPONENTS {
            memo.clear();
        }
        memo.insert(sha, component.clone());
    }
}

/// All engines of one [`crate::Sandbox`], created on first use, ticked by one thread.
pub(crate) struct Engines {
    slots: Mutex<HashMap<EngineProfile, EngineSlot>>,
    ticker: Ticker,
}

impl Engines {
    pub(crate) fn new() -> Result<Self> {
        let ticker = Ticker::start().map_err(|e| Error::io("cannot start the epoch thread", e))?;
        Ok(Engines { slots: Mutex::new(HashMap::new()), ticker })
    }

    /// The engine for `profile`, creating it (and registering it with the ticker) if new.
    pub(crate) fn get(&self, profile: EngineProfile) -> Result<EngineSlot> {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(slot) = slots.get(&profile) {
            return Ok(slot.clone());
        }
        let engine = Engine::new(&profile.config()).map_err(|e| Error::InvalidComponent {
            message: "cannot configure the engine for these limits".into(),
            source: Some(e.into()),
        })?;
        let linker = crate::sandbox::store::linker(&engine).map_err(|e| Error::Incompatible {
            message: "cannot link the host interfaces".into(),
            source: Some(e.into()),
        })?;
        let slot = EngineSlot {
            engine: engine.clone(),
            linker: Arc::new(linker),
            components: Arc::default(),
            sharing: true,
            gates: Arc::default(),
        };
        self.ticker.watch(engine);
        slots.insert(profile, slot.clone());
        Ok(slot)
    }
}

/// A thread that advances the epoch of every registered engine each [`EPOCH_TICK`].
///
/// It is a plain thread, not a tokio task, so deadlines fire even when every runtime thread is
/// busy; it ends when the [`Ticker`] is dropped.
struct Ticker {
    engines: Arc<Mutex<Vec<Engine>>>,
    _stop: mpsc::Sender<()>,
}

impl Ticker {
    fn start() -> std::io::Result<Self> {
        let engines: Arc<Mutex<Vec<Engine>>> = Arc::default();
        let (stop, stopped) = mpsc::channel::<()>();
        let watched = Arc::clone(&engines);
        std::thread::Builder::new().name("ptplugin-epoch".into()).spawn(move || {
            while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(EPOCH_TICK) {
                for engine in watched.lock().unwrap_or_else(|p| p.into_inner()).iter() {
                    engine.increment_epoch();
                }
            }
        })?;
        Ok(Ticker { engines, _stop: stop })
    }

    fn watch(&self, engine: Engine) {
        self.engines.lock().unwrap_or_else(|p| p.into_inner()).push(engine);
    }
}
