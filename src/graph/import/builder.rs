//! The graph under construction, shared by every importer: nodes by id ([`Draft`]s until
//! [`Builder::finish`]), deduplicated edges, by-name targets resolved into nodes ([`by_name`]),
//! per-language site metadata ([`site_meta`]), and the statistics as they accrue.

use std::collections::BTreeMap;

use rustc_hash::{FxHashMap, FxHashSet};

use super::language;
use super::resolve::{self, Found, NameIndex, Resolution, Site};
use super::stats::ImportStats;
use crate::contract::{GraphEdge, GraphNode};
use crate::error::{Error, Result};
use crate::graph::Graph;

/// A graph read from files, with what the import did to get it.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The validated graph.
    pub graph: Graph,
    /// What was read, made and resolved.
    pub stats: ImportStats,
}

/// An `invalid-graph` error without a position.
pub(super) fn invalid(message: String) -> Error {
    Error::InvalidGraph { message, line: None, column: None }
}

/// A node under construction.
pub(super) struct Draft {
    pub(super) id: String,
    pub(super) node_type: String,
    pub(super) name: String,
    pub(super) site: Site,
    pub(super) meta: BTreeMap<String, String>,
}

/// Nodes by id, edges deduplicated, statistics as they accrue. FxHash: keys come from the
/// user's own export and the maps live for one import, so hash flooding buys an attacker nothing
/// they could not get by sending a bigger file.
#[derive(Default)]
pub(super) struct Builder {
    pub(super) nodes: Vec<Draft>,
    pub(super) by_id: FxHashMap<String, usize>,
    pub(super) edges: Vec<GraphEdge>,
    /// Edge types seen, so that deduplication keys are three integers.
    pub(super) edge_types: Vec<String>,
    pub(super) seen_edges: FxHashSet<(u32, u32, u16)>,
    pub(super) stats: ImportStats,
}

impl Builder {
    pub(super) fn add(&mut self, draft: Draft, origin: &str) -> Option<usize> {
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
    pub(super) fn get_or_add(&mut self, id: &str, origin: &str, make: impl FnOnce() -> Draft) -> usize {
        match self.by_id.get(id) {
            Some(&i) => i,
            None => self.add(make(), origin).expect("id checked absent"),
        }
    }

    pub(super) fn edge(&mut self, source: usize, target: usize, edge_type: &str) {
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

    pub(super) fn finish(mut self) -> Result<Imported> {
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

/// A target an edge names but does not key: the name, its language, the edge's type, and the
/// crate an import says it comes from (v1.7's `external-dependency-CRATE`).
#[derive(Clone, Copy)]
pub(super) struct NameRef<'a> {
    pub(super) lang: &'a str,
    pub(super) name: &'a str,
    pub(super) edge_type: &'a str,
    pub(super) dependency: Option<&'a str>,
}

/// Resolves a by-name target, making an `import`, `external` or `ambiguous` node if need be
/// (`made` remembers those by name and kind: which one a name gets does not depend on the caller).
pub(super) fn by_name<'a>(
    b: &mut Builder,
    names: &NameIndex,
    made: &mut FxHashMap<(&'a str, &'a str, &'static str), usize>,
    target: NameRef<'a>,
    source: usize,
) -> usize {
    let NameRef { lang, name, edge_type, dependency } = target;
    let caller = &b.nodes[source];
    let accepts = resolve::accepts(edge_type);
    let found = match dependency {
        Some(krate) => names.resolve_in(name, accepts, &krate.replace('-', "_")),
        None => names.resolve(name, accepts, source, &caller.name, &caller.site),
    };
    let kind = match &found {
        Found::One(..) => "",
        Found::Many(_) => "ambiguous",
        Found::None if edge_type == "Uses" => "import",
        Found::None => "external",
    };
    let resolution = match &found {
        Found::One(_, how) => *how,
        Found::Many(_) => Resolution::Ambiguous,
        Found::None => Resolution::External,
    };
    let target = match (found, made.get(&(lang, name, kind))) {
        (Found::One(node, _), _) => node,
        (_, Some(&node)) => node,
        (Found::Many(candidates), None) => {
            let id = format!("{lang}:ambiguous:{name}");
            let ids: Vec<&str> = candidates.iter().take(32).map(|&c| b.nodes[c].id.as_str()).collect();
            let meta = BTreeMap::from([
                ("resolution".to_string(), "ambiguous".to_string()),
                ("candidates".to_string(), candidates.len().to_string()),
                ("candidate_ids".to_string(), ids.join(" ")),
            ]);
            let node = b.get_or_add(&id, "ambiguous", || name_draft(id.clone(), "ambiguous", name, meta));
            made.insert((lang, name, kind), node);
            node
        }
        (Found::None, None) => {
            let id = format!("{lang}:{kind}:{name}");
            let mut meta = BTreeMap::from([
                ("resolution".to_string(), "external".to_string()),
                ("language".to_string(), lang.to_string()),
            ]);
            if let Some(krate) = dependency {
                meta.insert("dependency".into(), krate.to_string());
            }
            let node = b.get_or_add(&id, kind, || name_draft(id.clone(), kind, name, meta));
            made.insert((lang, name, kind), node);
            node
        }
    };
    match b.stats.resolution.get_mut(edge_type) {
        Some(outcomes) => *outcomes.entry(resolution).or_default() += 1,
        None => {
            b.stats.resolution.insert(edge_type.to_string(), BTreeMap::from([(resolution, 1)]));
        }
    }
    target
}

pub(super) fn name_draft(id: String, node_type: &str, name: &str, meta: BTreeMap<String, String>) -> Draft {
    Draft { id, node_type: node_type.into(), name: name.into(), site: Site::NONE, meta }
}

/// The entity-type word for a key's type word (`fn` → `function`, `mod` → `module`).
pub(super) fn entity_type(kind: &str) -> &str {
    match kind {
        "fn" => "function",
        "mod" => "module",
        other => other,
    }
}

/// Records `file`, `crate`, `module` and `test` for a definition in `file` (in `language`, by
/// the file's extension when `None`); returns its site.
pub(super) fn site_meta(
    meta: &mut BTreeMap<String, String>,
    file: Option<&str>,
    name: &str,
    language: Option<&str>,
) -> Site {
    let Some(file) = file else {
        return Site { lang: language.map(|l| language::family(l).to_string()), ..Site::NONE };
    };
    meta.insert("file".into(), file.to_string());
    let language = language.or_else(|| language::of_file(file));
    let (krate, module) = language::place(file, language);
    meta.insert("crate".into(), krate.clone());
    meta.insert("module".into(), module);
    if language::is_test(file, name, language) {
        meta.insert("test".into(), "true".into());
    }
    Site {
        file: Some(file.trim_start_matches("./").to_string()),
        krate: Some(krate),
        lang: language.map(|l| language::family(l).to_string()),
    }
}
