//! Graphs shipped inside the library (with the bundled plugins): a small hand-written one and
//! real Parseltongue data. Public as `bundled::…`.

/// A small hand-written graph in the documented JSON format, with known cycles: for examples
/// and tests whose answers must be obvious.
pub const SAMPLE_GRAPH: &str = include_str!("../../samples/sample-graph.json");

/// Parseltongue v0.9.7 analysing its own repository: the entities export (`pt02-level01`).
pub const PARSELTONGUE_ENTITIES: &str =
    include_str!("../../samples/parseltongue/v0.9.7_self_analysis_level01_entities.json");

/// Parseltongue v0.9.7 analysing its own repository: the edges export (`pt02-level00`).
pub const PARSELTONGUE_EDGES: &str =
    include_str!("../../samples/parseltongue/v0.9.7_self_analysis_level00_edges.json");

/// The demo's graph: real Parseltongue data ([`PARSELTONGUE_ENTITIES`] with
/// [`PARSELTONGUE_EDGES`]), imported.
pub fn parseltongue_sample() -> crate::graph::import::Imported {
    crate::graph::import::from_texts(PARSELTONGUE_ENTITIES, Some(PARSELTONGUE_EDGES))
        .expect("the bundled Parseltongue sample imports")
}
