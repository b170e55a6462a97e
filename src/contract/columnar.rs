//! Host-side bindings for contract 0.2 (`wit/v0.2`): the graph as columns, findings as records.
//!
//! Imports (`host.log`, `host.config`, `kv.*`) are plain functions that may trap the guest; the
//! exports are called asynchronously, as in 0.1.

// The generated items mirror the WIT, whose documentation they carry where it exists.
#![allow(missing_docs)]

wasmtime::component::bindgen!({
    path: "wit/v0.2",
    world: "analyzer-kv",
    imports: { default: trappable },
    exports: { default: async },
    additional_derives: [PartialEq],
});

pub use parseltongue::plugin::graph_types::{
    Finding as RawFinding, Graph as Columns, Report as RawReport, Rule as RawRule, Severity as RawSeverity,
};
pub(crate) use {AnalyzerKv as Analyzer, AnalyzerKvPre as AnalyzerPre};

/// The interface every 0.2 plugin exports.
pub(crate) const EXPORT_INTERFACE: &str = "parseltongue:plugin/analysis";
/// The interface holding 0.2's types (components import it for its types alone).
pub(crate) const TYPES_INTERFACE: &str = "parseltongue:plugin/graph-types";

impl Columns {
    /// Number of nodes.
    pub fn node_count(&self) -> usize {
        self.node_types.len()
    }

    /// Number of edges.
    pub fn edge_count(&self) -> usize {
        self.edge_sources.len()
    }

    /// String `i` of the table, if there is one (the host builds valid columns; a hand-made
    /// value may not be).
    pub fn string(&self, i: u32) -> Option<&str> {
        let i = i as usize;
        let end = *self.string_ends.get(i)? as usize;
        let start = if i == 0 { 0 } else { self.string_ends[i - 1] as usize };
        std::str::from_utf8(self.text.get(start..end)?).ok()
    }

    /// The bytes lowered into a plugin: every column's length in bytes, added up.
    pub fn byte_len(&self) -> usize {
        self.text.len()
            + 4 * (self.string_ends.len()
                + self.node_types.len()
                + self.meta_starts.len()
                + self.meta_keys.len()
                + self.meta_values.len()
                + self.edge_sources.len()
                + self.edge_targets.len()
                + self.edge_types.len())
    }
}
