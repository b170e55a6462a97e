//! The graph a plugin analyses, and its documented JSON form.
//!
//! ```json
//! {
//!   "nodes": [{"id": "rust:fn:main", "node_type": "function", "metadata": {"file": "src/main.rs"}}],
//!   "edges": [{"source": "rust:fn:main", "target": "rust:fn:run", "edge_type": "Calls"}]
//! }
//! ```
//!
//! `metadata` is optional and maps names to strings (numbers and booleans are accepted and kept
//! as their JSON text); `edges` is optional. Node ids must be unique and non-empty, and every
//! edge must join two node ids. Unknown fields are refused so that typos do not pass silently.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use serde::Deserialize;
use serde::de::{self, Visitor};

use crate::contract::{Columns, GraphEdge, GraphNode};
use crate::error::{Error, Result};

/// A validated graph: nodes are passed to `analyze-graph`, edges are served by `host.edges()`.
///
/// Cloning is cheap for the edges (shared), so one graph can be handed to many plugins. Wrap it
/// in an `Arc` to share it whole.
#[derive(Debug, Clone, Default)]
pub struct Graph {
    nodes: Vec<GraphNode>,
    edges: Arc<[GraphEdge]>,
    /// Computed on first use; identifies the input for poison-input detection.
    fingerprint: OnceLock<u128>,
    /// Contract 0.2's form, built on first use and shared by every plugin and call (and every
    /// clone of this graph).
    columns: OnceLock<Arc<Columns>>,
}

impl PartialEq for Graph {
    fn eq(&self, other: &Self) -> bool {
        self.nodes == other.nodes && self.edges == other.edges
    }
}

impl Graph {
    /// Builds a graph, checking that ids are unique and non-empty and that edges join known ids.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidGraph`] naming the first offending node or edge.
    pub fn new(nodes: Vec<GraphNode>, edges: Vec<GraphEdge>) -> Result<Graph> {
        let mut seen: rustc_hash::FxHashMap<&str, usize> =
            rustc_hash::FxHashMap::with_capacity_and_hasher(nodes.len(), Default::default());
        for (i, node) in nodes.iter().enumerate() {
            if node.id.is_empty() {
                return Err(semantic(format!("nodes[{i}].id is empty")));
            }
            if let Some(first) = seen.insert(node.id.as_str(), i) {
                return Err(semantic(format!(
                    "nodes[{i}].id `{}` repeats the id of nodes[{first}]",
                    node.id
                )));
            }
        }
        for (i, edge) in edges.iter().enumerate() {
            for (end, id) in [("source", &edge.source), ("target", &edge.target)] {
                if !seen.contains_key(id.as_str()) {
                    return Err(semantic(format!("edges[{i}].{end} `{id}` is not the id of any node")));
                }
            }
        }
        let text: usize = nodes
            .iter()
            .map(|n| {
                n.id.len()
                    + n.node_type.len()
                    + n.metadata.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>()
            })
            .sum::<usize>()
            + edges.iter().map(|e| e.edge_type.len()).sum::<usize>();
        if u32::try_from(text).is_err() || u32::try_from(edges.len()).is_err() {
            return Err(semantic(format!(
                "{text} bytes of text in {} nodes and {} edges: a graph holds at most 4 GiB of text",
                nodes.len(),
                edges.len()
            )));
        }
        Ok(Graph { nodes, edges: edges.into(), fingerprint: OnceLock::new(), columns: OnceLock::new() })
    }

    /// Parses and validates the documented JSON form.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidGraph`] with the line and column of a syntax or type error, or the JSON
    /// path of a semantic one (duplicate id, dangling edge).
    pub fn from_json(text: &str) -> Result<Graph> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let raw: RawGraph = parse_json(text)?;
        let nodes = raw
            .nodes
            .into_iter()
            .map(|n| GraphNode {
                id: n.id,
                node_type: n.node_type,
                metadata: n.metadata.into_iter().map(|(k, v)| (k, v.0)).collect(),
            })
            .collect();
        let edges = raw
            .edges
            .into_iter()
            .map(|e| GraphEdge { source: e.source, target: e.target, edge_type: e.edge_type })
            .collect();
        Graph::new(nodes, edges)
    }

    /// Reads and parses a JSON graph file (at most [`crate::files::MAX_GRAPH_BYTES`]).
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if the file cannot be read, otherwise as [`Graph::from_json`].
    pub fn from_path(path: impl AsRef<Path>) -> Result<Graph> {
        let path = path.as_ref();
        let bytes = crate::files::read(path, "graph file", crate::files::MAX_GRAPH_BYTES)?;
        Graph::from_json(&decode(bytes)?)
    }

    /// The documented JSON form, which [`Graph::from_json`] reads back into an equal graph (when
    /// no node repeats a metadata key: the form holds metadata as a map).
    pub fn to_json(&self) -> String {
        let nodes: Vec<serde_json::Value> = self
            .nodes
            .iter()
            .map(|n| {
                let metadata: serde_json::Map<String, serde_json::Value> =
                    n.metadata.iter().map(|(k, v)| (k.clone(), v.clone().into())).collect();
                serde_json::json!({"id": n.id, "node_type": n.node_type, "metadata": metadata})
            })
            .collect();
        let edges: Vec<serde_json::Value> = self
            .edges
            .iter()
            .map(|e| serde_json::json!({"source": e.source, "target": e.target, "edge_type": e.edge_type}))
            .collect();
        serde_json::to_string_pretty(&serde_json::json!({"nodes": nodes, "edges": edges}))
            .expect("strings always serialise")
    }

    /// The nodes, in input order.
    pub fn nodes(&self) -> &[GraphNode] {
        &self.nodes
    }

    /// The edges, in input order.
    pub fn edges(&self) -> &[GraphEdge] {
        &self.edges
    }

    /// A 128-bit hash of every node and edge (XXH3), computed once. Equal graphs have equal
    /// fingerprints; it is not a cryptographic digest.
    pub fn fingerprint(&self) -> u128 {
        *self.fingerprint.get_or_init(|| {
            let mut h = xxhash_rust::xxh3::Xxh3::new();
            let mut field = |s: &str| {
                h.update(&(s.len() as u64).to_le_bytes());
                h.update(s.as_bytes());
            };
            for n in &self.nodes {
                field(&n.id);
                field(&n.node_type);
                for (k, v) in &n.metadata {
                    field(k);
                    field(v);
                }
                field("\u{1}end-node");
            }
            for e in self.edges.iter() {
                field(&e.source);
                field(&e.target);
                field(&e.edge_type);
            }
            h.digest128()
        })
    }

    /// The graph as contract 0.2's columns: built once (the first caller pays, in one pass over
    /// the strings) and shared by every later call, plugin and clone.
    pub fn columns(&self) -> Arc<Columns> {
        Arc::clone(
            self.columns.get_or_init(|| Arc::new(crate::graph::columns::build(&self.nodes, &self.edges))),
        )
    }

    /// A shared handle to the edges, for serving `host.edges()` without copying the graph.
    pub(crate) fn shared_edges(&self) -> Arc<[GraphEdge]> {
        Arc::clone(&self.edges)
    }
}

/// A graph file's bytes as text: UTF-8 (a leading byte-order mark is dropped), or an
/// [`Error::InvalidGraph`] at the first byte that is not.
pub(crate) fn decode(bytes: Vec<u8>) -> Result<String> {
    const BOM: &[u8] = b"\xEF\xBB\xBF";
    let mut bytes = bytes;
    if bytes.starts_with(BOM) {
        bytes.drain(..BOM.len());
    }
    String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let before = &e.as_bytes()[..offset];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let column = String::from_utf8_lossy(&before[line_start..]).chars().count() + 1;
        Error::InvalidGraph {
            message: format!(
                "not UTF-8: invalid byte 0x{:02x} at byte offset {offset}",
                e.as_bytes()[offset]
            ),
            line: Some(line),
            column: Some(column),
        }
    })
}

/// Deserialises a whole JSON document as `T`, mapping errors to [`Error::InvalidGraph`] with the
/// line and column, and the JSON path (`edges[3].target`) when there is one. Trailing data is an
/// error. Shared by every graph reader (ours and the Parseltongue importer).
pub(crate) fn parse_json<'a, T: Deserialize<'a>>(text: &'a str) -> Result<T> {
    let mut de = serde_json::Deserializer::from_str(text);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let message = if path.is_empty() || path == "." {
            strip_position(&inner)
        } else {
            format!("{path}: {}", strip_position(&inner))
        };
        Error::InvalidGraph { message, line: Some(inner.line()), column: Some(inner.column()) }
    })?;
    de.end().map_err(|e| Error::InvalidGraph {
        message: strip_position(&e),
        line: Some(e.line()),
        column: Some(e.column()),
    })?;
    Ok(value)
}

fn semantic(message: String) -> Error {
    Error::InvalidGraph { message, line: None, column: None }
}

/// serde_json appends " at line L column C"; the error carries those as fields instead.
fn strip_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(i) if e.line() > 0 => text[..i].to_string(),
        _ => text,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGraph {
    nodes: Vec<RawNode>,
    #[serde(default)]
    edges: Vec<RawEdge>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNode {
    id: String,
    node_type: String,
    #[serde(default)]
    metadata: BTreeMap<String, MetaValue>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEdge {
    source: String,
    target: String,
    edge_type: String,
}

/// A metadata value: a string, or a number or boolean kept as its JSON text.
struct MetaValue(String);

impl<'de> Deserialize<'de> for MetaValue {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = MetaValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string, number or boolean")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<MetaValue, E> {
                Ok(MetaValue(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> std::result::Result<MetaValue, E> {
                Ok(MetaValue(v))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> std::result::Result<MetaValue, E> {
                Ok(MetaValue(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<MetaValue, E> {
                Ok(MetaValue(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<MetaValue, E> {
                Ok(MetaValue(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<MetaValue, E> {
                Ok(MetaValue(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn invalid(text: &str) -> (String, Option<usize>, Option<usize>) {
        match Graph::from_json(text) {
            Err(Error::InvalidGraph { message, line, column }) => (message, line, column),
            other => panic!("expected invalid-graph, got {other:?}"),
        }
    }

    #[test]
    fn parses_the_documented_format() {
        let g = Graph::from_json(
            r#"{"nodes":[{"id":"a","node_type":"fn","metadata":{"line":3,"pub":true,"file":"x.rs"}},
                         {"id":"b","node_type":"struct"}],
                "edges":[{"source":"a","target":"b","edge_type":"Uses"}]}"#,
        )
        .unwrap();
        assert_eq!(g.nodes().len(), 2);
        assert_eq!(
            g.nodes()[0].metadata,
            vec![
                ("file".to_string(), "x.rs".to_string()),
                ("line".to_string(), "3".to_string()),
                ("pub".to_string(), "true".to_string())
            ]
        );
        assert_eq!(g.edges()[0].edge_type, "Uses");
    }

    #[test]
    fn edges_are_optional() {
        let g = Graph::from_json(r#"{"nodes":[]}"#).unwrap();
        assert!(g.nodes().is_empty() && g.edges().is_empty());
    }

    #[test]
    fn syntax_errors_carry_line_and_column() {
        let (message, line, column) = invalid("{\n  \"nodes\": [\n    {\"id\": \"a\",, }\n  ]\n}");
        assert_eq!(line, Some(3));
        assert_eq!(column, Some(16));
        assert!(!message.contains("at line"), "{message}");
    }

    #[test]
    fn type_errors_name_the_path() {
        let (message, line, _) =
            invalid(r#"{"nodes":[{"id":"a","node_type":"fn"},{"id":7,"node_type":"fn"}]}"#);
        assert!(message.starts_with("nodes[1].id: invalid type: integer"), "{message}");
        assert_eq!(line, Some(1));
        let (message, ..) = invalid(r#"{"nodes":[{"id":"a","node_type":"fn","metadata":{"k":[1]}}]}"#);
        assert!(message.contains("nodes[0].metadata.k"), "{message}");
        assert!(message.contains("a string, number or boolean"), "{message}");
    }

    #[test]
    fn unknown_fields_and_trailing_data_are_refused() {
        let (message, ..) = invalid(r#"{"nodes":[],"edgse":[]}"#);
        assert!(message.contains("unknown field `edgse`"), "{message}");
        let (message, line, _) = invalid("{\"nodes\":[]}\n{}");
        assert!(message.contains("trailing characters"), "{message}");
        assert_eq!(line, Some(2));
    }

    #[test]
    fn duplicate_ids_and_dangling_edges_are_refused() {
        let (message, line, _) =
            invalid(r#"{"nodes":[{"id":"a","node_type":"fn"},{"id":"a","node_type":"fn"}]}"#);
        assert_eq!(message, "nodes[1].id `a` repeats the id of nodes[0]");
        assert_eq!(line, None);
        let (message, ..) = invalid(
            r#"{"nodes":[{"id":"a","node_type":"fn"}],"edges":[{"source":"a","target":"zz","edge_type":"Calls"}]}"#,
        );
        assert_eq!(message, "edges[0].target `zz` is not the id of any node");
        let (message, ..) = invalid(r#"{"nodes":[{"id":"","node_type":"fn"}]}"#);
        assert_eq!(message, "nodes[0].id is empty");
    }

    #[test]
    fn fingerprints_tell_graphs_apart_and_ignore_how_they_were_built() {
        let a = Graph::from_json(r#"{"nodes":[{"id":"a","node_type":"fn"},{"id":"b","node_type":"fn"}]}"#)
            .unwrap();
        let b = Graph::from_json(
            r#"{"nodes":[{"id":"a","node_type":"fn"},{"id":"b","node_type":"fn"}],"edges":[]}"#,
        )
        .unwrap();
        let c = Graph::from_json(r#"{"nodes":[{"id":"ab","node_type":"fn"}]}"#).unwrap();
        let d = Graph::from_json(r#"{"nodes":[{"id":"a","node_type":"fnb"}]}"#).unwrap();
        assert_eq!(a.fingerprint(), b.fingerprint());
        assert_ne!(a.fingerprint(), c.fingerprint());
        assert_ne!(c.fingerprint(), d.fingerprint(), "lengths are hashed, so field boundaries count");
        assert_ne!(Graph::default().fingerprint(), a.fingerprint());
    }

    #[test]
    fn the_json_form_round_trips() {
        let g = Graph::from_json(
            r#"{"nodes":[{"id":"a","node_type":"fn","metadata":{"line":3,"file":"x.rs"}},
                         {"id":"b","node_type":"struct"}],
                "edges":[{"source":"a","target":"b","edge_type":"Uses"}]}"#,
        )
        .unwrap();
        assert_eq!(Graph::from_json(&g.to_json()).unwrap(), g);
    }

    #[test]
    fn missing_file_is_an_io_error() {
        let err = Graph::from_path("/nonexistent/graph.json").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Io);
        assert!(err.to_string().contains("/nonexistent/graph.json"));
    }

    #[test]
    fn a_byte_order_mark_is_accepted() {
        let text = "\u{feff}{\"nodes\": [{\"id\": \"a\", \"node_type\": \"fn\"}]}";
        assert_eq!(Graph::from_json(text).unwrap().nodes().len(), 1);
        assert_eq!(decode(text.as_bytes().to_vec()).unwrap(), &text[3..]);
    }

    #[test]
    fn invalid_utf8_is_an_invalid_graph_with_its_position() {
        let mut bytes = b"{\"nodes\": [\n  {\"id\": \"".to_vec();
        bytes.push(0xff);
        bytes.extend_from_slice(b"\", \"node_type\": \"fn\"}]}");
        let err = decode(bytes).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidGraph);
        assert!(err.to_string().contains("byte offset 22"), "{err}");
        assert!(matches!(err, Error::InvalidGraph { line: Some(2), column: Some(11), .. }), "{err:?}");
    }
}
