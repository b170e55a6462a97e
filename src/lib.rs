//! Run community-written [Parseltongue] analysis plugins — WebAssembly components — safely.
//!
//! A plugin implements the `parseltongue:plugin/analyzer` world (`wit/plugin.wit`): it exports
//! `analyze-graph(nodes) -> analysis-result` and may call the host's `log`, `edges` and
//! `config`. The [`Sandbox`] compiles plugins (once, thanks to a compile cache), and runs each
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
//! let limits = Limits { cpu_time: Duration::from_millis(250), ..Limits::default() };
//! let plugin = sandbox.load_file("cycle_finder.wasm", PluginOptions::new().limits(limits))?;
//! let analysis = plugin.analyze(&Graph::from_path("graph.json")?).await?;
//! for finding in &analysis.result.findings {
//!     println!("{finding}");
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
//!     assert!(god.result.findings[0].starts_with("type CozoDbStorage: 30 methods"));
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
//! [Parseltongue]: https://github.com/that-in-rust/parseltongue

#![warn(missing_docs)]

pub mod audit;
mod bindings;
#[cfg(feature = "bundled-plugins")]
pub mod bundled;
mod cache;
mod capture;
#[cfg(feature = "bundled-plugins")]
pub mod conformance;
mod contract;
mod cpu;
pub mod distribution;
mod engine;
mod error;
pub mod files;
mod graph;
pub mod import;
mod instance;
pub mod kv;
mod limits;
#[cfg(feature = "bundled-plugins")]
pub mod load;
pub mod manifest;
mod output;
mod plugin;
pub mod policy;
pub mod process;
mod runtime;
mod sandbox;
pub mod sdk;
#[cfg(feature = "bundled-plugins")]
pub mod soak;
mod state;
pub mod synthetic;
pub mod telemetry;
mod throttle;
pub mod wasi;

pub use bindings::{AnalysisResult, CONTRACT_VERSION, GraphEdge, GraphNode, Level, WORLD};
pub use cache::{CacheStatus, CompileCache, sha256};
pub use capture::LogRecord;
pub use contract::Surface;
pub use distribution::{Distribution, VerifiedArtifact};
pub use engine::{EPOCH_TICK, Pooling};
pub use error::{Clock, Error, ErrorKind, Result};
pub use graph::Graph;
pub use instance::{Analysis, PluginInstance, Usage};
pub use kv::KvStore;
pub use limits::{InvalidLimit, KIB, Limits, MIB};
pub use manifest::{Capabilities, Manifest, RequestedLimits};
pub use plugin::{LoadReport, Plugin, PluginOptions};
pub use policy::{Allowance, Decision, Denied, Grants, Policy};
pub use runtime::PluginKey;
pub use runtime::discovery::discover;
pub use runtime::events::{EventKind, HostEvent};
pub use runtime::host::{HostStatus, PluginHost, PluginHostBuilder, PluginStatus};
pub use runtime::monitor::PluginUsage;
pub use runtime::quota::{Quota, QuotaLevel};
pub use runtime::registry::FailedLoad;
pub use runtime::restart::{Backoff, RestartPolicy, Strategy};
pub use runtime::spec::PluginSpec;
pub use runtime::supervisor::{InstanceState, PluginState, SupervisorStatus};
pub use sandbox::{Inspection, Sandbox, SandboxBuilder};
