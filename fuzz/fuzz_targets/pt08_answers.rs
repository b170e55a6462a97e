//! Any texts offered as Parseltongue v1.7 server answers (an entity list and edge pages):
//! imported or refused; what imports is a valid graph — no dangling edge, no duplicate node, and
//! no node made from a by-name placeholder.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parseltongue_plugins::import;

fuzz_target!(|input: (&str, Vec<&str>)| {
    let (entities, pages) = input;
    if let Ok(imported) = import::from_server_texts(entities, &pages) {
        let graph = imported.graph;
        let ids: std::collections::HashSet<&str> = graph.nodes().iter().map(|n| n.id.as_str()).collect();
        assert_eq!(ids.len(), graph.nodes().len(), "duplicate node ids");
        for e in graph.edges().iter() {
            assert!(ids.contains(e.source.as_str()) && ids.contains(e.target.as_str()), "dangling {e:?}");
        }
        assert!(
            graph.nodes().iter().all(|n| !n.id.ends_with(":unresolved-reference:0-0")),
            "a placeholder became a node"
        );
    }
});
