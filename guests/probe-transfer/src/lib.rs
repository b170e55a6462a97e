//! Benchmark probe (contract 0.2): takes the graph and answers at once, without checking or
//! reading it. A call then costs what the contract itself costs — lowering the columns into the
//! guest (one `cabi_realloc` and one block copy per column), the call, lifting one finding —
//! which the benchmarks compare with a native `memcpy` of the same bytes.

use guest_sdk::{Finding, Graph, Guest, Report, Rule, Severity};

struct Transfer;

impl Guest for Transfer {
    fn rules() -> Vec<Rule> {
        vec![Rule {
            id: "transfer.bytes".into(),
            summary: "how many bytes of columns arrived".into(),
            default_severity: Severity::Note,
            help: String::new(),
        }]
    }

    fn analyze(graph: Graph) -> Report {
        let words = graph.string_ends.len()
            + graph.node_types.len()
            + graph.meta_starts.len()
            + graph.meta_keys.len()
            + graph.meta_values.len()
            + graph.edge_sources.len()
            + graph.edge_targets.len()
            + graph.edge_types.len();
        let bytes = graph.text.len() + 4 * words;
        Report {
            findings: vec![Finding {
                rule: "transfer.bytes".into(),
                severity: Severity::Note,
                message: format!("{bytes} bytes in 9 columns"),
                nodes: Vec::new(),
            }],
            confidence: 1.0,
            recommendations: Vec::new(),
        }
    }
}

guest_sdk::export_analyzer!(Transfer);
