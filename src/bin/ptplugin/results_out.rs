//! Writing what `run` and `analyze` found: as text, JSON, SARIF or an HTML report, compared with
//! a baseline, judged by the gate, to stdout or atomically to `-o FILE`; and the exit code.
//!
//! Exit codes: 0 every plugin answered and the gate passed; 1 a plugin failed (the report still
//! lists the others); 2 bad usage or input; 3 the gate failed on findings.

use std::fmt::Write as _;
use std::process::ExitCode;

use parseltongue_plugins::results::{self, Baseline, FailOn, Gate, Results, SarifOptions, Verdict};
use parseltongue_plugins::{Error, Graph, Severity, files};
use serde::Serialize;

use crate::args::{FailOnArg, ReportArgs, ReportFormat, SeverityArg};
use crate::output;
use crate::report::{self, Failure, PLUGIN_FAILED};

/// Exit code for a gate that failed.
pub const GATE_FAILED: u8 = 3;

/// What is settled before any plugin runs: the output can be written, the baseline is ours.
pub struct Prepared {
    baseline: Option<Baseline>,
    gate: Gate,
}

/// Checks the output path and reads the baseline, so bad input fails before the work starts.
pub fn prepare(args: &ReportArgs) -> Result<Prepared, Failure> {
    if let Some(path) = &args.output {
        files::check_writable(path, "report")?;
    }
    let baseline = args.baseline.as_deref().map(Baseline::read).transpose()?;
    let fail_on = match (args.fail_on, &baseline) {
        (Some(FailOnArg::Never), _) | (None, None) => FailOn::Never,
        (Some(FailOnArg::New), _) | (None, Some(_)) => FailOn::New,
        (Some(FailOnArg::Any), _) => FailOn::Any,
    };
    let min_severity = match args.min_severity {
        SeverityArg::Note => Severity::Note,
        SeverityArg::Warning => Severity::Warning,
        SeverityArg::Error => Severity::Error,
    };
    Ok(Prepared { baseline, gate: Gate { fail_on, min_severity } })
}

/// `--format json`: the results, with the gate's verdict.
#[derive(Serialize)]
struct JsonResults<'a> {
    #[serde(flatten)]
    results: &'a Results,
    gate: &'a Verdict,
}

/// Compares, judges, renders and writes; returns the exit code.
pub fn finish(
    mut results: Results,
    graph: &Graph,
    prepared: &Prepared,
    args: &ReportArgs,
    format: ReportFormat,
    quiet: bool,
) -> Result<ExitCode, Failure> {
    if let Some(baseline) = &prepared.baseline {
        results::compare(&mut results, baseline);
    }
    let verdict = prepared.gate.judge(&results);
    let text = match format {
        ReportFormat::Text => text(&results, &verdict),
        ReportFormat::Json => {
            let mut s = serde_json::to_string_pretty(&JsonResults { results: &results, gate: &verdict })
                .map_err(|e| Error::Io { context: "cannot render JSON".into(), source: e.into() })?;
            s.push('\n');
            s
        }
        ReportFormat::Sarif => {
            let root = args.source_root.clone().or_else(|| std::env::current_dir().ok());
            results::to_sarif_json(&results, &SarifOptions { source_root: root })
        }
        ReportFormat::Html => results::to_html(&results, graph, Some(&verdict)),
    };
    match &args.output {
        Some(path) => {
            files::write_atomic(path, text.as_bytes(), "report")?;
            if !quiet {
                eprintln!("wrote {} ({})", path.display(), report::bytes(text.len() as u64));
            }
        }
        None => output::print_text(&text)?,
    }
    let code = if results.failed().next().is_some() {
        PLUGIN_FAILED
    } else if !verdict.passed {
        GATE_FAILED
    } else {
        0
    };
    Ok(ExitCode::from(code))
}

fn text(results: &Results, verdict: &Verdict) -> String {
    let mut out = String::new();
    let g = &results.graph;
    let _ = writeln!(
        out,
        "{} plugins on {} ({} nodes, {} edges)",
        results.plugins.len(),
        g.source,
        g.nodes,
        g.edges
    );
    for p in &results.plugins {
        let _ = writeln!(out);
        match (&p.error, &p.usage) {
            (Some(e), _) => {
                let _ = writeln!(out, "== {} — FAILED [{}]: {}", p.name, e.kind, e.message);
            }
            (None, usage) => {
                let [notes, warnings, errors] = p.by_severity();
                let _ = write!(
                    out,
                    "== {} {} — {} findings ({errors} errors, {warnings} warnings, {notes} notes)",
                    p.name,
                    p.version,
                    p.findings.len()
                );
                if let Some(u) = usage {
                    let _ = write!(
                        out,
                        ", {:.1} ms, peak memory {}",
                        u.wall_time_ms,
                        report::bytes(u.peak_memory_bytes)
                    );
                }
                let _ = writeln!(out);
            }
        }
        for f in &p.findings {
            let state = f.baseline_state.map(|s| format!(" [{}]", s.as_str())).unwrap_or_default();
            let _ = writeln!(out, "  - {}{state}", f.finding);
        }
    }
    if let Some(b) = &results.baseline {
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "baseline {}: {} new, {} unchanged, {} absent",
            b.path,
            b.new,
            b.unchanged,
            b.absent.len()
        );
        for a in &b.absent {
            let _ = writeln!(out, "  - absent: {} {} {}: {}", a.plugin, a.severity, a.rule, a.message);
        }
    }
    if verdict.gate.fail_on != FailOn::Never {
        let which = if verdict.gate.fail_on == FailOn::New { "new " } else { "" };
        let _ = writeln!(
            out,
            "gate {}: {} {which}findings at {} or worse",
            if verdict.passed { "passed" } else { "FAILED" },
            verdict.failing,
            verdict.gate.min_severity
        );
    }
    out
}
