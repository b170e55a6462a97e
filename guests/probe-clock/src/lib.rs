//! Clock fixture: reports the wall clock it sees, in whole seconds since 1970. Without the
//! wall-clock grant the host's clock reads 0.

use guest_sdk::{AnalysisResult, GraphNode, Guest};

struct ProbeClock;

impl Guest for ProbeClock {
    fn analyze_graph(_nodes: Vec<GraphNode>) -> AnalysisResult {
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
