//! Storage fixture on contract 0.2 (world `analyzer-kv` of `wit/v0.2`): `kv-counter`'s calls —
//! read `count`, add one, write it back, optionally store a `fill`-byte blob, list the keys —
//! each reported as a `kv.state` finding, so the 0.2 `kv` interface is tested as 0.1's is.

wit_bindgen::generate!({ path: "../../wit/v0.2", world: "analyzer-kv" });

use exports::parseltongue::plugin::analysis::Guest;
use parseltongue::plugin::graph_types::{Finding, Graph, Report, Rule, Severity};
use parseltongue::plugin::{host, kv};

struct KvCounter;

fn finding(message: String) -> Finding {
    Finding { rule: "kv.state".into(), severity: Severity::Note, message, nodes: Vec::new() }
}

impl Guest for KvCounter {
    fn rules() -> Vec<Rule> {
        vec![Rule {
            id: "kv.state".into(),
            summary: "what the plugin's key-value store held and took".into(),
            default_severity: Severity::Note,
            help: String::new(),
        }]
    }

    fn analyze(_graph: Graph) -> Report {
        let mut findings = Vec::new();
        let count = match kv::get("count") {
            Ok(Some(bytes)) => bytes.try_into().map(u64::from_le_bytes).unwrap_or(0),
            Ok(None) => 0,
            Err(e) => {
                findings.push(finding(format!("get: error: {e}")));
                0
            }
        } + 1;
        match kv::set("count", &count.to_le_bytes()) {
            Ok(()) => findings.push(finding(format!("count {count}"))),
            Err(e) => findings.push(finding(format!("set: error: {e}"))),
        }
        if let Some(size) = host::config("fill").and_then(|s| s.parse::<usize>().ok()) {
            match kv::set("blob", &vec![7u8; size]) {
                Ok(()) => findings.push(finding(format!("fill {size}: ok"))),
                Err(e) => findings.push(finding(format!("fill {size}: error: {e}"))),
            }
        }
        match kv::keys() {
            Ok(keys) => findings.push(finding(format!("keys {}", keys.join(",")))),
            Err(e) => findings.push(finding(format!("keys: error: {e}"))),
        }
        Report { findings, confidence: 1.0, recommendations: vec![] }
    }
}

export!(KvCounter);
