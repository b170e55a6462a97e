//! Plugin start-up: compiling a component (no cache), loading it from the compile cache, and
//! instantiating it for a first reply, measured in one run so the ratios are comparable.
//!
//! `cargo bench --bench start` for figures; `cargo test --benches` runs each case once (CI).

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use parseltongue_plugins::{Graph, PluginOptions, Sandbox, bundled};

fn start(c: &mut Criterion) {
    let wasm = bundled::get("node-census").expect("bundled").wasm;
    let graph = Graph::from_json(bundled::SAMPLE_GRAPH).expect("sample graph");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let cache_dir = tempfile::tempdir().expect("temp dir");

    let mut group = c.benchmark_group("start");
    group.sample_size(10).measurement_time(Duration::from_secs(5));

    let uncached = Sandbox::builder().no_cache().build().expect("sandbox");
    group.bench_function("load: compile (no cache)", |b| {
        b.iter(|| uncached.load("node-census", wasm, PluginOptions::new()).expect("load"))
    });

    let cached = Sandbox::builder().cache_dir(cache_dir.path()).build().expect("sandbox");
    cached.load("node-census", wasm, PluginOptions::new()).expect("warm the cache");
    group.bench_function("load: from compile cache", |b| {
        b.iter(|| cached.load("node-census", wasm, PluginOptions::new()).expect("load"))
    });

    group.bench_function("load from cache + instantiate + first reply", |b| {
        b.iter(|| {
            let plugin = cached.load("node-census", wasm, PluginOptions::new()).expect("load");
            runtime.block_on(plugin.analyze(&graph)).expect("reply")
        })
    });
    group.finish();

    let mut group = c.benchmark_group("call");
    let plugin = cached.load("node-census", wasm, PluginOptions::new()).expect("load");
    group.bench_function("instantiate + reply (fresh instance per call)", |b| {
        b.iter(|| runtime.block_on(plugin.analyze(&graph)).expect("reply"))
    });
    let mut instance = plugin.instance();
    group.bench_function("reply on a warm instance", |b| {
        b.iter(|| runtime.block_on(instance.analyze(&graph)).expect("reply"))
    });
    group.finish();
}

criterion_group!(benches, start);
criterion_main!(benches);
