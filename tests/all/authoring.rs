//! Plugin authors' path, as an author takes it: `ptplugin new NAME --lang L`, the project's
//! `./build.sh`, `ptplugin test .` — in Rust, C, JavaScript and Python, on contract 0.2 — and
//! then the same census (rule, severity, message, nodes) as the bundled Rust `node-census` on the
//! same graphs, from every language. `--contract 0.1` still writes the seed's template, which
//! builds and runs as before.
//!
//! The toolchains come from the package registries (`.ci/test-deps` installs them): rustup's
//! `wasm32-wasip2`, Debian's clang-19 + wasi-libc, npm's componentize-qjs, PyPI's componentize-py.

use std::path::{Path, PathBuf};
use std::process::Command;

use parseltongue_plugins::{Graph, GraphNode, PluginOptions, bundled};
use serde_json::Value;

use crate::support::{output, ptplugin, sandbox};

/// Scaffolds, builds and tests a `lang` project for `contract`; returns its component.
fn new_build_test(lang: &str, contract: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let name = format!("census-from-{lang}");
    let project = dir.path().join(&name);
    let (code, out, err) = output(
        ptplugin().args(["new", &name, "--lang", lang, "--contract", contract, "--dir"]).arg(&project),
    );
    assert_eq!(code, Some(0), "new: {out}{err}");
    assert!(out.contains(&format!("contract {contract}")), "{out}");
    assert!(out.contains("./build.sh") && out.contains("ptplugin test ."), "{out}");

    let mut build = Command::new(project.join("build.sh"));
    build.env("PTPLUGIN", env!("CARGO_BIN_EXE_ptplugin"));
    // Rust projects share one target dir across test runs, so wit-bindgen is compiled once.
    build.env("CARGO_TARGET_DIR", Path::new(env!("CARGO_TARGET_TMPDIR")).join("plugin-projects"));
    let (code, out, err) = output(&mut build);
    assert_eq!(code, Some(0), "{lang} build failed (toolchains: bash .ci/test-deps):\n{out}\n{err}");
    let component = project.join(format!("{name}.wasm"));
    assert!(component.is_file(), "{out}");

    let (code, out, err) = output(ptplugin().args(["test", "--format", "json"]).arg(&project));
    let report: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    assert_eq!(code, Some(0), "{report:#}");
    assert_eq!(report["passed"], true);
    let names: Vec<&str> =
        report["report"]["checks"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    let mut expected = vec![
        "fits the contract",
        "no state kept between calls",
        "tried nothing the sandbox refused",
        "contained by its limits",
    ];
    if contract == "0.2" {
        expected.push("declares its rules");
    }
    for expected in expected {
        assert!(names.contains(&expected), "{names:?}");
    }
    (dir, component)
}

fn typed(types: &[&str]) -> Graph {
    let nodes = types
        .iter()
        .enumerate()
        .map(|(i, t)| GraphNode { id: format!("n{i}"), node_type: t.to_string(), metadata: vec![] })
        .collect();
    Graph::new(nodes, vec![]).unwrap()
}

/// Graphs whose census must come out the same from every language: the samples, a share that
/// is an exact tie for rounding (1/16 = 6.25%), one type only, a tie in counts, and none.
fn census_graphs() -> Vec<Graph> {
    let mut tie = vec!["b"; 15];
    tie.push("a");
    vec![
        Graph::from_json(bundled::SAMPLE_GRAPH).unwrap(),
        bundled::parseltongue_sample().graph,
        typed(&tie),
        typed(&["fn", "fn"]),
        typed(&["z", "y", "z", "y", "x"]),
        Graph::default(),
    ]
}

/// The census of `component` equals the bundled plugin `reference`'s on every census graph.
async fn same_census_as(name: &str, component: &Path) {
    let reference = crate::support::plugin(name);
    let bytes = std::fs::read(component).unwrap();
    // Under the reference's name: a 0.1 plugin's findings carry its name as their rule.
    let plugin = sandbox().load(name, &bytes, PluginOptions::new()).unwrap();
    for graph in census_graphs() {
        let want = reference.analyze(&graph).await.unwrap().result;
        let got = plugin.analyze(&graph).await.unwrap().result;
        assert_eq!(
            (&got.findings, &got.recommendations, got.confidence),
            (&want.findings, &want.recommendations, want.confidence),
            "{} nodes",
            graph.nodes().len()
        );
    }
    let tie = plugin.analyze(&census_graphs()[2]).await.unwrap().result;
    assert_eq!(tie.messages(), ["b: 15 of 16 nodes (93.8%)", "a: 1 of 16 nodes (6.3%)"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn rust_new_build_test_and_census() {
    let (_dir, component) = new_build_test("rust", "0.2");
    same_census_as("node-census", &component).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn c_new_build_test_and_census() {
    let (_dir, component) = new_build_test("c", "0.2");
    same_census_as("node-census", &component).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn js_new_build_test_and_census() {
    let (_dir, component) = new_build_test("js", "0.2");
    same_census_as("node-census", &component).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn python_new_build_test_and_census() {
    let (_dir, component) = new_build_test("python", "0.2");
    same_census_as("node-census", &component).await;
}

/// The seed's contract: `--contract 0.1` templates build, pass `ptplugin test` and count like
/// the bundled 0.1 census (findings as text: the plugin's name as their rule).
#[tokio::test(flavor = "multi_thread")]
async fn contract_0_1_templates_still_build_test_and_census() {
    for lang in ["rust", "c"] {
        let (_dir, component) = new_build_test(lang, "0.1");
        let bytes = std::fs::read(&component).unwrap();
        let plugin = sandbox().load("legacy-census", &bytes, PluginOptions::new()).unwrap();
        assert_eq!(plugin.contract(), parseltongue_plugins::Contract::V0_1);
        drop(plugin);
        same_census_as("legacy-census", &component).await;
    }
}

/// A hand-written component that remembers it was called: confidence 1.0 on an instance's first
/// call, 0.5 after.
fn stateful_component() -> Vec<u8> {
    crate::support::contract_component(
        "0.1.0",
        r#"(global $calls (mut i32) (i32.const 0))
    ;; The result record at 64: findings (0, 0), confidence, recommendations (0, 0).
    (func (export "analyze") (param i32 i32) (result i32)
      (f32.store (i32.const 72) (select (f32.const 1.0) (f32.const 0.5) (i32.eqz (global.get $calls))))
      (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
      (i32.const 64))"#,
    )
}

#[test]
fn ptplugin_test_fails_a_plugin_that_reaches_out_crashes_or_keeps_state() {
    let fixture = |name: &str| {
        std::fs::read(Path::new(bundled::GUEST_DIR).join(format!("{}.wasm", name.replace('-', "_")))).unwrap()
    };
    for (wasm, failing_check) in [
        (fixture("escape-tcp-connect"), "tried nothing the sandbox refused"),
        (fixture("fault-panic"), "analyses small sample"),
        (stateful_component(), "no state kept between calls"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("p.wasm"), wasm).unwrap();
        std::fs::write(dir.path().join("plugin.toml"), "name = \"p\"\nversion = \"1.0.0\"\n").unwrap();
        let (code, out, err) = output(ptplugin().arg("test").arg(dir.path()));
        assert_eq!(code, Some(1), "{failing_check}: {out}{err}");
        let line = out.lines().find(|l| l.contains(failing_check)).unwrap_or_else(|| panic!("{out}"));
        assert!(line.contains("[BAD]"), "{out}");
        let bad = out.lines().filter(|l| l.contains("[BAD]")).count();
        assert!(out.contains(&format!("{bad} of ")), "{out}");
    }
    let (code, _, err) = output(ptplugin().args(["test", "/nonexistent-project"]));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("no plugin project at /nonexistent-project"), "{err}");
}

#[test]
fn sdk_writes_the_contract_exactly() {
    // 0.2 by default; 0.1 (the seed's, byte for byte) on request.
    for (flags, ours) in [(&[][..], "wit/v0.2/plugin.wit"), (&["--contract", "0.1"][..], "wit/plugin.wit")] {
        let dir = tempfile::tempdir().unwrap();
        let (code, _, err) = output(ptplugin().args(["sdk", "wit"]).arg(dir.path()).args(flags));
        assert_eq!(code, Some(0), "{err}");
        let written = std::fs::read_to_string(dir.path().join("plugin.wit")).unwrap();
        let ours = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(ours)).unwrap();
        assert_eq!(written, ours, "{flags:?}");
    }
    let seed =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/contract/plugin.wit"));
    if let Ok(seed) = seed {
        let ours =
            std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("wit/plugin.wit")).unwrap();
        assert_eq!(ours, seed, "contract 0.1 stays the seed's WIT");
    }
}
