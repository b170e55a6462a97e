//! Scale: 1,000 live plugin instances (1,000 plugins under their own supervisors, one instance
//! each, 16 MiB memory cap each), loaded into one `PluginHost`, then `analyze_all` across them.
//! Reports load time, `analyze_all` time and the process RSS before, after loading and after
//! the calls. Not criterion: one measured run (RSS is not a per-iteration figure).
//!
//! `cargo bench --bench scale` runs 1,000; `cargo test --benches` (CI) runs a quick 20 and checks
//! that every plugin answered, asserting no times or sizes.

use std::sync::Arc;
use std::time::Instant;

use parseltongue_plugins::process::sample_process;
use parseltongue_plugins::{
    Graph, Limits, MIB, PluginHost, PluginOptions, PluginSpec, Pooling, Sandbox, bundled,
};

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn run(plugins: usize, pooling: bool, runtime: &tokio::runtime::Runtime) {
    let cache = tempfile::tempdir().expect("temp dir");
    let mut builder = Sandbox::builder().cache_dir(cache.path());
    if pooling {
        builder = builder.pooling(Pooling { instances: plugins as u32 + 8, memory_mb: 16 });
    }
    let sandbox = builder.build().expect("sandbox");
    let wasm = bundled::get("node-census").expect("bundled").wasm;
    let graph = Arc::new(Graph::from_json(bundled::SAMPLE_GRAPH).expect("sample graph"));
    let limits = Limits::default().with_memory_bytes(16 * MIB);
    let before = sample_process(0).rss_bytes;
    let start = Instant::now();
    let host = runtime.block_on(async {
        let mut builder = PluginHost::builder().sandbox(sandbox.clone()).limits(limits.clone());
        for i in 0..plugins {
            let options = PluginOptions::new().limits(limits.clone());
            builder = builder.plugin(PluginSpec::bytes(format!("census-{i}"), wasm).options(options));
        }
        builder.start().await.expect("host")
    });
    let loaded_in = start.elapsed();
    let loaded = sample_process(0).rss_bytes;
    assert_eq!(host.plugins().len(), plugins, "every plugin loaded");
    let start = Instant::now();
    let results = runtime.block_on(host.analyze_all(graph));
    let called_in = start.elapsed();
    let after = sample_process(0).rss_bytes;
    let ok = results.values().filter(|r| r.is_ok()).count();
    let live = sandbox.live_instances();
    runtime.block_on(host.shutdown());
    println!(
        "{plugins} plugins ({}): load {:.0} ms, analyze_all {:.0} ms, {ok}/{plugins} ok, {live} live instances; \
         RSS {:.0} MiB before, {:.0} MiB loaded, {:.0} MiB after the calls (+{:.2} MiB per instance)",
        if pooling { "pooling allocator" } else { "on-demand allocator" },
        loaded_in.as_secs_f64() * 1000.0,
        called_in.as_secs_f64() * 1000.0,
        mib(before),
        mib(loaded),
        mib(after),
        mib(after.saturating_sub(before)) / plugins as f64,
    );
    assert_eq!(ok, plugins, "analyze_all must complete for every plugin");
}

/// Each allocator runs in a child process of its own, so one's memory never shows in the
/// other's RSS.
fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--scale-child") {
        let plugins: usize = args[i + 1].parse().expect("a count");
        let pooling = args[i + 2] == "pooling";
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        run(plugins, pooling, &runtime);
        return;
    }
    let full = args.iter().any(|a| a == "--bench");
    let plugins = std::env::var("PTPLUGIN_SCALE").ok().and_then(|n| n.parse().ok()).unwrap_or(if full {
        1000
    } else {
        20
    });
    for allocator in ["on-demand", "pooling"] {
        let status = std::process::Command::new(std::env::current_exe().expect("own path"))
            .args(["--scale-child", &plugins.to_string(), allocator])
            .status()
            .expect("the child runs");
        assert!(status.success(), "the {allocator} run failed");
    }
}
