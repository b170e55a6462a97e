//! Builds the graphs of Parseltongue's export files: v0.7+ entities and edges exports, and the
//! v0.1.0 ISG snapshot.

use std::collections::{BTreeMap, HashMap};

use rustc_hash::FxHashMap;
use serde_json::Value;

use super::builder::{
    Builder, Draft, Imported, NameRef, by_name, entity_type, invalid, name_draft, site_meta,
};
use super::export::{self, Entity, LegacySnapshot};
use super::key::{self, IsgKey, canonical};
use super::resolve::NameIndex;
use super::stats::Format;
use crate::error::{Error, Result};

/// Builds the graph of a v0.7+ export.
pub(super) fn parseltongue(entities: Vec<Entity>, edges: Vec<export::Edge<'_>>) -> Result<Imported> {
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
            None => {
                let key = IsgKey::parse(&edge.to_key).expect("parsed before");
                let target =
                    NameRef { lang: key.lang, name: key.name, edge_type: &edge.edge_type, dependency: None };
                by_name(&mut b, &names, &mut made, target, source)
            }
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
    let site = site_meta(&mut meta, file.as_deref(), &name, Some(key.lang));
    Draft { id, node_type: entity_type(key.kind).to_string(), name, site, meta }
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
    let language = key.map(|k| k.lang);
    let site = site_meta(&mut meta, entity.file_path.as_deref(), &name, language);
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
pub(super) fn legacy(snapshot: LegacySnapshot) -> Result<Imported> {
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
        let site = site_meta(&mut meta, node.file_path.as_deref(), &node.name, None);
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
