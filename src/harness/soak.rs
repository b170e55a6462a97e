//! Soak: thousands of crash → restart → good reply cycles through a real [`PluginHost`], with the
//! process's memory and file descriptors sampled along the way. Flat is the requirement; the
//! crash-to-good-reply latencies are the restart cost as a caller sees it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::graph::Graph;
use crate::harness::bundled;
use crate::observe::process::{ProcessSample, sample_process};
use crate::runtime::PluginHost;
use crate::runtime::PluginSpec;
use crate::runtime::{Backoff, RestartPolicy};
use crate::sandbox::Sandbox;

/// What a soak run measured.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SoakReport {
    /// Crash/restart cycles run.
    pub cycles: usize,
    /// Restarts the supervisor reported.
    pub restarts: u64,
    /// Wall time of the whole run.
    #[serde(serialize_with = "crate::sandbox::as_millis", rename = "elapsed_ms")]
    pub elapsed: Duration,
    /// Crash reply → next good reply (restart, instantiation and a call), median.
    #[serde(serialize_with = "crate::sandbox::as_millis", rename = "restart_p50_ms")]
    pub restart_p50: Duration,
    /// The same, 99th percentile.
    #[serde(serialize_with = "crate::sandbox::as_millis", rename = "restart_p99_ms")]
    pub restart_p99: Duration,
    /// Samples over the run; the first is taken after a warm-up tenth of the cycles.
    pub samples: Vec<ProcessSample>,
    /// Plugin instances alive after shutdown (must be 0).
    pub live_instances_after: usize,
}

impl SoakReport {
    /// RSS growth from the first sample to the last, in bytes (negative if it shrank).
    pub fn rss_growth(&self) -> i64 {
        crate::observe::process::growth(&self.samples, |s| s.rss_bytes as i64)
    }

    /// File-descriptor growth from the first sample to the last.
    pub fn fd_growth(&self) -> i64 {
        crate::observe::process::growth(&self.samples, |s| s.fds as i64)
    }
}

/// Runs `cycles` crash/restart cycles of the bundled `fault-panic` plugin, sampling the process
/// `samples` times after a warm-up.
///
/// # Errors
///
/// Any error other than the expected trap and recovery, which would mean supervision failed.
pub async fn soak(sandbox: Sandbox, cycles: usize, samples: usize) -> Result<SoakReport> {
    let policy = relentless();
    let wasm = bundled::get("fault-panic").map(|p| p.wasm).unwrap_or_default();
    let host = PluginHost::builder()
        .sandbox(sandbox.clone())
        .restart_policy(policy)
        .plugin(PluginSpec::bytes("fault-panic", wasm))
        .start()
        .await?;
    let crash = Arc::new(Graph::from_json(r#"{"nodes":[{"id":"a","node_type":"fn"}]}"#)?);
    let calm = Arc::new(Graph::default());
    let warm_up = cycles / 10;
    let every = ((cycles - warm_up) / samples.max(1)).max(1);
    // Latencies go into a histogram of constant size: a list of one entry per cycle would itself
    // grow the RSS this run is measuring (16 bytes a cycle: +6 MiB over 400,000 cycles).
    let mut latencies =
        hdrhistogram::Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).map_err(|e| {
            Error::Unavailable { plugin: "fault-panic".into(), reason: format!("histogram: {e}") }
        })?;
    let mut taken = Vec::new();
    let started = Instant::now();
    for cycle in 0..cycles {
        if cycle >= warm_up && (cycle - warm_up).is_multiple_of(every) {
            taken.push(sample_process(cycle));
        }
        match host.analyze("fault-panic", crash.clone()).await {
            Err(e) if e.kind() == crate::ErrorKind::Trap => {}
            other => return Err(unexpected("a trap", other)),
        }
        let crashed = Instant::now();
        if let Err(e) = host.analyze("fault-panic", calm.clone()).await {
            return Err(unexpected("a good reply after the restart", Err(e)));
        }
        latencies.saturating_record(u64::try_from(crashed.elapsed().as_nanos()).unwrap_or(u64::MAX).max(1));
    }
    taken.push(sample_process(cycles));
    let elapsed = started.elapsed();
    let restarts = host
        .status()
        .await
        .plugin("fault-panic")
        .and_then(|p| p.supervisor.as_ref().map(|s| s.restarts))
        .unwrap_or(0);
    host.shutdown().await;
    let pick = |q: f64| Duration::from_nanos(latencies.value_at_quantile(q));
    Ok(SoakReport {
        cycles,
        restarts,
        elapsed,
        restart_p50: pick(0.5),
        restart_p99: pick(0.99),
        samples: taken,
        live_instances_after: sandbox.live_instances(),
    })
}

/// Restart at once, every time, whatever the input: what soak and load runs want.
pub(crate) fn relentless() -> RestartPolicy {
    RestartPolicy {
        backoff: Backoff { initial: Duration::ZERO, max: Duration::ZERO, multiplier: 1.0, jitter: 0.0 },
        max_restarts: u32::MAX,
        poison_threshold: u32::MAX,
        ..RestartPolicy::default()
    }
}

fn unexpected(wanted: &str, got: Result<crate::Analysis>) -> Error {
    let got = match got {
        Ok(_) => "success".to_string(),
        Err(e) => format!("{}: {e}", e.kind()),
    };
    Error::Unavailable { plugin: "fault-panic".into(), reason: format!("soak expected {wanted}, got {got}") }
}
