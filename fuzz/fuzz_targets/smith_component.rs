//! Components that are valid all the way down: wasm-smith writes a core module with exactly the
//! contract's exports (arbitrary code behind them: loops, traps, wild pointers, huge lengths),
//! wit-component wraps it with the contract's type information, and the sandbox loads and calls
//! it under tight limits. Whatever the guest does, the call ends in a result or a typed error.
#![no_main]

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;
use parseltongue_plugins::{Graph, Limits, MIB, PluginOptions, Sandbox};

/// The core functions the canonical ABI wants for `analyzer` (no imports: arbitrary code only).
const EXPORTS: &str = r#"(module
  (memory (export "memory") 1)
  (func (export "parseltongue:plugin/parseltongue-plugin@0.1.0#analyze-graph") (param i32 i32) (result i32) unreachable)
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) unreachable)
)"#;

struct Fixtures {
    sandbox: Sandbox,
    runtime: tokio::runtime::Runtime,
    exports: Vec<u8>,
    resolve: wit_parser::Resolve,
    world: wit_parser::WorldId,
    graph: Graph,
}

fn fixtures() -> &'static Fixtures {
    static FIXTURES: OnceLock<Fixtures> = OnceLock::new();
    FIXTURES.get_or_init(|| {
        let mut resolve = wit_parser::Resolve::default();
        let package = resolve
            .push_str("plugin.wit", parseltongue_plugins::sdk::CONTRACT_WIT)
            .expect("the contract parses");
        let world = resolve.select_world(&[package], Some("analyzer")).expect("the analyzer world");
        Fixtures {
            sandbox: Sandbox::builder().no_cache().build().expect("a sandbox"),
            runtime: tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap(),
            exports: wat::parse_str(EXPORTS).expect("the exports template"),
            resolve,
            world,
            graph: Graph::from_json(r#"{"nodes":[{"id":"a","node_type":"fn","metadata":{"k":"v"}}]}"#)
                .unwrap(),
        }
    })
}

/// How far inputs got: generated, wrapped as components, loaded, called (ok, error).
static STAGES: [AtomicU64; 5] = [const { AtomicU64::new(0) }; 5];

fn reached(stage: usize) {
    STAGES[stage].fetch_add(1, Ordering::Relaxed);
    // PTPLUGIN_FUZZ_STATS=1 prints the funnel now and then (libFuzzer output stays quiet otherwise).
    if stage == 0
        && STAGES[0].load(Ordering::Relaxed).is_multiple_of(2000)
        && std::env::var_os("PTPLUGIN_FUZZ_STATS").is_some()
    {
        let n: Vec<u64> = STAGES.iter().map(|s| s.load(Ordering::Relaxed)).collect();
        eprintln!(
            "smith: {} modules, {} components, {} loaded, {} ran ok, {} ran into an error",
            n[0], n[1], n[2], n[3], n[4]
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let f = fixtures();
    let mut u = Unstructured::new(data);
    let Ok(mut config) = u.arbitrary::<wasm_smith::Config>() else { return };
    config.exports = Some(f.exports.clone());
    config.available_imports = None;
    config.max_imports = 0;
    config.min_imports = 0;
    config.max_memories = 1;
    config.max_memory32_bytes = 4 << 20;
    config.memory64_enabled = false;
    config.threads_enabled = false;
    config.exceptions_enabled = false;
    config.gc_enabled = false;
    config.custom_page_sizes_enabled = false;
    let Ok(module) = wasm_smith::Module::new(config, &mut u) else { return };
    reached(0);
    let mut core = module.to_bytes();
    if wit_component::embed_component_metadata(
        &mut core,
        &f.resolve,
        f.world,
        wit_component::StringEncoding::UTF8,
    )
    .is_err()
    {
        return;
    }
    let Ok(component) =
        wit_component::ComponentEncoder::default().validate(true).module(&core).and_then(|mut e| e.encode())
    else {
        return;
    };
    reached(1);
    let limits = Limits::default()
        .with_cpu_time(Duration::from_millis(50))
        .with_wall_time(Some(Duration::from_millis(500)))
        .with_memory_bytes(8 * MIB);
    let plugin = match f.sandbox.load("smith", &component, PluginOptions::new().limits(limits)) {
        Ok(plugin) => plugin,
        // wit-component validated it: the sandbox may still refuse it (e.g. a feature it turns
        // off), but only with a typed error, which reaching here proves.
        Err(_) => return,
    };
    reached(2);
    match f.runtime.block_on(plugin.analyze(&f.graph)) {
        Ok(_) => reached(3),
        Err(_) => reached(4),
    }
});
