//! Importing Parseltongue exports: the real v0.9.7 self-analysis (127 entities, 4,316 edges) and
//! synthetic workspace exports of 5,000 and 20,000 entities (about 47,000 and 190,000 edges),
//! from JSON text to a validated graph with every by-name target resolved.
//!
//! `cargo bench --bench import` for figures; `cargo test --benches` runs each case once (CI).

use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_main};
use parseltongue_plugins::{bundled, import, synthetic};

fn import_exports(c: &mut Criterion) {
    let mut group = c.benchmark_group("import");
    group.sample_size(10).measurement_time(Duration::from_secs(5));
    let real = (bundled::PARSELTONGUE_ENTITIES.to_string(), bundled::PARSELTONGUE_EDGES.to_string());
    let mut cases = vec![("v0.9.7 self-analysis".to_string(), real)];
    let sizes: &[usize] = if cfg!(debug_assertions) { &[5_000] } else { &[5_000, 20_000] };
    for &n in sizes {
        cases.push((format!("synthetic {n} entities"), synthetic::parseltongue_export(n, 11)));
    }
    for (name, (entities, edges)) in &cases {
        let stats = import::from_texts(entities, Some(edges)).expect("imports").stats;
        eprintln!(
            "{name}: {} edges read, {} nodes, {} resolved by name",
            stats.edges_read,
            stats.nodes(),
            stats.resolved()
        );
        group.throughput(Throughput::Elements(stats.edges_read as u64));
        group.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter(|| import::from_texts(entities, Some(edges)).expect("imports"))
        });
    }
    group.finish();
}

// In a private module: criterion's generated group function needs no public docs.
mod group {
    criterion::criterion_group!(benches, super::import_exports);
}
criterion_main!(group::benches);
