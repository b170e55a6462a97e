//! `ptplugin watch`: one long-lived `PluginHost` beside a running Parseltongue server. Every
//! `--interval` it reads the server's change counters (two small answers); when they move (or
//! every `--recheck`, a full pull compared by fingerprint) it re-imports, sends the new graph to
//! the plugin actors and prints what changed — findings that appeared and disappeared — not the
//! whole report again. A lost server is said once and retried; Ctrl-C stops cleanly.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use parseltongue_plugins::live::{self, Outcome, PluginChange};
use parseltongue_plugins::{Error, ErrorKind, Graph, GraphSource, PluginHost, Sandbox, ServerCounters};
use serde::Serialize;

use crate::args::{Format, WatchArgs};
use crate::live::{Purpose, start};
use crate::output;
use crate::report::Failure;

/// One line of `watch` output (`--format json`: one object per line).
#[derive(Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
enum Event<'a> {
    /// The first analysis: every plugin's findings.
    Baseline { source: &'a str, nodes: usize, edges: usize, findings: BTreeMap<&'a str, Vec<&'a str>> },
    /// The graph changed: what the plugins now say differently.
    Changed { nodes: usize, edges: usize, changes: &'a [PluginChange] },
    /// The server could not be read.
    ServerLost { kind: ErrorKind, message: String },
    /// The server answers again.
    ServerBack,
    /// Ctrl-C.
    Stopped,
}

pub async fn watch(sandbox: &Sandbox, args: WatchArgs) -> Result<ExitCode, Failure> {
    let (host, source) = start(sandbox, &args.live, Purpose::Watch).await?;
    let GraphSource::Server(server) = &source else {
        host.shutdown().await;
        return Err(Error::Usage {
            message: "watch follows a running Parseltongue server: give --graph http://HOST:PORT".into(),
        }
        .into());
    };
    let outcome = follow(&host, &source, server, &args).await;
    host.shutdown().await;
    outcome
}

async fn follow(
    host: &PluginHost,
    source: &GraphSource,
    server: &parseltongue_plugins::ServerSource,
    args: &WatchArgs,
) -> Result<ExitCode, Failure> {
    // The first pull must work: a wrong address is an error, not a wait.
    let mut counters = server.counters().await?;
    let graph = Arc::new(source.load().await?.graph);
    let mut outcomes = analyse(host, &graph).await;
    let findings = outcomes
        .iter()
        .map(|(name, o)| {
            let list = match o {
                Outcome::Findings(f) => f.iter().map(String::as_str).collect(),
                Outcome::Failed(_, message) => vec![message.as_str()],
            };
            (name.as_str(), list)
        })
        .collect();
    let (nodes, edges) = (graph.nodes().len(), graph.edges().len());
    emit(args.format, &Event::Baseline { source: &source.describe(), nodes, edges, findings })?;
    let mut fingerprint = graph.fingerprint();
    let mut size = (nodes, edges);
    let mut lost = false;
    let mut last_full = Instant::now();
    let stop = tokio::signal::ctrl_c();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => break,
            _ = tokio::time::sleep(args.interval) => {}
        }
        let now = match server.counters().await {
            Ok(now) => now,
            Err(e) => {
                lose(&mut lost, &e, args)?;
                continue;
            }
        };
        let back = std::mem::take(&mut lost);
        if back {
            emit(args.format, &Event::ServerBack)?;
        }
        let due = !args.recheck.is_zero() && last_full.elapsed() >= args.recheck;
        if now == counters && !back && !due {
            continue;
        }
        let graph = match pull(source, &now, &mut counters).await {
            Ok(graph) => graph,
            Err(e) => {
                lose(&mut lost, &e, args)?;
                continue;
            }
        };
        last_full = Instant::now();
        if graph.fingerprint() == fingerprint {
            continue;
        }
        fingerprint = graph.fingerprint();
        let next = analyse(host, &graph).await;
        let changes = live::diff(&outcomes, &next);
        outcomes = next;
        let now_size = (graph.nodes().len(), graph.edges().len());
        if changes.is_empty() && now_size == size {
            continue;
        }
        size = now_size;
        emit(args.format, &Event::Changed { nodes: size.0, edges: size.1, changes: &changes })?;
    }
    emit(args.format, &Event::Stopped)?;
    Ok(ExitCode::SUCCESS)
}

/// The new graph, remembering the counters it was read at.
async fn pull(
    source: &GraphSource,
    now: &ServerCounters,
    seen: &mut ServerCounters,
) -> Result<Arc<Graph>, Error> {
    let graph = Arc::new(source.load().await?.graph);
    *seen = *now;
    Ok(graph)
}

async fn analyse(host: &PluginHost, graph: &Arc<Graph>) -> BTreeMap<String, Outcome> {
    host.analyze_all(graph.clone())
        .await
        .iter()
        .map(|(name, result)| (name.clone(), Outcome::of(result)))
        .collect()
}

/// Says once that the server is lost (until it answers again).
fn lose(lost: &mut bool, e: &Error, args: &WatchArgs) -> Result<(), Error> {
    if !std::mem::replace(lost, true) {
        let message = format!("{e} — retrying every {}", humantime::format_duration(args.interval));
        emit(args.format, &Event::ServerLost { kind: e.kind(), message })?;
    }
    Ok(())
}

fn emit(format: Format, event: &Event<'_>) -> Result<(), Error> {
    let line = match format {
        Format::Json => serde_json::to_string(event).expect("events serialize"),
        Format::Text => text(event),
    };
    output::print_text(&format!("{}\n", line.trim_end()))
}

fn text(event: &Event<'_>) -> String {
    let stamp = humantime::format_rfc3339_seconds(std::time::SystemTime::now());
    let mut out = String::new();
    match event {
        Event::Baseline { source, nodes, edges, findings } => {
            let _ =
                writeln!(out, "watching {source}: {nodes} nodes, {edges} edges, {} plugins", findings.len());
            for (plugin, list) in findings {
                let _ = writeln!(out, "{plugin}: {} findings", list.len());
                for f in list {
                    let _ = writeln!(out, "  - {f}");
                }
            }
        }
        Event::Changed { nodes, edges, changes } => {
            let _ = writeln!(out, "[{stamp}] graph changed: now {nodes} nodes, {edges} edges");
            if changes.is_empty() {
                let _ = writeln!(out, "  no finding changed");
            }
            for c in changes.iter() {
                if let Some((kind, message)) = &c.failing {
                    let _ = writeln!(out, "  ! {}: fails now [{kind}]: {message}", c.plugin);
                }
                if c.recovered {
                    let _ = writeln!(out, "  ✓ {}: answers again", c.plugin);
                }
                for f in &c.appeared {
                    let _ = writeln!(out, "  + {}: {f}", c.plugin);
                }
                for f in &c.disappeared {
                    let _ = writeln!(out, "  - {}: {f}", c.plugin);
                }
            }
        }
        Event::ServerLost { kind, message } => {
            let _ = writeln!(out, "[{stamp}] lost the server [{kind}]: {message}");
        }
        Event::ServerBack => {
            let _ = writeln!(out, "[{stamp}] the server answers again");
        }
        Event::Stopped => {
            let _ = writeln!(out, "[{stamp}] stopped");
        }
    }
    out
}
