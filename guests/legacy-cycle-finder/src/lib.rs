//! `legacy-cycle-finder`: `cycle-finder` on contract 0.1 — nodes arrive as records of strings,
//! edges through `host.edges()`, findings leave as text. The input is turned into columns
//! (hashing every id once: 0.1 joins edges to nodes by id) and the same analysis runs. Kept so
//! that the seed's contract stays exercised by a real analysis, and as the 0.1 baseline in the
//! benchmarks.
//!
//! Config: `max-cycles` (default 100); `bench-repeat` (default 0), as `cycle-finder`.

use analysis_core::columns::OwnedColumns;
use analysis_core::model::CodeGraph;
use analysis_core::report;
use guest_sdk::{AnalysisResult, GraphNode, Guest, Level, host};

struct LegacyCycleFinder;

impl Guest for LegacyCycleFinder {
    fn analyze_graph(nodes: Vec<GraphNode>) -> AnalysisResult {
        let max_cycles = guest_sdk::config_usize("max-cycles", 100);
        let edges = host::edges();
        let run = || {
            let (columns, _) = OwnedColumns::build(
                nodes.iter().map(|n| {
                    (
                        n.id.as_str(),
                        n.node_type.as_str(),
                        n.metadata.iter().map(|(k, v)| (k.as_str(), v.as_str())),
                    )
                }),
                edges.iter().map(|e| (e.source.as_str(), e.target.as_str(), e.edge_type.as_str())),
            );
            report::cycles(&CodeGraph::new(columns.view()), &|_| true, max_cycles)
        };
        guest_sdk::repeat_for_benchmarks(&run);
        let r = run();
        host::log(Level::Info, &r.summary);
        AnalysisResult {
            findings: r.findings.into_iter().map(|f| f.message).collect(),
            confidence: 1.0,
            recommendations: r.recommendations,
        }
    }
}

guest_sdk::export_plugin!(LegacyCycleFinder);
