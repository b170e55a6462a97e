//! Escape fixture: reports every environment variable and argument it can see, one finding each,
//! and anything it can read from stdin. In a sandbox without grants there must be none.

use guest_sdk::{AnalysisResult, GraphNode, Guest};
use std::io::Read;

struct ReadEnv;

impl Guest for ReadEnv {
    fn analyze_graph(_nodes: Vec<GraphNode>) -> AnalysisResult {
        let mut findings: Vec<String> = std::env::vars_os()
            .map(|(k, v)| format!("env {}={}", k.to_string_lossy(), v.to_string_lossy()))
            .collect();
        findings.extend(std::env::args_os().map(|a| format!("arg {}", a.to_string_lossy())));
        let mut stdin = Vec::new();
        match std::io::stdin().read_to_end(&mut stdin) {
            Ok(0) => {}
            Ok(n) => findings.push(format!("stdin {n} bytes")),
            Err(e) => findings.push(format!("stdin error {e}")),
        }
        let summary = format!("saw {} environment entries, arguments and stdin bytes", findings.len());
        AnalysisResult { findings, confidence: 1.0, recommendations: vec![summary] }
    }
}

guest_sdk::export_plugin!(ReadEnv);
