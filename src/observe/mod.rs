//! What happened, as data: host events, the audit trail ([`audit`]), metrics
//! ([`telemetry`]), quota readings and the process's own resource samples ([`process`]).
//!
//! Records and measures; never decides or acts (the runtime acts on quota levels it reads
//! here). Imports `sandbox`, `policy`, `graph`, `contract` and the foundation for the types it
//! records; never `runtime` or anything above — the runtime writes into these, not the other way.

pub mod audit;
mod events;
mod plugin_key;
pub mod process;
mod quota;
pub mod telemetry;

pub use events::{EventKind, HostEvent};
pub use plugin_key::PluginKey;
pub(crate) use process::sample_process;
pub(crate) use quota::Window;
pub use quota::{Quota, QuotaLevel};
