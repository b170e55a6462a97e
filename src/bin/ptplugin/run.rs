//! `ptplugin run`: one plugin, one graph.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::process::ExitCode;

use parseltongue_plugins::{Analysis, Error, Graph, Plugin, PluginOptions, Sandbox, bundled};
use serde_json::json;

use crate::args::{Format, RunArgs};
use crate::report::{self, Failure};

/// Reads a plugin given as a path or as `bundled:NAME`; returns its name and bytes.
pub fn read_plugin(spec: &str) -> Result<(String, Cow<'static, [u8]>), Error> {
    if let Some(name) = spec.strip_prefix("bundled:") {
        let plugin = bundled::get(name).ok_or_else(|| Error::Io {
            context: format!(
                "no bundled plugin `{name}` (bundled: {})",
                bundled::PLUGINS.iter().map(|p| p.name).collect::<Vec<_>>().join(", ")
            ),
            source: std::io::ErrorKind::NotFound.into(),
        })?;
        return Ok((plugin.name.to_string(), Cow::Borrowed(plugin.wasm)));
    }
    let path = std::path::Path::new(spec);
    let bytes = std::fs::read(path)
        .map_err(|e| Error::Io { context: format!("cannot read plugin {spec}"), source: e })?;
    let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| spec.to_string());
    Ok((name, Cow::Owned(bytes)))
}

pub async fn run(sandbox: &Sandbox, args: RunArgs) -> Result<ExitCode, Failure> {
    let graph = Graph::from_path(&args.graph)?;
    let (name, bytes) = read_plugin(&args.plugin)?;
    let mut options = PluginOptions::new().limits(args.limits.to_limits());
    for (key, value) in args.config {
        options = options.config(key, value);
    }
    let plugin = sandbox.load(&name, &bytes, options)?;
    let mut instance = plugin.instance();
    match instance.analyze(&graph).await {
        Ok(analysis) => {
            match args.format {
                Format::Json => report::print_json(&success_json(&plugin, &analysis))?,
                Format::Text => report::print_text(&success_text(&plugin, &analysis))?,
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            Err(Failure { error: Box::new(error), usage: Some(Box::new(instance.last_usage().clone())) })
        }
    }
}

fn success_json(plugin: &Plugin, analysis: &Analysis) -> serde_json::Value {
    let mut value = json!(analysis);
    value["plugin"] = json!({
        "name": plugin.name(),
        "sha256": hex::encode(plugin.sha256()),
        "load": plugin.load_report(),
    });
    value["limits"] = json!(plugin.limits());
    value
}

fn success_text(plugin: &Plugin, analysis: &Analysis) -> String {
    let r = &analysis.result;
    let mut out = String::new();
    let _ = writeln!(out, "{}: {} findings, confidence {:.2}", plugin.name(), r.findings.len(), r.confidence);
    for finding in &r.findings {
        let _ = writeln!(out, "  - {finding}");
    }
    if !r.recommendations.is_empty() {
        let _ = writeln!(out, "recommendations:");
        for rec in &r.recommendations {
            let _ = writeln!(out, "  - {rec}");
        }
    }
    let load = plugin.load_report();
    let _ = writeln!(
        out,
        "usage: {} [load {:.1} ms, compile cache: {}]",
        report::usage_line(&analysis.usage),
        load.load_time.as_secs_f64() * 1000.0,
        cache_word(&load.cache)
    );
    out
}

pub fn cache_word(status: &parseltongue_plugins::CacheStatus) -> Cow<'static, str> {
    use parseltongue_plugins::CacheStatus::*;
    match status {
        Hit => "hit".into(),
        Miss => "miss (compiled)".into(),
        Recompiled(why) => format!("recompiled ({why})").into(),
        Disabled => "off (compiled)".into(),
    }
}
