//! `ptplugin run`: one plugin, one graph, through the supervision runtime (one instance).

use std::borrow::Cow;
use std::fmt::Write as _;
use std::process::ExitCode;
use std::sync::Arc;

use parseltongue_plugins::results::{GraphInfo, Results, plugin_results};
use parseltongue_plugins::{
    Analysis, Error, Graph, KvStore, PluginHost, PluginOptions, PluginSpec, PluginStatus, Sandbox, Usage,
};

use crate::args::{ReportFormat, RunArgs};
use crate::output::{self, Output, RunOutput, RunPlugin};
use crate::plugin_source::plugin_spec;
use crate::report::{self, Failure};
use crate::results_out;
use parseltongue_plugins::audit::AuditLog;

pub async fn run(sandbox: &Sandbox, args: RunArgs, quiet: bool) -> Result<ExitCode, Failure> {
    // SARIF, HTML, a file, a baseline or a gate: the one plugin's outcome goes through the
    // same results as `analyze` (a failed plugin is then in the report, and exit 1).
    let r = &args.report;
    let as_results = matches!(args.format, ReportFormat::Sarif | ReportFormat::Html)
        || r.output.is_some()
        || r.baseline.is_some()
        || r.fail_on.is_some();
    let prepared = as_results.then(|| results_out::prepare(&args.report)).transpose()?;
    let source = args.input.source()?;
    let graph = Arc::new(source.load().await?.graph);
    let mut options = PluginOptions::new().limits(args.limits.to_limits());
    for (key, value) in &args.config {
        options = options.config(key.clone(), value.clone());
    }
    let audit = args.audit.as_deref().map(AuditLog::open).transpose()?;
    let spec = plugin_spec(&args, audit.clone()).await?.options(options);
    let mut builder = PluginHost::builder().sandbox(sandbox.clone());
    if let Some(policy) = &args.policy {
        builder = builder.policy_file(policy);
    }
    if let Some(audit) = audit {
        builder = builder.audit_trail(audit);
    }
    if let Some(kv) = &args.kv {
        builder = builder.kv_store(KvStore::open(kv)?);
    }
    let host = builder.start().await?;
    if let Some(prepared) = prepared {
        let outcome = one_result(&host, spec, graph.clone(), &args.input.graph).await;
        host.shutdown().await;
        return results_out::finish(outcome?, &graph, &prepared, &args.report, args.format, quiet);
    }
    let outcome = call(&host, spec, graph).await;
    host.shutdown().await;
    let (analysis, status) = outcome?;
    let out = RunOutput {
        analysis: &analysis,
        plugin: RunPlugin { name: &status.name, sha256: &status.sha256, load: &status.load },
        limits: &status.limits,
    };
    output::print(args.format.errors(), &out)?;
    Ok(ExitCode::SUCCESS)
}

/// Loads and runs the plugin once; its outcome, failed or not, as results.
async fn one_result(
    host: &PluginHost,
    spec: PluginSpec,
    graph: Arc<Graph>,
    source: &str,
) -> Result<Results, Failure> {
    let key = host.load(spec).await?;
    let name = &*key.name;
    let result = host.analyze(name, graph.clone()).await;
    let status = host.status().await;
    let mut results = Results::new(GraphInfo {
        source: source.to_string(),
        nodes: graph.nodes().len(),
        edges: graph.edges().len(),
    });
    results.plugins.push(plugin_results(name, status.plugin(name), result));
    Ok(results)
}

/// Loads, runs once, and reads the status (for the load report, or the failed call's usage).
async fn call(
    host: &PluginHost,
    spec: PluginSpec,
    graph: Arc<Graph>,
) -> Result<(Analysis, PluginStatus), Failure> {
    let key = host.load(spec).await?;
    let name = &*key.name;
    let result = host.analyze(name, graph).await;
    let status = host.status().await.plugin(name).cloned();
    match (result, status) {
        (Ok(analysis), Some(status)) => Ok((analysis, status)),
        (Ok(_), None) => {
            Err(Error::Unavailable { plugin: name.into(), reason: "it vanished after the call".into() }
                .into())
        }
        (Err(error), status) => {
            let usage: Option<Usage> = status.and_then(|s| s.usage).and_then(|u| u.last_call);
            Err(Failure { error: Box::new(error), usage: usage.map(Box::new) })
        }
    }
}

impl Output for RunOutput<'_> {
    fn text(&self) -> String {
        let r = &self.analysis.result;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{}: {} findings, confidence {:.2}",
            self.plugin.name,
            r.findings.len(),
            r.confidence
        );
        for finding in &r.findings {
            let _ = writeln!(out, "  - {finding}");
        }
        if !r.recommendations.is_empty() {
            let _ = writeln!(out, "recommendations:");
            for rec in &r.recommendations {
                let _ = writeln!(out, "  - {rec}");
            }
        }
        let _ = writeln!(
            out,
            "usage: {} [load {:.1} ms, compile cache: {}]",
            report::usage_line(&self.analysis.usage),
            self.plugin.load.load_time.as_secs_f64() * 1000.0,
            cache_word(&self.plugin.load.cache)
        );
        out
    }
}

pub fn cache_word(status: &parseltongue_plugins::CacheStatus) -> Cow<'static, str> {
    use parseltongue_plugins::CacheStatus::*;
    match status {
        Hit => "hit".into(),
        Miss => "miss (compiled)".into(),
        Recompiled(why) => format!("recompiled ({why})").into(),
        Disabled => "off (compiled)".into(),
        Shared => "shared (already loaded)".into(),
    }
}
