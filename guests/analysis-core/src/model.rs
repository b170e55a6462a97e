//! An imported code graph over the columns: nodes with their metadata, edges both ways, and
//! the vocabulary the importer uses (definitions vs. the `file`, `import`, `external` and
//! `ambiguous` nodes it makes for endpoints that are not code in the graph).

use std::collections::HashMap;

use crate::columns::{Strings, View};

/// One node: id, type and metadata, borrowed from the graph's columns.
#[derive(Debug, Clone, Copy)]
pub struct Node<'a> {
    /// The node id (an ISG key for Parseltongue graphs).
    pub id: &'a str,
    /// The entity type: `function`, `method`, `struct`, `impl`, …
    pub node_type: &'a str,
    keys: &'a [u32],
    values: &'a [u32],
    strings: Strings<'a>,
}

impl<'a> Node<'a> {
    /// The metadata value under the key whose string index is `key` (see [`Keys`]): integers
    /// compared, no string.
    pub fn get_key(&self, key: Option<u32>) -> Option<&'a str> {
        let key = key?;
        let i = self.keys.iter().position(|&k| k == key)?;
        Some(self.strings.get(self.values[i]))
    }

    /// The metadata value under `key` (the first, if the node repeats a key).
    pub fn get(&self, key: &str) -> Option<&'a str> {
        let i = self.keys.iter().position(|&k| self.strings.get(k) == key)?;
        Some(self.strings.get(self.values[i]))
    }

    /// The metadata pairs, in the node's order.
    pub fn meta(&self) -> impl Iterator<Item = (&'a str, &'a str)> + '_ {
        self.keys.iter().zip(self.values).map(|(&k, &v)| (self.strings.get(k), self.strings.get(v)))
    }

    /// The entity's name: metadata `name`, else the id.
    pub fn name(&self) -> &'a str {
        self.get("name").unwrap_or(self.id)
    }

    /// Code a developer wrote: not a file, import, external or ambiguous placeholder.
    pub fn is_definition(&self) -> bool {
        !matches!(self.node_type, "file" | "import" | "external" | "ambiguous")
    }

    /// Part of the test suite (metadata `test = true`).
    pub fn is_test(&self) -> bool {
        self.get("test") == Some("true")
    }

    /// Callable code: functions and methods.
    pub fn is_callable(&self) -> bool {
        matches!(self.node_type, "function" | "fn" | "method")
    }

    /// The line range, when known.
    pub fn lines(&self) -> Option<(u32, u32)> {
        let start = self.get("line_start")?.parse().ok()?;
        let end = self.get("line_end").and_then(|e| e.parse().ok()).unwrap_or(start);
        Some((start, end))
    }

    /// `name (file:line)` for findings, or the id when the node carries no location.
    pub fn label(&self) -> String {
        match (self.get("name"), self.get("file"), self.lines()) {
            (Some(name), Some(file), Some((start, _))) => {
                format!("{name} ({}:{start})", file.trim_start_matches("./"))
            }
            (Some(name), Some(file), None) => format!("{name} ({})", file.trim_start_matches("./")),
            _ => self.id.to_string(),
        }
    }
}

/// The metadata keys the analyses read, as string indices of one graph (`None`: no node has
/// that key). Found once per graph from its distinct keys, so hot loops compare integers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Keys {
    pub name: Option<u32>,
    pub file: Option<u32>,
    pub line_start: Option<u32>,
    pub line_end: Option<u32>,
    pub module: Option<u32>,
    pub test: Option<u32>,
}

impl Keys {
    /// The keys of `view`: its distinct metadata keys (few in practice; a linear list up to 64,
    /// a set beyond), each compared once with the names above.
    pub fn of(view: &View<'_>) -> Keys {
        let keys = view.columns().meta_keys;
        let mut distinct: Vec<u32> = Vec::new();
        let mut many: Option<std::collections::HashSet<u32>> = None;
        for &k in keys {
            match &mut many {
                Some(set) => {
                    set.insert(k);
                }
                None if !distinct.contains(&k) => {
                    distinct.push(k);
                    if distinct.len() > 64 {
                        many = Some(distinct.drain(..).collect());
                    }
                }
                None => {}
            }
        }
        if let Some(set) = many {
            distinct = set.into_iter().collect();
            distinct.sort_unstable();
        }
        let find = |name: &str| distinct.iter().copied().filter(|&k| view.strings.get(k) == name).min();
        Keys {
            name: find("name"),
            file: find("file"),
            line_start: find("line_start"),
            line_end: find("line_end"),
            module: find("module"),
            test: find("test"),
        }
    }
}

/// One end of an edge as adjacency lists hold it: the node at the other end and the edge type.
pub type Adjacent<'a> = (usize, &'a str);

/// Nodes by index with their edges both ways (compressed rows: one allocation per direction),
/// edge types kept. Built once per call from a [`View`]; no id is ever hashed.
#[derive(Debug)]
pub struct CodeGraph<'a> {
    /// The nodes, in input order.
    pub nodes: Vec<Node<'a>>,
    out_start: Vec<u32>,
    out: Vec<Adjacent<'a>>,
    in_start: Vec<u32>,
    inn: Vec<Adjacent<'a>>,
    /// For each method, the `impl` block whose line range holds it (innermost), if any: the
    /// graph has no "contains" edges, but Parseltongue's keys carry file and lines.
    owner: Vec<Option<usize>>,
    /// The metadata keys the analyses read, as string indices.
    pub keys: Keys,
    view: View<'a>,
}

impl<'a> CodeGraph<'a> {
    /// Builds the view's nodes and adjacency (counting sort by source and by target).
    pub fn new(view: View<'a>) -> Self {
        let n = view.node_count();
        let nodes: Vec<Node<'a>> = (0..n)
            .map(|v| {
                let (keys, values) = view.meta(v);
                Node { id: view.id(v), node_type: view.node_type(v), keys, values, strings: view.strings }
            })
            .collect();
        let m = view.edge_count();
        let mut out_start = vec![0u32; n + 1];
        let mut in_start = vec![0u32; n + 1];
        for e in 0..m {
            let (s, t, _) = view.edge(e);
            out_start[s + 1] += 1;
            in_start[t + 1] += 1;
        }
        for v in 0..n {
            out_start[v + 1] += out_start[v];
            in_start[v + 1] += in_start[v];
        }
        let mut out = vec![(0usize, ""); m];
        let mut inn = vec![(0usize, ""); m];
        let (mut out_next, mut in_next) = (out_start.clone(), in_start.clone());
        for e in 0..m {
            let (s, t, kind) = view.edge(e);
            let kind = view.strings.get(kind);
            out[out_next[s] as usize] = (t, kind);
            out_next[s] += 1;
            inn[in_next[t] as usize] = (s, kind);
            in_next[t] += 1;
        }
        let keys = Keys::of(&view);
        let owner = owners(&nodes, &keys);
        CodeGraph { nodes, out_start, out, in_start, inn, owner, keys, view }
    }

    /// The columns this graph was built from.
    pub fn view(&self) -> &View<'a> {
        &self.view
    }

    /// The index of the node with this id (a linear search: analyses work by index).
    pub fn find(&self, id: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.id == id)
    }

    /// Outgoing edges of `v`: (target, edge type), in input order.
    pub fn successors(&self, v: usize) -> &[Adjacent<'a>] {
        &self.out[self.out_start[v] as usize..self.out_start[v + 1] as usize]
    }

    /// Incoming edges of `v`: (source, edge type), in input order.
    pub fn predecessors(&self, v: usize) -> &[Adjacent<'a>] {
        &self.inn[self.in_start[v] as usize..self.in_start[v + 1] as usize]
    }

    /// Number of edges.
    pub fn edge_count(&self) -> usize {
        self.out.len()
    }

    /// The `impl` block a method is in.
    pub fn owner(&self, v: usize) -> Option<usize> {
        self.owner[v]
    }

    /// The node's name with a method's type in front (`Store::open`): how a finding's message
    /// names nodes (the host adds the place of the finding's first node).
    pub fn qualified_name(&self, v: usize) -> String {
        match self.owner[v] {
            Some(block) => format!("{}::{}", self.nodes[block].name(), self.nodes[v].name()),
            None => self.nodes[v].name().to_string(),
        }
    }

    /// [`Node::label`], with a method's type in front: `Store::open (src/store.rs:12)`.
    pub fn label(&self, v: usize) -> String {
        match self.owner[v] {
            Some(block) => format!("{}::{}", self.nodes[block].name(), self.nodes[v].label()),
            None => self.nodes[v].label(),
        }
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether there are no nodes.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }
}

/// The innermost `impl` block (same file, line range holding it) of every method.
fn owners(nodes: &[Node<'_>], keys: &Keys) -> Vec<Option<usize>> {
    let lines = |n: &Node<'_>| -> Option<(u32, u32)> {
        let start = n.get_key(keys.line_start)?.parse().ok()?;
        let end = n.get_key(keys.line_end).and_then(|e| e.parse().ok()).unwrap_or(start);
        Some((start, end))
    };
    let mut blocks: HashMap<&str, Vec<(u32, u32, usize)>> = HashMap::new();
    for (v, n) in nodes.iter().enumerate() {
        if n.node_type == "impl"
            && let (Some(file), Some((start, end))) = (n.get_key(keys.file), lines(n))
        {
            blocks.entry(file).or_default().push((start, end, v));
        }
    }
    if blocks.is_empty() {
        return vec![None; nodes.len()];
    }
    nodes
        .iter()
        .map(|n| {
            if n.node_type != "method" {
                return None;
            }
            let (start, end) = lines(n)?;
            blocks
                .get(n.get_key(keys.file)?)?
                .iter()
                .filter(|(s, e, _)| *s <= start && end <= *e)
                .min_by_key(|(s, e, _)| e - s)
                .map(|&(_, _, v)| v)
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod fixtures {
    //! Hand-made graphs for the analyses' tests.
    use super::*;
    use crate::columns::OwnedColumns;

    /// A node as a test writes it: id, type, metadata pairs.
    pub type OwnedNode = (String, String, Vec<(String, String)>);

    /// Nodes and edges a test writes down; [`Owned::graph`] builds columns once and a
    /// [`CodeGraph`] over them.
    pub struct Owned {
        pub nodes: Vec<OwnedNode>,
        pub edges: Vec<(String, String, String)>,
        columns: std::cell::OnceCell<OwnedColumns>,
    }

    impl Owned {
        pub fn new() -> Self {
            Owned { nodes: Vec::new(), edges: Vec::new(), columns: std::cell::OnceCell::new() }
        }

        /// A node: `meta` as `key=value` strings.
        pub fn node(mut self, id: &str, node_type: &str, meta: &[&str]) -> Self {
            let mut pairs: Vec<(String, String)> = meta
                .iter()
                .map(|kv| {
                    let (k, v) = kv.split_once('=').expect("key=value");
                    (k.to_string(), v.to_string())
                })
                .collect();
            if !pairs.iter().any(|(k, _)| k == "name") {
                pairs.push(("name".into(), id.to_string()));
            }
            self.nodes.push((id.into(), node_type.into(), pairs));
            self
        }

        pub fn edge(mut self, from: &str, to: &str, edge_type: &str) -> Self {
            self.edges.push((from.into(), to.into(), edge_type.into()));
            self
        }

        pub fn view(&self) -> View<'_> {
            self.columns
                .get_or_init(|| {
                    OwnedColumns::build(
                        self.nodes.iter().map(|(id, t, meta)| {
                            (id.as_str(), t.as_str(), meta.iter().map(|(k, v)| (k.as_str(), v.as_str())))
                        }),
                        self.edges.iter().map(|(s, t, e)| (s.as_str(), t.as_str(), e.as_str())),
                    )
                    .0
                })
                .view()
        }

        pub fn graph(&self) -> CodeGraph<'_> {
            CodeGraph::new(self.view())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::Owned;

    #[test]
    fn edges_are_indexed_both_ways() {
        let o = Owned::new()
            .node("a", "function", &["file=./src/a.rs", "line_start=3", "line_end=9"])
            .node("b", "external", &[])
            .edge("a", "b", "Calls")
            .edge("a", "zz", "Calls");
        let g = o.graph();
        assert_eq!(g.successors(0), &[(1, "Calls")]);
        assert_eq!(g.predecessors(1), &[(0, "Calls")]);
        assert_eq!(g.edge_count(), 1, "an edge to an id that is no node is not in the columns");
        assert_eq!(g.nodes[0].label(), "a (src/a.rs:3)");
        assert!(g.nodes[0].is_definition() && !g.nodes[1].is_definition());
    }

    #[test]
    fn methods_are_owned_by_the_innermost_impl_block_holding_them() {
        let o = Owned::new()
            .node("outer", "impl", &["name=Outer", "file=a.rs", "line_start=1", "line_end=100"])
            .node("inner", "impl", &["name=Inner", "file=a.rs", "line_start=10", "line_end=20"])
            .node("m", "method", &["name=go", "file=a.rs", "line_start=12", "line_end=14"])
            .node("n", "method", &["name=run", "file=a.rs", "line_start=30", "line_end=40"])
            .node("elsewhere", "method", &["name=x", "file=b.rs", "line_start=12", "line_end=14"]);
        let g = o.graph();
        assert_eq!((g.owner(2), g.owner(3), g.owner(4)), (Some(1), Some(0), None));
        assert_eq!(g.label(2), "Inner::go (a.rs:12)");
        assert_eq!(g.nodes[2].get_key(g.keys.name), Some("go"));
        assert_eq!(g.keys.module, None, "no node has it");
    }
}
