//! The page: one self-contained HTML file (styles, script and SVG inline; no network, no
//! fonts, no external scripts), written with compile-time templates that escape every string a
//! plugin or a graph supplied.

use std::collections::BTreeSet;

use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::results::gate::Verdict;
use crate::results::html::figures::{Figure, Figures, MAX_CYCLES, MAX_HOT_SPOTS};
use crate::results::html::pictures::cut;
use crate::results::model::{PluginResults, ResultFinding, Results};

/// Most rows in the findings table; the rest are counted, not listed.
pub const MAX_ROWS: usize = 10_000;

const STYLE: &str = include_str!("report.css");
const SCRIPT: &str = include_str!("report.js");

/// The whole page.
pub fn page(results: &Results, figures: &Figures, verdict: Option<&Verdict>) -> String {
    let total = results.findings().count();
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "ptplugin report — " (results.graph.source) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                h1 { "Parseltongue plugins report" }
                p.muted {
                    "Graph " code { (results.graph.source) } ": " (results.graph.nodes) " nodes, "
                    (results.graph.edges) " edges. " (results.plugins.len()) " plugins, " (total)
                    " findings. Made by " (results.tool.name) " " (results.tool.version) "."
                }
                (gate(results, verdict))
                h2 { "Plugins" }
                (summary(results))
                (figure_section("Cycles", "cycles", &figures.cycles, figures.cycles_total, MAX_CYCLES,
                    "Each reported cycle with the graph's edges between its members; the first member is outlined in red."))
                (figure_section("Hot spots", "hot-spots", &figures.hot_spots, figures.hot_spots_total, MAX_HOT_SPOTS,
                    "The most depended-upon nodes (blast radius) with the nodes that depend on them directly."))
                @if let Some(modules) = &figures.modules {
                    h2 { "Module dependencies" }
                    section #modules .figures { (figure(modules, "modules")) }
                }
                h2 { "Findings" }
                (findings(results, total))
                script { (PreEscaped(SCRIPT)) }
            }
        }
    };
    markup.into_string()
}

fn gate(results: &Results, verdict: Option<&Verdict>) -> Markup {
    html! {
        @if let Some(b) = &results.baseline {
            p #baseline {
                "Against baseline " code { (b.path) } ": " strong { (b.new) " new" } ", " (b.unchanged)
                " unchanged, " (b.absent.len()) " absent."
            }
            @if !b.absent.is_empty() {
                details #absent {
                    summary { "Gone since the baseline (" (b.absent.len()) ")" }
                    ul {
                        @for a in &b.absent {
                            li { (a.severity) " " code { (a.rule) } " (" (a.plugin) "): " (cut(&a.message, 300)) }
                        }
                    }
                }
            }
        }
        @if let Some(v) = verdict.filter(|v| v.gate.fail_on != crate::results::gate::FailOn::Never) {
            @let word = if v.passed { "passed" } else { "failed" };
            div #gate .gate .(if v.passed { "gate-pass" } else { "gate-fail" }) {
                "Gate " strong { (word) } ": " (v.failing) " findings at " (v.gate.min_severity)
                " or worse"
                @match v.gate.fail_on {
                    crate::results::gate::FailOn::New => " that are new",
                    crate::results::gate::FailOn::Any => "",
                    crate::results::gate::FailOn::Never => "",
                }
                "."
            }
        }
    }
}

fn summary(results: &Results) -> Markup {
    html! {
        table #summary {
            thead { tr {
                th { "plugin" } th { "version" } th { "status" }
                th.num { "errors" } th.num { "warnings" } th.num { "notes" }
                th.num { "wall time" } th.num { "CPU time" } th.num { "peak memory" }
            } }
            tbody {
                @for p in &results.plugins {
                    @let [notes, warnings, errors] = p.by_severity();
                    tr data-plugin=(p.name) {
                        td { (p.name) }
                        td { (p.version) }
                        @if let Some(e) = &p.error {
                            td.failed title=(e.message) { "failed [" (e.kind) "]: " (cut(&e.message, 160)) }
                        } @else {
                            td { "ok" }
                        }
                        td.num { (errors) } td.num { (warnings) } td.num { (notes) }
                        @if let Some(u) = &p.usage {
                            td.num { (format!("{:.1} ms", u.wall_time_ms)) }
                            td.num { (format!("{:.1} ms", u.cpu_time_ms)) }
                            td.num { (mib(u.peak_memory_bytes)) }
                        } @else {
                            td.num { "–" } td.num { "–" } td.num { "–" }
                        }
                    }
                }
            }
        }
    }
}

fn findings(results: &Results, total: usize) -> Markup {
    let plugins: BTreeSet<&str> = results.findings().map(|(p, _)| p.name.as_str()).collect();
    let rules: BTreeSet<&str> = results.findings().map(|(_, f)| f.finding.rule.as_str()).collect();
    let compared = results.baseline.is_some();
    html! {
        div.filters {
            label { "plugin" select #filter-plugin { option value="" { "all" } @for p in &plugins { option value=(p) { (p) } } } }
            label { "rule" select #filter-rule { option value="" { "all" } @for r in &rules { option value=(r) { (r) } } } }
            label { "severity" select #filter-severity {
                option value="" { "all" } option value="error" { "error" } option value="warning" { "warning" } option value="note" { "note" }
            } }
            label { "text" input #filter-text type="search" placeholder="message, node, file"; }
            span.muted { "showing " span #shown { (total.min(MAX_ROWS)) } " of " (total) }
        }
        @if total > MAX_ROWS {
            p.muted #rows-cut { "The table lists the first " (MAX_ROWS) " of " (total) " findings; the JSON and SARIF outputs have them all." }
        }
        table #findings data-total=(total) {
            thead { tr {
                th data-sort="severity" { "severity" }
                th data-sort="text" { "plugin" }
                th data-sort="text" { "rule" }
                th data-sort="text" { "message" }
                th data-sort="text" { "where" }
                @if compared { th data-sort="text" { "baseline" } }
            } }
            tbody {
                @for (p, f) in results.findings().take(MAX_ROWS) {
                    (row(p, f, compared))
                }
            }
        }
    }
}

fn row(plugin: &PluginResults, found: &ResultFinding, compared: bool) -> Markup {
    let f = &found.finding;
    let severity = f.severity.as_str();
    let summary = plugin.rule(&f.rule).map(|r| r.summary.as_str()).unwrap_or("");
    html! {
        tr data-plugin=(plugin.name) data-rule=(f.rule) data-severity=(severity) {
            td.sev.(format!("sev-{severity}")) data-value=(severity) { (severity) }
            td { (plugin.name) }
            td title=(summary) { code { (f.rule) } }
            td.message { (f.message) }
            td.where {
                @if let Some(n) = f.nodes.first() { (n.label()) }
                @if f.nodes.len() > 1 { span.muted { " +" (f.nodes.len() - 1) " more" } }
            }
            @if compared {
                @let state = found.baseline_state.map(|s| s.as_str()).unwrap_or("");
                td.(format!("state-{state}")) { (state) }
            }
        }
    }
}

fn figure_section(
    title: &str,
    id: &str,
    figures: &[Figure],
    total: usize,
    max: usize,
    about: &str,
) -> Markup {
    html! {
        @if !figures.is_empty() {
            h2 { (title) }
            p.muted {
                (about)
                @if total > figures.len() { " Showing " (figures.len()) " of " (total) " (at most " (max) ")." }
            }
            section id=(id) .figures {
                @for (i, f) in figures.iter().enumerate() { (figure(f, &format!("{id}-{i}"))) }
            }
        }
    }
}

fn figure(f: &Figure, id: &str) -> Markup {
    html! {
        figure data-plugin=(f.plugin) {
            @if let Some(svg) = f.picture.to_svg(id) { (PreEscaped(svg)) }
            figcaption {
                @if !f.plugin.is_empty() { strong { (f.plugin) } ": " }
                (cut(&f.caption, 300))
                @if let Some(cut) = &f.cut { br; span.muted.cut { "Cut: " (cut) "." } }
            }
        }
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}
