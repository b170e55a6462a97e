//! Graphs in the shape of Parseltongue exports, of any size, for benchmarks and load tests:
//! ISG keys as node ids (`rust:fn:name:__src_path_rs:10-42`), entity types, the metadata fields
//! an export carries (file path, visibility, line range, interface signature, entity class),
//! and `Calls` / `Uses` / `Implements` edges with module locality (most edges stay near their
//! source, as real code does), which leaves cycles for the analyses to find.
//!
//! Deterministic for a seed, so runs compare.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::bindings::{GraphEdge, GraphNode};
use crate::graph::Graph;

/// Entity types and how common they are (out of 100).
const TYPES: [(&str, u32); 5] = [("fn", 62), ("struct", 14), ("method", 12), ("trait", 6), ("enum", 6)];

/// A graph of `nodes` nodes and about three edges per node.
pub fn parseltongue_like(nodes: usize, seed: u64) -> Graph {
    let mut rng = StdRng::seed_from_u64(seed);
    let modules = (nodes / 40).max(1);
    let mut out = Vec::with_capacity(nodes);
    for i in 0..nodes {
        let module = i * modules / nodes.max(1);
        let mut pick = rng.random_range(0..100);
        let entity = TYPES
            .iter()
            .find(|(_, weight)| {
                let hit = pick < *weight;
                pick = pick.saturating_sub(*weight);
                hit
            })
            .map(|(t, _)| *t)
            .unwrap_or("fn");
        let name = format!("{}_{i}", ["parse", "load", "render", "check", "apply", "build"][i % 6]);
        let file = format!("src/module_{module}/{}.rs", ["lib", "model", "io", "util"][i % 4]);
        let start = rng.random_range(1..2000);
        let end = start + rng.random_range(3..80);
        let id = format!("rust:{entity}:{name}:__{}:{start}-{end}", file.replace(['/', '.'], "_"));
        let visibility = ["pub", "pub(crate)", "private"][rng.random_range(0..3)];
        let signature = match entity {
            "fn" | "method" => {
                format!("{visibility} fn {name}(input: &str, options: &Options) -> Result<Output, Error>")
            }
            other => format!("{visibility} {other} {}", name.to_uppercase()),
        };
        out.push(GraphNode {
            id,
            node_type: entity.to_string(),
            metadata: vec![
                ("file_path".into(), file),
                ("visibility".into(), visibility.into()),
                ("line_range".into(), format!("{start}-{end}")),
                ("interface_signature".into(), signature),
                ("entity_class".into(), "CODE".into()),
            ],
        });
    }
    let mut edges = Vec::with_capacity(nodes * 3);
    for i in 0..nodes {
        for _ in 0..3 {
            // Mostly near the source (same or next module), sometimes anywhere.
            let j = if rng.random_bool(0.8) {
                let spread = 60.min(nodes);
                (i + nodes + rng.random_range(0..spread) - spread / 3) % nodes
            } else {
                rng.random_range(0..nodes)
            };
            let edge_type = match rng.random_range(0..100) {
                0..70 => "Calls",
                70..95 => "Uses",
                _ => "Implements",
            };
            edges.push(GraphEdge {
                source: out[i].id.clone(),
                target: out[j].id.clone(),
                edge_type: edge_type.into(),
            });
        }
    }
    Graph::new(out, edges).expect("generated ids are unique and edges point at them")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graphs_are_deterministic_valid_and_parseltongue_shaped() {
        let g = parseltongue_like(500, 7);
        assert_eq!(g.nodes().len(), 500);
        assert_eq!(g.edges().len(), 1500);
        let again = parseltongue_like(500, 7);
        assert_eq!(g.nodes()[123].id, again.nodes()[123].id);
        let node = &g.nodes()[0];
        assert!(node.id.starts_with("rust:") && node.id.contains(":__src_module_0_"), "{}", node.id);
        assert_eq!(node.metadata.len(), 5);
    }
}
