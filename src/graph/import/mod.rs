//! Reading graphs: our own JSON, Parseltongue's export files, or the answers of Parseltongue
//! v1.7's HTTP server (saved, or pulled by [`crate::ServerSource`]), told apart by their shape.
//!
//! Parseltongue (v0.7+) exports entities (`pt02-level01`: `isgl1_key`, `entity_type`,
//! `entity_name`, `file_path`, `interface_signature`, …) and edges (`pt02-level00`: `from_key`,
//! `to_key`, `edge_type`) to separate files; v0.1.0 wrote one ISG snapshot keyed by signature
//! hash. The importer turns either into a [`Graph`] whose node ids are the ISG keys, whose
//! node types are the entity types, and whose metadata holds the entity's fields with the
//! interface signature flattened (`visibility`, `line_start`, `line_end`, `module`, `generics`, …).
//!
//! Real exports do not join up by themselves, and the importer mends that so that no edge
//! dangles: edge keys carry raw paths where entity keys carry sanitised ones ([`key::canonical`]);
//! call, implementation and import targets are names, resolved by [`resolve`]; definitions that
//! only edges mention (entities of test files are left out of exports, their edges are not) become
//! `edge-endpoint` nodes; files, unresolved imports, external names and ambiguous names become
//! `file`, `import`, `external` and `ambiguous` nodes. [`ImportStats`] counts all of it.
//!
//! v1.7's server keys every call target and import by name (placeholders) and re-indexes edited
//! files under a second spelling; `pt08.rs` builds its graph (see there).
//!
//! Files: this one detects and loads; `builder.rs` is the graph under construction every importer
//! shares; `export_graph.rs` and `pt08.rs` build from the export files and from server answers.

mod builder;
mod export;
mod export_graph;
pub mod key;
pub mod language;
mod pt08;
mod reindex;
pub mod resolve;
pub(crate) mod responses;
mod stats;

use std::path::Path;
use std::time::Instant;

use crate::contract::GraphNode;
use crate::error::{Error, Result};
use crate::files;
use crate::graph::{Graph, parse_json as parse};
use builder::invalid;
use export::{EdgesExport, EntitiesExport, Shape};
use export_graph::{legacy, parseltongue};

pub use builder::Imported;
pub use stats::{Format, ImportStats};

/// Reads a graph file in any supported format, with an optional second file of Parseltongue
/// edges (`pt02-level00`) for an entities export. Each file may be at most
/// [`files::MAX_GRAPH_BYTES`]; see [`load_bounded`] for another limit.
///
/// # Errors
///
/// [`Error::Io`] if a file cannot be read (or is not a regular file, or too large);
/// [`Error::InvalidGraph`] naming the file when it is in no supported format, malformed, or the
/// two files do not go together.
pub fn load(graph: impl AsRef<Path>, edges: Option<&Path>) -> Result<Imported> {
    load_bounded(graph, edges, files::MAX_GRAPH_BYTES)
}

/// As [`load`], reading at most `max_bytes` of each file.
///
/// # Errors
///
/// As [`load`].
pub fn load_bounded(graph: impl AsRef<Path>, edges: Option<&Path>, max_bytes: u64) -> Result<Imported> {
    let graph = graph.as_ref();
    if graph.is_dir() || edges.is_some_and(Path::is_dir) {
        return load_answers(graph, edges, max_bytes);
    }
    let read = |path: &Path| {
        files::read(path, "graph file", max_bytes)
            .and_then(crate::graph::decode)
            .map_err(|e| in_file(e, &path.display().to_string()))
    };
    let text = read(graph)?;
    let edges_text = edges.map(read).transpose()?;
    import(&text, edges_text.as_deref()).map_err(|(e, side)| {
        let file = match (side, edges) {
            (Side::Edges, Some(edges)) => edges.display().to_string(),
            (Side::Both, Some(edges)) => format!("{} + {}", graph.display(), edges.display()),
            _ => graph.display().to_string(),
        };
        in_file(e, &file)
    })
}

/// Parseltongue v1.7 server answers saved as files: a directory holding
/// `code-entities-list-all.json` and the edge pages (`dependency-edges-list-all.json`, or a
/// `dependency-edges-list-all/` directory of pages), or the entity list with `edges` a directory
/// of pages. The pages must cover every edge.
fn load_answers(graph: &Path, edges: Option<&Path>, max_bytes: u64) -> Result<Imported> {
    let started = Instant::now();
    let (entities_path, pages_at) = match (graph.is_dir(), edges) {
        (true, Some(_)) => {
            return Err(Error::Usage {
                message: format!(
                    "{} is a directory of saved server answers and holds its own edges: leave out --edges",
                    graph.display()
                ),
            });
        }
        (true, None) => {
            let entities = graph.join("code-entities-list-all.json");
            let one_page = graph.join("dependency-edges-list-all.json");
            let pages = if one_page.is_file() { one_page } else { graph.join("dependency-edges-list-all") };
            (entities, pages)
        }
        (false, Some(pages)) => (graph.to_path_buf(), pages.to_path_buf()),
        (false, None) => unreachable!("called for a directory"),
    };
    let read = |path: &Path| {
        files::read(path, "saved server answer", max_bytes)
            .and_then(crate::graph::decode)
            .map_err(|e| in_file(e, &path.display().to_string()))
    };
    let text = read(&entities_path)?;
    let list: responses::EntityList = responses::open(&text, responses::ENTITIES)
        .map_err(|e| in_file(e, &entities_path.display().to_string()))?;
    drop(text);
    let page_files: Vec<std::path::PathBuf> = if pages_at.is_dir() {
        let listing = std::fs::read_dir(&pages_at)
            .map_err(|e| Error::Io { context: format!("cannot list {}", pages_at.display()), source: e })?;
        let mut paths: Vec<_> = listing
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        paths.sort();
        paths
    } else {
        vec![pages_at.clone()]
    };
    let mut pages = Vec::with_capacity(page_files.len());
    for path in &page_files {
        let text = read(path)?;
        pages.push(
            responses::open::<responses::EdgePage>(&text, responses::EDGES)
                .map_err(|e| in_file(e, &path.display().to_string()))?,
        );
    }
    let edges = responses::join_pages(pages).map_err(|e| in_file(e, &pages_at.display().to_string()))?;
    let mut imported = pt08::build(list.entities, edges)?;
    imported.stats.elapsed = started.elapsed();
    Ok(imported)
}

/// Builds the graph of Parseltongue v1.7 server answers already parsed: the entity list and
/// every edge (see [`crate::graph::source`] for reading them from a live server).
///
/// # Errors
///
/// [`Error::InvalidGraph`] for keys that are not Parseltongue keys.
pub(crate) fn from_answers(
    entities: Vec<responses::ServerEntity>,
    edges: Vec<responses::ServerEdge>,
) -> Result<Imported> {
    let started = Instant::now();
    let mut imported = pt08::build(entities, edges)?;
    imported.stats.elapsed = started.elapsed();
    Ok(imported)
}

/// Parseltongue v1.7 server answers already in memory: the entity list and every edge page.
///
/// # Errors
///
/// [`Error::InvalidGraph`] for answers of other routes, failed answers, pages that do not cover
/// every edge, or keys that are not Parseltongue keys.
pub fn from_server_texts(entities: &str, edge_pages: &[&str]) -> Result<Imported> {
    let started = Instant::now();
    let list: responses::EntityList =
        responses::open(entities, responses::ENTITIES).map_err(|e| in_file(e, "the entity list"))?;
    let pages = edge_pages
        .iter()
        .enumerate()
        .map(|(i, page)| {
            responses::open(page, responses::EDGES).map_err(|e| in_file(e, &format!("edge page {}", i + 1)))
        })
        .collect::<Result<Vec<responses::EdgePage>>>()?;
    let mut imported = pt08::build(list.entities, responses::join_pages(pages)?)?;
    imported.stats.elapsed = started.elapsed();
    Ok(imported)
}

/// As [`load`], from texts already in memory.
///
/// # Errors
///
/// As [`load`], naming `the edges file` for errors in `edges`.
pub fn from_texts(text: &str, edges: Option<&str>) -> Result<Imported> {
    import(text, edges).map_err(|(e, side)| match side {
        Side::Edges => in_file(e, "the edges file"),
        Side::Graph | Side::Both => e,
    })
}

/// Which input an import error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    /// The graph (first) file.
    Graph,
    /// The edges (second) file.
    Edges,
    /// How the two go together.
    Both,
}

/// Prefixes a graph error's message with the file it is about.
fn in_file(e: Error, file: &str) -> Error {
    match e {
        Error::InvalidGraph { message, line, column } => {
            Error::InvalidGraph { message: format!("{file}: {message}"), line, column }
        }
        other => other,
    }
}

fn import(text: &str, edges: Option<&str>) -> std::result::Result<Imported, (Error, Side)> {
    let started = Instant::now();
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let edges = edges.map(|e| e.strip_prefix('\u{feff}').unwrap_or(e));
    let on = |side: Side| move |e: Error| (e, side);
    let (graph_side, edges_side, both) = (on(Side::Graph), on(Side::Edges), on(Side::Both));
    let kind = detect(text).map_err(graph_side)?;
    let mut imported = match (kind, edges) {
        (Kind::Native, None) => {
            let graph = Graph::from_json(text).map_err(graph_side)?;
            let stats = native_stats(&graph);
            Imported { graph, stats }
        }
        (Kind::Legacy, None) => legacy(parse(text).map_err(graph_side)?).map_err(graph_side)?,
        (Kind::ServerEntities, Some(extra)) | (Kind::ServerEdges, Some(extra)) => {
            let (entities, page, entities_side, page_side) = if kind == Kind::ServerEntities {
                (text, extra, Side::Graph, Side::Edges)
            } else {
                (extra, text, Side::Edges, Side::Graph)
            };
            let list: responses::EntityList =
                responses::open(entities, responses::ENTITIES).map_err(on(entities_side))?;
            let page: responses::EdgePage = responses::open(page, responses::EDGES).map_err(on(page_side))?;
            let edges = responses::join_pages(vec![page]).map_err(on(page_side))?;
            pt08::build(list.entities, edges).map_err(both)?
        }
        (Kind::ServerEdges, None) => {
            let page: responses::EdgePage = responses::open(text, responses::EDGES).map_err(graph_side)?;
            let edges = responses::join_pages(vec![page]).map_err(graph_side)?;
            pt08::build(Vec::new(), edges).map_err(graph_side)?
        }
        (Kind::ServerEntities, None) => {
            return Err(graph_side(invalid(format!(
                "the server's entity list has no edges: give the edge pages ({}) with --edges, or the directory the answers were saved in",
                responses::EDGES
            ))));
        }
        (Kind::Native | Kind::Legacy, Some(_)) => {
            return Err(both(invalid(format!(
                "a separate edges file goes with a Parseltongue entities export, not with a {}",
                if kind == Kind::Native { Format::Native } else { Format::ParseltongueLegacy }
            ))));
        }
        (Kind::Entities, extra) => {
            let mut export: EntitiesExport = parse(text).map_err(graph_side)?;
            if let Some(extra) = extra {
                if detect(extra).map_err(edges_side)? != Kind::Edges {
                    return Err(edges_side(invalid("not a Parseltongue edges export (pt02-level00)".into())));
                }
                export.edges.extend(parse::<EdgesExport>(extra).map_err(edges_side)?.edges);
            }
            parseltongue(export.entities, export.edges).map_err(both)?
        }
        (Kind::Edges, None) => {
            parseltongue(Vec::new(), parse::<EdgesExport>(text).map_err(graph_side)?.edges)
                .map_err(graph_side)?
        }
        (Kind::Edges, Some(extra)) => {
            if detect(extra).map_err(edges_side)? != Kind::Entities {
                return Err(both(invalid(
                    "two edges files: give the entities export (pt02-level01) and --edges the edges export"
                        .into(),
                )));
            }
            let export: EntitiesExport = parse(extra).map_err(edges_side)?;
            let mut edges = export.edges;
            edges.extend(parse::<EdgesExport>(text).map_err(graph_side)?.edges);
            parseltongue(export.entities, edges).map_err(both)?
        }
    };
    imported.stats.elapsed = started.elapsed();
    Ok(imported)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Native,
    Legacy,
    Entities,
    Edges,
    /// v1.7's answer to `/code-entities-list-all`.
    ServerEntities,
    /// One page of v1.7's `/dependency-edges-list-all`.
    ServerEdges,
}

fn detect(text: &str) -> Result<Kind> {
    let shape: Shape = match serde_json::from_str::<Shape>(text) {
        Ok(shape) => shape,
        // Syntax errors get their line and column from the native parser's message.
        Err(e) if e.is_syntax() || e.is_eof() => return Err(Graph::from_json(text).unwrap_err()),
        // Any other top level than an object.
        Err(e) if e.to_string().starts_with("invalid type") => return Err(invalid(unknown_shape(None))),
        // An object that is not one (a duplicate key, say): what is wrong, and where.
        Err(_) => return Err(parse::<Shape>(text).err().unwrap_or_else(|| invalid(unknown_shape(None)))),
    };
    Ok(match shape {
        Shape { success: Some(_), .. } => match responses::route_of(text).as_deref() {
            Some(responses::ENTITIES) => Kind::ServerEntities,
            Some(responses::EDGES) => Kind::ServerEdges,
            other => {
                return Err(invalid(format!(
                    "a Parseltongue server answer{}, but not of {} or {}: save those two routes (every edge page), or give the server itself with --graph http://HOST:PORT",
                    other.map(|r| format!(" to {r}")).unwrap_or_default(),
                    responses::ENTITIES,
                    responses::EDGES
                )));
            }
        },
        Shape { entities: Some(_), .. } => Kind::Entities,
        Shape { nodes: Some(_), metadata: Some(_), .. } => Kind::Legacy,
        Shape { nodes: Some(_), .. } => Kind::Native,
        Shape { edges: Some(_), export_metadata: Some(_), .. } => Kind::Edges,
        Shape { edges: Some(_), other, .. } if other.is_empty() => Kind::Edges,
        Shape { other, .. } => {
            let keys: Vec<&str> = other.keys().map(String::as_str).collect();
            return Err(invalid(unknown_shape(Some(&keys))));
        }
    })
}

fn unknown_shape(keys: Option<&[&str]>) -> String {
    let found = match keys {
        None => "the top level is not a JSON object".to_string(),
        Some([]) => "no fields".to_string(),
        Some(keys) => format!("fields {}", keys.join(", ")),
    };
    format!(
        "not a graph this tool reads ({found}): expected our JSON ({{\"nodes\", \"edges\"}}), a Parseltongue \
         entities export ({{\"export_metadata\", \"entities\"}}), a Parseltongue edges export \
         ({{\"export_metadata\", \"edges\"}}), a v0.1.0 ISG snapshot ({{\"nodes\", \"edges\", \"metadata\"}}) \
         or a saved answer of Parseltongue v1.7's server ({{\"success\", \"endpoint\", \"data\"}})"
    )
}

fn native_stats(graph: &Graph) -> ImportStats {
    let mut stats = ImportStats {
        format: Format::Native,
        entities_read: graph.nodes().len(),
        edges_read: graph.edges().len(),
        ..ImportStats::default()
    };
    for node in graph.nodes() {
        *stats.nodes_by_type.entry(node.node_type.clone()).or_default() += 1;
    }
    stats.nodes_by_origin.insert("entity".into(), graph.nodes().len());
    for edge in graph.edges() {
        *stats.edges_by_type.entry(edge.edge_type.clone()).or_default() += 1;
    }
    stats
}

/// The crate and Rust module path of a source file: `./crates/pt01-x/src/cli/args.rs` →
/// (`pt01_x`, `pt01_x::cli::args`); `lib.rs`, `main.rs` and `mod.rs` name their directory.
/// Other languages: [`language::place`].
pub fn module_of(file: &str) -> (String, String) {
    language::place(file, Some("rust"))
}

/// Shorthand for the metadata value under `key`.
pub fn meta<'a>(node: &'a GraphNode, key: &str) -> Option<&'a str> {
    node.metadata.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests;
