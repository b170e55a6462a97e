//! What an import read, made and resolved: the numbers a user checks before trusting an analysis.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::Serialize;

use super::resolve::Resolution;

/// The formats a graph file can be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// Our documented JSON (`{"nodes": [...], "edges": [...]}`), see [`crate::Graph::from_json`].
    #[default]
    Native,
    /// Parseltongue v0.7+ exports: entities and/or edges (`export_metadata` + `entities`/`edges`).
    Parseltongue,
    /// The Parseltongue v0.1.0 ISG snapshot (`nodes` keyed by `hash`, edges `{from, to, kind}`).
    ParseltongueLegacy,
    /// Parseltongue v1.7's HTTP server (`pt08`): its entity list and edge pages, from the
    /// network or saved response files.
    ParseltongueServer,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Native => "native graph JSON",
            Format::Parseltongue => "Parseltongue export (v0.7+)",
            Format::ParseltongueLegacy => "Parseltongue ISG snapshot (v0.1.0)",
            Format::ParseltongueServer => "Parseltongue HTTP server answers (v1.7)",
        })
    }
}

/// Counts from one import. Serialises to the JSON `ptplugin import --format json` prints.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ImportStats {
    /// The format the input was read as.
    pub format: Format,
    /// Entities (or legacy nodes) read from the input.
    pub entities_read: usize,
    /// Entities dropped because an earlier one had the same key.
    pub duplicate_entities: usize,
    /// Edges read from the input.
    pub edges_read: usize,
    /// Edges dropped because the same source, target and type came earlier.
    pub duplicate_edges: usize,
    /// Nodes in the imported graph by node type.
    pub nodes_by_type: BTreeMap<String, usize>,
    /// Nodes by where they came from: `entity`, `edge-endpoint` (a definition only edges name),
    /// `file`, `import`, `external`, `ambiguous`.
    pub nodes_by_origin: BTreeMap<String, usize>,
    /// Edges in the imported graph by edge type.
    pub edges_by_type: BTreeMap<String, usize>,
    /// By-name targets per edge type and how each was resolved.
    pub resolution: BTreeMap<String, BTreeMap<Resolution, usize>>,
    /// Entities that were v1.7's by-name placeholders (`…:unresolved-reference:0-0`,
    /// `…:external-dependency-CRATE:0-0`): never nodes themselves, resolved by name instead.
    pub placeholders: usize,
    /// Files the server re-indexed under a second spelling after an edit (v1.7's watcher); the
    /// first copy's entities and edges are stale and left out.
    pub reindexed_files: usize,
    /// Entities left out as stale copies of re-indexed files.
    pub stale_entities: usize,
    /// Edges left out as stale copies of re-indexed files.
    pub stale_edges: usize,
    /// Edges whose endpoint could not be matched at all (legacy hashes with no node); each got
    /// an `external` node so that nothing dangles.
    pub unmatched_endpoints: usize,
    /// Parse, resolve and validate, wall clock.
    #[serde(serialize_with = "as_millis")]
    pub elapsed: Duration,
}

fn as_millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64() * 1000.0)
}

impl ImportStats {
    /// Nodes in the graph.
    pub fn nodes(&self) -> usize {
        self.nodes_by_type.values().sum()
    }

    /// Edges in the graph.
    pub fn edges(&self) -> usize {
        self.edges_by_type.values().sum()
    }

    /// By-name targets that resolved to one definition (unique, same file or same crate).
    pub fn resolved(&self) -> usize {
        self.count(|r| {
            matches!(
                r,
                Resolution::Unique | Resolution::SameFile | Resolution::SameCrate | Resolution::NamedCrate
            )
        })
    }

    /// By-name targets with this outcome, over all edge types.
    pub fn count(&self, which: impl Fn(Resolution) -> bool) -> usize {
        self.resolution.values().flat_map(|m| m.iter()).filter(|(r, _)| which(**r)).map(|(_, n)| n).sum()
    }
}

impl fmt::Display for ImportStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "format: {}", self.format)?;
        writeln!(
            f,
            "read: {} entities ({} duplicate), {} edges ({} duplicate)",
            self.entities_read, self.duplicate_entities, self.edges_read, self.duplicate_edges
        )?;
        if self.placeholders > 0 {
            writeln!(
                f,
                "by-name placeholders among the entities (resolved by name, not nodes): {}",
                self.placeholders
            )?;
        }
        if self.reindexed_files > 0 {
            writeln!(
                f,
                "re-indexed files: {} (their stale first copies left out: {} entities, {} edges)",
                self.reindexed_files, self.stale_entities, self.stale_edges
            )?;
        }
        writeln!(f, "graph: {} nodes, {} edges, none dangling", self.nodes(), self.edges())?;
        let list = |m: &BTreeMap<String, usize>| {
            m.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", ")
        };
        writeln!(f, "  nodes by type: {}", list(&self.nodes_by_type))?;
        writeln!(f, "  nodes by origin: {}", list(&self.nodes_by_origin))?;
        writeln!(f, "  edges by type: {}", list(&self.edges_by_type))?;
        if !self.resolution.is_empty() {
            writeln!(f, "name resolution of by-name targets:")?;
            for (edge_type, outcomes) in &self.resolution {
                let total: usize = outcomes.values().sum();
                let parts: Vec<String> =
                    outcomes.iter().map(|(r, n)| format!("{} {n}", r.as_str())).collect();
                writeln!(f, "  {edge_type} ({total}): {}", parts.join(", "))?;
            }
        }
        if self.unmatched_endpoints > 0 {
            writeln!(f, "unmatched endpoints (given external nodes): {}", self.unmatched_endpoints)?;
        }
        write!(f, "took {:.1} ms", self.elapsed.as_secs_f64() * 1000.0)
    }
}
