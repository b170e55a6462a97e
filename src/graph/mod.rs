//! The graph a plugin analyses: [`Graph`] and its JSON form, the importers that read what
//! Parseltongue produces ([`import`]), and synthetic graphs for tests and benchmarks
//! ([`synthetic`]).
//!
//! Plain data and parsing, and where graphs come from ([`source`]: files, or a running
//! Parseltongue v1.7 server over HTTP — the layer's only network). Imports only `contract` (the
//! node and edge types) and the foundation (`error`, `files`); never the sandbox, the runtime or
//! anything that runs plugins.

mod columns;
pub mod import;
mod model;
#[cfg(feature = "bundled-plugins")]
mod samples;
pub mod source;
pub mod synthetic;

pub use model::Graph;
pub(crate) use model::{decode, parse_json};
#[cfg(feature = "bundled-plugins")]
pub use samples::{
    PARSELTONGUE_EDGES, PARSELTONGUE_ENTITIES, PARSELTONGUE_V17_EDGE_PAGES, PARSELTONGUE_V17_ENTITIES,
    SAMPLE_GRAPH, parseltongue_sample, parseltongue_v097_sample,
};
