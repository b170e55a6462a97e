//! The contract: the `parseltongue:plugin` WIT world a plugin implements, bound for the host
//! (`wit/plugin.wit`), and the check that a compiled component fits it ([`Surface`]).
//!
//! Owns the generated types every other layer speaks in (`GraphNode`, `AnalysisResult`, …) and
//! the contract's names and versions. Imports nothing of this crate but `error`: it is the
//! lowest layer, and a change here is a change of what plugins see.

mod bindings;
mod surface;

pub use bindings::{AnalysisResult, CONTRACT_VERSION, GraphEdge, GraphNode, Level, WORLD};
pub(crate) use bindings::{
    Analyzer, AnalyzerPre, EXPORT_INTERFACE, HOST_INTERFACE, KV_INTERFACE, parseltongue,
};
pub use surface::Surface;
