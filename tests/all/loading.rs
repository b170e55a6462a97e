//! Loading: refusals with the right kind for everything that is not a plugin, and the compile
//! cache's hits, misses and refusals of files it must not trust.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use parseltongue_plugins::{CacheStatus, ErrorKind, Limits, PluginOptions, Sandbox, bundled};

use crate::support::{empty_graph, sandbox, small_graph};

fn load_error(bytes: &[u8]) -> parseltongue_plugins::Error {
    sandbox().load("fixture", bytes, PluginOptions::new()).expect_err("must be refused")
}

#[test]
fn a_text_file_is_not_a_component() {
    let e = load_error(b"{\"nodes\": []} -- definitely not wasm");
    assert_eq!(e.kind(), ErrorKind::InvalidComponent);
    assert!(e.to_string().contains("no WebAssembly header"), "{e}");
    assert_eq!(load_error(b"").kind(), ErrorKind::InvalidComponent);
}

#[test]
fn a_core_module_is_not_a_component() {
    let module = wat::parse_str(
        r#"(module (func (export "analyze-graph") (param i32 i32) (result i32) i32.const 0))"#,
    )
    .unwrap();
    let e = load_error(&module);
    assert_eq!(e.kind(), ErrorKind::InvalidComponent);
    assert!(e.to_string().contains("core WebAssembly module, not a component"), "{e}");
}

#[test]
fn a_truncated_component_is_invalid() {
    let wasm = bundled::get("node-census").unwrap().wasm;
    let e = load_error(&wasm[..wasm.len() / 2]);
    assert_eq!(e.kind(), ErrorKind::InvalidComponent, "{e}");
}

#[test]
fn a_components_bytes_say_which_contract_it_implements() {
    use parseltongue_plugins::Contract;
    let declared = |name: &str| Contract::declared_by(bundled::get(name).unwrap().wasm);
    assert_eq!(declared("cycle-finder"), Some(Contract::V0_2));
    assert_eq!(declared("legacy-census"), Some(Contract::V0_1));
    assert_eq!(declared("fault-panic"), Some(Contract::V0_1));
    assert_eq!(Contract::declared_by(&crate::support::wasi_command_component()), None);
    assert_eq!(Contract::declared_by(b"not wasm"), None);
    // And loading agrees.
    assert_eq!(crate::support::plugin("cycle-finder").contract(), Contract::V0_2);
    assert_eq!(crate::support::plugin("legacy-census").contract(), Contract::V0_1);
}

#[test]
fn a_component_of_another_world_is_incompatible() {
    let e = load_error(&crate::support::wasi_command_component());
    assert_eq!(e.kind(), ErrorKind::Incompatible);
    assert!(
        e.to_string().contains("exports neither parseltongue:plugin/analysis@0.2.x nor parseltongue:plugin/parseltongue-plugin@0.1.x"),
        "{e}"
    );
    assert!(e.to_string().contains("wasi:cli/run@0.2.0"), "{e}");

    let empty = wat::parse_str("(component)").unwrap();
    assert_eq!(load_error(&empty).kind(), ErrorKind::Incompatible);
}

#[test]
fn a_component_of_another_contract_version_is_incompatible() {
    let v2 = wat::parse_str(
        r#"(component
             (import "parseltongue:plugin/host@0.2.0"
               (instance (export "config" (func (param "key" string) (result (option string)))))))"#,
    )
    .unwrap();
    let e = load_error(&v2);
    assert_eq!(e.kind(), ErrorKind::Incompatible);
    assert!(e.to_string().contains("parseltongue:plugin/host@0.2.0"), "{e}");

    let foreign = wat::parse_str(r#"(component (import "acme:db/query@1.0.0" (instance)))"#).unwrap();
    let e = load_error(&foreign);
    assert_eq!(e.kind(), ErrorKind::Incompatible);
    assert!(e.to_string().contains("`acme:db/query@1.0.0`, which this host does not provide"), "{e}");
}

/// Rewrites every `@0.2.6` version of a real plugin's WASI imports to `@0.2.9` (same length, so
/// the binary stays well-formed), as if a newer toolchain had built it.
fn with_wasi_0_2_9(wasm: &[u8]) -> Vec<u8> {
    assert!(find(wasm, b"@0.2.9").is_none());
    let mut out = wasm.to_vec();
    let renamed = replace_all(&mut out, b"@0.2.6", b"@0.2.9");
    assert!(renamed > 0, "the plugin imports no wasi 0.2.6 interface");
    out
}

/// Replaces every occurrence of `from` by `to` (of the same length); returns how many.
fn replace_all(bytes: &mut [u8], from: &[u8], to: &[u8]) -> usize {
    assert_eq!(from.len(), to.len());
    let mut count = 0;
    let mut i = 0;
    while let Some(pos) = find(&bytes[i..], from) {
        let at = i + pos;
        bytes[at..at + to.len()].copy_from_slice(to);
        count += 1;
        i = at + to.len();
    }
    count
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[tokio::test]
async fn a_component_built_against_a_newer_wasi_0_2_loads_and_runs() {
    let wasm = with_wasi_0_2_9(bundled::get("escape-read-env").unwrap().wasm);
    let plugin = sandbox().load("newer-wasi", &wasm, PluginOptions::new()).expect("0.2.9 imports resolve");
    assert!(plugin.surface().wasi_imports.iter().any(|i| i.ends_with("@0.2.9")), "{:?}", plugin.surface());
    let analysis = plugin.analyze(&small_graph()).await.unwrap();
    assert!(analysis.result.findings.is_empty());
}

#[tokio::test]
async fn an_unknown_wasi_function_is_stubbed_and_traps_only_when_called() {
    // Rename `get-environment` (which std::env::vars calls) everywhere, so the component stays
    // consistent but imports a function no host provides.
    let mut wasm = bundled::get("escape-read-env").unwrap().wasm.to_vec();
    assert!(replace_all(&mut wasm, b"get-environment", b"get-environmenx") > 0);
    let plugin = sandbox().load("unknown-wasi", &wasm, PluginOptions::new()).expect("loads with a stub");
    let note = plugin.load_report().stubbed_imports.as_deref().expect("the stub is reported");
    assert!(note.contains("get-environmenx"), "{note}");
    let e = plugin.analyze(&empty_graph()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Trap, "{e}");
}

#[test]
fn impossible_limits_are_refused_before_loading() {
    let limits = Limits::default().with_max_wasm_stack(10);
    let e = sandbox()
        .load("x", bundled::get("node-census").unwrap().wasm, PluginOptions::new().limits(limits))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidLimits);
    assert!(e.to_string().contains("max_wasm_stack"), "{e}");
}

// ---- compile cache ----

struct CacheFixture {
    _dir: tempfile::TempDir,
    cache: PathBuf,
}

impl CacheFixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("cache");
        CacheFixture { _dir: dir, cache }
    }

    fn sandbox(&self) -> Sandbox {
        Sandbox::builder().cache_dir(&self.cache).build().unwrap()
    }

    fn load(&self) -> CacheStatus {
        let plugin = self
            .sandbox()
            .load("node-census", bundled::get("node-census").unwrap().wasm, PluginOptions::new())
            .unwrap();
        plugin.load_report().cache.clone()
    }

    fn artifact(&self) -> PathBuf {
        let files: Vec<PathBuf> = fs::read_dir(&self.cache)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "cwasm"))
            .collect();
        assert_eq!(files.len(), 1, "{files:?}");
        files.into_iter().next().unwrap()
    }
}

fn recompiled_because(status: CacheStatus, why: &str) {
    match status {
        CacheStatus::Recompiled(reason) => assert!(reason.contains(why), "{reason}"),
        other => panic!("expected a recompile because {why}, got {other:?}"),
    }
}

#[test]
fn first_load_compiles_and_later_loads_deserialize() {
    let f = CacheFixture::new();
    assert_eq!(f.load(), CacheStatus::Miss);
    assert_eq!(f.load(), CacheStatus::Hit);
    let mode = fs::metadata(&f.cache).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
    let hex = hex::encode(parseltongue_plugins::sha256(bundled::get("node-census").unwrap().wasm));
    assert!(
        f.artifact().file_name().unwrap().to_string_lossy().starts_with(&hex),
        "keyed by the component's SHA-256"
    );
}

#[tokio::test]
async fn a_corrupt_cache_file_is_recompiled_and_replaced() {
    let f = CacheFixture::new();
    f.load();
    let path = f.artifact();
    let mut bytes = fs::read(&path).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    fs::write(&path, &bytes).unwrap();
    recompiled_because(f.load(), "checksum mismatch");
    assert_eq!(f.load(), CacheStatus::Hit, "the bad file was replaced");
}

#[test]
fn a_foreign_file_in_the_cache_is_not_trusted() {
    let f = CacheFixture::new();
    f.load();
    let path = f.artifact();
    fs::write(&path, b"\x7fELF pretending to be machine code").unwrap();
    recompiled_because(f.load(), "not a ptplugin cache file");
}

#[test]
fn a_cache_file_others_can_write_is_not_trusted() {
    let f = CacheFixture::new();
    f.load();
    let path = f.artifact();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o666)).unwrap();
    recompiled_because(f.load(), "writable by others");
    assert_eq!(f.load(), CacheStatus::Hit);
}

#[test]
fn a_well_formed_entry_with_bogus_machine_code_is_refused_by_wasmtime() {
    // Re-seal the file with a valid checksum over garbage, as a same-user forger could: the
    // engine's own header check must still refuse it rather than run it.
    let f = CacheFixture::new();
    f.load();
    let path = f.artifact();
    let bytes = fs::read(&path).unwrap();
    let (header, payload) = bytes.split_at(116);
    let bogus = vec![0u8; payload.len()];
    let mut forged = header[..84].to_vec();
    forged.extend_from_slice(&sha256_of(&bogus));
    forged.extend_from_slice(&bogus);
    fs::write(&path, forged).unwrap();
    recompiled_because(f.load(), "wasmtime refused the artifact");
}

fn sha256_of(bytes: &[u8]) -> [u8; 32] {
    parseltongue_plugins::sha256(bytes)
}

#[test]
fn an_unusable_cache_dir_is_an_io_error() {
    let f = CacheFixture::new();
    fs::create_dir_all(f.cache.parent().unwrap()).unwrap();
    fs::write(&f.cache, b"a file, not a directory").unwrap();
    let e = Sandbox::builder().cache_dir(&f.cache).build().expect_err("refused");
    assert_eq!(e.kind(), ErrorKind::Io);
    assert!(e.to_string().contains(&f.cache.display().to_string()), "{e}");
}

#[test]
fn plugins_from_the_same_bytes_share_one_compiled_component() {
    let f = CacheFixture::new();
    let wasm = bundled::get("node-census").unwrap().wasm;
    let sandbox = f.sandbox();
    let first = sandbox.load("a", wasm, PluginOptions::new()).unwrap();
    let second = sandbox.load("b", wasm, PluginOptions::new()).unwrap();
    assert_eq!(first.load_report().cache, CacheStatus::Miss);
    assert_eq!(second.load_report().cache, CacheStatus::Shared);
    // Other bytes are not confused with them.
    let other = sandbox.load("c", bundled::get("cycle-finder").unwrap().wasm, PluginOptions::new()).unwrap();
    assert_eq!(other.load_report().cache, CacheStatus::Miss);
    // Without sharing, the second load goes to the compile cache.
    let separate = Sandbox::builder().cache_dir(&f.cache).no_component_sharing().build().unwrap();
    separate.load("a", wasm, PluginOptions::new()).unwrap();
    assert_eq!(separate.load("b", wasm, PluginOptions::new()).unwrap().load_report().cache, CacheStatus::Hit);
}
