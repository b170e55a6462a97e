//! Host-side bindings for the `parseltongue:plugin` contract in `wit/plugin.wit`.
//!
//! Imports (`host.log`, `host.edges`, `host.config`) are plain functions that may trap the guest;
//! the export is called asynchronously so that WASI and epoch yields never block a tokio thread.

// The generated items mirror the WIT, whose documentation they carry where it exists.
#![allow(missing_docs)]

// The host binds `analyzer-kv` (the contract's `analyzer` world plus the optional `kv` import):
// a component of `analyzer` needs only part of what is linked, so both kinds load.
wasmtime::component::bindgen!({
    path: "wit",
    world: "analyzer-kv",
    imports: { default: trappable },
    exports: { default: async },
    additional_derives: [PartialEq, serde::Serialize],
});

pub use exports::parseltongue::plugin::parseltongue_plugin::{AnalysisResult, GraphNode};
pub use parseltongue::plugin::host::{GraphEdge, Level};
pub(crate) use {AnalyzerKv as Analyzer, AnalyzerKvPre as AnalyzerPre};

/// The seed's contract version (0.1); plugins built against any `0.1.x` fit. See [`Contract`](crate::Contract) for both.
pub const CONTRACT_VERSION: &str = "0.1.0";
/// The interface every plugin must export.
pub const EXPORT_INTERFACE: &str = "parseltongue:plugin/parseltongue-plugin";
/// The interface the host offers every plugin.
pub const HOST_INTERFACE: &str = "parseltongue:plugin/host";
/// The optional storage interface.
pub const KV_INTERFACE: &str = "parseltongue:plugin/kv";
/// The world a plugin component implements.
pub const WORLD: &str = "parseltongue:plugin/analyzer";
