//! Fault fixture (contract 0.2): on any non-empty graph, returns a report the host must refuse
//! with a typed error, never a panic or a read outside the plugin's memory. Config `mode`:
//!
//! - `node` (default): a finding about node 1,000,000,000;
//! - `utf8`: a message whose bytes are not UTF-8;
//! - `outside`: a message whose pointer and length lie past the end of the plugin's memory;
//! - `nan`: confidence NaN;
//! - `rule`: a rule id of 1 MiB;
//! - `many`: 10,000,000 findings (needs about 700 MB of memory to build);
//! - `rules`: a `rules` export that names one rule twice.

use guest_sdk::{Analysis, Finding, Report, Rule, Severity, View, host};

struct BadOutput;

fn finding(rule: &str, message: String, nodes: Vec<u32>) -> Finding {
    Finding { rule: rule.to_string(), severity: Severity::Warning, message, nodes }
}

impl Analysis for BadOutput {
    fn rules() -> Vec<Rule> {
        let rule = Rule {
            id: "bad.output".into(),
            summary: "a malformed report".into(),
            default_severity: Severity::Error,
            help: String::new(),
        };
        match host::config("mode").as_deref() {
            Some("rules") => vec![rule.clone(), rule],
            _ => vec![rule],
        }
    }

    fn analyze(graph: &View<'_>) -> Report {
        if graph.node_count() == 0 {
            return Report::empty("nothing to report");
        }
        let mut report = Report { findings: Vec::new(), confidence: 1.0, recommendations: Vec::new() };
        match host::config("mode").as_deref().unwrap_or("node") {
            "utf8" => {
                // SAFETY: never read as a `str` here; the bytes only travel to the host.
                let message = unsafe { String::from_utf8_unchecked(vec![b'o', b'k', 0xff, 0xfe]) };
                report.findings.push(finding("bad.output", message, vec![0]));
            }
            "outside" => {
                // A string the host would read from 0xffff_f000 for 1 MiB: past the end of any
                // wasm32 memory. Never read, never dropped here (it is handed to the host).
                let message =
                    unsafe { String::from_raw_parts(0xffff_f000usize as *mut u8, 1 << 20, 1 << 20) };
                report.findings.push(finding("bad.output", message, vec![0]));
            }
            "nan" => report.confidence = f32::NAN,
            "rule" => report.findings.push(finding(&"r".repeat(1 << 20), "a long rule id".into(), vec![0])),
            "many" => {
                report.findings = (0..10_000_000).map(|_| finding("", String::new(), Vec::new())).collect();
            }
            "rules" => report.findings.push(finding("bad.output", "see rules()".into(), vec![0])),
            _ => report.findings.push(finding(
                "bad.output",
                "about a node that is not there".into(),
                vec![1_000_000_000],
            )),
        }
        report
    }
}

guest_sdk::export_plugin!(BadOutput);
