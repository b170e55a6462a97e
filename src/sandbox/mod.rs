//! The sandbox: compiling plugins once ([`Sandbox`], engines, the compile cache) and running
//! each call in its own store under the plugin's limits ([`Plugin`], [`PluginInstance`]) — CPU
//! time read from the thread's clock, memory, fuel, stack, output size, deny-by-default WASI.
//!
//! One plugin, one call at a time: no actors, no retries, no policy decisions (it applies the
//! grants it is given). Imports `contract`, `graph`, `policy` and the foundation; never
//! `observe`, `runtime` or anything above — supervision is built on top of this, not into it.

mod cache;
mod cpu;
mod engine;
mod instance;
mod loader;
mod plugin;
pub(crate) mod store;

pub use cache::{CacheStatus, CompileCache, sha256};
pub(crate) use cpu::{SharedCpuClock, metered};
pub use engine::{EPOCH_TICK, Pooling};
pub(crate) use engine::{EngineProfile, EngineSlot, Engines};
pub(crate) use instance::as_millis;
pub use instance::{Analysis, PluginInstance, Usage};
pub use loader::{Inspection, Sandbox, SandboxBuilder};
pub(crate) use plugin::name_from_path;
pub use plugin::{LoadReport, Plugin, PluginOptions};
pub use store::{KvStore, LogRecord, kv, wasi};
