//! Fault fixture: on any non-empty graph, writes about 2 MB each through `host.log`, stdout and
//! stderr, then returns normally. The host must keep only a bounded amount and count the rest.

use guest_sdk::{AnalysisResult, GraphNode, Guest, Level, host};
use std::io::Write;

struct LogFlood;

const LINES: usize = 2_000;

impl Guest for LogFlood {
    fn analyze_graph(nodes: Vec<GraphNode>) -> AnalysisResult {
        if nodes.is_empty() {
            return AnalysisResult::empty("nothing to shout about");
        }
        let line = "x".repeat(1024);
        let mut stdout_failures = 0usize;
        let mut stderr_failures = 0usize;
        for i in 0..LINES {
            host::log(Level::Info, &format!("{i} {line}"));
            if writeln!(std::io::stdout(), "{i} {line}").is_err() {
                stdout_failures += 1;
            }
            if writeln!(std::io::stderr(), "{i} {line}").is_err() {
                stderr_failures += 1;
            }
        }
        AnalysisResult {
            findings: vec![format!(
                "wrote {LINES} lines of ~1 KiB to each of host.log, stdout and stderr; {stdout_failures} stdout and {stderr_failures} stderr writes failed"
            )],
            confidence: 1.0,
            recommendations: vec![],
        }
    }
}

guest_sdk::export_plugin!(LogFlood);
