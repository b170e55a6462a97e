//! Plugin versus native: the same analysis source (`guests/analysis-core`: Tarjan SCC cycle
//! finding, and PageRank) compiled into this benchmark natively and run as a bundled plugin, on
//! Parseltongue-shaped graphs of 1k, 10k and 100k nodes (`synthetic::parseltongue_like`).
//!
//! - *total*: the whole call. Plugin: lowering the nodes into the guest, `host.edges()`,
//!   the analysis, lifting the result. Native: cloning the nodes and edges (what an in-process
//!   plugin taking the contract's values by value would receive) and the analysis.
//! - *compute*: the analysis alone. Native: on borrowed input. Plugin: each sample times a call
//!   with the analysis repeated `REPEAT` extra times (`bench-repeat`) and a plain call on the same
//!   warm instance; the difference over `REPEAT` is compute inside the sandbox.
//! - *compute, fuel on*: the same with fuel metering, to show what it costs (epoch interruption
//!   is always on).
//!
//! `cargo bench --bench overhead`; `cargo test --benches` runs each case once (CI).

use std::time::{Duration, Instant};

use analysis_core::report;
use criterion::{BenchmarkId, Criterion, criterion_main};
use parseltongue_plugins::synthetic::parseltongue_like;
use parseltongue_plugins::{
    Graph, GraphEdge, GraphNode, Limits, MIB, PluginInstance, PluginOptions, Sandbox, bundled,
};

const REPEAT: usize = 4;

/// One analysis, natively, on borrowed input.
fn native(analysis: &str, nodes: &[GraphNode], edges: &[GraphEdge]) -> report::Report {
    let ids = nodes.iter().map(|n| n.id.as_str());
    let pairs = edges.iter().map(|e| (e.source.as_str(), e.target.as_str()));
    match analysis {
        "cycle-finder" => report::cycles(ids, pairs, 100),
        _ => report::ranking(ids, pairs, 10),
    }
}

fn instance(sandbox: &Sandbox, plugin: &str, repeat: usize, fuel: bool) -> PluginInstance {
    let limits = Limits::default()
        .with_memory_bytes(2048 * MIB)
        .with_cpu_time(Duration::from_secs(120))
        .with_fuel(fuel.then_some(u64::MAX / 2));
    let options = PluginOptions::new().limits(limits).config("bench-repeat", repeat.to_string());
    let wasm = bundled::get(plugin).expect("bundled").wasm;
    sandbox.load(plugin, wasm, options).expect("load").instance()
}

fn overhead(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let cache = tempfile::tempdir().expect("temp dir");
    let sandbox = Sandbox::builder().cache_dir(cache.path()).build().expect("sandbox");
    // `cargo bench` passes --bench; in test mode (CI) only the smallest graph runs.
    let sizes: &[usize] =
        if std::env::args().any(|a| a == "--bench") { &[1_000, 10_000, 100_000] } else { &[1_000] };
    for &size in sizes {
        let graph: Graph = parseltongue_like(size, 42);
        for plugin in ["cycle-finder", "page-rank"] {
            let mut group = c.benchmark_group(format!("{plugin} {size}"));
            group.sample_size(10).measurement_time(Duration::from_secs(if size >= 100_000 { 20 } else { 5 }));
            let (nodes, edges) = (graph.nodes(), graph.edges());
            group.bench_function(BenchmarkId::new("native", "compute"), |b| {
                b.iter(|| native(plugin, nodes, edges))
            });
            group.bench_function(BenchmarkId::new("native", "total"), |b| {
                b.iter(|| {
                    let (owned_nodes, owned_edges) = (nodes.to_vec(), edges.to_vec());
                    native(plugin, &owned_nodes, &owned_edges)
                })
            });
            let mut plain = instance(&sandbox, plugin, 0, false);
            group.bench_function(BenchmarkId::new("plugin", "total"), |b| {
                b.iter(|| runtime.block_on(plain.analyze(&graph)).expect("reply"))
            });
            for fuel in [false, true] {
                let mut base = instance(&sandbox, plugin, 0, fuel);
                let mut repeated = instance(&sandbox, plugin, REPEAT, fuel);
                let name = if fuel { "compute, fuel on" } else { "compute" };
                group.bench_function(BenchmarkId::new("plugin", name), |b| {
                    b.iter_custom(|iters| {
                        let mut compute = Duration::ZERO;
                        for _ in 0..iters {
                            let start = Instant::now();
                            runtime.block_on(repeated.analyze(&graph)).expect("reply");
                            let with = start.elapsed();
                            let start = Instant::now();
                            runtime.block_on(base.analyze(&graph)).expect("reply");
                            let without = start.elapsed();
                            compute += with.saturating_sub(without) / REPEAT as u32;
                        }
                        compute
                    })
                });
            }
            group.finish();
        }
    }
}

// In a private module: criterion's generated group function needs no public docs.
mod group {
    criterion::criterion_group!(benches, super::overhead);
}
criterion_main!(group::benches);
