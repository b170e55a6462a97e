//! `ptplugin analyze`: a set of plugins on one graph through one supervised host, all at once,
//! with a progress bar on a terminal; one combined result as text, JSON, SARIF or HTML.

use std::process::ExitCode;
use std::sync::Arc;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use parseltongue_plugins::bundled::{self, Role};
use parseltongue_plugins::{Contract, PluginHost, PluginOptions, PluginSpec, Sandbox, results};

use crate::args::AnalyzeArgs;
use crate::plugin_source::spec_for;
use crate::report::Failure;
use crate::results_out;

pub async fn analyze(sandbox: &Sandbox, args: AnalyzeArgs, quiet: bool) -> Result<ExitCode, Failure> {
    // Bad input ends here, before a graph is read or a plugin compiled.
    let prepared = results_out::prepare(&args.report)?;
    let source = args.input.source()?;
    let mut options = PluginOptions::new().limits(args.limits.to_limits());
    for (key, value) in &args.config {
        options = options.config(key.clone(), value.clone());
    }
    let mut specs = Vec::new();
    for arg in &args.plugin {
        specs.push(
            spec_for(arg, &args.registry, args.policy.as_deref(), None).await?.options(options.clone()),
        );
    }
    if args.plugin.is_empty() && args.plugins.is_none() {
        specs.extend(default_plugins().map(|p| PluginSpec::bytes(p.name, p.wasm).options(options.clone())));
    }
    let graph = Arc::new(source.load().await?.graph);

    let mut builder = PluginHost::builder().sandbox(sandbox.clone()).limits(args.limits.to_limits());
    if let Some(policy) = &args.policy {
        builder = builder.policy_file(policy);
    }
    if let Some(dir) = &args.plugins {
        if !dir.is_dir() {
            return Err(parseltongue_plugins::Error::NoSuchPlugin {
                what: format!("--plugins {}: no such directory", dir.display()),
            }
            .into());
        }
        builder = builder.plugin_dir(dir);
    }
    let host = builder.plugins(specs).start().await?;
    let names = host.plugins();
    // Plugins that failed to load are already done (and reported as failed).
    let failed_loads = host.status().await.failed.len() as u64;
    let bar = progress(names.len() as u64 + failed_loads, quiet || args.registry.store.no_progress);
    bar.inc(failed_loads);
    let done = |name: &str, ok: bool| {
        bar.set_message(format!("{name} {}", if ok { "done" } else { "failed" }));
        bar.inc(1);
    };
    let results = results::analyze(&host, &names, graph.clone(), &args.input.graph, &done).await;
    bar.finish_and_clear();
    host.shutdown().await;
    results_out::finish(results, &graph, &prepared, &args.report, args.format, quiet)
}

/// Every bundled analysis of contract 0.2 (the 0.1 `legacy-*` ones repeat them as text).
fn default_plugins() -> impl Iterator<Item = &'static bundled::BundledPlugin> {
    bundled::PLUGINS
        .iter()
        .filter(|p| p.role == Role::Analysis && Contract::declared_by(p.wasm) == Some(Contract::V0_2))
}

/// A bar on stderr when it is a terminal (indicatif draws nothing otherwise).
fn progress(len: u64, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{spinner} analysing {pos}/{len} plugins [{elapsed}] {wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}
