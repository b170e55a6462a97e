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

/// Parseltongue v1.7.2 analysing its own source, as its HTTP server answered:
/// `GET /code-entities-list-all`.
pub const PARSELTONGUE_V17_ENTITIES: &str =
    include_str!("../../samples/parseltongue-v1.7.2/code-entities-list-all.json");

/// The same server's `GET /dependency-edges-list-all?limit=2000&offset=N`, every page.
pub const PARSELTONGUE_V17_EDGE_PAGES: [&str; 5] = [
    include_str!("../../samples/parseltongue-v1.7.2/dependency-edges-list-all/limit2000-offset00000.json"),
    include_str!("../../samples/parseltongue-v1.7.2/dependency-edges-list-all/limit2000-offset02000.json"),
    include_str!("../../samples/parseltongue-v1.7.2/dependency-edges-list-all/limit2000-offset04000.json"),
    include_str!("../../samples/parseltongue-v1.7.2/dependency-edges-list-all/limit2000-offset06000.json"),
    include_str!("../../samples/parseltongue-v1.7.2/dependency-edges-list-all/limit2000-offset08000.json"),
];

/// The demo's graph: today's Parseltongue (v1.7.2) on its own source ([`PARSELTONGUE_V17_ENTITIES`]
/// with [`PARSELTONGUE_V17_EDGE_PAGES`]), imported.
pub fn parseltongue_sample() -> crate::graph::import::Imported {
    crate::graph::import::from_server_texts(PARSELTONGUE_V17_ENTITIES, &PARSELTONGUE_V17_EDGE_PAGES)
        .expect("the bundled Parseltongue v1.7.2 sample imports")
}

/// Parseltongue v0.9.7's exports of its own repository ([`PARSELTONGUE_ENTITIES`] with
/// [`PARSELTONGUE_EDGES`]), imported: the export-file format before v1.0.
pub fn parseltongue_v097_sample() -> crate::graph::import::Imported {
    crate::graph::import::from_texts(PARSELTONGUE_ENTITIES, Some(PARSELTONGUE_EDGES))
        .expect("the bundled Parseltongue v0.9.7 sample imports")
}
