//! Run community-written [Parseltongue] analysis plugins — WebAssembly components — safely.
//!
//! A plugin implements the `parseltongue:plugin/analyzer` world of contract 0.2
//! (`wit/v0.2/plugin.wit`: it exports `analyze(graph) -> report`, the graph as columns, findings
//! with a rule, a severity and the nodes they are about, and `rules()`) or of the seed's contract
//! 0.1 (`wit/plugin.wit`: `analyze-graph(nodes) -> analysis-result`, findings as text); both call
//! the host's `log` and `config` (0.1 also `edges`). Either way a call returns a [`Report`]. The [`Sandbox`] compiles plugins (once, thanks to a compile cache), and runs each
//! call under per-plugin [`Limits`] — memory, CPU time, optional fuel, wasm stack, output
//! size — with a deny-by-default WASI: no files, no network, no environment. Whatever a plugin
//! does, the host gets a typed [`Error`] back, never a crash.
//!
//! ```no_run
//! # async fn demo() -> parseltongue_plugins::Result<()> {
//! use parseltongue_plugins::{Graph, Limits, PluginOptions, Sandbox};
//! use std::time::Duration;
//!
//! let sandbox = Sandbox::new()?;
//! let limits = Limits::default().with_cpu_time(Duration::from_millis(250));
//! let plugin = sandbox.load_file("cycle_finder.wasm", PluginOptions::new().limits(limits))?;
//! let analysis = plugin.analyze(&Graph::from_path("graph.json")?).await?;
//! for finding in &analysis.result.findings {
//!     println!("{finding}"); // warning cycle.dependency: dependency cycle of 2 nodes: … — open (src/store.rs:12)
//! }
//! # Ok(()) }
//! ```
//!
//! Embedding, end to end — import a Parseltongue export, start a supervised host with plugins,
//! analyse, read the status, shut down. This example runs as a doc test (with the bundled
//! plugins and the bundled Parseltongue sample; in an application they come from files):
//!
//! ```
//! # #[cfg(feature = "bundled-plugins")]
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use parseltongue_plugins::{PluginHost, PluginSpec, bundled, import};
//!
//! // What Parseltongue exported: entities and edges (`import::load(entities_path, Some(edges_path))`).
//! let imported = import::from_texts(bundled::PARSELTONGUE_ENTITIES, Some(bundled::PARSELTONGUE_EDGES))?;
//! assert_eq!(imported.stats.edges(), 4316);
//! let graph = imported.graph;
//!
//! tokio::runtime::Runtime::new()?.block_on(async {
//!     let host = PluginHost::builder()
//!         .plugin(PluginSpec::bytes("dead-code", bundled::get("dead-code").unwrap().wasm))
//!         .plugin(PluginSpec::bytes("god-objects", bundled::get("god-objects").unwrap().wasm))
//!         .start()
//!         .await?;
//!     let god = host.analyze("god-objects", graph.clone()).await?;
//!     let biggest = &god.result.findings[0];
//!     assert_eq!(biggest.rule, "god-object.methods");
//!     assert!(biggest.message.starts_with("type CozoDbStorage: 30 methods"));
//!     // Where it is: the nodes it is about, with their files and lines.
//!     assert!(biggest.nodes[0].file.as_deref().is_some_and(|f| f.ends_with("cozo_client.rs")));
//!     for (plugin, result) in host.analyze_all(graph).await {
//!         println!("{plugin}: {} findings", result?.result.findings.len());
//!     }
//!     host.shutdown().await;
//!     Ok(())
//! })
//! # }
//! # #[cfg(not(feature = "bundled-plugins"))]
//! # fn main() {}
//! ```
//!
//! Plugins from OCI registries go through [`distribution`] first: digests checked, signatures
//! verified against the host's trust policy, and only a [`VerifiedArtifact`] becomes a
//! [`PluginSpec`]:
//!
//! ```no_run
//! # async fn demo() -> parseltongue_plugins::Result<()> {
//! use parseltongue_plugins::distribution::{Distribution, store::Store, trust::TrustPolicy};
//! use parseltongue_plugins::{PluginHost, PluginSpec};
//!
//! let trust = TrustPolicy { keys: vec!["release.pub".into()], ..TrustPolicy::default() };
//! let registry = Distribution::new(Store::open("plugin-store")?).trust(trust);
//! let census = registry.pull("registry.example.org/plugins/census@^1.2").await?;
//! let host = PluginHost::builder().plugin(PluginSpec::artifact(census)).start().await?;
//! # host.shutdown().await; Ok(()) }
//! ```
//!
//! Today's Parseltongue (v1.7) serves its graph over HTTP only; read it from the running
//! `pt08-http-code-query-server` (every edge page, placeholders resolved by name):
//!
//! ```no_run
//! # async fn demo() -> parseltongue_plugins::Result<()> {
//! use parseltongue_plugins::{GraphSource, ServerSource};
//!
//! let server = ServerSource::new("http://127.0.0.1:7777")?.scope("crates");
//! let imported = server.fetch().await?;
//! println!("{}", imported.stats); // entities, edges, resolution table
//! // Or anything `--graph` takes: a URL, a directory of saved answers, an export file.
//! let graph = GraphSource::parse("http://127.0.0.1:7777", None, 1 << 30)?.load().await?.graph;
//! # let _ = graph; Ok(()) }
//! ```
//!
//! [Parseltongue]: https://github.com/that-in-rust/parseltongue

// The layers, lowest first; a layer imports only layers above it in this list (ARCHITECTURE.md,
// "Layers"; `tests/modules.rs` checks it). `error` and `files` are the foundation all may use.
mod error;
pub mod files;

mod contract;
pub mod distribution;
mod graph;
#[cfg(feature = "bundled-plugins")]
mod harness;
pub mod live;
mod observe;
mod policy;
pub mod results;
mod runtime;
mod sandbox;
pub mod sdk;

pub use contract::{
    AnalysisResult, CONTRACT_VERSION, Columns, Contract, Finding, GraphEdge, GraphNode, Level, NodeRef,
    Report, Rule, Severity, Surface, WORLD,
};
pub use distribution::{Distribution, VerifiedArtifact};
pub use error::{Clock, Error, ErrorKind, InvalidLimit, Result};
pub use graph::source::{GraphSource, ServerCounters, ServerSource};
pub use graph::{Graph, import, synthetic};
#[cfg(feature = "bundled-plugins")]
pub use harness::{bundled, conformance, load, soak};
pub use observe::{EventKind, HostEvent, PluginKey, Quota, QuotaLevel, audit, process, telemetry};
pub use policy::{
    Allowance, Capabilities, Decision, Denied, Grants, KIB, Limits, MIB, Manifest, Policy, RequestedLimits,
    manifest,
};
pub use runtime::{
    Backoff, FailedLoad, HostStatus, InstanceState, PluginHost, PluginHostBuilder, PluginSpec, PluginState,
    PluginStatus, PluginUsage, RestartPolicy, Strategy, SupervisorStatus, discover,
};
pub use sandbox::{
    Analysis, CacheStatus, CompileCache, EPOCH_TICK, Inspection, KvStore, LoadReport, LogRecord, Plugin,
    PluginInstance, PluginOptions, Pooling, Sandbox, SandboxBuilder, Usage, kv, sha256, wasi,
};
