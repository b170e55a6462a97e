//! The CLI's `--format json` output is a public contract (its types are in
//! `src/bin/ptplugin/output.rs`): these pin each command's top-level keys, so a change to the
//! schema is a change to this file too.

use std::path::Path;

use serde_json::Value;

use crate::support::{output, ptplugin};

fn repo(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel).display().to_string()
}

/// `ptplugin ARGS --format json`, parsed.
fn json_of(args: &[&str]) -> Value {
    let (_, stdout, stderr) = output(ptplugin().args(args).args(["--format", "json"]));
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {stdout}{stderr}"))
}

/// The sorted top-level keys of `ptplugin ARGS --format json`.
fn keys(args: &[&str]) -> Vec<String> {
    let value = json_of(args);
    let mut keys: Vec<String> = value.as_object().expect("an object").keys().cloned().collect();
    keys.sort();
    keys
}

#[test]
fn each_commands_json_has_its_documented_keys() {
    let graph = repo("samples/sample-graph.json");
    assert_eq!(
        keys(&["run", "--plugin", "bundled:node-census", "--graph", &graph, "-q"]),
        [
            "confidence",
            "findings",
            "limits",
            "logs",
            "plugin",
            "recommendations",
            "stderr",
            "stdout",
            "usage"
        ]
    );
    // `analyze` (and `run` with a baseline or gate): the results a later --baseline reads.
    let args = ["analyze", "--plugin", "bundled:cycle-finder", "--graph", &graph, "-q"];
    assert_eq!(keys(&args), ["format", "gate", "graph", "plugins", "tool"]);
    let out = json_of(&args);
    let plugin = &out["plugins"][0];
    let mut k: Vec<&String> = plugin.as_object().unwrap().keys().collect();
    k.sort();
    assert_eq!(
        k,
        ["confidence", "findings", "name", "recommendations", "rules", "sha256", "usage", "version"]
    );
    let mut k: Vec<&String> = plugin["findings"][0].as_object().unwrap().keys().collect();
    k.sort();
    assert_eq!(k, ["fingerprint", "message", "nodes", "rule", "severity"]);
    let mut k: Vec<&String> = out["gate"].as_object().unwrap().keys().collect();
    k.sort();
    assert_eq!(k, ["failing", "gate", "passed"]);
    assert_eq!(
        keys(&["import", &repo("samples/parseltongue/v0.9.7_self_analysis_level01_entities.json"), "-q"]),
        [
            "duplicate_edges",
            "duplicate_entities",
            "edges",
            "edges_by_type",
            "edges_read",
            "elapsed",
            "entities_read",
            "format",
            "nodes",
            "nodes_by_origin",
            "nodes_by_type",
            "placeholders",
            "reindexed_files",
            "resolution",
            "resolved",
            "stale_edges",
            "stale_entities",
            "unmatched_endpoints"
        ]
    );
    assert_eq!(
        keys(&["inspect", "bundled:node-census"]),
        [
            "contract",
            "exports",
            "file",
            "host_imports",
            "name",
            "other_imports",
            "problem",
            "satisfies_contract",
            "sha256",
            "size",
            "stubbed_imports",
            "wasi_imports",
            "wasi_policy",
            "world"
        ]
    );
    // A finding, and a node it names with its place resolved from the node's metadata.
    let (_, stdout, _) = output(ptplugin().args([
        "run",
        "--plugin",
        "bundled:cycle-finder",
        "--graph",
        &repo("samples/parseltongue-v1.7.2"),
        "--format",
        "json",
        "-q",
    ]));
    let run: Value = serde_json::from_str(&stdout).unwrap();
    let finding = &run["findings"][0];
    let sorted = |v: &Value| {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(sorted(finding), ["message", "nodes", "rule", "severity"], "{finding}");
    assert_eq!(sorted(&finding["nodes"][0]), ["file", "id", "index", "line_start", "name"], "{finding}");
    assert_eq!(finding["severity"], "warning");
    assert_eq!(
        keys(&["policy", "check", "bundled:node-census"]),
        ["denied", "granted", "limits", "plugin", "requested", "requested_limits"]
    );
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.jsonl").display().to_string();
    let (code, _, _) = output(ptplugin().args([
        "run",
        "--plugin",
        "bundled:node-census",
        "--graph",
        &graph,
        "--audit",
        &log,
        "-q",
    ]));
    assert_eq!(code, Some(0));
    assert_eq!(
        keys(&["audit", "verify", &log]),
        ["first_bad", "head", "head_checked", "intact", "torn_tail", "valid_records"]
    );
}

#[test]
fn errors_have_kind_message_and_the_usage_of_the_failed_call() {
    let graph = repo("samples/sample-graph.json");
    let (_, stdout, _) = output(ptplugin().args([
        "run",
        "--plugin",
        "bundled:fault-panic",
        "--graph",
        &graph,
        "--format",
        "json",
        "-q",
    ]));
    let v: Value = serde_json::from_str(&stdout).unwrap();
    let mut top: Vec<&String> = v.as_object().unwrap().keys().collect();
    top.sort();
    assert_eq!(top, ["error", "usage"]);
    assert_eq!(v["error"]["kind"], "trap");
    assert!(v["error"]["message"].is_string());

    // Graph errors say where; usage errors have the same shape, kind `usage`.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"nodes\": [\n  oops]}").unwrap();
    let (_, stdout, _) = output(ptplugin().args([
        "run",
        "--plugin",
        "bundled:node-census",
        "--graph",
        bad.to_str().unwrap(),
        "--format",
        "json",
    ]));
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["error"]["kind"], "invalid-graph");
    assert_eq!(v["error"]["line"], 2, "{v}");
    assert!(v["error"]["column"].is_number(), "{v}");
    assert_eq!(keys(&["run", "--no-such-flag"]), ["error"]);
}
