//! Plugin start-up: compiling a component (no cache), loading it from the compile cache, and
//! instantiating it for a first reply, measured in one run so the ratios are comparable.
//!
//! `cargo bench --bench start` for figures; `cargo test --benches` runs each case once (CI).

use std::time::Duration;

use criterion::{Criterion, criterion_main};
use parseltongue_plugins::{Graph, PluginOptions, Pooling, Sandbox, bundled};

fn start(c: &mut Criterion) {
    let wasm = bundled::get("node-census").expect("bundled").wasm;
    let graph = Graph::from_json(bundled::SAMPLE_GRAPH).expect("sample graph");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let cache_dir = tempfile::tempdir().expect("temp dir");

    let mut group = c.benchmark_group("start");
    group.sample_size(10).measurement_time(Duration::from_secs(5));

    // Component sharing off: each load below really compiles or deserializes.
    let uncached = Sandbox::builder().no_cache().no_component_sharing().build().expect("sandbox");
    group.bench_function("load: compile (no cache)", |b| {
        b.iter(|| uncached.load("node-census", wasm, PluginOptions::new()).expect("load"))
    });

    let cached =
        Sandbox::builder().cache_dir(cache_dir.path()).no_component_sharing().build().expect("sandbox");
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
    let shared = Sandbox::builder().cache_dir(cache_dir.path()).build().expect("sandbox");
    shared.load("node-census", wasm, PluginOptions::new()).expect("first load");
    group.bench_function("load: bytes already loaded in this sandbox (shared component)", |b| {
        b.iter(|| shared.load("node-census", wasm, PluginOptions::new()).expect("load"))
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

    // Instantiation alone (`InstancePre`, a fresh store), with wasmtime's on-demand allocator
    // and with the pooling allocator (pre-allocated slots, copy-on-write memory reset).
    let mut group = c.benchmark_group("instantiate");
    let pool_cache = tempfile::tempdir().expect("temp dir");
    let pooled = Sandbox::builder()
        .cache_dir(pool_cache.path())
        .pooling(Pooling { instances: 16, memory_mb: 64 })
        .build()
        .expect("sandbox");
    for (name, sandbox) in [("on-demand allocator", &cached), ("pooling allocator", &pooled)] {
        let plugin = sandbox.load("node-census", wasm, PluginOptions::new()).expect("load");
        // Instantiate and drop (returning the slot, for the pool), as every restart does.
        group.bench_function(format!("{name}, instantiate + drop"), |b| {
            b.iter(|| {
                let mut instance = plugin.instance();
                runtime.block_on(instance.warm_up()).expect("instantiate");
            })
        });
    }
    group.finish();
}

/// Starting a plugin from the local store the way `ptplugin run --plugin installed:…` does:
/// read and re-check every blob, verify the cosign signature against the trust policy, then load
/// (compile cache) and reply. Offline, so the registry is not measured.
fn verified_start(c: &mut Criterion) {
    use parseltongue_plugins::Manifest;
    use parseltongue_plugins::distribution::store::Store;
    use parseltongue_plugins::distribution::trust::TrustPolicy;
    use parseltongue_plugins::distribution::{Distribution, artifact, digest, signing};

    let wasm = bundled::get("node-census").expect("bundled").wasm;
    let graph = Graph::from_json(bundled::SAMPLE_GRAPH).expect("sample graph");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(dir.path().join("store")).expect("store");
    let text = "name = \"census\"\nversion = \"1.0.0\"\n";
    let manifest = Manifest::parse(text, std::path::Path::new("plugin.toml")).expect("manifest");
    let packed = artifact::pack(wasm.to_vec(), text, &manifest).expect("pack");
    let manifest_bytes = serde_json::to_vec(&packed.manifest).expect("json");
    let manifest_digest = digest::sha256(&manifest_bytes);
    let put = |bytes: &[u8]| store.put("blob", bytes, &digest::sha256(bytes)).expect("put");
    put(&packed.config);
    put(&packed.component);
    put(&manifest_bytes);
    let (private, public) = signing::generate_key_pair(b"").expect("keys");
    let signer = signing::signing_key(private.as_bytes(), b"").expect("signer");
    let payload = signing::payload("localhost:5000/plugins/census", &manifest_digest);
    let signature = signing::sign(&signer, &payload).expect("sign");
    let (sig_manifest, _) = signing::add_signature(None, &payload, &signature);
    let sig_bytes = serde_json::to_vec(&sig_manifest).expect("json");
    put(&payload);
    put(&sig_bytes);
    store
        .update_index(|i| {
            i.refs.insert("localhost:5000/plugins/census:1.0.0".into(), manifest_digest.clone());
            i.signatures.insert(manifest_digest.clone(), digest::sha256(&sig_bytes));
        })
        .expect("index");
    let key = dir.path().join("release.pub");
    std::fs::write(&key, public).expect("key");
    let trust = TrustPolicy { keys: vec![key], ..Default::default() };
    let d = Distribution::new(store).trust(trust).offline(true);
    let reference = "localhost:5000/plugins/census:1.0.0";

    let cache_dir = tempfile::tempdir().expect("temp dir");
    let sandbox =
        Sandbox::builder().cache_dir(cache_dir.path()).no_component_sharing().build().expect("sandbox");
    sandbox.load("census", wasm, PluginOptions::new()).expect("warm the cache");

    let mut group = c.benchmark_group("verified start");
    group.sample_size(20).measurement_time(Duration::from_secs(5));
    group.bench_function("store read + digest checks + cosign signature verdict", |b| {
        b.iter(|| runtime.block_on(d.pull(reference)).expect("verified"))
    });
    group.bench_function("… + load from compile cache + first reply", |b| {
        b.iter(|| {
            let verified = runtime.block_on(d.pull(reference)).expect("verified");
            let plugin = sandbox.load("census", verified.component(), PluginOptions::new()).expect("load");
            runtime.block_on(plugin.analyze(&graph)).expect("reply")
        })
    });
    group.finish();
}

// In a private module: criterion's generated group function needs no public docs.
mod group {
    criterion::criterion_group!(benches, super::start, super::verified_start);
}
criterion_main!(group::benches);
