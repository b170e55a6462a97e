//! Builds the graph of Parseltongue v1.7's HTTP answers (entity list + every edge page).
//!
//! What the server gives, and what the builder makes of it:
//! - definitions are keyed `lang:type:name:semantic_path:T<digits>` and become nodes with those
//!   ids; the server gives no line numbers, so `line_start` is the first line at which a
//!   definition's edges were seen (`line_source = edge`), the best location it offers;
//! - every call target and import is a by-name placeholder (`…:unresolved-reference:0-0`,
//!   `…:external-dependency-CRATE:0-0`, `…:module:NAME:0-0`) — also listed among the entities.
//!   Placeholders never become nodes: each edge is resolved by name within its language
//!   (unique → same file → same crate/package → ambiguous / external), and an import naming a
//!   crate of the graph is looked up in that crate;
//! - definitions of files with tests are missing from the entity list but their edges remain:
//!   they become `edge-endpoint` nodes with the file from the edge's `source_location`;
//! - a file re-indexed by the server's watcher appears twice; only the newer copy is kept
//!   ([`super::reindex`]).

use rustc_hash::FxHashMap;

use super::builder::{Builder, Draft, Imported, NameRef, by_name, entity_type, invalid, site_meta};
use super::key::ServerKey;
use super::reindex::Spellings;
use super::resolve::NameIndex;
use super::responses::{ServerEdge, ServerEntity};
use super::stats::Format;
use crate::error::{Error, Result};

/// The graph of one answer.
pub(crate) fn build(entities: Vec<ServerEntity>, edges: Vec<ServerEdge>) -> Result<Imported> {
    let mut b = Builder::default();
    b.stats.format = Format::ParseltongueServer;
    b.stats.entities_read = entities.len();
    b.stats.edges_read = edges.len();
    if edges.len() > u32::MAX as usize / 2 {
        return Err(invalid(format!("{} edges: more than this importer handles", edges.len())));
    }
    let files = entities
        .iter()
        .filter_map(|e| e.file_path.as_deref())
        .chain(edges.iter().filter_map(|e| e.location().map(|(file, _)| file)));
    let spellings = Spellings::find(files);
    b.stats.reindexed_files = spellings.reindexed();

    for (i, entity) in entities.iter().enumerate() {
        let key = ServerKey::parse(&entity.key).ok_or_else(|| bad_key("entities", i, "key", &entity.key))?;
        let file = entity.file_path.as_deref();
        if key.by_name().is_some() || file == Some("unresolved-reference") {
            b.stats.placeholders += 1;
            continue;
        }
        if file.is_some_and(|f| spellings.is_stale(f)) {
            b.stats.stale_entities += 1;
            continue;
        }
        let file = file.map(|f| spellings.normalise(f));
        let language = entity.language.as_deref().unwrap_or(key.lang);
        let mut draft = draft(&entity.key, &key, &entity.entity_type, file.as_deref(), language);
        if let Some(class) = &entity.entity_class {
            draft.meta.insert("entity_class".into(), class.clone());
            if class.eq_ignore_ascii_case("TEST") {
                draft.meta.insert("test".into(), "true".into());
            }
        }
        if b.add(draft, "entity").is_none() {
            b.stats.duplicate_entities += 1;
        }
    }

    // First lines seen per node, and each kept edge's ends (targets by name resolved below).
    let mut first_line: FxHashMap<usize, u32> = FxHashMap::default();
    let mut pending: Vec<(usize, Result<usize, NameRef<'_>>, &str)> = Vec::with_capacity(edges.len());
    for (i, edge) in edges.iter().enumerate() {
        let location = edge.location();
        if location.is_some_and(|(file, _)| spellings.is_stale(file)) {
            b.stats.stale_edges += 1;
            continue;
        }
        let file = location.map(|(file, _)| spellings.normalise(file));
        let source = endpoint(&mut b, &edge.from_key, file.as_deref(), i, "from_key")?;
        if let Some(line) = location.and_then(|(_, line)| line).filter(|l| *l > 0) {
            first_line.entry(source).and_modify(|l| *l = (*l).min(line)).or_insert(line);
        }
        let to = ServerKey::parse(&edge.to_key).ok_or_else(|| bad_key("edges", i, "to_key", &edge.to_key))?;
        let target = match to.by_name() {
            Some(dependency) => {
                Err(NameRef { lang: to.lang, name: unquote(to.name), edge_type: &edge.edge_type, dependency })
            }
            None => Ok(endpoint(&mut b, &edge.to_key, None, i, "to_key")?),
        };
        pending.push((source, target, &edge.edge_type));
    }

    let mut names = NameIndex::default();
    for (i, d) in b.nodes.iter().enumerate() {
        if !matches!(d.node_type.as_str(), "file" | "import" | "external" | "ambiguous") {
            names.add(&d.name, i, &d.node_type, d.site.clone());
        }
    }
    let mut made = FxHashMap::default();
    for (source, target, edge_type) in pending {
        let target = match target {
            Ok(node) => node,
            Err(reference) => by_name(&mut b, &names, &mut made, reference, source),
        };
        b.edge(source, target, edge_type);
    }
    for (node, line) in first_line {
        let meta = &mut b.nodes[node].meta;
        if !meta.contains_key("line_start") {
            meta.insert("line_start".into(), line.to_string());
            meta.insert("line_source".into(), "edge".into());
        }
    }
    b.finish()
}

/// A node for a definition key, an entity's or one only an edge names.
fn draft(id: &str, key: &ServerKey<'_>, node_type: &str, file: Option<&str>, language: &str) -> Draft {
    let mut meta = std::collections::BTreeMap::new();
    meta.insert("language".into(), language.to_string());
    let name = if key.kind == "file" { file.unwrap_or(key.name).to_string() } else { key.name.to_string() };
    let site = site_meta(&mut meta, file, &name, Some(language));
    Draft { id: id.to_string(), node_type: node_type.to_string(), name, site, meta }
}

/// The node for a key on an edge: the entity, or a node made from the key and the edge's file.
fn endpoint(b: &mut Builder, key: &str, file: Option<&str>, i: usize, field: &str) -> Result<usize> {
    if let Some(&node) = b.by_id.get(key) {
        return Ok(node);
    }
    let parsed = ServerKey::parse(key).ok_or_else(|| bad_key("edges", i, field, key))?;
    let (origin, node_type) =
        if parsed.kind == "file" { ("file", "file") } else { ("edge-endpoint", entity_type(parsed.kind)) };
    // A file key's own spelling of the path is sanitised; the edge's location has the real one.
    let file = if parsed.kind == "file" || field == "from_key" { file } else { None };
    let node = b.get_or_add(key, origin, || draft(key, &parsed, node_type, file, parsed.lang));
    Ok(node)
}

/// Import targets keep the source's quotes (`go:module:"fmt"`, `javascript:module:'./x.js'`).
fn unquote(name: &str) -> &str {
    for quote in ['"', '\''] {
        if let Some(inner) = name.strip_prefix(quote).and_then(|n| n.strip_suffix(quote)) {
            return inner;
        }
    }
    name
}

fn bad_key(list: &str, i: usize, field: &str, key: &str) -> Error {
    invalid(format!("{list}[{i}].{field}: `{key}` is not a Parseltongue key (lang:type:name:…)"))
}
