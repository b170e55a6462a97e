//! Our graph JSON: read or refused with line and column; a graph that reads writes back to JSON
//! that reads as the same graph.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parseltongue_plugins::Graph;

fuzz_target!(|text: &str| {
    if let Ok(graph) = Graph::from_json(text) {
        let again = Graph::from_json(&graph.to_json()).expect("a graph we wrote reads back");
        assert_eq!(again, graph);
    }
});
