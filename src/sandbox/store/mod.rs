//! What one wasmtime store holds for one plugin instance: the WASI context its capabilities
//! allow ([`wasi`]), captured and bounded output, throttles, the memory limiter, the checks on
//! what a call returns, and the plugin's key-value store ([`kv`]).
//!
//! Everything here lives and dies with an instance's store; nothing outlives it but the kv
//! file. Imports `contract`, `policy` and the foundation; the rest of the sandbox builds stores
//! from these parts.

mod capture;
pub mod kv;
mod limiter;
mod output;
mod state;
mod throttle;
pub mod wasi;

pub use capture::LogRecord;
pub(crate) use capture::{BoundedOutput, LogSink};
pub(crate) use kv::KvHandle;
pub use kv::KvStore;
pub(crate) use limiter::{LimitExceeded, Limiter};
pub(crate) use output::{HOSTCALL_FUEL_EXHAUSTED, fuel_for, report_v1, report_v2};
pub(crate) use state::{HostCallLimit, Reach, StoreState, linker, wall_deadline};
pub(crate) use throttle::Throttles;
pub(crate) use wasi::{Access, DenialHook};
