//! Strongly connected components (Tarjan), iterative so deep graphs cannot overflow the stack.

use std::collections::HashMap;

use rustc_hash::FxBuildHasher;

/// A directed graph over dense vertex numbers `0..len`, built from named edges. Names are
/// borrowed from the caller's input (no copies), and hashed with FxHash: the graph is built
/// from trusted-shape input inside one analysis, so HashDoS resistance buys nothing here.
#[derive(Debug, Default, Clone)]
pub struct Digraph<'a> {
    names: Vec<&'a str>,
    index: HashMap<&'a str, usize, FxBuildHasher>,
    adjacency: Vec<Vec<usize>>,
}

impl<'a> Digraph<'a> {
    /// An empty graph.
    pub fn new() -> Self {
        Self::default()
    }

    /// The vertex number of `name`, adding it if new.
    pub fn vertex(&mut self, name: &'a str) -> usize {
        let next = self.names.len();
        let v = *self.index.entry(name).or_insert(next);
        if v == next {
            self.names.push(name);
            self.adjacency.push(Vec::new());
        }
        v
    }

    /// Room for `vertices` more vertices without rehashing.
    pub fn reserve(&mut self, vertices: usize) {
        self.names.reserve(vertices);
        self.index.reserve(vertices);
        self.adjacency.reserve(vertices);
    }

    /// Adds the edge `from → to`, adding either vertex if new.
    pub fn edge(&mut self, from: &'a str, to: &'a str) {
        let (f, t) = (self.vertex(from), self.vertex(to));
        self.adjacency[f].push(t);
    }

    /// The successors of vertex `v`.
    pub fn successors(&self, v: usize) -> &[usize] {
        &self.adjacency[v]
    }

    /// The name of vertex `v`.
    pub fn name(&self, v: usize) -> &'a str {
        self.names[v]
    }

    /// Number of vertices.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether the graph has no vertices.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Whether `v` has an edge to itself.
    pub fn has_self_loop(&self, v: usize) -> bool {
        self.adjacency[v].contains(&v)
    }

    /// Every strongly connected component, each as vertex numbers in discovery order.
    pub fn strongly_connected_components(&self) -> Vec<Vec<usize>> {
        tarjan(&self.adjacency)
    }

    /// The components that are dependency cycles: more than one vertex, or one with a self-loop.
    /// Largest first; ties broken by the smallest member name, so output is deterministic.
    pub fn cycles(&self) -> Vec<Vec<usize>> {
        let mut cycles: Vec<Vec<usize>> = self
            .strongly_connected_components()
            .into_iter()
            .filter(|c| c.len() > 1 || self.has_self_loop(c[0]))
            .map(|mut c| {
                c.sort_by(|a, b| self.names[*a].cmp(self.names[*b]));
                c
            })
            .collect();
        cycles.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| self.names[a[0]].cmp(self.names[b[0]])));
        cycles
    }
}

/// Successor lists by vertex number: nested `Vec`s or compressed rows ([`Csr`]).
pub trait Successors {
    /// Number of vertices.
    fn vertices(&self) -> usize;
    /// The successors of `v`.
    fn successors_of(&self, v: usize) -> &[usize];
}

impl Successors for [Vec<usize>] {
    fn vertices(&self) -> usize {
        self.len()
    }
    fn successors_of(&self, v: usize) -> &[usize] {
        &self[v]
    }
}

impl Successors for Vec<Vec<usize>> {
    fn vertices(&self) -> usize {
        self.len()
    }
    fn successors_of(&self, v: usize) -> &[usize] {
        &self[v]
    }
}

/// Adjacency in compressed rows: the successors of `v` are `targets[start[v] .. start[v + 1]]`.
/// Two allocations however many vertices.
#[derive(Debug, Clone, Default)]
pub struct Csr {
    start: Vec<usize>,
    targets: Vec<usize>,
}

impl Csr {
    /// From `(source, target)` pairs over `n` vertices (each below `n`), keeping their order.
    pub fn new(n: usize, edges: impl Iterator<Item = (usize, usize)> + Clone) -> Csr {
        let mut start = vec![0usize; n + 1];
        for (s, _) in edges.clone() {
            start[s + 1] += 1;
        }
        for v in 0..n {
            start[v + 1] += start[v];
        }
        let mut next = start.clone();
        let mut targets = vec![0; start[n]];
        for (s, t) in edges {
            targets[next[s]] = t;
            next[s] += 1;
        }
        Csr { start, targets }
    }

    /// Number of edges.
    pub fn edges(&self) -> usize {
        self.targets.len()
    }
}

impl Successors for Csr {
    fn vertices(&self) -> usize {
        self.start.len() - 1
    }
    fn successors_of(&self, v: usize) -> &[usize] {
        &self.targets[self.start[v]..self.start[v + 1]]
    }
}

/// Tarjan's algorithm over an adjacency list, with an explicit call stack.
pub fn tarjan<A: Successors + ?Sized>(adjacency: &A) -> Vec<Vec<usize>> {
    const UNVISITED: usize = usize::MAX;
    let n = adjacency.vertices();
    let mut index = vec![UNVISITED; n];
    let mut lowlink = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut components = Vec::new();
    let mut next_index = 0;
    // (vertex, position of the next neighbour to visit)
    let mut calls: Vec<(usize, usize)> = Vec::new();

    for root in 0..n {
        if index[root] != UNVISITED {
            continue;
        }
        calls.push((root, 0));
        while let Some(&mut (v, ref mut next)) = calls.last_mut() {
            if *next == 0 && index[v] == UNVISITED {
                index[v] = next_index;
                lowlink[v] = next_index;
                next_index += 1;
                stack.push(v);
                on_stack[v] = true;
            }
            if let Some(&w) = adjacency.successors_of(v).get(*next) {
                *next += 1;
                if index[w] == UNVISITED {
                    calls.push((w, 0));
                } else if on_stack[w] {
                    lowlink[v] = lowlink[v].min(index[w]);
                }
                continue;
            }
            calls.pop();
            if let Some(&(parent, _)) = calls.last() {
                lowlink[parent] = lowlink[parent].min(lowlink[v]);
            }
            if lowlink[v] == index[v] {
                let mut component = Vec::new();
                loop {
                    let w = stack.pop().expect("v is on the stack");
                    on_stack[w] = false;
                    component.push(w);
                    if w == v {
                        break;
                    }
                }
                component.reverse();
                components.push(component);
            }
        }
    }
    components
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph<'a>(edges: &[(&'a str, &'a str)]) -> Digraph<'a> {
        let mut g = Digraph::new();
        for (a, b) in edges {
            g.edge(a, b);
        }
        g
    }

    fn named<'a>(g: &Digraph<'a>, cycles: Vec<Vec<usize>>) -> Vec<Vec<&'a str>> {
        cycles.into_iter().map(|c| c.into_iter().map(|v| g.name(v)).collect()).collect()
    }

    #[test]
    fn finds_cycles_and_ignores_acyclic_parts() {
        let g = graph(&[
            ("a", "b"),
            ("b", "c"),
            ("c", "a"),
            ("c", "d"),
            ("d", "e"),
            ("e", "d"),
            ("f", "f"),
            ("g", "h"),
        ]);
        assert_eq!(named(&g, g.cycles()), vec![vec!["a", "b", "c"], vec!["d", "e"], vec!["f"]]);
    }

    #[test]
    fn every_vertex_is_in_exactly_one_component() {
        let g = graph(&[("a", "b"), ("b", "a"), ("b", "c"), ("d", "c")]);
        let mut all: Vec<usize> = g.strongly_connected_components().concat();
        all.sort();
        assert_eq!(all, (0..g.len()).collect::<Vec<_>>());
    }

    #[test]
    fn a_long_chain_does_not_overflow_the_stack() {
        let n = 200_000;
        let names: Vec<String> = (0..n).map(|i| i.to_string()).collect();
        let mut g = Digraph::new();
        for i in 0..n {
            g.edge(&names[i], &names[(i + 1) % n]);
        }
        let cycles = g.cycles();
        assert_eq!(cycles.len(), 1);
        assert_eq!(cycles[0].len(), n);
    }
}
