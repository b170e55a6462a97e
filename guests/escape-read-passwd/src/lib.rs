//! Escape fixture: tries to read `/etc/passwd` (and to list `/`), and reports what happened as
//! findings. In a sandbox without filesystem grants both must fail.

use guest_sdk::{AnalysisResult, GraphNode, Guest};

struct ReadPasswd;

impl Guest for ReadPasswd {
    fn analyze_graph(_nodes: Vec<GraphNode>) -> AnalysisResult {
        let read = match std::fs::read_to_string("/etc/passwd") {
            Ok(text) => format!("read /etc/passwd: ok: {}", text.lines().next().unwrap_or("")),
            Err(e) => format!("read /etc/passwd: denied: {e}"),
        };
        let list = match std::fs::read_dir("/") {
            Ok(entries) => format!("list /: ok: {} entries", entries.count()),
            Err(e) => format!("list /: denied: {e}"),
        };
        let write = match std::fs::write("/tmp/ptplugin-escape", b"x") {
            Ok(()) => "write /tmp/ptplugin-escape: ok".to_string(),
            Err(e) => format!("write /tmp/ptplugin-escape: denied: {e}"),
        };
        AnalysisResult { findings: vec![read, list, write], confidence: 1.0, recommendations: vec![] }
    }
}

guest_sdk::export_plugin!(ReadPasswd);
