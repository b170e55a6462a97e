//! The contract: the `parseltongue:plugin` WIT worlds a plugin implements — 0.1 (the seed's,
//! `wit/plugin.wit`) and 0.2 (the graph as columns, `wit/v0.2/`) — bound for the host, the
//! check that a compiled component fits one of them ([`Surface`] → [`Contract`]), and what a
//! call returns whichever it is ([`Report`], [`Finding`]).
//!
//! Owns the generated types every other layer speaks in (`GraphNode`, `Columns`, …) and the
//! contracts' names and versions. Imports nothing of this crate but `error`: it is the lowest
//! layer, and a change here is a change of what plugins see.

mod bindings;
mod columnar;
mod findings;
mod surface;

pub use bindings::{AnalysisResult, CONTRACT_VERSION, GraphEdge, GraphNode, Level, WORLD};
pub(crate) use bindings::{
    Analyzer, AnalyzerPre, EXPORT_INTERFACE, HOST_INTERFACE, KV_INTERFACE, parseltongue,
};
pub use columnar::Columns;
#[cfg(test)]
pub(crate) use columnar::RawSeverity;
pub(crate) use columnar::{
    Analyzer as ColumnarAnalyzer, AnalyzerPre as ColumnarAnalyzerPre, parseltongue as columnar_wit,
};
pub(crate) use columnar::{RawFinding, RawReport};
pub use findings::{Finding, NodeRef, Report, Rule, Severity, is_rule_id};
pub use surface::{Contract, Surface};
