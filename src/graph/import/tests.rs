use std::collections::BTreeMap;

use serde_json::Value;

use super::resolve::Resolution;
use super::*;
use crate::contract::GraphNode;
use crate::error::ErrorKind;

fn entity(key: &str, entity_type: &str, name: &str, file: &str, visibility: &str) -> String {
    let (start, end) = key.rsplit_once(':').unwrap().1.split_once('-').unwrap();
    let sig = serde_json::json!({
        "entity_type": entity_type, "name": name, "visibility": visibility, "file_path": file,
        "line_range": {"start": start.parse::<u32>().unwrap(), "end": end.parse::<u32>().unwrap()},
        "module_path": [], "documentation": "Does things.\nMore.",
        "language_specific": {"language": "rust", "generics": ["T"], "lifetimes": [], "where_clauses": [],
                              "attributes": [], "trait_impl": null}
    });
    serde_json::json!({
        "isgl1_key": key, "entity_type": entity_type, "entity_name": name, "file_path": file,
        "entity_class": "CODE", "current_ind": 1, "future_ind": 0, "line_number": 0,
        "interface_signature": sig.to_string(),
    })
    .to_string()
}

/// A miniature export with every quirk of the real ones.
fn mini_export() -> (String, String) {
    let entities = [
        entity("rust:fn:main:__src_main_rs:1-10", "function", "main", "./src/main.rs", "Public"),
        entity("rust:fn:run:__src_cli_rs:1-20", "function", "run", "./src/cli.rs", "Public"),
        entity("rust:struct:Config:__src_cli_rs:22-30", "struct", "Config", "./src/cli.rs", "Public"),
        entity("rust:method:new:__src_cli_rs:32-40", "method", "new", "./src/cli.rs", "Public"),
        entity("rust:method:new:__src_store_rs:5-9", "method", "new", "./src/store.rs", "Private"),
        entity("rust:trait:Store:__src_store_rs:1-4", "trait", "Store", "./src/store.rs", "Public"),
    ];
    let entities = format!(
        r#"{{"export_metadata":{{"level":1,"total_entities":6}},"entities":[{}]}}"#,
        entities.join(",")
    );
    let edges = [
        ("rust:fn:main:./src/main.rs:1-10", "rust:fn:run:unknown:0-0", "Calls"),
        ("rust:fn:main:./src/main.rs:1-10", "rust:fn:run:unknown:0-0", "Calls"),
        ("rust:fn:main:./src/main.rs:1-10", "rust:fn:new:unknown:0-0", "Calls"),
        ("rust:fn:run:./src/cli.rs:1-20", "rust:fn:new:unknown:0-0", "Calls"),
        ("rust:fn:run:./src/cli.rs:1-20", "rust:fn:unwrap:unknown:0-0", "Calls"),
        ("rust:file:./src/main.rs:1-1", "rust:module:Config:0-0", "Uses"),
        ("rust:file:./src/main.rs:1-1", "rust:module:HashMap:0-0", "Uses"),
        ("rust:impl:Mem:./src/store.rs:10-20", "rust:fn:Store:unknown:0-0", "Implements"),
        ("rust:fn:test_run:./tests/cli.rs:1-5", "rust:fn:run:unknown:0-0", "Calls"),
    ];
    let edges: Vec<String> = edges
        .iter()
        .map(|(f, t, e)| format!(r#"{{"from_key":"{f}","to_key":"{t}","edge_type":"{e}"}}"#))
        .collect();
    let edges = format!(r#"{{"export_metadata":{{"level":0}},"edges":[{}]}}"#, edges.join(","));
    (entities, edges)
}

fn node<'a>(g: &'a Graph, id: &str) -> &'a GraphNode {
    g.nodes().iter().find(|n| n.id == id).unwrap_or_else(|| panic!("no node {id}"))
}

fn targets<'a>(g: &'a Graph, source: &str) -> Vec<(&'a str, &'a str)> {
    let mut t: Vec<_> = g
        .edges()
        .iter()
        .filter(|e| e.source == source)
        .map(|e| (e.target.as_str(), e.edge_type.as_str()))
        .collect();
    t.sort();
    t
}

#[test]
fn a_miniature_export_resolves_every_quirk() {
    let (entities, edges) = mini_export();
    let Imported { graph: g, stats } = from_texts(&entities, Some(&edges)).unwrap();
    assert_eq!(stats.format, Format::Parseltongue);
    assert_eq!((stats.entities_read, stats.edges_read, stats.duplicate_edges), (6, 9, 1));
    // 6 entities + main.rs file + impl Mem + test_run + HashMap import + unwrap + ambiguous new.
    assert_eq!(g.nodes().len(), 12);
    assert_eq!(g.edges().len(), 8);
    let origins: Vec<(&str, usize)> = stats.nodes_by_origin.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(
        origins,
        [("ambiguous", 1), ("edge-endpoint", 2), ("entity", 6), ("external", 1), ("file", 1), ("import", 1)]
    );
    // Raw paths on edges meet the sanitised entity keys.
    assert_eq!(
        targets(&g, "rust:fn:main:__src_main_rs:1-10"),
        [("rust:ambiguous:new", "Calls"), ("rust:fn:run:__src_cli_rs:1-20", "Calls")]
    );
    assert_eq!(
        targets(&g, "rust:fn:run:__src_cli_rs:1-20"),
        [("rust:external:unwrap", "Calls"), ("rust:method:new:__src_cli_rs:32-40", "Calls")],
        "the `new` in the caller's own file wins"
    );
    assert_eq!(
        targets(&g, "rust:file:__src_main_rs:1-1"),
        [("rust:import:HashMap", "Uses"), ("rust:struct:Config:__src_cli_rs:22-30", "Uses")]
    );
    assert_eq!(
        targets(&g, "rust:impl:Mem:__src_store_rs:10-20"),
        [("rust:trait:Store:__src_store_rs:1-4", "Implements")]
    );
    let ambiguous = node(&g, "rust:ambiguous:new");
    assert_eq!(meta(ambiguous, "candidates"), Some("2"));
    assert_eq!(meta(ambiguous, "resolution"), Some("ambiguous"));
    assert_eq!(meta(node(&g, "rust:external:unwrap"), "resolution"), Some("external"));
    let test_fn = node(&g, "rust:function:test_run:__tests_cli_rs:1-5".replace("function", "fn").as_str());
    assert_eq!((test_fn.node_type.as_str(), meta(test_fn, "test")), ("function", Some("true")));
    assert_eq!(meta(test_fn, "origin"), Some("edge-endpoint"));

    let calls = &stats.resolution["Calls"];
    assert_eq!(calls[&Resolution::Unique], 3, "run twice from main (one deduplicated later) and test_run");
    assert_eq!(calls[&Resolution::SameFile], 1);
    assert_eq!(calls[&Resolution::Ambiguous], 1);
    assert_eq!(calls[&Resolution::External], 1);
    assert_eq!(stats.resolution["Uses"][&Resolution::Unique], 1);
    assert_eq!(stats.resolution["Uses"][&Resolution::External], 1);
    assert_eq!(stats.resolution["Implements"][&Resolution::Unique], 1);
    assert_eq!(stats.resolved(), 6);
}

#[test]
fn entity_metadata_flattens_the_interface_signature() {
    let (entities, _) = mini_export();
    let g = from_texts(&entities, None).unwrap().graph;
    assert!(g.edges().is_empty());
    let n = node(&g, "rust:method:new:__src_store_rs:5-9");
    assert_eq!(n.node_type, "method");
    let m: BTreeMap<&str, &str> = n.metadata.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(m["name"], "new");
    assert_eq!(m["visibility"], "private");
    assert_eq!((m["line_start"], m["line_end"]), ("5", "9"));
    assert_eq!(m["file"], "./src/store.rs");
    assert_eq!((m["crate"], m["module"]), ("crate", "crate::store"));
    assert_eq!((m["generics"], m["language"], m["doc"]), ("T", "rust", "Does things."));
    assert_eq!((m["entity_class"], m["current_ind"], m["origin"]), ("CODE", "1", "entity"));
    assert!(!m.contains_key("trait_impl") && !m.contains_key("interface_signature"));
}

#[test]
fn the_files_may_come_in_either_order_and_edges_alone_import() {
    let (entities, edges) = mini_export();
    let a = from_texts(&entities, Some(&edges)).unwrap().graph;
    let b = from_texts(&edges, Some(&entities)).unwrap().graph;
    assert_eq!(a, b);
    let alone = from_texts(&edges, None).unwrap();
    // Without entities, only what the edges name exists; `run` and `new` stay unresolved.
    assert_eq!(alone.stats.nodes_by_origin.get("entity"), None);
    assert!(alone.graph.nodes().iter().any(|n| n.id == "rust:fn:main:__src_main_rs:1-10"));
    assert!(alone.graph.nodes().iter().any(|n| n.id == "rust:external:Store"));
}

#[test]
fn module_paths_follow_cargo_layout() {
    assert_eq!(module_of("./crates/pt01-x/src/cli/args.rs"), ("pt01_x".into(), "pt01_x::cli::args".into()));
    assert_eq!(module_of("./crates/core/src/lib.rs"), ("core".into(), "core".into()));
    assert_eq!(module_of("./crates/core/src/storage/mod.rs"), ("core".into(), "core::storage".into()));
    assert_eq!(module_of("./src/main.rs"), ("crate".into(), "crate".into()));
    assert_eq!(module_of("./crates/core/tests/it.rs"), ("core".into(), "core::tests::it".into()));
}

#[test]
fn the_legacy_snapshot_imports_by_hash() {
    let text = r#"{"nodes":[
        {"hash":16353081982130523382,"kind":"Function","name":"hello","signature":"fn hello()","file_path":"src/lib.rs","line":0},
        {"hash":1,"kind":"Trait","name":"Greeter","signature":"trait Greeter","file_path":"src/lib.rs","line":3}],
      "edges":[{"from":16353081982130523382,"to":1,"kind":"Uses"},{"from":1,"to":99,"kind":"Calls"}],
      "metadata":{"version":1}}"#;
    let Imported { graph, stats } = from_texts(text, None).unwrap();
    assert_eq!(stats.format, Format::ParseltongueLegacy);
    assert_eq!((graph.nodes().len(), graph.edges().len(), stats.unmatched_endpoints), (3, 2, 1));
    let hello = &graph.nodes()[0];
    assert_eq!(hello.id, "legacy:function:hello:src_lib_rs:e2f1d16b9fbb0cf6");
    assert_eq!(meta(hello, "signature"), Some("fn hello()"));
    assert_eq!(graph.edges()[1].target, "legacy:external:0000000000000063");
}

#[test]
fn native_json_still_reads_with_its_positions() {
    let imported = from_texts(r#"{"nodes":[{"id":"a","node_type":"fn"}]}"#, None).unwrap();
    assert_eq!(imported.stats.format, Format::Native);
    assert_eq!(imported.stats.nodes(), 1);
    match from_texts("{\"nodes\": [\n  {\"id\": 1}]}", None).unwrap_err() {
        Error::InvalidGraph { line, .. } => assert_eq!(line, Some(2)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn anything_else_is_refused_with_the_formats_named() {
    for text in [r#"{"vertices":[]}"#, "[1,2]", r#"{"edges":[], "extra": 1}"#] {
        let err = from_texts(text, None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidGraph);
        assert!(err.to_string().contains("Parseltongue entities export"), "{err}");
    }
    let err = from_texts("{\"nodes\": [", None).unwrap_err();
    assert!(matches!(err, Error::InvalidGraph { line: Some(1), .. }), "{err:?}");
    let (entities, edges) = mini_export();
    let err = from_texts(&edges, Some(&edges)).unwrap_err();
    assert!(err.to_string().contains("two edges files"), "{err}");
    let err = from_texts(r#"{"nodes":[]}"#, Some(&edges)).unwrap_err();
    assert!(err.to_string().contains("not with a native graph JSON"), "{err}");
    let err = from_texts(&entities, Some(r#"{"nodes":[]}"#)).unwrap_err();
    assert!(err.to_string().contains("not a Parseltongue edges export"), "{err}");
    let bad = r#"{"export_metadata":{},"edges":[{"from_key":"nonsense","to_key":"rust:fn:x:unknown:0-0","edge_type":"Calls"}]}"#;
    let err = from_texts(bad, None).unwrap_err();
    assert!(err.to_string().contains("edges[0].from_key: `nonsense` is not an ISG key"), "{err}");
    let missing = r#"{"export_metadata":{},"entities":[{"entity_type":"fn"}]}"#;
    let err = from_texts(missing, None).unwrap_err();
    assert!(err.to_string().contains("entities[0]: missing field `isgl1_key`"), "{err}");
}

#[test]
fn malformed_top_levels_say_what_is_wrong_and_where() {
    let err = from_texts("{\"nodes\": [],\n \"nodes\": []}", None).unwrap_err();
    assert!(err.to_string().contains("duplicate field `nodes`"), "{err}");
    assert!(matches!(err, Error::InvalidGraph { line: Some(2), .. }), "{err:?}");
    let err = from_texts("[1, 2]", None).unwrap_err();
    assert!(err.to_string().contains("the top level is not a JSON object"), "{err}");
    // A byte-order mark is not an error.
    let imported = from_texts("\u{feff}{\"nodes\":[{\"id\":\"a\",\"node_type\":\"fn\"}]}", None).unwrap();
    assert_eq!(imported.stats.nodes(), 1);
}

#[test]
fn errors_in_the_edges_file_name_the_edges_file() {
    let dir = tempfile::tempdir().unwrap();
    let (entities, edges) = mini_export();
    let (entities_path, edges_path) = (dir.path().join("entities.json"), dir.path().join("edges.json"));
    std::fs::write(&entities_path, &entities).unwrap();
    let broken = edges.replacen("\"edges\"", "\"edges\" ,,", 1);
    std::fs::write(&edges_path, &broken).unwrap();
    let err = load(&entities_path, Some(&edges_path)).unwrap_err();
    let message = err.to_string();
    assert!(message.contains("edges.json") && !message.contains("entities.json"), "{message}");
    assert!(matches!(err, Error::InvalidGraph { line: Some(_), .. }), "{err:?}");
    std::fs::write(&edges_path, r#"{"nodes":[]}"#).unwrap();
    let message = load(&entities_path, Some(&edges_path)).unwrap_err().to_string();
    assert!(message.contains("edges.json: not a Parseltongue edges export"), "{message}");
    // In memory, it is called the edges file.
    let message = from_texts(&entities, Some(&broken)).unwrap_err().to_string();
    assert!(message.contains("the edges file:"), "{message}");
    // Reading is bounded, and a device is not a graph.
    let message = load_bounded(&entities_path, None, 10).unwrap_err().to_string();
    assert!(message.contains("over the limit of 10 bytes"), "{message}");
    let err = load("/dev/zero", None).unwrap_err();
    assert!(err.to_string().contains("not a regular file"), "{err}");
}

/// A v1.7 server's two answers: entities `(key, file, type)` and edges `(from, to, type, location)`.
fn answers(entities: &[(&str, &str, &str)], edges: &[(&str, &str, &str, &str)]) -> (String, String) {
    let entities: Vec<Value> = entities
        .iter()
        .map(|(key, file, t)| {
            let lang = key.split(':').next().unwrap();
            serde_json::json!({"key": key, "file_path": file, "entity_type": t, "entity_class": "CODE", "language": lang})
        })
        .collect();
    let edges: Vec<Value> = edges
        .iter()
        .map(|(f, t, e, l)| serde_json::json!({"from_key": f, "to_key": t, "edge_type": e, "source_location": l}))
        .collect();
    let total = edges.len();
    (
        serde_json::json!({"success": true, "endpoint": "/code-entities-list-all", "data": {"total_count": entities.len(), "entities": entities}, "tokens": 1}).to_string(),
        serde_json::json!({"success": true, "endpoint": "/dependency-edges-list-all", "data": {"total_count": total, "returned_count": total, "limit": 2000, "offset": 0, "edges": edges}, "tokens": 1}).to_string(),
    )
}

#[test]
fn server_answers_resolve_placeholders_by_name_within_their_language() {
    let (entities, edges) = answers(
        &[
            ("rust:fn:alpha:____src_lib:T1", "./src/lib.rs", "function"),
            ("rust:fn:beta:____src_lib:T2", "./src/lib.rs", "function"),
            ("rust:fn:alpha:unresolved-reference:0-0", "unresolved-reference", "function"),
            ("rust:fn:beta:unresolved-reference:0-0", "unresolved-reference", "function"),
            ("python:fn:beta:____py_util:T3", "./py/util.py", "function"),
            ("rust:struct:Config:____core_src_lib:T4", "./core/src/lib.rs", "struct"),
            ("rust:module:Config:external-dependency-core:0-0", "unresolved-reference", "module"),
        ],
        &[
            (
                "rust:fn:alpha:____src_lib:T1",
                "rust:fn:beta:unresolved-reference:0-0",
                "Calls",
                "./src/lib.rs:3",
            ),
            (
                "rust:fn:beta:____src_lib:T2",
                "rust:fn:alpha:unresolved-reference:0-0",
                "Calls",
                "./src/lib.rs:7",
            ),
            (
                "rust:fn:beta:____src_lib:T2",
                "rust:fn:unwrap:unresolved-reference:0-0",
                "Calls",
                "./src/lib.rs:8",
            ),
            (
                "python:fn:beta:____py_util:T3",
                "python:fn:alpha:unresolved-reference:0-0",
                "Calls",
                "./py/util.py:2",
            ),
            // A definition only an edge names (its file has tests): its file from the location.
            (
                "rust:fn:it_works:____src_lib:T9",
                "rust:fn:alpha:unresolved-reference:0-0",
                "Calls",
                "./src/lib.rs:40",
            ),
            (
                "rust:file:__src_lib_rs:1-1",
                "rust:module:Config:external-dependency-core:0-0",
                "Uses",
                "./src/lib.rs:1",
            ),
            ("go:file:__main_go:1-1", "go:module:\"fmt\":0-0", "Uses", "./main.go:2"),
        ],
    );
    let Imported { graph: g, stats } = from_server_texts(&entities, &[&edges]).unwrap();
    assert_eq!(stats.format, Format::ParseltongueServer);
    assert_eq!(stats.placeholders, 3, "placeholders are never nodes");
    assert!(g.nodes().iter().all(|n| !n.id.contains("unresolved-reference")));
    assert_eq!(targets(&g, "rust:fn:alpha:____src_lib:T1"), [("rust:fn:beta:____src_lib:T2", "Calls")]);
    assert_eq!(
        targets(&g, "rust:fn:beta:____src_lib:T2"),
        [("rust:external:unwrap", "Calls"), ("rust:fn:alpha:____src_lib:T1", "Calls")]
    );
    // Python's `alpha` is no Rust function.
    assert_eq!(targets(&g, "python:fn:beta:____py_util:T3"), [("python:external:alpha", "Calls")]);
    // An import naming a crate of the graph resolves inside it.
    assert_eq!(
        targets(&g, "rust:file:__src_lib_rs:1-1"),
        [("rust:struct:Config:____core_src_lib:T4", "Uses")]
    );
    assert_eq!(stats.resolution["Uses"][&Resolution::NamedCrate], 1);
    assert_eq!(targets(&g, "go:file:__main_go:1-1"), [("go:import:fmt", "Uses")], "quotes dropped");

    let test_fn = node(&g, "rust:fn:it_works:____src_lib:T9");
    assert_eq!(
        (meta(test_fn, "file"), meta(test_fn, "origin")),
        (Some("./src/lib.rs"), Some("edge-endpoint"))
    );
    let alpha = node(&g, "rust:fn:alpha:____src_lib:T1");
    assert_eq!((meta(alpha, "line_start"), meta(alpha, "line_source")), (Some("3"), Some("edge")));
    assert_eq!((meta(alpha, "language"), meta(alpha, "module")), (Some("rust"), Some("crate")));
    assert_eq!(meta(node(&g, "python:fn:beta:____py_util:T3"), "module"), Some("py.util"));
    assert_eq!(meta(node(&g, "rust:file:__src_lib_rs:1-1"), "file"), Some("./src/lib.rs"));
}

#[test]
fn a_file_the_server_reindexed_counts_once_in_its_newer_form() {
    // `./src/lib.rs` as pt01 indexed it; `/w/app/src/lib.rs` as the watcher re-indexed it after
    // an edit that removed `beta`'s call back to `alpha`.
    let (entities, edges) = answers(
        &[
            ("rust:fn:alpha:____src_lib:T1", "./src/lib.rs", "function"),
            ("rust:fn:beta:____src_lib:T2", "./src/lib.rs", "function"),
            ("rust:fn:alpha:___w_app_src_lib:T5", "/w/app/src/lib.rs", "function"),
            ("rust:fn:beta:___w_app_src_lib:T6", "/w/app/src/lib.rs", "function"),
            ("rust:fn:main:____src_main:T7", "./src/main.rs", "function"),
        ],
        &[
            (
                "rust:fn:alpha:____src_lib:T1",
                "rust:fn:beta:unresolved-reference:0-0",
                "Calls",
                "./src/lib.rs:1",
            ),
            (
                "rust:fn:beta:____src_lib:T2",
                "rust:fn:alpha:unresolved-reference:0-0",
                "Calls",
                "./src/lib.rs:2",
            ),
            (
                "rust:fn:alpha:___w_app_src_lib:T5",
                "rust:fn:beta:unresolved-reference:0-0",
                "Calls",
                "/w/app/src/lib.rs:1",
            ),
            (
                "rust:fn:main:____src_main:T7",
                "rust:fn:alpha:unresolved-reference:0-0",
                "Calls",
                "./src/main.rs:3",
            ),
        ],
    );
    let Imported { graph: g, stats } = from_server_texts(&entities, &[&edges]).unwrap();
    assert_eq!((stats.reindexed_files, stats.stale_entities, stats.stale_edges), (1, 2, 2));
    assert!(g.nodes().iter().all(|n| !n.id.contains("____src_lib")), "the stale copy is gone");
    // One `alpha`, so `main` resolves uniquely, and no cycle is left.
    assert_eq!(targets(&g, "rust:fn:main:____src_main:T7"), [("rust:fn:alpha:___w_app_src_lib:T5", "Calls")]);
    assert!(targets(&g, "rust:fn:beta:___w_app_src_lib:T6").is_empty());
    // The newer copy is spelled like every other file.
    let alpha = node(&g, "rust:fn:alpha:___w_app_src_lib:T5");
    assert_eq!((meta(alpha, "file"), meta(alpha, "crate")), (Some("./src/lib.rs"), Some("crate")));
}

#[test]
fn server_answers_that_are_not_a_graph_say_so() {
    let (entities, edges) = answers(&[("nonsense", "./a.rs", "function")], &[]);
    let e = from_server_texts(&entities, &[&edges]).unwrap_err().to_string();
    assert!(e.contains("entities[0].key: `nonsense` is not a Parseltongue key"), "{e}");
    let health = r#"{"success":true,"status":"ok","endpoint":"/server-health-check-status"}"#;
    let e = from_texts(health, None).unwrap_err().to_string();
    assert!(e.contains("answer to /server-health-check-status") && e.contains("--graph http://"), "{e}");
    let (entities, _) = answers(&[], &[]);
    let e = from_texts(&entities, None).unwrap_err().to_string();
    assert!(e.contains("has no edges"), "{e}");
}
