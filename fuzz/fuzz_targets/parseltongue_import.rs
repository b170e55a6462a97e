//! Any pair of texts offered as a Parseltongue export (entities, edges): imported or refused;
//! what imports is a valid graph (no dangling edge, no duplicate node) by construction.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parseltongue_plugins::import;

fuzz_target!(|input: (&str, Option<&str>)| {
    let (entities, edges) = input;
    if let Ok(imported) = import::from_texts(entities, edges) {
        let graph = imported.graph;
        let ids: std::collections::HashSet<&str> = graph.nodes().iter().map(|n| n.id.as_str()).collect();
        assert_eq!(ids.len(), graph.nodes().len(), "duplicate node ids");
        for e in graph.edges().iter() {
            assert!(ids.contains(e.source.as_str()) && ids.contains(e.target.as_str()), "dangling {e:?}");
        }
    }
});
