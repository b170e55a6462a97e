//! Reading graphs: our own JSON, or Parseltongue's real exports, told apart by their shape.
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

mod export;
pub mod key;
pub mod resolve;
mod stats;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::Instant;

use rustc_hash::{FxHashMap, FxHashSet};
use serde_json::Value;

use crate::contract::{GraphEdge, GraphNode};
use crate::error::{Error, Result};
use crate::files;
use crate::graph::{Graph, parse_json as parse};
use export::{EdgesExport, EntitiesExport, Entity, LegacySnapshot, Shape};
use key::{IsgKey, canonical};
use resolve::{Found, NameIndex, Resolution, Site};
pub use stats::{Format, ImportStats};

/// A graph read from files, with what the import did to get it.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The validated graph.
    pub graph: Graph,
    /// What was read, made and resolved.
    pub stats: ImportStats,
}

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
         ({{\"export_metadata\", \"edges\"}}) or a v0.1.0 ISG snapshot ({{\"nodes\", \"edges\", \"metadata\"}})"
    )
}

fn invalid(message: String) -> Error {
    Error::InvalidGraph { message, line: None, column: None }
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

/// A node under construction.
struct Draft {
    id: String,
    node_type: String,
    name: String,
    site: Site,
    meta: BTreeMap<String, String>,
}

/// Nodes by id, edges deduplicated, statistics as they accrue. FxHash: keys come from the
/// user's own export and the maps live for one import, so hash flooding buys an attacker nothing
/// they could not get by sending a bigger file.
#[derive(Default)]
struct Builder {
    nodes: Vec<Draft>,
    by_id: FxHashMap<String, usize>,
    edges: Vec<GraphEdge>,
    /// Edge types seen, so that deduplication keys are three integers.
    edge_types: Vec<String>,
    seen_edges: FxHashSet<(u32, u32, u16)>,
    stats: ImportStats,
}

impl Builder {
    fn add(&mut self, draft: Draft, origin: &str) -> Option<usize> {
        if self.by_id.contains_key(&draft.id) {
            return None;
        }
        let index = self.nodes.len();
        self.by_id.insert(draft.id.clone(), index);
        *self.stats.nodes_by_origin.entry(origin.to_string()).or_default() += 1;
        let mut draft = draft;
        draft.meta.insert("origin".into(), origin.into());
        self.nodes.push(draft);
        Some(index)
    }

    /// The node with this id, made by `make` if there is none yet.
    fn get_or_add(&mut self, id: &str, origin: &str, make: impl FnOnce() -> Draft) -> usize {
        match self.by_id.get(id) {
            Some(&i) => i,
            None => self.add(make(), origin).expect("id checked absent"),
        }
    }

    fn edge(&mut self, source: usize, target: usize, edge_type: &str) {
        let t = match self.edge_types.iter().position(|t| t == edge_type) {
            Some(t) => t,
            None => {
                self.edge_types.push(edge_type.to_string());
                self.edge_types.len() - 1
            }
        };
        if self.seen_edges.insert((source as u32, target as u32, t as u16)) {
            self.edges.push(GraphEdge {
                source: self.nodes[source].id.clone(),
                target: self.nodes[target].id.clone(),
                edge_type: self.edge_types[t].clone(),
            });
        } else {
            self.stats.duplicate_edges += 1;
        }
    }

    fn finish(mut self) -> Result<Imported> {
        let nodes: Vec<GraphNode> = self
            .nodes
            .into_iter()
            .map(|mut d| {
                d.meta.entry("name".into()).or_insert(d.name);
                *self.stats.nodes_by_type.entry(d.node_type.clone()).or_default() += 1;
                GraphNode { id: d.id, node_type: d.node_type, metadata: d.meta.into_iter().collect() }
            })
            .collect();
        for edge in &self.edges {
            *self.stats.edges_by_type.entry(edge.edge_type.clone()).or_default() += 1;
        }
        let graph = Graph::new(nodes, self.edges)?;
        Ok(Imported { graph, stats: self.stats })
    }
}

/// Builds the graph of a v0.7+ export.
fn parseltongue(entities: Vec<Entity>, edges: Vec<export::Edge<'_>>) -> Result<Imported> {
    let mut b = Builder::default();
    b.stats.format = Format::Parseltongue;
    b.stats.entities_read = entities.len();
    b.stats.edges_read = edges.len();
    for entity in entities {
        let draft = entity_draft(entity);
        if b.add(draft, "entity").is_none() {
            b.stats.duplicate_entities += 1;
        }
    }
    if edges.len() > u32::MAX as usize / 2 {
        return Err(invalid(format!("{} edges: more than this importer handles", edges.len())));
    }
    // Definitions named by full keys first, so that by-name targets can resolve to them. Keys
    // repeat (a function has an edge per call), so each raw key is canonicalised once.
    let mut raw: FxHashMap<&str, usize> = FxHashMap::default();
    let mut pending = Vec::with_capacity(edges.len());
    for (i, edge) in edges.iter().enumerate() {
        let source = endpoint(&mut b, &mut raw, &edge.from_key, i, "from_key")?;
        let target = match IsgKey::parse(&edge.to_key) {
            Some(k) if k.is_name_reference() => None,
            Some(_) => Some(endpoint(&mut b, &mut raw, &edge.to_key, i, "to_key")?),
            None => return Err(bad_key(i, "to_key", &edge.to_key)),
        };
        pending.push((source, target));
    }
    let mut names = NameIndex::default();
    for (i, d) in b.nodes.iter().enumerate() {
        if !matches!(d.node_type.as_str(), "file" | "import" | "external" | "ambiguous") {
            names.add(&d.name, i, &d.node_type, d.site.clone());
        }
    }
    let mut made: FxHashMap<(&str, &str, &str), usize> = FxHashMap::default();
    for (edge, (source, target)) in edges.iter().zip(pending) {
        let target = match target {
            Some(t) => t,
            None => by_name(&mut b, &names, &mut made, edge, source),
        };
        b.edge(source, target, &edge.edge_type);
    }
    b.finish()
}

fn bad_key(i: usize, field: &str, key: &str) -> Error {
    invalid(format!("edges[{i}].{field}: `{key}` is not an ISG key (lang:type:name:path:start-end)"))
}

/// The node for a full key on an edge: the entity, or a node made from the key itself.
fn endpoint<'a>(
    b: &mut Builder,
    raw: &mut FxHashMap<&'a str, usize>,
    key: &'a str,
    i: usize,
    field: &str,
) -> Result<usize> {
    if let Some(&node) = raw.get(key) {
        return Ok(node);
    }
    let parsed = IsgKey::parse(key).ok_or_else(|| bad_key(i, field, key))?;
    let id = canonical(key);
    let origin = if parsed.kind == "file" { "file" } else { "edge-endpoint" };
    let node = b.get_or_add(&id, origin, || key_draft(id.to_string(), &parsed));
    raw.insert(key, node);
    Ok(node)
}

/// Resolves a by-name target, making an `import`, `external` or `ambiguous` node if need be
/// (`made` remembers those by name and kind: which one a name gets does not depend on the caller).
fn by_name<'a>(
    b: &mut Builder,
    names: &NameIndex,
    made: &mut FxHashMap<(&'a str, &'a str, &'static str), usize>,
    edge: &'a export::Edge<'_>,
    source: usize,
) -> usize {
    let parsed = IsgKey::parse(&edge.to_key).expect("parsed before");
    let name = parsed.name;
    let caller = &b.nodes[source];
    let found = names.resolve(name, resolve::accepts(&edge.edge_type), source, &caller.name, &caller.site);
    let kind = match &found {
        Found::One(..) => "",
        Found::Many(_) => "ambiguous",
        Found::None if edge.edge_type == "Uses" => "import",
        Found::None => "external",
    };
    let resolution = match &found {
        Found::One(_, how) => *how,
        Found::Many(_) => Resolution::Ambiguous,
        Found::None => Resolution::External,
    };
    let target = match (found, made.get(&(parsed.lang, name, kind))) {
        (Found::One(node, _), _) => node,
        (_, Some(&node)) => node,
        (Found::Many(candidates), None) => {
            let id = format!("{}:ambiguous:{name}", parsed.lang);
            let ids: Vec<&str> = candidates.iter().take(32).map(|&c| b.nodes[c].id.as_str()).collect();
            let meta = BTreeMap::from([
                ("resolution".to_string(), "ambiguous".to_string()),
                ("candidates".to_string(), candidates.len().to_string()),
                ("candidate_ids".to_string(), ids.join(" ")),
            ]);
            let node = b.get_or_add(&id, "ambiguous", || name_draft(id.clone(), "ambiguous", name, meta));
            made.insert((parsed.lang, name, kind), node);
            node
        }
        (Found::None, None) => {
            let id = format!("{}:{kind}:{name}", parsed.lang);
            let meta = BTreeMap::from([("resolution".to_string(), "external".to_string())]);
            let node = b.get_or_add(&id, kind, || name_draft(id.clone(), kind, name, meta));
            made.insert((parsed.lang, name, kind), node);
            node
        }
    };
    match b.stats.resolution.get_mut(edge.edge_type.as_ref()) {
        Some(outcomes) => *outcomes.entry(resolution).or_default() += 1,
        None => {
            b.stats.resolution.insert(edge.edge_type.to_string(), BTreeMap::from([(resolution, 1)]));
        }
    }
    target
}

fn name_draft(id: String, node_type: &str, name: &str, meta: BTreeMap<String, String>) -> Draft {
    Draft { id, node_type: node_type.into(), name: name.into(), site: Site { file: None, krate: None }, meta }
}

/// The entity-type word for a key's type word (`fn` → `function`, `mod` → `module`).
fn entity_type(kind: &str) -> &str {
    match kind {
        "fn" => "function",
        "mod" => "module",
        other => other,
    }
}

/// A node for a definition (or file) that only a key tells us about.
fn key_draft(id: String, key: &IsgKey<'_>) -> Draft {
    let mut meta = BTreeMap::new();
    let file = key.path.filter(|p| *p != "unknown").map(str::to_string);
    if let Some((start, end)) = key.lines.filter(|l| *l != (0, 0)) {
        meta.insert("line_start".into(), start.to_string());
        meta.insert("line_end".into(), end.to_string());
    }
    meta.insert("language".into(), key.lang.to_string());
    let name = if key.kind == "file" { file.clone().unwrap_or_default() } else { key.name.to_string() };
    let site = site_meta(&mut meta, file.as_deref(), &name);
    Draft { id, node_type: entity_type(key.kind).to_string(), name, site, meta }
}

/// Records `file`, `crate`, `module` and `test` for a definition in `file`; returns its site.
fn site_meta(meta: &mut BTreeMap<String, String>, file: Option<&str>, name: &str) -> Site {
    let Some(file) = file else { return Site { file: None, krate: None } };
    meta.insert("file".into(), file.to_string());
    let (krate, module) = module_of(file);
    meta.insert("crate".into(), krate.clone());
    meta.insert("module".into(), module);
    if is_test(file, name) {
        meta.insert("test".into(), "true".into());
    }
    Site { file: Some(file.trim_start_matches("./").to_string()), krate: Some(krate) }
}

/// Test code: in a `tests/` directory, a `*_test(s).rs` / `tests.rs` file, or a `test_*` function.
fn is_test(file: &str, name: &str) -> bool {
    let base = file.rsplit(['/', '\\']).next().unwrap_or(file);
    file.contains("/tests/")
        || file.starts_with("tests/")
        || base == "tests.rs"
        || base.ends_with("_test.rs")
        || base.ends_with("_tests.rs")
        || name.starts_with("test_")
}

/// The crate and Rust module path of a source file: `./crates/pt01-x/src/cli/args.rs` →
/// (`pt01_x`, `pt01_x::cli::args`); `lib.rs`, `main.rs` and `mod.rs` name their directory.
pub fn module_of(file: &str) -> (String, String) {
    let path = file.trim_start_matches("./").replace('\\', "/");
    let (crate_dir, rest) = match path.rfind("/src/") {
        Some(i) => (&path[..i], &path[i + 5..]),
        None if path.starts_with("src/") => ("", &path[4..]),
        None => match path.rfind("/tests/") {
            Some(i) => (&path[..i], &path[i + 1..]),
            None => ("", path.as_str()),
        },
    };
    let krate = crate_dir.rsplit('/').next().filter(|c| !c.is_empty()).unwrap_or("crate").replace('-', "_");
    let rest = rest.strip_suffix(".rs").unwrap_or(rest);
    let rest = rest.strip_suffix("/mod").unwrap_or(rest);
    let rest = if matches!(rest, "lib" | "main" | "mod") { "" } else { rest };
    let module =
        if rest.is_empty() { krate.clone() } else { format!("{krate}::{}", rest.replace('/', "::")) };
    (krate, module)
}

/// A node for an exported entity, with its interface signature flattened into metadata.
fn entity_draft(entity: Entity) -> Draft {
    let mut meta = BTreeMap::new();
    let key = IsgKey::parse(&entity.isgl1_key);
    let name = entity.entity_name.clone().or_else(|| key.map(|k| k.name.to_string())).unwrap_or_default();
    if let Some((start, end)) = key.and_then(|k| k.lines).filter(|l| *l != (0, 0)) {
        meta.insert("line_start".into(), start.to_string());
        meta.insert("line_end".into(), end.to_string());
    }
    if let Some(signature) = &entity.interface_signature {
        flatten_signature(&mut meta, signature);
    }
    for (field, value) in &entity.extra {
        if matches!(field.as_str(), "current_code" | "future_code") {
            if !value.is_null() {
                meta.insert("has_code".into(), "true".into());
            }
            continue;
        }
        if let Some(text) = scalar(value) {
            meta.entry(field.clone()).or_insert(text);
        }
    }
    let site = site_meta(&mut meta, entity.file_path.as_deref(), &name);
    Draft { id: canonical(&entity.isgl1_key).into_owned(), node_type: entity.entity_type, name, site, meta }
}

/// Scalars as text, lists of scalars joined with `, `; objects and nulls are left out.
fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Array(items) if !items.is_empty() => {
            let parts: Option<Vec<String>> = items.iter().map(scalar).collect();
            parts.map(|p| p.join(", "))
        }
        _ => None,
    }
}

/// The useful parts of a v0.7+ interface signature; an older plain-text signature is kept whole.
fn flatten_signature(meta: &mut BTreeMap<String, String>, signature: &str) {
    let Ok(Value::Object(sig)) = serde_json::from_str::<Value>(signature) else {
        meta.insert("signature".into(), signature.to_string());
        return;
    };
    if let Some(v) = sig.get("visibility").and_then(Value::as_str) {
        meta.insert("visibility".into(), v.to_lowercase());
    }
    if let Some(range) = sig.get("line_range") {
        for (field, into) in [("start", "line_start"), ("end", "line_end")] {
            if let Some(n) = range.get(field).and_then(Value::as_u64) {
                meta.insert(into.into(), n.to_string());
            }
        }
    }
    if let Some(path) = sig.get("module_path").and_then(Value::as_array).filter(|p| !p.is_empty()) {
        let parts: Vec<&str> = path.iter().filter_map(Value::as_str).collect();
        meta.insert("module_path".into(), parts.join("::"));
    }
    if let Some(doc) = sig.get("documentation").and_then(Value::as_str) {
        let first = doc.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("");
        if !first.is_empty() {
            meta.insert("doc".into(), first.chars().take(200).collect());
        }
    }
    if let Some(Value::Object(lang)) = sig.get("language_specific") {
        for (field, value) in lang {
            if let Some(text) = scalar(value).filter(|t| !t.is_empty()) {
                meta.insert(field.clone(), text);
            } else if let Value::Object(_) = value {
                meta.insert(field.clone(), value.to_string());
            }
        }
    }
}

/// Builds the graph of a v0.1.0 snapshot. Hashes are the identity; ids spell them out readably.
fn legacy(snapshot: LegacySnapshot) -> Result<Imported> {
    let mut b = Builder::default();
    b.stats.format = Format::ParseltongueLegacy;
    b.stats.entities_read = snapshot.nodes.len();
    b.stats.edges_read = snapshot.edges.len();
    let mut by_hash: HashMap<u64, usize> = HashMap::with_capacity(snapshot.nodes.len());
    for node in snapshot.nodes {
        let node_type = node.kind.to_lowercase();
        let file = node.file_path.as_deref().unwrap_or("");
        let id = format!("legacy:{node_type}:{}:{}:{:016x}", node.name, key::sanitise_path(file), node.hash);
        let mut meta = BTreeMap::new();
        if let Some(signature) = node.signature {
            meta.insert("signature".into(), signature);
        }
        if let Some(line) = node.line.filter(|l| *l > 0) {
            meta.insert("line_start".into(), line.to_string());
        }
        meta.insert("hash".into(), node.hash.to_string());
        let site = site_meta(&mut meta, node.file_path.as_deref(), &node.name);
        let draft = Draft { id, node_type, name: node.name, site, meta };
        match b.add(draft, "entity") {
            Some(i) => {
                by_hash.entry(node.hash).or_insert(i);
            }
            None => b.stats.duplicate_entities += 1,
        }
    }
    for edge in snapshot.edges {
        let end = |hash: u64, b: &mut Builder| -> usize {
            if let Some(&i) = by_hash.get(&hash) {
                return i;
            }
            b.stats.unmatched_endpoints += 1;
            let id = format!("legacy:external:{hash:016x}");
            let meta = BTreeMap::from([("resolution".to_string(), "external".to_string())]);
            let name = format!("{hash:016x}");
            b.get_or_add(&id, "external", || name_draft(id.clone(), "external", &name, meta))
        };
        let source = end(edge.from, &mut b);
        let target = end(edge.to, &mut b);
        b.edge(source, target, &edge.kind);
    }
    b.finish()
}

/// Shorthand for the metadata value under `key`.
pub fn meta<'a>(node: &'a GraphNode, key: &str) -> Option<&'a str> {
    node.metadata.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests;
