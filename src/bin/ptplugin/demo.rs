//! `ptplugin demo`: every bundled plugin on the bundled sample graph, concurrently. Analyses
//! report findings; faults must be stopped with their documented kind and the same plugin must
//! then answer a good call; floods must be bounded; escapes must be denied. Exit 1 otherwise.

use std::fmt::Write as _;
use std::net::TcpListener;
use std::process::ExitCode;
use std::time::Duration;

use parseltongue_plugins::bundled::{self, BundledPlugin, Role, Verdict};
use parseltongue_plugins::{Analysis, Error, Graph, Limits, PluginOptions, Result, Sandbox};
use serde_json::json;
use tokio::task::JoinSet;

use crate::args::{DemoArgs, Format};
use crate::report::{self, Failure, PLUGIN_FAILED};

/// One bundled plugin's run.
struct Outcome {
    plugin: &'static BundledPlugin,
    result: Result<Analysis>,
    /// Wall time of the main call, whether it succeeded or not.
    wall: Duration,
    /// For faults: the good call on the same plugin that must follow.
    recovery: Option<Result<Analysis>>,
    verdict: Verdict,
}

pub async fn demo(sandbox: &Sandbox, args: DemoArgs) -> std::result::Result<ExitCode, Failure> {
    let graph = Graph::from_json(bundled::SAMPLE_GRAPH)?;
    let limits = Limits::default();
    // A real listener for the TCP escape fixture to aim at; it must never see a connection.
    let listener =
        TcpListener::bind("127.0.0.1:0").and_then(|l| l.set_nonblocking(true).map(|()| l)).map_err(|e| {
            Error::Io { context: "cannot open a loopback listener for the escape check".into(), source: e }
        })?;
    let port = listener
        .local_addr()
        .map_err(|e| Error::Io { context: "listener address".into(), source: e })?
        .port();

    let mut tasks = JoinSet::new();
    for (index, plugin) in bundled::PLUGINS.iter().enumerate() {
        let options = PluginOptions::new().limits(limits.clone()).config("port", port.to_string());
        let loaded = sandbox.load(plugin.name, plugin.wasm, options)?;
        let graph = graph.clone();
        tasks.spawn(async move {
            let mut instance = loaded.instance();
            let result = instance.analyze(&graph).await;
            let wall = instance.last_usage().wall_time;
            let recovery = match plugin.role {
                Role::Fault(_) => Some(instance.analyze(&Graph::default()).await),
                _ => None,
            };
            let mut verdict = bundled::judge(plugin.role, &result);
            if let Some(Err(e)) = &recovery {
                verdict.as_expected = false;
                verdict.summary.push_str(&format!("; but the next good call failed: {e}"));
            }
            (index, Outcome { plugin, result, wall, recovery, verdict })
        });
    }
    let mut outcomes: Vec<(usize, Outcome)> = tasks.join_all().await;
    outcomes.sort_by_key(|(i, _)| *i);
    let mut outcomes: Vec<Outcome> = outcomes.into_iter().map(|(_, o)| o).collect();

    std::thread::sleep(Duration::from_millis(20));
    if listener.accept().is_ok()
        && let Some(tcp) = outcomes.iter_mut().find(|o| o.plugin.name == "escape-tcp-connect")
    {
        tcp.verdict = Verdict {
            as_expected: false,
            summary: format!("ESCAPED: the listener on port {port} saw a connection"),
        };
    }

    let all_ok = outcomes.iter().all(|o| o.verdict.as_expected);
    match args.format {
        Format::Json => report::print_json(&as_json(&graph, &limits, &outcomes, all_ok))?,
        Format::Text => report::print_text(&as_text(sandbox, &graph, &limits, &outcomes, all_ok))?,
    }
    Ok(if all_ok { ExitCode::SUCCESS } else { ExitCode::from(PLUGIN_FAILED) })
}

fn role_word(role: Role) -> &'static str {
    match role {
        Role::Analysis => "analysis",
        Role::Fault(_) => "fault",
        Role::Flood => "flood",
        Role::Escape => "escape",
    }
}

fn as_text(sandbox: &Sandbox, graph: &Graph, limits: &Limits, outcomes: &[Outcome], all_ok: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Parseltongue plugins demo: {} bundled plugins on the sample graph ({} nodes, {} edges)",
        outcomes.len(),
        graph.nodes().len(),
        graph.edges().len()
    );
    let _ = writeln!(
        out,
        "limits per plugin: {} memory, {} ms per call, {} wasm stack, {} / {} findings of output",
        report::bytes(limits.memory_bytes),
        limits.timeout.as_millis(),
        report::bytes(limits.max_wasm_stack as u64),
        report::bytes(limits.max_result_bytes as u64),
        limits.max_findings
    );
    let cache = sandbox.cache().map(|c| c.dir().display().to_string()).unwrap_or_else(|| "off".into());
    let _ = writeln!(out, "compile cache: {cache}");

    for o in outcomes.iter().filter(|o| o.plugin.role == Role::Analysis) {
        let _ = writeln!(out);
        match &o.result {
            Ok(a) => {
                let _ = writeln!(out, "== {} — {}", o.plugin.name, report::usage_line(&a.usage));
                for f in &a.result.findings {
                    let _ = writeln!(out, "   {f}");
                }
                for r in &a.result.recommendations {
                    let _ = writeln!(out, "   recommendation: {r}");
                }
            }
            Err(e) => {
                let _ = writeln!(out, "== {} — FAILED [{}]: {e}", o.plugin.name, e.kind());
            }
        }
    }

    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Containment: each misbehaving plugin runs on the same graph; faults then get a good call."
    );
    for o in outcomes.iter().filter(|o| o.plugin.role != Role::Analysis) {
        let mark = if o.verdict.as_expected { "ok " } else { "BAD" };
        let mut detail = o.verdict.summary.clone();
        if let Err(e) = &o.result {
            let _ = write!(detail, " after {:.1} ms", o.wall.as_secs_f64() * 1000.0);
            if matches!(e, Error::Trap { .. }) {
                let _ = write!(detail, " ({e})");
            }
        }
        if let Some(Ok(_)) = &o.recovery {
            detail.push_str("; next call ok on a fresh instance");
        }
        let _ = writeln!(out, "  [{mark}] {:<24} {:<7} {detail}", o.plugin.name, role_word(o.plugin.role));
    }
    let _ = writeln!(out);
    let bad = outcomes.iter().filter(|o| !o.verdict.as_expected).count();
    if all_ok {
        let _ = writeln!(out, "All {} plugins behaved as expected; the host never crashed.", outcomes.len());
    } else {
        let _ = writeln!(
            out,
            "{bad} of {} plugins did NOT behave as expected (marked BAD above).",
            outcomes.len()
        );
    }
    out
}

fn as_json(graph: &Graph, limits: &Limits, outcomes: &[Outcome], all_ok: bool) -> serde_json::Value {
    let plugins: Vec<serde_json::Value> = outcomes
        .iter()
        .map(|o| {
            let mut v = json!({
                "name": o.plugin.name,
                "role": role_word(o.plugin.role),
                "as_expected": o.verdict.as_expected,
                "summary": o.verdict.summary,
            });
            if let Role::Fault(kind) = o.plugin.role {
                v["expected_kind"] = json!(kind);
            }
            match &o.result {
                Ok(a) => v["result"] = json!(a),
                Err(e) => v["error"] = report::error_json(e),
            }
            if let Some(recovery) = &o.recovery {
                v["recovered"] = json!(recovery.is_ok());
            }
            v
        })
        .collect();
    json!({
        "graph": { "nodes": graph.nodes().len(), "edges": graph.edges().len() },
        "limits": limits,
        "plugins": plugins,
        "all_as_expected": all_ok,
    })
}
