//! Graphs in the shape of Parseltongue exports, of any size, for benchmarks and load tests:
//! ISG keys as node ids (`rust:fn:name:__src_path_rs:10-42`), entity types, the metadata fields
//! an export carries (file path, visibility, line range, interface signature, entity class),
//! and `Calls` / `Uses` / `Implements` edges with module locality (most edges stay near their
//! source, as real code does), which leaves cycles for the analyses to find.
//!
//! Deterministic for a seed, so runs compare.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::contract::{GraphEdge, GraphNode};
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

/// Texts of a Parseltongue v0.9-style export of a made-up workspace: an entities file
/// (`pt02-level01`) with `entities` definitions, and an edges file (`pt02-level00`) with about
/// nine edges per definition, with every quirk of real exports — raw paths in edge keys, call
/// targets by name (`…:unknown:0-0`, a third of them standard-library names), `Uses` from file
/// pseudo-nodes to imports, and test functions whose entities are missing.
pub fn parseltongue_export(entities: usize, seed: u64) -> (String, String) {
    use serde_json::json;
    const STD: [&str; 8] = ["unwrap", "clone", "to_string", "Ok", "Some", "iter", "collect", "map"];
    let mut rng = StdRng::seed_from_u64(seed);
    let files = (entities / 25).max(1);
    let path = |f: usize| format!("./crates/crate_{}/src/module_{f}.rs", f % 7);
    let mut defs = Vec::with_capacity(entities);
    let mut out = Vec::with_capacity(entities);
    for i in 0..entities {
        let f = i % files;
        let kind =
            ["fn", "fn", "fn", "method", "method", "struct", "enum", "impl", "trait"][rng.random_range(0..9)];
        // Names repeat across files (as `new` and `default` do), so some calls are ambiguous.
        let name = if rng.random_bool(0.2) { format!("shared_{}", i % 50) } else { format!("item_{i}") };
        let start = rng.random_range(1..3000u32);
        let end = start + rng.random_range(2..120);
        let file = path(f);
        let key = format!("rust:{kind}:{name}:{}:{start}-{end}", file.replace(['/', '.'], "_"));
        let signature = json!({
            "entity_type": kind, "name": name, "visibility": if rng.random_bool(0.6) { "Public" } else { "Private" },
            "file_path": file, "line_range": {"start": start, "end": end}, "module_path": [],
            "documentation": null,
            "language_specific": {"language": "rust", "generics": [], "lifetimes": [], "where_clauses": [],
                                  "attributes": [], "trait_impl": null},
        });
        out.push(json!({
            "isgl1_key": key, "entity_type": if kind == "fn" { "function" } else { kind },
            "entity_name": name, "file_path": file, "entity_class": "CODE", "current_ind": 1,
            "future_ind": 0, "line_number": 0, "interface_signature": signature.to_string(),
        }));
        defs.push((kind, name, file, start, end));
    }
    let mut edges = Vec::with_capacity(entities * 10);
    let edge = |from: String, to: String, t: &str| json!({"from_key": from, "to_key": to, "edge_type": t});
    for (kind, name, file, start, end) in &defs {
        let from = format!("rust:{kind}:{name}:{file}:{start}-{end}");
        match *kind {
            "fn" | "method" => {
                for _ in 0..rng.random_range(10..24) {
                    let callee = if rng.random_bool(0.35) {
                        STD[rng.random_range(0..STD.len())].to_string()
                    } else {
                        defs[rng.random_range(0..defs.len())].1.clone()
                    };
                    edges.push(edge(from.clone(), format!("rust:fn:{callee}:unknown:0-0"), "Calls"));
                }
            }
            "impl" => edges.push(edge(
                from,
                format!("rust:fn:Trait{}:unknown:0-0", rng.random_range(0..20)),
                "Implements",
            )),
            _ => {}
        }
    }
    for f in 0..files {
        for _ in 0..6 {
            let used = &defs[rng.random_range(0..defs.len())].1;
            edges.push(edge(format!("rust:file:{}:1-1", path(f)), format!("rust:module:{used}:0-0"), "Uses"));
        }
        // A test in a file of its own: its edges are exported, its entity is not.
        let test = format!("rust:fn:test_{f}:./crates/crate_{}/tests/t_{f}.rs:1-20", f % 7);
        for _ in 0..4 {
            let callee = &defs[rng.random_range(0..defs.len())].1;
            edges.push(edge(test.clone(), format!("rust:fn:{callee}:unknown:0-0"), "Calls"));
        }
    }
    let entities_text = json!({
        "export_metadata": {"level": 1, "total_entities": out.len(), "include_code": false},
        "entities": out,
    });
    let edges_text = json!({"export_metadata": {"level": 0, "total_edges": edges.len()}, "edges": edges});
    (entities_text.to_string(), edges_text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_exports_import_with_nothing_dangling() {
        let (entities, edges) = parseltongue_export(2_000, 3);
        let imported = crate::graph::import::from_texts(&entities, Some(&edges)).unwrap();
        let s = &imported.stats;
        assert_eq!(s.entities_read, 2_000);
        assert!(s.edges_read > 15_000, "{}", s.edges_read);
        assert_eq!(s.edges() + s.duplicate_edges, s.edges_read);
        for outcome in ["unique", "ambiguous", "external"] {
            assert!(serde_json::to_string(&s.resolution).unwrap().contains(outcome), "{s}");
        }
        assert!(s.nodes_by_origin["edge-endpoint"] > 0 && s.nodes_by_origin["file"] > 0, "{s}");
    }

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
