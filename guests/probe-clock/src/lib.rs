//! Clock fixture: reports the wall clock it sees, in whole seconds since 1970. Without the
//! wall-clock grant the host's clock reads 0.
//!
//! With the config `sleep-ms=N` it first sleeps N ms on the monotonic clock: a plugin that waits
//! instead of computing, for the wall-clock backstop's tests.

use guest_sdk::{AnalysisResult, GraphNode, Guest, host};

struct ProbeClock;

impl Guest for ProbeClock {
    fn analyze_graph(_nodes: Vec<GraphNode>) -> AnalysisResult {
        if let Some(ms) = host::config("sleep-ms").and_then(|n| n.parse().ok()) {
            std::thread::sleep(std::time::Duration::from_millis(ms));
        }
        let seconds = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        AnalysisResult {
            findings: vec![format!("wall clock {seconds}")],
            confidence: 1.0,
            recommendations: vec![],
        }
    }
}

guest_sdk::export_plugin!(ProbeClock);
