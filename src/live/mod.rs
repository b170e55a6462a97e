//! Living beside a running Parseltongue: what changed between analyses of a changing codebase
//! ([`changes`]: `ptplugin watch`) and plugin analyses served over HTTP in Parseltongue's own
//! style ([`serve`]: `ptplugin serve`).
//!
//! Above the runtime: uses `PluginHost`, graph sources and errors; never reaches into the
//! sandbox's or the runtime's internals, and nothing below imports it.

pub mod changes;
pub mod serve;

pub use changes::{Outcome, PluginChange, changes as diff};
pub use serve::{ServeOptions, router};
