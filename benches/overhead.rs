//! Plugin versus native, against the honest baseline (issue 17): the same analysis source
//! (`guests/analysis-core`) compiled into this benchmark natively and run as a bundled contract
//! 0.2 plugin, on Parseltongue-shaped graphs of 1k, 10k and 100k nodes
//! (`synthetic::parseltongue_like`).
//!
//! - *native*: the analysis on a view over the host's own columns (`Graph::columns`, built once
//!   per graph), borrowed: nothing copied. This is what an in-process analysis would cost.
//! - *plugin total*: one call on a warm instance: lowering the columns into the guest, the
//!   guest's view and the analysis, lifting and checking the report, resolving its nodes.
//! - *plugin compute*: each sample times a call with the analysis repeated `REPEAT` extra times
//!   (`bench-repeat`) and a plain call on the same warm instance; the difference over `REPEAT`
//!   is the analysis inside the sandbox. Also with fuel metering on (epoch interruption is
//!   always on: the CPU-time limit depends on it).
//! - *transfer*: `probe-transfer` (answers without reading its input) against a native copy of
//!   the same column bytes into buffers allocated for the copy — the floor for a sandbox that
//!   must copy.
//! - *0.1*: `legacy-cycle-finder`, the same cycles analysis through contract 0.1 (strings,
//!   `host.edges()`), for comparison with the figures before 0.2.
//! - *native, deep clone*: the old baseline (cloning every node and edge first), for information.
//!
//! `cargo bench --bench overhead`; `cargo test --benches` runs each case once (CI).

use std::time::{Duration, Instant};

use analysis_core::blast;
use analysis_core::columns::{Columns, View};
use analysis_core::model::CodeGraph;
use analysis_core::report::{self, Report};
use criterion::{BatchSize, BenchmarkId, Criterion, criterion_main};
use parseltongue_plugins::synthetic::parseltongue_like;
use parseltongue_plugins::{Graph, Limits, MIB, PluginInstance, PluginOptions, Sandbox, bundled};

const REPEAT: usize = 4;
const ANALYSES: [&str; 3] = ["cycle-finder", "page-rank", "blast-radius"];

/// The host's columns as the analyses' borrowed slices.
fn borrow(c: &parseltongue_plugins::Columns) -> Columns<'_> {
    Columns {
        text: &c.text,
        string_ends: &c.string_ends,
        node_types: &c.node_types,
        meta_starts: &c.meta_starts,
        meta_keys: &c.meta_keys,
        meta_values: &c.meta_values,
        edge_sources: &c.edge_sources,
        edge_targets: &c.edge_targets,
        edge_types: &c.edge_types,
    }
}

/// One analysis, natively, exactly as the plugin runs it: check the columns, build the graph's
/// adjacency, analyse.
fn native(analysis: &str, columns: Columns<'_>) -> Report {
    let view = View::new(columns).expect("consistent columns");
    let graph = CodeGraph::new(view);
    match analysis {
        "cycle-finder" => {
            let mut r = report::cycles(&graph, &|_| true, 100);
            r.findings.extend(report::module_cycles(&graph, 100).findings);
            r
        }
        "page-rank" => report::ranking(&graph, 10),
        _ => blast::report(&graph, 10),
    }
}

/// The 0.1 path natively: ids hashed into a graph over vertex numbers, then the same SCC.
fn native_v01(graph: &Graph) -> Report {
    report::cycles_by_id(
        graph.nodes().iter().map(|n| n.id.as_str()),
        graph.edges().iter().map(|e| (e.source.as_str(), e.target.as_str())),
        100,
    )
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

/// Per sample: (call with `REPEAT` extra runs − plain call) / `REPEAT`.
fn compute(
    runtime: &tokio::runtime::Runtime,
    graph: &Graph,
    repeated: &mut PluginInstance,
    base: &mut PluginInstance,
    iters: u64,
) -> Duration {
    let mut compute = Duration::ZERO;
    for _ in 0..iters {
        let start = Instant::now();
        runtime.block_on(repeated.analyze(graph)).expect("reply");
        let with = start.elapsed();
        let start = Instant::now();
        runtime.block_on(base.analyze(graph)).expect("reply");
        let without = start.elapsed();
        compute += with.saturating_sub(without) / REPEAT as u32;
    }
    compute
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
        let measure = Duration::from_secs(if size >= 100_000 { 20 } else { 5 });
        let host_columns = graph.columns();
        let cols = borrow(&host_columns);

        let mut group = c.benchmark_group(format!("transfer {size}"));
        group.sample_size(20).measurement_time(measure);
        group.bench_function("columns build (once per graph)", |b| {
            // A fresh graph per iteration (its columns not built yet), made outside the timing.
            let fresh = || Graph::new(graph.nodes().to_vec(), graph.edges().to_vec()).expect("valid");
            b.iter_batched(fresh, |g| g.columns(), BatchSize::LargeInput)
        });
        let words: [&[u32]; 8] = [
            cols.string_ends,
            cols.node_types,
            cols.meta_starts,
            cols.meta_keys,
            cols.meta_values,
            cols.edge_sources,
            cols.edge_targets,
            cols.edge_types,
        ];
        group.bench_function("native memcpy of the columns", |b| {
            b.iter(|| {
                // Fresh buffers, as the guest's `cabi_realloc` gives fresh memory per column.
                let text = std::hint::black_box(cols.text.to_vec()).len();
                text + words.iter().map(|col| std::hint::black_box(col.to_vec()).len() * 4).sum::<usize>()
            })
        });
        let mut probe = instance(&sandbox, "probe-transfer", 0, false);
        group.bench_function("plugin call, nothing read (probe-transfer)", |b| {
            b.iter(|| runtime.block_on(probe.analyze(&graph)).expect("reply"))
        });
        group.finish();

        for plugin in ANALYSES {
            let mut group = c.benchmark_group(format!("{plugin} {size}"));
            group.sample_size(10).measurement_time(measure);
            group.bench_function(BenchmarkId::new("native", "borrowed columns"), |b| {
                b.iter(|| native(plugin, cols))
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
                    b.iter_custom(|iters| compute(&runtime, &graph, &mut repeated, &mut base, iters))
                });
            }
            if plugin == "cycle-finder" {
                group.bench_function(BenchmarkId::new("native", "deep clone (old baseline)"), |b| {
                    b.iter(|| {
                        let copy = Graph::new(graph.nodes().to_vec(), graph.edges().to_vec()).expect("valid");
                        native(plugin, borrow(&copy.columns()))
                    })
                });
                group.bench_function(BenchmarkId::new("0.1", "native"), |b| b.iter(|| native_v01(&graph)));
                let mut legacy = instance(&sandbox, "legacy-cycle-finder", 0, false);
                group.bench_function(BenchmarkId::new("0.1", "plugin total"), |b| {
                    b.iter(|| runtime.block_on(legacy.analyze(&graph)).expect("reply"))
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
