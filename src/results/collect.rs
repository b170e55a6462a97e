//! Running a set of loaded plugins on one graph, all at once, and gathering every outcome —
//! findings, or the error that stopped a plugin — into [`Results`]. A plugin that fails does
//! not stop the others.

use std::sync::Arc;
use std::time::Instant;

use crate::error::Error;
use crate::graph::Graph;
use crate::results::fingerprint::fingerprint;
use crate::results::model::{GraphInfo, PluginFailure, PluginResults, ResultFinding, Results, RunUsage};
use crate::runtime::{FailedLoad, PluginHost, PluginStatus};
use crate::sandbox::Analysis;

/// Runs each of `plugins` (loaded in `host`) on `graph` concurrently; `done` is told as each
/// finishes (for a progress bar). Plugins that failed to load (`host.status().failed`) are
/// reported as failed too.
pub async fn analyze(
    host: &PluginHost,
    plugins: &[String],
    graph: Arc<Graph>,
    source: &str,
    done: &(dyn Fn(&str, bool) + Sync),
) -> Results {
    let calls = plugins.iter().map(|name| {
        let graph = graph.clone();
        async move {
            let started = Instant::now();
            let result = host.analyze(name, graph).await;
            done(name, result.is_ok());
            (name, result, started.elapsed().as_secs_f64() * 1000.0)
        }
    });
    let outcomes = futures::future::join_all(calls).await;
    let status = host.status().await;
    let mut results = Results::new(GraphInfo {
        source: source.to_string(),
        nodes: graph.nodes().len(),
        edges: graph.edges().len(),
    });
    for failed in &status.failed {
        results.plugins.push(failed_load(failed));
    }
    for (name, result, wall_ms) in outcomes {
        let mut plugin = plugin_results(name, status.plugin(name), result);
        if let Some(usage) = &mut plugin.usage {
            // The caller's wait (queueing included), not just the call.
            usage.wall_time_ms = usage.wall_time_ms.max(wall_ms);
        }
        results.plugins.push(plugin);
    }
    results
}

/// One plugin's entry from its call's outcome and its status (version, digest, rules).
pub fn plugin_results(
    name: &str,
    status: Option<&PluginStatus>,
    result: Result<Analysis, Error>,
) -> PluginResults {
    let mut out = PluginResults {
        name: name.to_string(),
        version: status.map(|s| s.version.clone()).unwrap_or_default(),
        sha256: status.map(|s| s.sha256.clone()).unwrap_or_default(),
        rules: status.map(|s| s.rules.clone()).unwrap_or_default(),
        error: None,
        findings: Vec::new(),
        recommendations: Vec::new(),
        confidence: None,
        usage: None,
    };
    match result {
        Ok(analysis) => {
            out.findings = analysis
                .result
                .findings
                .into_iter()
                .map(|finding| ResultFinding {
                    fingerprint: fingerprint(name, &finding),
                    finding,
                    baseline_state: None,
                })
                .collect();
            out.recommendations = analysis.result.recommendations;
            out.confidence = Some(analysis.result.confidence);
            out.usage = Some(RunUsage {
                wall_time_ms: analysis.usage.wall_time.as_secs_f64() * 1000.0,
                cpu_time_ms: analysis.usage.cpu_time.as_secs_f64() * 1000.0,
                peak_memory_bytes: analysis.usage.peak_memory_bytes,
            });
        }
        Err(error) => out.error = Some(PluginFailure { kind: error.kind(), message: error.to_string() }),
    }
    out
}

fn failed_load(failed: &FailedLoad) -> PluginResults {
    PluginResults {
        name: failed.source.clone(),
        version: String::new(),
        sha256: String::new(),
        rules: Vec::new(),
        error: Some(PluginFailure { kind: failed.kind, message: failed.error.clone() }),
        findings: Vec::new(),
        recommendations: Vec::new(),
        confidence: None,
        usage: None,
    }
}
