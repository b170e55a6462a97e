//! Escape fixture: tries to read `/etc/passwd`, list `/` and write `/tmp/ptplugin-escape`, and
//! reports each attempt as a finding (`<what> <path>: ok…` or `<what> <path>: denied: <error>`).
//! Config `read`, `list` and `write` (comma-separated paths) replace those targets, so tests can
//! probe granted directories and escapes from them.

use guest_sdk::{AnalysisResult, GraphNode, Guest, host};

struct ReadPasswd;

fn targets(key: &str, default: &str) -> Vec<String> {
    host::config(key)
        .unwrap_or_else(|| default.to_string())
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(String::from)
        .collect()
}

impl Guest for ReadPasswd {
    fn analyze_graph(_nodes: Vec<GraphNode>) -> AnalysisResult {
        let mut findings = Vec::new();
        for path in targets("read", "/etc/passwd") {
            findings.push(match std::fs::read_to_string(&path) {
                Ok(text) => format!("read {path}: ok: {}", text.lines().next().unwrap_or("")),
                Err(e) => format!("read {path}: denied: {e}"),
            });
        }
        for path in targets("list", "/") {
            findings.push(match std::fs::read_dir(&path) {
                Ok(entries) => format!("list {path}: ok: {} entries", entries.count()),
                Err(e) => format!("list {path}: denied: {e}"),
            });
        }
        for path in targets("write", "/tmp/ptplugin-escape") {
            findings.push(match std::fs::write(&path, b"x") {
                Ok(()) => format!("write {path}: ok"),
                Err(e) => format!("write {path}: denied: {e}"),
            });
        }
        AnalysisResult { findings, confidence: 1.0, recommendations: vec![] }
    }
}

guest_sdk::export_plugin!(ReadPasswd);
