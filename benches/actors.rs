//! The supervision runtime's cost: a request/reply round trip through `PluginHost` (registry
//! route, supervisor, instance actor, guest call) against the same guest call made directly, and
//! against a bare tokio mpsc round trip; and restart latency (crash → next good reply, with a
//! zero backoff so only the restart itself is measured). All in one run, so ratios compare.
//!
//! `cargo bench --bench actors`; `cargo test --benches` runs each case once (CI).

use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_main};
use parseltongue_plugins::manifest::KvRequest;
use parseltongue_plugins::{
    Backoff, Capabilities, Graph, KvStore, PluginHost, PluginOptions, PluginSpec, Policy, RestartPolicy,
    Sandbox, bundled,
};
use tokio::sync::{mpsc, oneshot};

fn actors(c: &mut Criterion) {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let sandbox = Sandbox::builder().no_cache().build().expect("sandbox");
    let census = bundled::get("node-census").expect("bundled").wasm;
    let panic = bundled::get("fault-panic").expect("bundled").wasm;
    let empty = Arc::new(Graph::default());
    let crash = Arc::new(Graph::from_json(r#"{"nodes":[{"id":"a","node_type":"fn"}]}"#).expect("graph"));
    let policy = RestartPolicy {
        backoff: Backoff { initial: Duration::ZERO, max: Duration::ZERO, multiplier: 1.0, jitter: 0.0 },
        max_restarts: u32::MAX,
        poison_threshold: u32::MAX,
        ..RestartPolicy::default()
    };
    let host = runtime.block_on(async {
        PluginHost::builder()
            .sandbox(sandbox.clone())
            .restart_policy(policy)
            .plugin(PluginSpec::bytes("census", census))
            .plugin(PluginSpec::bytes("panic", panic))
            .start()
            .await
            .expect("host")
    });

    let mut group = c.benchmark_group("round trip");
    group.sample_size(30).measurement_time(Duration::from_secs(5));
    group.bench_function("tokio mpsc + oneshot (no plugin)", |b| {
        let (tx, mut rx) = mpsc::channel::<oneshot::Sender<u64>>(64);
        runtime.spawn(async move {
            while let Some(reply) = rx.recv().await {
                let _ = reply.send(42);
            }
        });
        b.iter(|| {
            runtime.block_on(async {
                let (reply, answer) = oneshot::channel();
                tx.send(reply).await.expect("send");
                answer.await.expect("answer")
            })
        })
    });
    let plugin = sandbox.load("census", census, PluginOptions::new()).expect("load");
    let mut instance = plugin.instance();
    group.bench_function("trivial plugin, direct call (no actors)", |b| {
        b.iter(|| runtime.block_on(instance.analyze(&empty)).expect("reply"))
    });
    group.bench_function("trivial plugin through PluginHost (actors)", |b| {
        b.iter(|| runtime.block_on(host.analyze("census", empty.clone())).expect("reply"))
    });
    // The same host with its own Prometheus recorder and endpoint: what metrics cost per call.
    let measured = runtime.block_on(async {
        PluginHost::builder()
            .sandbox(sandbox.clone())
            .plugin(PluginSpec::bytes("census", census))
            .metrics_endpoint("127.0.0.1:0".parse().expect("address"))
            .start()
            .await
            .expect("host")
    });
    group.bench_function("trivial plugin through PluginHost, metrics endpoint on", |b| {
        b.iter(|| runtime.block_on(measured.analyze("census", empty.clone())).expect("reply"))
    });
    group.finish();
    runtime.block_on(measured.shutdown());

    let mut group = c.benchmark_group("restart");
    group.sample_size(30).measurement_time(Duration::from_secs(5));
    group.bench_function("crash, then the next good reply (zero backoff)", |b| {
        b.iter(|| {
            runtime.block_on(async {
                host.analyze("panic", crash.clone()).await.expect_err("a trap");
                host.analyze("panic", empty.clone()).await.expect("the restarted instance answers")
            })
        })
    });
    // The issue's measure: from the trap's error reply to the first good reply (restart,
    // instantiation, the call), and the crashing call on its own.
    group.bench_function("trap reply → first good reply (zero backoff)", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                runtime.block_on(async {
                    host.analyze("panic", crash.clone()).await.expect_err("a trap");
                    let start = std::time::Instant::now();
                    host.analyze("panic", empty.clone()).await.expect("the restarted instance answers");
                    total += start.elapsed();
                })
            }
            total
        })
    });
    group.bench_function("the crashing call (panic → trap → error reply)", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                runtime.block_on(async {
                    let start = std::time::Instant::now();
                    host.analyze("panic", crash.clone()).await.expect_err("a trap");
                    total += start.elapsed();
                    host.analyze("panic", empty.clone()).await.expect("the restarted instance answers");
                })
            }
            total
        })
    });
    group.finish();
    runtime.block_on(host.shutdown());

    // What the capability layer adds: the audit trail on every call, and a kv round trip.
    let dir = tempfile::tempdir().expect("temp dir");
    let audited = runtime.block_on(async {
        PluginHost::builder()
            .sandbox(sandbox.clone())
            .audit_log(dir.path().join("audit.jsonl"))
            .policy(Policy::default().allow_kv(1024))
            .kv_store(KvStore::open(dir.path().join("kv.redb")).expect("kv"))
            .plugin(PluginSpec::bytes("census", census))
            .plugin(
                PluginSpec::bytes("counter", bundled::get("kv-counter").expect("bundled").wasm).capabilities(
                    Capabilities {
                        kv: Some(KvRequest { reason: "bench".into(), quota_kb: None }),
                        ..Capabilities::default()
                    },
                ),
            )
            .start()
            .await
            .expect("host")
    });
    let mut group = c.benchmark_group("capabilities");
    group.sample_size(30).measurement_time(Duration::from_secs(5));
    group.bench_function("trivial plugin through PluginHost, audit trail on", |b| {
        b.iter(|| runtime.block_on(audited.analyze("census", empty.clone())).expect("reply"))
    });
    group.bench_function("kv-counter call: get + set (durable commit) + keys", |b| {
        b.iter(|| runtime.block_on(audited.analyze("counter", empty.clone())).expect("reply"))
    });
    group.finish();
    runtime.block_on(audited.shutdown());
}

/// Requests per second through `PluginHost` with 1, 2 and 64 instances of one plugin: 256
/// concurrent requests per iteration, each a cycle-finder run on a 200-node Parseltongue-shaped
/// graph (about 0.3 ms of guest work), so the instances, not the channel, are the bottleneck.
fn throughput(c: &mut Criterion) {
    use criterion::{BenchmarkId, Throughput};
    const BATCH: usize = 256;
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let sandbox = Sandbox::builder().no_cache().build().expect("sandbox");
    let wasm = bundled::get("cycle-finder").expect("bundled").wasm;
    let graph = Arc::new(parseltongue_plugins::synthetic::parseltongue_like(200, 1));
    let mut group = c.benchmark_group("throughput");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(5))
        .throughput(Throughput::Elements(BATCH as u64));
    for instances in [1usize, 2, 64] {
        let host = runtime.block_on(async {
            PluginHost::builder()
                .sandbox(sandbox.clone())
                .instances(instances)
                .queue_capacity(BATCH)
                .plugin(PluginSpec::bytes("cycles", wasm))
                .start()
                .await
                .expect("host")
        });
        group.bench_function(
            BenchmarkId::new("cycle-finder, 200 nodes", format!("{instances} instances")),
            |b| {
                b.iter(|| {
                    runtime.block_on(async {
                        let calls = (0..BATCH).map(|_| host.analyze("cycles", graph.clone()));
                        for reply in futures::future::join_all(calls).await {
                            reply.expect("reply");
                        }
                    })
                })
            },
        );
        runtime.block_on(host.shutdown());
    }
    group.finish();
}

// In a private module: criterion's generated group function needs no public docs.
mod group {
    criterion::criterion_group!(benches, super::actors, super::throughput);
}
criterion_main!(group::benches);
