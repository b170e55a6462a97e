//! `ptplugin demo`: every bundled plugin on real Parseltongue data (v1.7.2's HTTP answers about its own source),
//! through the supervision runtime — the analyses concurrently, then the misbehaving plugins
//! concurrently. Analyses report findings; faults must be stopped with their documented
//! kind and the restarted instance must then answer a good call; floods must be bounded; escapes
//! must be denied. Ends with the host's status: restarts and usage per plugin. Exit 1 otherwise.

use std::fmt::Write as _;
use std::net::TcpListener;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parseltongue_plugins::bundled::{self, BundledPlugin, Role, Verdict};
use parseltongue_plugins::{
    Analysis, Error, ErrorKind, Graph, HostStatus, Limits, PluginHost, PluginOptions, PluginSpec,
    PluginState, Result, Sandbox,
};

use crate::args::{DemoArgs, Format};
use crate::output::{self, DemoOutput, DemoPlugin, GraphSize, Output};
use crate::report::{self, Failure, PLUGIN_FAILED};

/// One bundled plugin's run.
struct Outcome {
    plugin: &'static BundledPlugin,
    result: Result<Analysis>,
    /// The caller's wait for the result.
    wall: Duration,
    /// For faults: the good call that must follow, served by the restarted instance.
    recovery: Option<Result<Analysis>>,
    verdict: Verdict,
}

pub async fn demo(sandbox: &Sandbox, args: DemoArgs) -> std::result::Result<ExitCode, Failure> {
    // Real Parseltongue data: v1.7.2's server answers about its own source, imported.
    let graph = Arc::new(bundled::parseltongue_sample().graph);
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

    // Probes report what they were granted; the demo grants nothing, so they are left out.
    let shown: Vec<&'static BundledPlugin> =
        bundled::PLUGINS.iter().filter(|p| p.role != Role::Probe).collect();
    let mut builder = PluginHost::builder().sandbox(sandbox.clone());
    for plugin in &shown {
        let options = PluginOptions::new().limits(limits.clone()).config("port", port.to_string());
        builder = builder.plugin(PluginSpec::bytes(plugin.name, plugin.wasm).options(options));
    }
    let host = builder.start().await?;

    // The analyses first, all at once; then the misbehaving plugins, all at once. A loop burning a
    // core for its whole time limit must not eat the analyses' time on a two-core machine.
    let run = |plugin: &'static BundledPlugin| {
        let (host, graph) = (host.clone(), graph.clone());
        async move {
            let started = Instant::now();
            let result = host.analyze(plugin.name, graph).await;
            let wall = started.elapsed();
            let recovery = match plugin.role {
                Role::Fault(_) => Some(host.analyze(plugin.name, Graph::default()).await),
                _ => None,
            };
            let mut verdict = bundled::judge(plugin.role, &result);
            if let Some(Err(e)) = &recovery {
                verdict.as_expected = false;
                verdict.summary.push_str(&format!("; but the next good call failed: {e}"));
            }
            Outcome { plugin, result, wall, recovery, verdict }
        }
    };
    let (analyses, misbehaving): (Vec<&'static BundledPlugin>, Vec<&'static BundledPlugin>) =
        shown.iter().copied().partition(|p| p.role == Role::Analysis);
    let mut outcomes: Vec<Outcome> = futures::future::join_all(analyses.into_iter().map(run)).await;
    outcomes.extend(futures::future::join_all(misbehaving.into_iter().map(run)).await);
    let status = host.status().await;
    host.shutdown().await;

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
        Format::Json | Format::Text => {
            let compile_cache =
                sandbox.cache().map(|c| c.dir().display().to_string()).unwrap_or_else(|| "off".into());
            output::print(
                args.format,
                &demo_output(&graph, &limits, &outcomes, &status, all_ok, compile_cache),
            )?
        }
    }
    Ok(if all_ok { ExitCode::SUCCESS } else { ExitCode::from(PLUGIN_FAILED) })
}

fn role_word(role: Role) -> &'static str {
    match role {
        Role::Analysis => "analysis",
        Role::Fault(_) => "fault",
        Role::Flood => "flood",
        Role::Escape => "escape",
        Role::Probe => "probe",
    }
}

fn demo_output<'a>(
    graph: &Graph,
    limits: &'a Limits,
    outcomes: &'a [Outcome],
    status: &'a HostStatus,
    all_ok: bool,
    compile_cache: String,
) -> DemoOutput<'a> {
    let plugins = outcomes
        .iter()
        .map(|o| DemoPlugin {
            name: o.plugin.name,
            role: role_word(o.plugin.role),
            as_expected: o.verdict.as_expected,
            summary: &o.verdict.summary,
            wall_time_ms: o.wall.as_secs_f64() * 1000.0,
            expected_kind: match o.plugin.role {
                Role::Fault(kind) => Some(kind),
                _ => None,
            },
            result: o.result.as_ref().ok(),
            error: o.result.as_ref().err().map(report::error_json),
            recovered: o.recovery.as_ref().map(Result::is_ok),
        })
        .collect();
    DemoOutput {
        graph: GraphSize { nodes: graph.nodes().len(), edges: graph.edges().len() },
        limits,
        plugins,
        status,
        all_as_expected: all_ok,
        compile_cache,
    }
}

impl Output for DemoOutput<'_> {
    fn text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Parseltongue plugins demo: {} bundled plugins on Parseltongue v1.7.2's graph of its own source ({} nodes, {} edges)",
            self.plugins.len(),
            self.graph.nodes,
            self.graph.edges
        );
        let limits = self.limits;
        let _ = writeln!(
            out,
            "limits per plugin: {} memory, {} ms of CPU time per call, {} wasm stack, {} / {} findings of output",
            report::bytes(limits.memory_bytes),
            limits.cpu_time.as_millis(),
            report::bytes(limits.max_wasm_stack as u64),
            report::bytes(limits.max_result_bytes as u64),
            limits.max_findings
        );
        let _ = writeln!(out, "compile cache: {}", self.compile_cache);

        for p in self.plugins.iter().filter(|p| p.role == role_word(Role::Analysis)) {
            let _ = writeln!(out);
            match (&p.result, &p.error) {
                (Some(a), _) => {
                    let _ = writeln!(out, "== {} — {}", p.name, report::usage_line(&a.usage));
                    for f in &a.result.findings {
                        let _ = writeln!(out, "   {f}");
                    }
                    for r in &a.result.recommendations {
                        let _ = writeln!(out, "   recommendation: {r}");
                    }
                }
                (None, Some(e)) => {
                    let _ = writeln!(out, "== {} — FAILED [{}]: {}", p.name, e.kind, e.message);
                }
                (None, None) => {}
            }
        }

        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "Containment: each misbehaving plugin runs on the same graph; faults then get a good call."
        );
        for p in self.plugins.iter().filter(|p| p.role != role_word(Role::Analysis)) {
            let mark = if p.as_expected { "ok " } else { "BAD" };
            let mut detail = p.summary.to_string();
            if let Some(e) = &p.error {
                let _ = write!(detail, " after {:.1} ms", p.wall_time_ms);
                if e.kind == ErrorKind::Trap {
                    let _ = write!(detail, " ({})", e.message);
                }
            }
            match (&p.error, p.recovered) {
                (Some(e), Some(true)) if e.kind.is_crash() => detail.push_str("; restarted, next call ok"),
                (_, Some(true)) => detail.push_str("; next call ok"),
                _ => {}
            }
            let _ = writeln!(out, "  [{mark}] {:<24} {:<7} {detail}", p.name, p.role);
        }
        let _ = writeln!(out);
        let _ = writeln!(out, "Status (supervision and resource monitor):");
        let _ = writeln!(
            out,
            "  {:<24} {:<12} {:>8} {:>5}  {:<22} {:>11} {:>11}",
            "plugin", "state", "restarts", "calls", "errors", "guest CPU", "peak memory"
        );
        for p in &self.status.plugins {
            let state = match p.state() {
                Some(PluginState::Running) => "running",
                Some(PluginState::Quarantined(_)) => "quarantined",
                Some(PluginState::Draining) => "draining",
                None => "unknown",
            };
            let restarts = p.supervisor.as_ref().map(|s| s.restarts).unwrap_or(0);
            let (calls, errors, time, memory) = match &p.usage {
                Some(u) => {
                    let errors: Vec<String> = u.errors.iter().map(|(k, n)| format!("{k}×{n}")).collect();
                    let errors = if errors.is_empty() { "-".to_string() } else { errors.join(",") };
                    (
                        u.calls,
                        errors,
                        format!("{:.1} ms", u.cpu_time.as_secs_f64() * 1000.0),
                        report::bytes(u.peak_memory_bytes),
                    )
                }
                None => (0, "-".into(), "-".into(), "-".into()),
            };
            let _ = writeln!(
                out,
                "  {:<24} {state:<12} {restarts:>8} {calls:>5}  {errors:<22} {time:>11} {memory:>11}",
                p.name
            );
        }

        let _ = writeln!(out);
        let bad = self.plugins.iter().filter(|p| !p.as_expected).count();
        if self.all_as_expected {
            let _ = writeln!(
                out,
                "All {} plugins behaved as expected; the host never crashed.",
                self.plugins.len()
            );
            let _ = writeln!(
                out,
                "The analyses as SARIF, a CI gate or a report to look at: ptplugin analyze --graph \
                 samples/parseltongue-v1.7.2 --format html -o report.html"
            );
        } else {
            let _ = writeln!(
                out,
                "{bad} of {} plugins did NOT behave as expected (marked BAD above).",
                self.plugins.len()
            );
        }
        out
    }
}
