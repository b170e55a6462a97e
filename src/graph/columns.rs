//! Builds contract 0.2's columns from a graph: every distinct string once in one buffer (the
//! node ids first, in node order), everything else `u32` indices. One pass, one hash map.

use rustc_hash::FxHashMap;

use crate::contract::{Columns, GraphEdge, GraphNode};

/// The columns of `nodes` and `edges`. The caller ([`crate::Graph::new`]) has checked that ids
/// are unique, edges join ids, and all text fits in `u32` offsets.
pub(crate) fn build(nodes: &[GraphNode], edges: &[GraphEdge]) -> Columns {
    let metadata: usize = nodes.iter().map(|n| n.metadata.len()).sum();
    let mut table = Table {
        text: Vec::with_capacity(nodes.iter().map(|n| n.id.len()).sum::<usize>() * 2),
        ends: Vec::with_capacity(nodes.len() * 2),
        index: FxHashMap::with_capacity_and_hasher(nodes.len() * 2, Default::default()),
    };
    for node in nodes {
        table.intern(&node.id);
    }
    let mut columns = Columns {
        text: Vec::new(),
        string_ends: Vec::new(),
        node_types: Vec::with_capacity(nodes.len()),
        meta_starts: Vec::with_capacity(nodes.len() + 1),
        meta_keys: Vec::with_capacity(metadata),
        meta_values: Vec::with_capacity(metadata),
        edge_sources: Vec::with_capacity(edges.len()),
        edge_targets: Vec::with_capacity(edges.len()),
        edge_types: Vec::with_capacity(edges.len()),
    };
    columns.meta_starts.push(0);
    for node in nodes {
        columns.node_types.push(table.intern(&node.node_type));
        for (key, value) in &node.metadata {
            columns.meta_keys.push(table.intern(key));
            columns.meta_values.push(table.intern(value));
        }
        columns.meta_starts.push(columns.meta_keys.len() as u32);
    }
    for edge in edges {
        // Ids are strings 0..n, so a node's string index is its node index.
        columns.edge_sources.push(table.index[edge.source.as_str()]);
        columns.edge_targets.push(table.index[edge.target.as_str()]);
        columns.edge_types.push(table.intern(&edge.edge_type));
    }
    columns.text = table.text;
    columns.string_ends = table.ends;
    columns
}

/// The string table under construction.
struct Table<'a> {
    text: Vec<u8>,
    ends: Vec<u32>,
    index: FxHashMap<&'a str, u32>,
}

impl<'a> Table<'a> {
    /// The index of `s`, appending it if new.
    fn intern(&mut self, s: &'a str) -> u32 {
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        let i = self.ends.len() as u32;
        self.text.extend_from_slice(s.as_bytes());
        self.ends.push(self.text.len() as u32);
        self.index.insert(s, i);
        i
    }
}

#[cfg(test)]
mod tests {
    use crate::Graph;
    use crate::contract::{GraphEdge, GraphNode};

    fn node(id: &str, node_type: &str, meta: &[(&str, &str)]) -> GraphNode {
        GraphNode {
            id: id.into(),
            node_type: node_type.into(),
            metadata: meta.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        }
    }

    fn edge(s: &str, t: &str, kind: &str) -> GraphEdge {
        GraphEdge { source: s.into(), target: t.into(), edge_type: kind.into() }
    }

    #[test]
    fn every_string_once_ids_first_edges_by_index() {
        let graph = Graph::new(
            vec![
                node("a", "function", &[("file", "x.rs"), ("name", "a")]),
                node("b", "function", &[("file", "x.rs"), ("name", "b")]),
                node("x.rs", "file", &[]),
            ],
            vec![edge("a", "b", "Calls"), edge("b", "a", "Calls"), edge("a", "x.rs", "Uses")],
        )
        .unwrap();
        let c = graph.columns();
        let strings: Vec<&str> = (0..c.string_ends.len() as u32).map(|i| c.string(i).unwrap()).collect();
        // `x.rs` is both an id and a metadata value: stored once, as the id.
        assert_eq!(strings, ["a", "b", "x.rs", "function", "file", "name", "Calls", "Uses"]);
        // The third node's type is `file`, the metadata key met before it.
        assert_eq!(c.node_types, [3, 3, 4]);
        assert_eq!(c.meta_starts, [0, 2, 4, 4]);
        assert_eq!(c.meta_keys, [4, 5, 4, 5]);
        assert_eq!(c.meta_values, [2, 0, 2, 1]);
        assert_eq!((c.edge_sources.as_slice(), c.edge_targets.as_slice()), (&[0, 1, 0][..], &[1, 0, 2][..]));
        assert_eq!(c.edge_types, [6, 6, 7]);
        assert_eq!(c.node_count(), 3);
        // Built once: every call and every clone of the graph shares it.
        assert!(std::sync::Arc::ptr_eq(&c, &graph.clone().columns()));
    }
}
