//! The JSON shapes of Parseltongue exports, as serde reads them. Lenient where real exports vary
//! (optional fields, extra fields kept), strict where the importer depends on a field.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::Value;

/// Which top-level fields a JSON file has; enough to tell the formats apart without a typed parse.
#[derive(Deserialize)]
pub(crate) struct Shape {
    pub nodes: Option<IgnoredAny>,
    pub edges: Option<IgnoredAny>,
    pub entities: Option<IgnoredAny>,
    pub export_metadata: Option<IgnoredAny>,
    pub metadata: Option<IgnoredAny>,
    /// v1.7 server answers: `{success, endpoint, data, tokens}`.
    pub success: Option<IgnoredAny>,
    #[serde(flatten)]
    pub other: BTreeMap<String, IgnoredAny>,
}

/// `pt02-level01` (and later levels): entities, optionally with edges in the same file.
#[derive(Deserialize)]
pub(crate) struct EntitiesExport<'a> {
    pub entities: Vec<Entity>,
    #[serde(default, borrow)]
    pub edges: Vec<Edge<'a>>,
}

/// `pt02-level00`: edges only.
#[derive(Deserialize)]
pub(crate) struct EdgesExport<'a> {
    #[serde(borrow)]
    pub edges: Vec<Edge<'a>>,
}

/// One entity of an export. Fields the importer does not know are kept in `extra`.
#[derive(Deserialize)]
pub(crate) struct Entity {
    pub isgl1_key: String,
    pub entity_type: String,
    #[serde(default)]
    pub entity_name: Option<String>,
    #[serde(default)]
    pub file_path: Option<String>,
    /// A JSON document in a string (v0.7+), or a plain signature in older exports.
    #[serde(default)]
    pub interface_signature: Option<String>,
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// One edge of an export, borrowed from the text where no escapes force a copy (tens of
/// thousands of edges: three allocations each would dominate the import).
#[derive(Deserialize)]
pub(crate) struct Edge<'a> {
    #[serde(borrow)]
    pub from_key: Cow<'a, str>,
    #[serde(borrow)]
    pub to_key: Cow<'a, str>,
    #[serde(borrow)]
    pub edge_type: Cow<'a, str>,
}

/// The v0.1.0 ISG snapshot: nodes keyed by a 64-bit signature hash.
#[derive(Deserialize)]
pub(crate) struct LegacySnapshot {
    pub nodes: Vec<LegacyNode>,
    #[serde(default)]
    pub edges: Vec<LegacyEdge>,
}

#[derive(Deserialize)]
pub(crate) struct LegacyNode {
    pub hash: u64,
    pub kind: String,
    pub name: String,
    #[serde(default)]
    pub signature: Option<String>,
    #[serde(default)]
    pub file_path: Option<String>,
    #[serde(default)]
    pub line: Option<u64>,
}

#[derive(Deserialize)]
pub(crate) struct LegacyEdge {
    pub from: u64,
    pub to: u64,
    pub kind: String,
}
