//! What Parseltongue v1.7's HTTP server (`pt08-http-code-query-server`) answers, as serde reads
//! it: an envelope `{success, endpoint, data, tokens}` (`error` instead of `data` on failure)
//! around the entity list or one page of edges. The same shapes come from the network and from
//! saved response files.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::graph::parse_json;

/// The route that lists every entity.
pub const ENTITIES: &str = "/code-entities-list-all";
/// The route that lists edges, a page at a time.
pub const EDGES: &str = "/dependency-edges-list-all";

/// The envelope without its data: read first (a fast pass that skips `data`), so that a failed or
/// foreign answer is named as such rather than as a malformed `data`.
#[derive(Deserialize)]
struct Head {
    success: bool,
    #[serde(default)]
    endpoint: Option<String>,
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Deserialize)]
struct Envelope<T> {
    data: Option<T>,
}

/// Only the route an envelope answers, to tell saved files apart.
#[derive(Deserialize)]
struct Route {
    endpoint: Option<String>,
}

/// `data` of `/code-entities-list-all`.
#[derive(Debug, Deserialize)]
pub struct EntityList {
    /// Every entity, by-name placeholders included.
    pub entities: Vec<ServerEntity>,
}

/// One entity. The server gives no line numbers.
#[derive(Debug, Clone, Deserialize)]
pub struct ServerEntity {
    /// `lang:type:name:semantic_path:T<digits>` for definitions; placeholders end `:0-0`.
    pub key: String,
    /// The file as indexed (`./src/x.rs`, or an absolute path after a re-index), or
    /// `unresolved-reference` for placeholders.
    #[serde(default)]
    pub file_path: Option<String>,
    /// `function`, `method`, `struct`, `class`, `module`, …
    pub entity_type: String,
    /// `CODE` or `TEST`.
    #[serde(default)]
    pub entity_class: Option<String>,
    /// `rust`, `python`, `javascript`, …
    #[serde(default)]
    pub language: Option<String>,
}

/// `data` of one `/dependency-edges-list-all?limit=N&offset=M` page.
#[derive(Debug, Deserialize)]
pub struct EdgePage {
    /// Edges in the database.
    pub total_count: usize,
    /// Where this page starts.
    #[serde(default)]
    pub offset: usize,
    /// This page's edges.
    pub edges: Vec<ServerEdge>,
}

/// One edge.
#[derive(Debug, Clone, Deserialize)]
pub struct ServerEdge {
    /// A definition or file key.
    pub from_key: String,
    /// A placeholder (by name), a module by name, or a key.
    pub to_key: String,
    /// `Calls`, `Uses` or `Implements`.
    pub edge_type: String,
    /// `./path/file.rs:LINE`: where in the source the edge was seen.
    #[serde(default)]
    pub source_location: Option<String>,
}

impl ServerEdge {
    /// The file and line of `source_location`.
    pub fn location(&self) -> Option<(&str, Option<u32>)> {
        let location = self.source_location.as_deref()?;
        Some(match location.rsplit_once(':') {
            Some((file, line)) if line.bytes().all(|b| b.is_ascii_digit()) => (file, line.parse().ok()),
            _ => (location, None),
        })
    }
}

/// The route a saved response answers, if it is an envelope at all.
pub fn route_of(text: &str) -> Option<String> {
    serde_json::from_str::<Route>(text).ok()?.endpoint
}

/// The `data` of an answer from `route`; a failed answer or another route's is an error.
///
/// # Errors
///
/// [`Error::InvalidGraph`] with the position for malformed JSON, or saying what the server
/// answered instead.
pub fn open<T: DeserializeOwned>(text: &str, route: &str) -> Result<T> {
    let head: Head = parse_json(text)?;
    if let Some(endpoint) = head.endpoint.as_deref().filter(|e| !e.is_empty() && *e != route) {
        return Err(invalid(format!("this is the server's answer to {endpoint}, not to {route}")));
    }
    if !head.success {
        let why = match head.error {
            Some(Value::String(s)) => s,
            Some(other) => other.to_string(),
            None => "no reason given".into(),
        };
        return Err(invalid(format!("the server answered {route} with success: false: {why}")));
    }
    let envelope: Envelope<T> = parse_json(text)?;
    envelope.data.ok_or_else(|| invalid(format!("the server's answer to {route} has no `data`")))
}

/// Joins edge pages into every edge, checking that they cover `total_count` without gaps.
///
/// # Errors
///
/// [`Error::InvalidGraph`] naming the first missing offset, or pages that disagree on the total.
pub fn join_pages(mut pages: Vec<EdgePage>) -> Result<Vec<ServerEdge>> {
    pages.sort_by_key(|p| p.offset);
    let total = pages.first().map_or(0, |p| p.total_count);
    let mut edges = Vec::with_capacity(total);
    for page in pages {
        if page.total_count != total {
            return Err(invalid(format!(
                "edge pages disagree on the total ({total} and {}): they come from different moments of the server; fetch them again",
                page.total_count
            )));
        }
        if page.offset != edges.len() {
            return Err(invalid(format!(
                "edge pages hold {} of {total} edges: nothing covers offset {} (save every page of {EDGES}?limit=N&offset=M, or read the server itself with --graph http://HOST:PORT)",
                edges.len(),
                edges.len()
            )));
        }
        edges.extend(page.edges);
    }
    if edges.len() < total {
        return Err(invalid(format!(
            "edge pages hold {} of {total} edges: nothing covers offset {} (save every page of {EDGES}?limit=N&offset=M, or read the server itself with --graph http://HOST:PORT)",
            edges.len(),
            edges.len()
        )));
    }
    Ok(edges)
}

fn invalid(message: String) -> Error {
    Error::InvalidGraph { message, line: None, column: None }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(offset: usize, n: usize, total: usize) -> EdgePage {
        let edge = ServerEdge {
            from_key: "a".into(),
            to_key: "b".into(),
            edge_type: "Calls".into(),
            source_location: None,
        };
        EdgePage { total_count: total, offset, edges: vec![edge; n] }
    }

    #[test]
    fn pages_must_cover_the_total() {
        assert_eq!(join_pages(vec![page(2, 1, 3), page(0, 2, 3)]).unwrap().len(), 3);
        let gap = join_pages(vec![page(0, 2, 5), page(3, 2, 5)]).unwrap_err().to_string();
        assert!(gap.contains("nothing covers offset 2"), "{gap}");
        let short = join_pages(vec![page(0, 100, 9702)]).unwrap_err().to_string();
        assert!(short.contains("100 of 9702"), "{short}");
        let mixed = join_pages(vec![page(0, 2, 4), page(2, 2, 5)]).unwrap_err().to_string();
        assert!(mixed.contains("disagree"), "{mixed}");
    }

    #[test]
    fn failed_and_foreign_answers_are_errors() {
        let failed = r#"{"success":false,"endpoint":"/code-entities-list-all","error":"database locked"}"#;
        let e = open::<EntityList>(failed, ENTITIES).unwrap_err().to_string();
        assert!(e.contains("success: false: database locked"), "{e}");
        let other = r#"{"success":true,"endpoint":"/server-health-check-status","data":{}}"#;
        let e = open::<EntityList>(other, ENTITIES).unwrap_err().to_string();
        assert!(e.contains("answer to /server-health-check-status"), "{e}");
        assert_eq!(route_of(other).as_deref(), Some("/server-health-check-status"));
        assert_eq!(route_of("{\"nodes\":[]}"), None);
    }

    #[test]
    fn locations_split_at_the_last_colon() {
        let mut e = page(0, 1, 1).edges.remove(0);
        e.source_location = Some("./src/a.rs:42".into());
        assert_eq!(e.location(), Some(("./src/a.rs", Some(42))));
        e.source_location = Some("C:/x/a.rs:7".into());
        assert_eq!(e.location(), Some(("C:/x/a.rs", Some(7))));
    }
}
