//! Errors keep their causes: the library's errors carry what the layer below said as their
//! `source`, and the CLI prints every link (`caused by:` lines; `causes` in JSON).

use std::error::Error as _;
use std::path::Path;

use parseltongue_plugins::{Error, ErrorKind, KvStore};
use serde_json::Value;

use crate::support::{output, ptplugin};

fn sample() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/sample-graph.json").display().to_string()
}

/// A component header followed by garbage: the compiler refuses it, and says why underneath.
fn truncated_component(dir: &Path) -> String {
    let path = dir.join("truncated.wasm");
    std::fs::write(&path, b"\0asm\x0d\0\x01\0garbage").unwrap();
    path.display().to_string()
}

#[test]
fn the_cli_prints_the_chain_of_causes() {
    let dir = tempfile::tempdir().unwrap();
    let plugin = truncated_component(dir.path());
    let (code, _, stderr) = output(ptplugin().args(["run", "--plugin", &plugin, "--graph", &sample()]));
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("error[invalid-component]: not a usable WebAssembly component"), "{stderr}");
    assert!(stderr.contains("\n  caused by: failed to parse WebAssembly module"), "{stderr}");

    let (_, stdout, _) =
        output(ptplugin().args(["run", "--plugin", &plugin, "--graph", &sample(), "--format", "json"]));
    let v: Value = serde_json::from_str(&stdout).unwrap();
    let causes: Vec<&str> =
        v["error"]["causes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    assert_eq!(causes[0], "failed to parse WebAssembly module", "{v}");
    assert!(causes.len() >= 2, "the parser's own reason is kept too: {v}");
}

#[test]
fn an_io_error_is_not_printed_twice() {
    let (_, _, stderr) =
        output(ptplugin().args(["run", "--plugin", "bundled:node-census", "--graph", "/nonexistent/g.json"]));
    assert!(stderr.contains("No such file or directory"), "{stderr}");
    assert!(!stderr.contains("caused by"), "the OS error is already in the message: {stderr}");
}

#[test]
fn a_damaged_kv_file_keeps_the_storage_engines_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kv.redb");
    std::fs::write(&path, vec![0x5a; 64 * 1024]).unwrap();
    let err = KvStore::open(&path).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io, "{err}");
    assert!(matches!(err, Error::KeyValue { .. }), "{err:?}");
    assert!(err.source().is_some(), "redb's error is the cause: {err:?}");
}

#[test]
fn what_the_caller_must_fix_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("k");
    // No COSIGN_PASSWORD: the user must set it.
    let (code, _, stderr) =
        output(ptplugin().env_remove("COSIGN_PASSWORD").args(["keygen", "--output-key-prefix"]).arg(&prefix));
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("error[usage]: set COSIGN_PASSWORD"), "{stderr}");
    // A key that exists is not overwritten without --force.
    std::fs::write(dir.path().join("k.key"), "").unwrap();
    let (code, _, stderr) =
        output(ptplugin().env("COSIGN_PASSWORD", "").args(["keygen", "--output-key-prefix"]).arg(&prefix));
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("error[usage]:") && stderr.contains("use --force"), "{stderr}");
}
