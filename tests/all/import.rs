//! Parseltongue's real exports, imported: counts checked against an independent reading of the
//! same files (a short Python script applying the documented rules), the CLI's `import`, and
//! `run --graph ENTITIES --edges EDGES`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use parseltongue_plugins::import::{self, Format, resolve::Resolution};
use parseltongue_plugins::{Graph, bundled};
use serde_json::Value;

use crate::support::ptplugin;

fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/parseltongue").join(name)
}

const ENTITIES: &str = "v0.9.7_self_analysis_level01_entities.json";
const EDGES: &str = "v0.9.7_self_analysis_level00_edges.json";
const LEGACY: &str = "legacy_v0.1.0_isg_snapshot_sighash.json";

fn counts(m: &BTreeMap<String, usize>) -> Vec<(&str, usize)> {
    m.iter().map(|(k, v)| (k.as_str(), *v)).collect()
}

#[test]
fn the_v0_9_7_self_analysis_imports_with_nothing_dangling() {
    let imported = import::load(sample(ENTITIES), Some(&sample(EDGES))).unwrap();
    let (g, s) = (&imported.graph, &imported.stats);
    assert_eq!(s.format, Format::Parseltongue);
    assert_eq!((s.entities_read, s.edges_read, s.duplicate_entities, s.duplicate_edges), (127, 4316, 0, 0));
    // 1,331 nodes: one more `ambiguous` node than a plain by-name reading gives, because calls to
    // standard trait methods (`fmt`, `clone`, …) with one definition in the graph stay ambiguous.
    assert_eq!((g.nodes().len(), g.edges().len()), (1331, 4316));
    assert_eq!(
        counts(&s.nodes_by_origin),
        [
            ("ambiguous", 18),
            ("edge-endpoint", 757),
            ("entity", 127),
            ("external", 229),
            ("file", 92),
            ("import", 108)
        ]
    );
    assert_eq!(counts(&s.edges_by_type), [("Calls", 3840), ("Implements", 48), ("Uses", 428)]);
    let calls = &s.resolution["Calls"];
    let calls: Vec<usize> = [
        Resolution::Unique,
        Resolution::SameFile,
        Resolution::SameCrate,
        Resolution::Ambiguous,
        Resolution::External,
    ]
    .iter()
    .map(|r| calls[r])
    .collect();
    assert_eq!(calls, [693, 222, 56, 536, 2333], "5 lone standard-trait-method candidates not taken");
    assert_eq!(s.resolution["Uses"][&Resolution::Unique], 37);
    assert_eq!(s.resolution["Uses"][&Resolution::External], 376);
    assert_eq!(s.resolution["Implements"][&Resolution::External], 48, "the export holds no trait entities");
    // Every entity key survives as a node id, and edges (checked by Graph::new) join real nodes.
    let entities: Value = serde_json::from_str(bundled::PARSELTONGUE_ENTITIES).unwrap();
    for e in entities["entities"].as_array().unwrap() {
        let key = e["isgl1_key"].as_str().unwrap();
        assert!(g.nodes().iter().any(|n| n.id == key), "entity {key} lost");
    }
    assert_eq!(bundled::parseltongue_v097_sample().graph, *g, "the bundled v0.9.7 sample is these two files");
}

#[test]
fn the_legacy_v0_1_0_snapshot_imports() {
    let imported = import::load(sample(LEGACY), None).unwrap();
    assert_eq!(imported.stats.format, Format::ParseltongueLegacy);
    assert_eq!((imported.graph.nodes().len(), imported.graph.edges().len()), (2177, 3933));
    assert_eq!(imported.stats.unmatched_endpoints, 0);
    assert_eq!(counts(&imported.stats.nodes_by_type), [("function", 1730), ("struct", 407), ("trait", 40)]);
}

#[test]
fn ptplugin_import_reports_and_writes_a_graph_that_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("graph.json");
    let out = ptplugin()
        .args(["import", sample(ENTITIES).to_str().unwrap(), "--edges", sample(EDGES).to_str().unwrap()])
        .args(["--format", "json", "-o", out_file.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (v["nodes"].as_u64(), v["edges"].as_u64(), v["resolved"].as_u64()),
        (Some(1331), Some(4316), Some(1008))
    );
    assert_eq!(v["format"], "parseltongue");
    assert_eq!(v["resolution"]["Calls"]["ambiguous"], 536);
    let written = Graph::from_path(&out_file).unwrap();
    assert_eq!(written, bundled::parseltongue_v097_sample().graph);

    let text = ptplugin().args(["import-stats", sample(LEGACY).to_str().unwrap()]).output().unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("graph: 2177 nodes, 3933 edges, none dangling"), "{text}");
}

#[test]
fn run_takes_a_parseltongue_export_directly() {
    let out = ptplugin()
        .args(["run", "--plugin", "bundled:node-census", "--graph", sample(ENTITIES).to_str().unwrap()])
        .args(["--edges", sample(EDGES).to_str().unwrap(), "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings: Vec<&str> =
        v["findings"].as_array().unwrap().iter().map(|f| f["message"].as_str().unwrap()).collect();
    assert_eq!(findings[0], "function: 496 of 1331 nodes (37.3%)", "{findings:?}");
}

#[test]
fn files_in_no_known_format_are_refused_by_name() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let out = ptplugin()
        .args(["run", "--plugin", "bundled:node-census", "--graph"])
        .arg(&manifest)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Cargo.toml") && err.contains("Parseltongue entities export"), "{err}");
    let out = ptplugin()
        .args(["import", sample(EDGES).to_str().unwrap(), "--edges", sample(EDGES).to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("two edges files"));
}
