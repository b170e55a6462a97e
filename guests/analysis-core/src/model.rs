//! A borrowed view of an imported code graph: nodes with their metadata, edges both ways, and
//! the vocabulary the importer uses (definitions vs. the `file`, `import`, `external` and
//! `ambiguous` nodes it makes for endpoints that are not code in the graph).

use std::collections::HashMap;

use rustc_hash::FxBuildHasher;

/// One node: id, type and metadata pairs, borrowed from the plugin's input.
#[derive(Debug, Clone, Copy)]
pub struct Node<'a> {
    /// The node id (an ISG key for Parseltongue graphs).
    pub id: &'a str,
    /// The entity type: `function`, `method`, `struct`, `impl`, …
    pub node_type: &'a str,
    /// Metadata pairs, as the contract carries them.
    pub meta: &'a [(String, String)],
}

impl<'a> Node<'a> {
    /// The metadata value under `key`.
    pub fn get(&self, key: &str) -> Option<&'a str> {
        self.meta.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
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

/// Nodes by dense index with their edges both ways, edge types kept.
#[derive(Debug, Default)]
pub struct CodeGraph<'a> {
    /// The nodes, in input order.
    pub nodes: Vec<Node<'a>>,
    index: HashMap<&'a str, usize, FxBuildHasher>,
    out: Vec<Vec<(usize, &'a str)>>,
    inn: Vec<Vec<(usize, &'a str)>>,
    /// For each method, the `impl` block whose line range holds it (innermost), if any: the
    /// graph has no "contains" edges, but Parseltongue's keys carry file and lines.
    owner: Vec<Option<usize>>,
    /// Edges whose source or target is not a node (the host never sends those; counted anyway).
    pub dangling: usize,
}

impl<'a> CodeGraph<'a> {
    /// Builds the view from nodes and `(source, target, edge type)` triples.
    pub fn new(
        nodes: impl IntoIterator<Item = Node<'a>>,
        edges: impl IntoIterator<Item = (&'a str, &'a str, &'a str)>,
    ) -> Self {
        let nodes: Vec<Node<'a>> = nodes.into_iter().collect();
        let mut index = HashMap::with_capacity_and_hasher(nodes.len(), FxBuildHasher);
        for (i, n) in nodes.iter().enumerate() {
            index.entry(n.id).or_insert(i);
        }
        let owner = owners(&nodes);
        let mut graph = CodeGraph {
            out: vec![Vec::new(); nodes.len()],
            inn: vec![Vec::new(); nodes.len()],
            nodes,
            index,
            owner,
            dangling: 0,
        };
        for (source, target, edge_type) in edges {
            match (graph.index.get(source), graph.index.get(target)) {
                (Some(&s), Some(&t)) => {
                    graph.out[s].push((t, edge_type));
                    graph.inn[t].push((s, edge_type));
                }
                _ => graph.dangling += 1,
            }
        }
        graph
    }

    /// The index of the node with this id.
    pub fn find(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }

    /// Outgoing edges of `v`: (target, edge type).
    pub fn successors(&self, v: usize) -> &[(usize, &'a str)] {
        &self.out[v]
    }

    /// Incoming edges of `v`: (source, edge type).
    pub fn predecessors(&self, v: usize) -> &[(usize, &'a str)] {
        &self.inn[v]
    }

    /// The `impl` block a method is in.
    pub fn owner(&self, v: usize) -> Option<usize> {
        self.owner[v]
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
fn owners(nodes: &[Node<'_>]) -> Vec<Option<usize>> {
    let mut blocks: HashMap<&str, Vec<(u32, u32, usize)>> = HashMap::new();
    for (v, n) in nodes.iter().enumerate() {
        if n.node_type == "impl"
            && let (Some(file), Some((start, end))) = (n.get("file"), n.lines())
        {
            blocks.entry(file).or_default().push((start, end, v));
        }
    }
    nodes
        .iter()
        .map(|n| {
            if n.node_type != "method" {
                return None;
            }
            let (start, end) = n.lines()?;
            blocks
                .get(n.get("file")?)?
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

    /// Owned nodes and edges a test keeps alive while a [`CodeGraph`] borrows them.
    pub struct Owned {
        pub nodes: Vec<(String, String, Vec<(String, String)>)>,
        pub edges: Vec<(String, String, String)>,
    }

    impl Owned {
        pub fn new() -> Self {
            Owned { nodes: Vec::new(), edges: Vec::new() }
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

        pub fn graph(&self) -> CodeGraph<'_> {
            CodeGraph::new(
                self.nodes.iter().map(|(id, t, meta)| Node { id, node_type: t, meta }),
                self.edges.iter().map(|(s, t, e)| (s.as_str(), t.as_str(), e.as_str())),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::Owned;

    #[test]
    fn edges_are_indexed_both_ways_and_dangling_ones_counted() {
        let o = Owned::new()
            .node("a", "function", &["file=./src/a.rs", "line_start=3", "line_end=9"])
            .node("b", "external", &[])
            .edge("a", "b", "Calls")
            .edge("a", "zz", "Calls");
        let g = o.graph();
        assert_eq!(g.successors(0), &[(1, "Calls")]);
        assert_eq!(g.predecessors(1), &[(0, "Calls")]);
        assert_eq!(g.dangling, 1);
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
    }
}
