//! Shared fixtures: one sandbox for the whole test binary, bundled plugins by name, small graphs.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use parseltongue_plugins::bundled;
use parseltongue_plugins::{Graph, GraphEdge, GraphNode, Plugin, PluginOptions, Sandbox};

/// A sandbox with `instances` pooled instance slots (no compile cache).
pub fn pooled_sandbox(instances: u32) -> Sandbox {
    let pooling = parseltongue_plugins::Pooling { instances, memory_mb: 64 };
    Sandbox::builder().no_cache().pooling(pooling).build().expect("pooled sandbox")
}

/// One sandbox (and so one compile cache in a temporary directory) for all tests.
pub fn sandbox() -> &'static Sandbox {
    static SANDBOX: OnceLock<(Sandbox, tempfile::TempDir)> = OnceLock::new();
    &SANDBOX
        .get_or_init(|| {
            let dir = tempfile::tempdir().expect("temp dir");
            let sandbox = Sandbox::builder().cache_dir(dir.path().join("cache")).build().expect("sandbox");
            (sandbox, dir)
        })
        .0
}

/// The bundled plugin `name`, loaded once with default options.
pub fn plugin(name: &str) -> Plugin {
    static LOADED: OnceLock<Mutex<HashMap<String, Plugin>>> = OnceLock::new();
    let mut loaded = LOADED.get_or_init(Default::default).lock().unwrap();
    loaded.entry(name.to_string()).or_insert_with(|| load(name, PluginOptions::new())).clone()
}

/// The bundled plugin `name`, loaded afresh with `options`.
pub fn load(name: &str, options: PluginOptions) -> Plugin {
    let bundled = bundled::get(name).unwrap_or_else(|| panic!("no bundled plugin {name}"));
    sandbox().load(name, bundled.wasm, options).unwrap_or_else(|e| panic!("loading {name}: {e}"))
}

pub fn node(id: &str, node_type: &str) -> GraphNode {
    GraphNode { id: id.into(), node_type: node_type.into(), metadata: vec![] }
}

pub fn edge(source: &str, target: &str) -> GraphEdge {
    GraphEdge { source: source.into(), target: target.into(), edge_type: "Calls".into() }
}

/// A graph from node ids (all of type `fn`) and `Calls` edges.
pub fn graph(ids: &[&str], edges: &[(&str, &str)]) -> Graph {
    Graph::new(ids.iter().map(|id| node(id, "fn")).collect(), edges.iter().map(|(s, t)| edge(s, t)).collect())
        .expect("valid graph")
}

/// A small non-empty graph: enough to make every fault fixture misbehave.
pub fn small_graph() -> Graph {
    graph(&["a", "b", "c"], &[("a", "b"), ("b", "c"), ("c", "a")])
}

/// The empty graph, on which every fault fixture behaves.
pub fn empty_graph() -> Graph {
    Graph::default()
}

/// The sample graph the demo uses.
pub fn sample_graph() -> Graph {
    Graph::from_json(bundled::SAMPLE_GRAPH).expect("the sample graph is valid")
}

/// A component of the contract written by hand: `core` is the rest of a core module that already
/// has a one-page `memory`, a bump allocator `realloc` and a `$heap` global, and must export
/// `analyze` (nodes pointer, length) -> pointer to the result record. No Rust, no WASI, no host.
pub fn contract_component(version: &str, core: &str) -> Vec<u8> {
    let text = format!(
        r#"(component
  (type $node (record (field "id" string) (field "node-type" string) (field "metadata" (list (tuple string string)))))
  (type $result (record (field "findings" (list string)) (field "confidence" f32) (field "recommendations" (list string))))
  (core module $m
    (memory (export "memory") 1)
    (global $heap (mut i32) (i32.const 8192))
    ;; A bump allocator for the arguments the host passes in.
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $at i32)
      (local.set $at (global.get $heap))
      (global.set $heap (i32.and (i32.add (i32.add (global.get $heap) (local.get 3)) (i32.const 7)) (i32.const -8)))
      (local.get $at))
    {core})
  (core instance $i (instantiate $m))
  (func $analyze (param "nodes" (list $node)) (result $result)
    (canon lift (core func $i "analyze") (memory $i "memory") (realloc (func $i "realloc"))))
  (instance $iface
    (export "graph-node" (type $node))
    (export "analysis-result" (type $result))
    (export "analyze-graph" (func $analyze)))
  (export "parseltongue:plugin/parseltongue-plugin@{version}" (instance $iface)))"#
    );
    wat::parse_str(text).expect("valid component text")
}

/// A WASI command component: exports `wasi:cli/run`, not the analyzer contract.
pub fn wasi_command_component() -> Vec<u8> {
    wat::parse_str(
        r#"(component
             (core module $m (func (export "run") (result i32) i32.const 0))
             (core instance $i (instantiate $m))
             (func $run (result (result)) (canon lift (core func $i "run")))
             (instance $inst (export "run" (func $run)))
             (export "wasi:cli/run@0.2.0" (instance $inst)))"#,
    )
    .expect("valid component text")
}

/// `ptplugin` with a compile cache of its own, and no log filter from the environment.
pub fn ptplugin() -> std::process::Command {
    static CACHE: OnceLock<tempfile::TempDir> = OnceLock::new();
    let cache = CACHE.get_or_init(|| tempfile::tempdir().unwrap());
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_ptplugin"));
    command.arg("--cache-dir").arg(cache.path()).env_remove("PTPLUGIN_LOG");
    command
}

/// Runs a command; its exit code, stdout and stderr.
pub fn output(command: &mut std::process::Command) -> (Option<i32>, String, String) {
    let out = command.output().expect("the command runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The source directory of a crate this project builds with (e.g. to use the test data it
/// ships), found through `cargo metadata` so any cargo home or vendoring works.
pub fn crate_source(name: &str) -> std::path::PathBuf {
    static META: OnceLock<serde_json::Value> = OnceLock::new();
    let meta = META.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let rustc = std::process::Command::new("rustc").arg("-vV").output().expect("rustc runs");
        let host = String::from_utf8_lossy(&rustc.stdout)
            .lines()
            .find_map(|l| l.strip_prefix("host: ").map(str::to_string))
            .expect("rustc names its host");
        let out = std::process::Command::new(cargo)
            .args(["metadata", "--format-version", "1", "--offline", "--filter-platform", &host])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("cargo metadata runs");
        assert!(out.status.success(), "cargo metadata: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON")
    });
    let package = meta["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("{name} is not a dependency"));
    let dir = std::path::Path::new(package["manifest_path"].as_str().expect("a manifest path"))
        .parent()
        .expect("a directory")
        .to_path_buf();
    assert!(dir.is_dir(), "{} is missing", dir.display());
    dir
}

/// A plugin directory: a `plugin.toml` naming `name` (version 1.0.0) with `extra` after it, and
/// the bundled plugin `component` as `p.wasm` — which the manifest names, unless `extra` names
/// another `component`.
pub fn plugin_dir(name: &str, component: &str, extra: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let names_component = extra.lines().any(|l| l.starts_with("component ="));
    let default = if names_component { "" } else { "component = \"p.wasm\"\n" };
    let manifest = format!("name = \"{name}\"\nversion = \"1.0.0\"\n{default}{extra}");
    std::fs::write(dir.path().join("plugin.toml"), manifest).unwrap();
    std::fs::write(dir.path().join("p.wasm"), bundled::get(component).unwrap().wasm).unwrap();
    dir
}

/// Each finding as the CLI prints it: `severity rule: message — place of its first node`.
pub fn lines(findings: &[parseltongue_plugins::Finding]) -> Vec<String> {
    findings.iter().map(ToString::to_string).collect()
}

/// The findings' messages.
pub fn messages(findings: &[parseltongue_plugins::Finding]) -> Vec<&str> {
    findings.iter().map(|f| f.message.as_str()).collect()
}

/// A report's messages, owned.
pub fn texts(report: parseltongue_plugins::Report) -> Vec<String> {
    report.findings.into_iter().map(|f| f.message).collect()
}
