//! Making reports (issue 18): the bundled analyses' results on the real Parseltongue v1.7.2
//! sample (2,516 nodes) and on a 10,000-node synthetic graph, rendered as SARIF (serde-sarif
//! model, pretty JSON) and as the HTML report (figures laid out by layout-rs). The analyses run
//! once, outside the measurement; their own cost is `benches/overhead.rs`'s. Sizes are printed.
//!
//! `cargo bench --bench report` for figures; `cargo test --benches` runs each case once (CI).

use std::sync::Arc;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_main};
use parseltongue_plugins::bundled::{self, Role};
use parseltongue_plugins::results::{self, Results, SarifOptions};
use parseltongue_plugins::{Contract, Graph, PluginHost, PluginSpec, synthetic};

/// The default `analyze` set on `graph`, once.
fn results_of(graph: Arc<Graph>, source: &str) -> Results {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let specs = bundled::PLUGINS
            .iter()
            .filter(|p| p.role == Role::Analysis && Contract::declared_by(p.wasm) == Some(Contract::V0_2))
            .map(|p| PluginSpec::bytes(p.name, p.wasm));
        let host = PluginHost::builder().plugins(specs).start().await.unwrap();
        let names = host.plugins();
        let results = results::analyze(&host, &names, graph, source, &|_, _| {}).await;
        host.shutdown().await;
        results
    })
}

fn reports(c: &mut Criterion) {
    let mut group = c.benchmark_group("report");
    group.sample_size(10).measurement_time(Duration::from_secs(5));
    let cases = [
        ("v1.7.2 sample", Arc::new(bundled::parseltongue_sample().graph)),
        ("synthetic 10k", Arc::new(synthetic::parseltongue_like(10_000, 7))),
    ];
    for (name, graph) in cases {
        let results = results_of(graph.clone(), name);
        let options = SarifOptions { source_root: Some("/src".into()) };
        let sarif = results::to_sarif_json(&results, &options);
        let html = results::to_html(&results, &graph, None);
        eprintln!(
            "{name}: {} nodes, {} edges, {} findings; SARIF {} bytes, HTML {} bytes",
            graph.nodes().len(),
            graph.edges().len(),
            results.findings().count(),
            sarif.len(),
            html.len()
        );
        group.bench_function(BenchmarkId::new("sarif", name), |b| {
            b.iter(|| results::to_sarif_json(&results, &options))
        });
        group.bench_function(BenchmarkId::new("html", name), |b| {
            b.iter(|| results::to_html(&results, &graph, None))
        });
    }
    group.finish();
}

fn benches() {
    let mut c = Criterion::default().configure_from_args();
    reports(&mut c);
}

criterion_main!(benches);
