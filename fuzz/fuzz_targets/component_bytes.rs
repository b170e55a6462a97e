//! Arbitrary bytes offered as a plugin: refused with a typed error or loaded; anything that loads
//! is run once under tight limits and ends in a result or a typed error — never a host panic.
//! Seed the corpus with real components (`.ci/fuzz` copies the bundled ones) so mutations reach
//! past the header.
#![no_main]

use std::sync::OnceLock;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use parseltongue_plugins::{Graph, Limits, MIB, PluginOptions, Sandbox};

fn sandbox() -> &'static Sandbox {
    static SANDBOX: OnceLock<Sandbox> = OnceLock::new();
    SANDBOX.get_or_init(|| Sandbox::builder().no_cache().build().expect("a sandbox"))
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap())
}

fuzz_target!(|bytes: &[u8]| {
    let limits = Limits::default()
        .with_cpu_time(Duration::from_millis(50))
        .with_wall_time(Some(Duration::from_millis(500)))
        .with_memory_bytes(16 * MIB);
    let Ok(plugin) = sandbox().load("fuzzed", bytes, PluginOptions::new().limits(limits)) else { return };
    let graph = Graph::from_json(r#"{"nodes":[{"id":"a","node_type":"fn"},{"id":"b","node_type":"fn"}],"edges":[{"source":"a","target":"b","edge_type":"Calls"}]}"#)
        .expect("a valid graph");
    let _ = runtime().block_on(plugin.analyze(&graph));
});
