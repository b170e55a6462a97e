//! What `watch` and `serve` share: the plugins (default: every bundled analysis) in one
//! long-lived `PluginHost`, and the graph source.

use parseltongue_plugins::bundled::{self, Role};
use parseltongue_plugins::{GraphSource, PluginHost, PluginSpec, Sandbox};

use crate::args::LiveArgs;
use crate::graph_source::graph_source;
use crate::plugin_source::{manifest_path, read_plugin};
use crate::report::Failure;

/// Bundled analyses whose findings are measurements (node-type shares, rank multiples): every
/// edit moves them, so `watch` runs them only when asked.
const MEASUREMENTS: &[&str] = &["node-census", "page-rank"];

/// Who the host is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// `watch`: by default the analyses whose findings are issues, not measurements.
    Watch,
    /// `serve`: by default every analysis; the host keeps its own metrics for `/metrics`.
    Serve,
}

/// The host with the plugins loaded (each warmed, so a plugin that cannot start fails here),
/// and the graph source.
pub async fn start(
    sandbox: &Sandbox,
    args: &LiveArgs,
    purpose: Purpose,
) -> Result<(PluginHost, GraphSource), Failure> {
    let source = graph_source(&args.graph, None, args.max_graph_mb, args.scope.as_deref())?;
    let mut builder = PluginHost::builder().sandbox(sandbox.clone());
    if let Some(policy) = &args.policy {
        builder = builder.policy_file(policy);
    }
    if purpose == Purpose::Serve {
        builder = builder.own_metrics();
    }
    let host = builder.start().await?;
    for spec in specs(&args.plugin, purpose)? {
        if let Err(e) = host.load(spec).await {
            host.shutdown().await;
            return Err(e.into());
        }
    }
    Ok((host, source))
}

/// `--plugin` arguments as specs; none means the bundled analyses for `purpose`.
fn specs(plugins: &[String], purpose: Purpose) -> Result<Vec<PluginSpec>, Failure> {
    if plugins.is_empty() {
        return Ok(bundled::PLUGINS
            .iter()
            .filter(|p| p.role == Role::Analysis)
            .filter(|p| purpose == Purpose::Serve || !MEASUREMENTS.contains(&p.name))
            .map(|p| PluginSpec::bytes(p.name, p.wasm.to_vec()))
            .collect());
    }
    plugins
        .iter()
        .map(|arg| match manifest_path(arg) {
            Some(manifest) => Ok(PluginSpec::manifest(manifest)),
            None => {
                let (name, bytes) = read_plugin(arg)?;
                Ok(PluginSpec::bytes(name, bytes.into_owned()))
            }
        })
        .collect()
}
