//! `legacy-cycle-finder`: `cycle-finder` on contract 0.1 — node ids arrive as strings, edges
//! through `host.edges()` as id pairs, findings leave as text. 0.1 joins edges to nodes by id, so
//! each id is hashed once (FxHash) into a graph over vertex numbers, and the same Tarjan SCC runs
//! (`analysis_core::report::cycles_by_id`); members are named by id. Kept so that the seed's
//! contract stays exercised by a real analysis, and as the 0.1 baseline in the benchmarks.
//!
//! Config: `max-cycles` (default 100); `bench-repeat` (default 0), as `cycle-finder`.

use analysis_core::report;
use guest_sdk::{AnalysisResult, GraphNode, Guest, Level, host};

struct LegacyCycleFinder;

impl Guest for LegacyCycleFinder {
    fn analyze_graph(nodes: Vec<GraphNode>) -> AnalysisResult {
        let max_cycles = guest_sdk::config_usize("max-cycles", 100);
        let edges = host::edges();
        let run = || {
            report::cycles_by_id(
                nodes.iter().map(|n| n.id.as_str()),
                edges.iter().map(|e| (e.source.as_str(), e.target.as_str())),
                max_cycles,
            )
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
