//! Storage fixture (world `analyzer-kv`): each call reads `count` from the plugin's key-value
//! store, adds one and writes it back, and reports the count. Config `fill` (bytes) also tries to
//! store a blob of that size, to exercise the quota. Every storage error is reported as a finding.

wit_bindgen::generate!({ path: "../../wit", world: "analyzer-kv" });

use exports::parseltongue::plugin::parseltongue_plugin::{AnalysisResult, GraphNode, Guest};
use parseltongue::plugin::{host, kv};

struct KvCounter;

impl Guest for KvCounter {
    fn analyze_graph(_nodes: Vec<GraphNode>) -> AnalysisResult {
        let mut findings = Vec::new();
        let count = match kv::get("count") {
            Ok(Some(bytes)) => bytes.try_into().map(u64::from_le_bytes).unwrap_or(0),
            Ok(None) => 0,
            Err(e) => {
                findings.push(format!("get: error: {e}"));
                0
            }
        } + 1;
        match kv::set("count", &count.to_le_bytes()) {
            Ok(()) => findings.push(format!("count {count}")),
            Err(e) => findings.push(format!("set: error: {e}")),
        }
        if let Some(size) = host::config("fill").and_then(|s| s.parse::<usize>().ok()) {
            match kv::set("blob", &vec![7u8; size]) {
                Ok(()) => findings.push(format!("fill {size}: ok")),
                Err(e) => findings.push(format!("fill {size}: error: {e}")),
            }
        }
        match kv::keys() {
            Ok(keys) => findings.push(format!("keys {}", keys.join(","))),
            Err(e) => findings.push(format!("keys: error: {e}")),
        }
        AnalysisResult { findings, confidence: 1.0, recommendations: vec![] }
    }
}

export!(KvCounter);
