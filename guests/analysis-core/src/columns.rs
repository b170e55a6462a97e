//! Contract 0.2's graph as borrowed columns, checked once, read without copies: ids, types and
//! metadata are `&str` slices of one text buffer; edges are node indices.
//!
//! A plugin gets the columns from the host; the host's benchmarks pass their own columns, so
//! the same view (and the same analyses on it) runs in both places. [`OwnedColumns`] builds
//! columns from ids and names, for tests and for contract 0.1's input.

use std::collections::HashMap;

/// The string table: string `i` is `text[ends[i - 1] .. ends[i]]` (from 0 for `i == 0`).
#[derive(Debug, Clone, Copy)]
pub struct Strings<'a> {
    text: &'a str,
    ends: &'a [u32],
}

impl<'a> Strings<'a> {
    /// String `i` (checked when the view was made: every index the view hands out is valid).
    pub fn get(&self, i: u32) -> &'a str {
        let i = i as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.text[start..self.ends[i] as usize]
    }

    /// Number of strings.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
}

/// The columns, as slices. Field meanings are those of `graph` in `wit/v0.2/plugin.wit`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Columns<'a> {
    pub text: &'a [u8],
    pub string_ends: &'a [u32],
    pub node_types: &'a [u32],
    pub meta_starts: &'a [u32],
    pub meta_keys: &'a [u32],
    pub meta_values: &'a [u32],
    pub edge_sources: &'a [u32],
    pub edge_targets: &'a [u32],
    pub edge_types: &'a [u32],
}

/// Checked columns: every index in range, every string on character boundaries.
#[derive(Debug, Clone, Copy)]
pub struct View<'a> {
    /// The string table.
    pub strings: Strings<'a>,
    columns: Columns<'a>,
}

impl<'a> View<'a> {
    /// Checks `columns` (one pass over each column; the text is checked as UTF-8 once).
    ///
    /// # Errors
    ///
    /// Which column is inconsistent, and where.
    pub fn new(columns: Columns<'a>) -> Result<View<'a>, String> {
        let c = &columns;
        let text = std::str::from_utf8(c.text).map_err(|e| format!("text is not UTF-8: {e}"))?;
        let mut start = 0usize;
        for (i, &end) in c.string_ends.iter().enumerate() {
            let end = end as usize;
            if end < start || end > text.len() || !text.is_char_boundary(end) {
                return Err(format!(
                    "string {i} ends at {end}: not a character boundary after {start} within the text"
                ));
            }
            start = end;
        }
        let strings = c.string_ends.len();
        let n = c.node_types.len();
        if n > strings {
            return Err(format!("{n} nodes but only {strings} strings (node ids come first)"));
        }
        let string_column =
            |name: &str, column: &[u32]| match column.iter().position(|&s| s as usize >= strings) {
                Some(i) => {
                    Err(format!("{name}[{i}] = {} is not a string index (there are {strings})", column[i]))
                }
                None => Ok(()),
            };
        string_column("node-types", c.node_types)?;
        string_column("meta-keys", c.meta_keys)?;
        string_column("meta-values", c.meta_values)?;
        string_column("edge-types", c.edge_types)?;
        if c.meta_keys.len() != c.meta_values.len() {
            return Err(format!("{} meta-keys but {} meta-values", c.meta_keys.len(), c.meta_values.len()));
        }
        if c.meta_starts.len() != n + 1 || c.meta_starts.first() != Some(&0) {
            return Err(format!("meta-starts has {} entries (needs {}, from 0)", c.meta_starts.len(), n + 1));
        }
        if c.meta_starts.windows(2).any(|w| w[0] > w[1]) || c.meta_starts[n] as usize != c.meta_keys.len() {
            return Err("meta-starts do not rise to the number of metadata pairs".into());
        }
        let m = c.edge_sources.len();
        if c.edge_targets.len() != m || c.edge_types.len() != m {
            return Err(format!(
                "edge columns differ in length: {m} sources, {} targets, {} types",
                c.edge_targets.len(),
                c.edge_types.len()
            ));
        }
        for (name, column) in [("edge-sources", c.edge_sources), ("edge-targets", c.edge_targets)] {
            if let Some(i) = column.iter().position(|&v| v as usize >= n) {
                return Err(format!("{name}[{i}] = {} is not a node index (there are {n})", column[i]));
            }
        }
        Ok(View { strings: Strings { text, ends: c.string_ends }, columns })
    }

    /// Number of nodes.
    pub fn node_count(&self) -> usize {
        self.columns.node_types.len()
    }

    /// Number of edges.
    pub fn edge_count(&self) -> usize {
        self.columns.edge_sources.len()
    }

    /// Node `v`'s id.
    pub fn id(&self, v: usize) -> &'a str {
        self.strings.get(v as u32)
    }

    /// Node `v`'s type.
    pub fn node_type(&self, v: usize) -> &'a str {
        self.strings.get(self.columns.node_types[v])
    }

    /// Node `v`'s metadata pairs, as string indices.
    pub fn meta(&self, v: usize) -> (&'a [u32], &'a [u32]) {
        let range = self.columns.meta_starts[v] as usize..self.columns.meta_starts[v + 1] as usize;
        (&self.columns.meta_keys[range.clone()], &self.columns.meta_values[range])
    }

    /// Edge `e`: source, target (node indices) and type (a string index).
    pub fn edge(&self, e: usize) -> (usize, usize, u32) {
        let c = &self.columns;
        (c.edge_sources[e] as usize, c.edge_targets[e] as usize, c.edge_types[e])
    }

    /// The raw columns.
    pub fn columns(&self) -> &Columns<'a> {
        &self.columns
    }
}

/// Columns built from ids and names (every distinct string once, ids first): for tests, and
/// for a plugin whose input is contract 0.1's records.
#[derive(Debug, Clone, Default)]
pub struct OwnedColumns {
    pub text: Vec<u8>,
    pub string_ends: Vec<u32>,
    pub node_types: Vec<u32>,
    pub meta_starts: Vec<u32>,
    pub meta_keys: Vec<u32>,
    pub meta_values: Vec<u32>,
    pub edge_sources: Vec<u32>,
    pub edge_targets: Vec<u32>,
    pub edge_types: Vec<u32>,
}

impl OwnedColumns {
    /// Nodes as `(id, type, metadata pairs)`, edges as `(source id, target id, type)`; an edge
    /// naming an unknown id (or a repeated id) is left out, and counted in the second value.
    pub fn build<'s, M>(
        nodes: impl IntoIterator<Item = (&'s str, &'s str, M)>,
        edges: impl IntoIterator<Item = (&'s str, &'s str, &'s str)>,
    ) -> (OwnedColumns, usize)
    where
        M: IntoIterator<Item = (&'s str, &'s str)>,
    {
        let nodes: Vec<(&str, &str, M)> = nodes.into_iter().collect();
        let mut c = OwnedColumns::default();
        let mut index: HashMap<&str, u32> = HashMap::new();
        let mut ids = Vec::with_capacity(nodes.len());
        for (id, _, _) in &nodes {
            ids.push(c.intern(&mut index, id));
        }
        c.meta_starts.push(0);
        let mut dropped = 0;
        let mut kept = vec![true; nodes.len()];
        for (i, &id) in ids.iter().enumerate() {
            // A repeated id: only its first node is kept.
            if id as usize != i {
                kept[i] = false;
            }
        }
        for ((_, node_type, meta), keep) in nodes.into_iter().zip(kept) {
            if !keep {
                dropped += 1;
                continue;
            }
            let t = c.intern(&mut index, node_type);
            c.node_types.push(t);
            for (k, v) in meta {
                let (k, v) = (c.intern(&mut index, k), c.intern(&mut index, v));
                c.meta_keys.push(k);
                c.meta_values.push(v);
            }
            c.meta_starts.push(c.meta_keys.len() as u32);
        }
        let n = c.node_types.len() as u32;
        for (s, t, kind) in edges {
            match (index.get(s), index.get(t)) {
                (Some(&s), Some(&t)) if s < n && t < n => {
                    let kind = c.intern(&mut index, kind);
                    c.edge_sources.push(s);
                    c.edge_targets.push(t);
                    c.edge_types.push(kind);
                }
                _ => dropped += 1,
            }
        }
        (c, dropped)
    }

    fn intern<'s>(&mut self, index: &mut HashMap<&'s str, u32>, s: &'s str) -> u32 {
        if let Some(&i) = index.get(s) {
            return i;
        }
        let i = self.string_ends.len() as u32;
        self.text.extend_from_slice(s.as_bytes());
        self.string_ends.push(self.text.len() as u32);
        index.insert(s, i);
        i
    }

    /// The columns as slices.
    pub fn columns(&self) -> Columns<'_> {
        Columns {
            text: &self.text,
            string_ends: &self.string_ends,
            node_types: &self.node_types,
            meta_starts: &self.meta_starts,
            meta_keys: &self.meta_keys,
            meta_values: &self.meta_values,
            edge_sources: &self.edge_sources,
            edge_targets: &self.edge_targets,
            edge_types: &self.edge_types,
        }
    }

    /// The checked view (columns built here are always consistent).
    pub fn view(&self) -> View<'_> {
        View::new(self.columns()).expect("built consistent")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_view_reads_what_was_built() {
        let (c, dropped) = OwnedColumns::build(
            [("a", "function", vec![("file", "x.rs")]), ("b", "struct", vec![]), ("a", "dup", vec![])],
            [("a", "b", "Uses"), ("b", "zz", "Calls")],
        );
        assert_eq!(dropped, 2, "the repeated id and the edge to an unknown id");
        let v = c.view();
        assert_eq!((v.node_count(), v.edge_count()), (2, 1));
        assert_eq!((v.id(0), v.node_type(0), v.id(1), v.node_type(1)), ("a", "function", "b", "struct"));
        let (keys, values) = v.meta(0);
        assert_eq!((v.strings.get(keys[0]), v.strings.get(values[0])), ("file", "x.rs"));
        let (s, t, kind) = v.edge(0);
        assert_eq!((s, t, v.strings.get(kind)), (0, 1, "Uses"));
    }

    #[test]
    fn inconsistent_columns_are_refused_not_read() {
        let (c, _) = OwnedColumns::build([("é", "f", vec![]), ("b", "f", vec![])], [("é", "b", "Calls")]);
        let mut bad = c.clone();
        bad.string_ends[0] = 1; // inside `é`
        assert!(View::new(bad.columns()).unwrap_err().contains("character boundary"));
        let mut bad = c.clone();
        bad.edge_targets[0] = 1_000_000_000;
        assert!(View::new(bad.columns()).unwrap_err().contains("edge-targets[0]"));
        let mut bad = c.clone();
        bad.node_types[1] = 99;
        assert!(View::new(bad.columns()).unwrap_err().contains("node-types[1]"));
        let mut bad = c.clone();
        bad.meta_starts.pop();
        assert!(View::new(bad.columns()).unwrap_err().contains("meta-starts"));
        let mut bad = c;
        bad.text[0] = 0xff;
        assert!(View::new(bad.columns()).unwrap_err().contains("UTF-8"));
    }
}
