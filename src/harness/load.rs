//! Sustained load: many plugins answering analyses without pause while, beside them, a faulty
//! plugin crashes and restarts over and over — with the process's memory and descriptors sampled
//! over time. A host that leaks shows it here as a slope; flat is the requirement.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::error::{ErrorKind, Result};
use crate::graph::Graph;
use crate::harness::bundled::{self, Role};
use crate::observe::sample_process;
use crate::runtime::PluginHost;
use crate::runtime::PluginSpec;
use crate::sandbox::Sandbox;

/// What to run.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// How long to keep the load on.
    pub duration: Duration,
    /// Analysis plugins loaded (copies of the bundled analyses under distinct names).
    pub plugins: usize,
    /// Callers issuing analyses at once.
    pub concurrency: usize,
    /// Nodes in the synthetic graph every call analyses.
    pub graph_nodes: usize,
    /// How often to sample the process.
    pub sample_every: Duration,
    /// Serve metrics here while the load runs (see `PluginHostBuilder::metrics_endpoint`).
    pub metrics_endpoint: Option<SocketAddr>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            duration: Duration::from_secs(30),
            plugins: 50,
            concurrency: 8,
            graph_nodes: 300,
            sample_every: Duration::from_secs(1),
            metrics_endpoint: None,
        }
    }
}

/// One sample over time.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct TimedSample {
    /// Since the load started, seconds.
    pub at_secs: f64,
    /// Analyses answered so far.
    pub calls: u64,
    /// Crash/restart cycles so far.
    pub crash_cycles: u64,
    /// Resident set size, bytes.
    pub rss_bytes: u64,
    /// Open file descriptors.
    pub fds: usize,
}

/// What a load run measured.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LoadReport {
    /// Analysis plugins under load.
    pub plugins: usize,
    /// Analyses answered.
    pub calls: u64,
    /// Analyses that failed (each is a finding: the analyses never fail on these graphs).
    pub failed_calls: u64,
    /// Crash → restart → good reply cycles of the faulty plugin.
    pub crash_cycles: u64,
    /// Wall time.
    #[serde(serialize_with = "crate::sandbox::as_millis", rename = "elapsed_ms")]
    pub elapsed: Duration,
    /// Samples, the first after a warm-up tenth of the run.
    pub samples: Vec<TimedSample>,
    /// Plugin instances alive after shutdown (must be 0).
    pub live_instances_after: usize,
}

impl LoadReport {
    /// RSS growth from the first sample to the last, bytes.
    pub fn rss_growth(&self) -> i64 {
        crate::observe::process::growth(&self.samples, |s| s.rss_bytes as i64)
    }

    /// Descriptor growth from the first sample to the last.
    pub fn fd_growth(&self) -> i64 {
        crate::observe::process::growth(&self.samples, |s| s.fds as i64)
    }

    /// Analyses per second.
    pub fn throughput(&self) -> f64 {
        self.calls as f64 / self.elapsed.as_secs_f64().max(f64::MIN_POSITIVE)
    }
}

/// What [`run`] reports while it runs (progress for people).
#[derive(Debug)]
pub enum Progress<'a> {
    /// The host is up; its metrics endpoint, if asked for, is bound here.
    Started {
        /// The address the endpoint listens on (the port chosen, if 0 was asked for).
        metrics: Option<SocketAddr>,
    },
    /// A sample, as it is taken.
    Sample(&'a TimedSample),
}

/// Runs the load, calling `on_progress` once the host is up and with each sample as it is taken.
///
/// # Errors
///
/// The host cannot start (e.g. the metrics address is taken).
pub async fn run(
    sandbox: Sandbox,
    options: LoadOptions,
    mut on_progress: impl FnMut(Progress<'_>),
) -> Result<LoadReport> {
    let analyses: Vec<&bundled::BundledPlugin> =
        bundled::PLUGINS.iter().filter(|p| p.role == Role::Analysis).collect();
    let names: Vec<String> =
        (0..options.plugins.max(1)).map(|i| format!("{}-{i}", analyses[i % analyses.len()].name)).collect();
    let specs = names
        .iter()
        .enumerate()
        .map(|(i, name)| PluginSpec::bytes(name.clone(), analyses[i % analyses.len()].wasm));
    let crash = bundled::get("fault-panic").map(|p| p.wasm).unwrap_or_default();
    let policy = crate::harness::soak::relentless();
    let mut builder = PluginHost::builder()
        .sandbox(sandbox.clone())
        .restart_policy(policy)
        .plugins(specs)
        .plugin(PluginSpec::bytes("fault-panic", crash));
    if let Some(addr) = options.metrics_endpoint {
        builder = builder.metrics_endpoint(addr);
    }
    let host = builder.start().await?;
    on_progress(Progress::Started { metrics: host.metrics_endpoint() });
    let graph = Arc::new(crate::graph::synthetic::parseltongue_like(options.graph_nodes, 7));
    let calls = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let cycles = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let names = Arc::new(names);

    let mut workers = Vec::new();
    for worker in 0..options.concurrency.max(1) {
        let (host, graph, names) = (host.clone(), graph.clone(), names.clone());
        let (calls, failed, stop) = (calls.clone(), failed.clone(), stop.clone());
        workers.push(tokio::spawn(async move {
            let mut next = worker;
            while !stop.load(Ordering::Relaxed) {
                let name = &names[next % names.len()];
                next += options.concurrency.max(1);
                match host.analyze(name, graph.clone()).await {
                    Ok(_) => calls.fetch_add(1, Ordering::Relaxed),
                    Err(e) => {
                        tracing::warn!("load: {name}: {e}");
                        failed.fetch_add(1, Ordering::Relaxed)
                    }
                };
            }
        }));
    }
    {
        let (host, cycles, stop) = (host.clone(), cycles.clone(), stop.clone());
        workers.push(tokio::spawn(async move {
            let crash = Arc::new(Graph::from_json(r#"{"nodes":[{"id":"a","node_type":"fn"}]}"#).unwrap_or_default());
            let calm = Arc::new(Graph::default());
            while !stop.load(Ordering::Relaxed) {
                let crashed = matches!(host.analyze("fault-panic", crash.clone()).await, Err(e) if e.kind() == ErrorKind::Trap);
                if crashed && host.analyze("fault-panic", calm.clone()).await.is_ok() {
                    cycles.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }

    let started = Instant::now();
    let mut samples = Vec::new();
    // The first sample after a warm-up tenth of the run, the last at its end.
    let mut next_sample = options.duration / 10;
    loop {
        tokio::time::sleep(next_sample.saturating_sub(started.elapsed())).await;
        let process = sample_process(0);
        let sample = TimedSample {
            at_secs: started.elapsed().as_secs_f64(),
            calls: calls.load(Ordering::Relaxed),
            crash_cycles: cycles.load(Ordering::Relaxed),
            rss_bytes: process.rss_bytes,
            fds: process.fds,
        };
        on_progress(Progress::Sample(&sample));
        samples.push(sample);
        if started.elapsed() >= options.duration {
            break;
        }
        next_sample =
            (next_sample + options.sample_every.max(Duration::from_millis(10))).min(options.duration);
    }
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        let _ = w.await;
    }
    let elapsed = started.elapsed();
    host.shutdown().await;
    Ok(LoadReport {
        plugins: names.len(),
        calls: calls.load(Ordering::Relaxed),
        failed_calls: failed.load(Ordering::Relaxed),
        crash_cycles: cycles.load(Ordering::Relaxed),
        elapsed,
        samples,
        live_instances_after: sandbox.live_instances(),
    })
}
