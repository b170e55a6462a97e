//! The real analyses give the right answers on graphs whose answer is known.

use parseltongue_plugins::{Graph, GraphNode, PluginOptions};

use crate::support::{graph, load, node, plugin, sample_graph};

#[tokio::test]
async fn cycle_finder_reports_each_cycle_largest_first() {
    let g = graph(
        &["a", "b", "c", "d", "e", "f", "g"],
        &[("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"), ("d", "e"), ("e", "d"), ("f", "f"), ("f", "g")],
    );
    let analysis = plugin("cycle-finder").analyze(&g).await.unwrap();
    assert_eq!(
        analysis.result.findings,
        vec![
            "dependency cycle of 3 nodes: a -> b -> c -> a",
            "dependency cycle of 2 nodes: d -> e -> d",
            "self-dependency: f",
        ]
    );
    assert_eq!(analysis.result.confidence, 1.0);
    assert!(analysis.result.recommendations[0].contains("largest cycle (3 nodes, including a)"));
    assert!(analysis.usage.host_calls >= 3, "edges() and config() go through the host: {:?}", analysis.usage);
}

#[tokio::test]
async fn cycle_finder_finds_nothing_in_a_dag() {
    let g = graph(&["a", "b", "c"], &[("a", "b"), ("b", "c"), ("a", "c")]);
    let analysis = plugin("cycle-finder").analyze(&g).await.unwrap();
    assert!(analysis.result.findings.is_empty(), "{:?}", analysis.result);
    assert!(analysis.result.recommendations.is_empty());
}

#[tokio::test]
async fn cycle_finder_honours_its_config() {
    let g = graph(&["a", "b", "c", "d"], &[("a", "b"), ("b", "a"), ("c", "d"), ("d", "c")]);
    let plugin = load("cycle-finder", PluginOptions::new().config("max-cycles", "1"));
    let findings = plugin.analyze(&g).await.unwrap().result.findings;
    assert_eq!(
        findings,
        vec!["dependency cycle of 2 nodes: a -> b -> a", "1 further cycles not listed (max-cycles = 1)"]
    );

    let mut nodes: Vec<GraphNode> = ["a", "b"].iter().map(|id| node(id, "fn")).collect();
    nodes.push(node("c", "fn"));
    let mut edges = vec![crate::support::edge("a", "b"), crate::support::edge("b", "a")];
    edges[1].edge_type = "Uses".into();
    let g = Graph::new(nodes, edges).unwrap();
    let only_calls = load("cycle-finder", PluginOptions::new().config("edge-types", "Calls"));
    assert!(only_calls.analyze(&g).await.unwrap().result.findings.is_empty());
}

#[tokio::test]
async fn cycle_finder_on_the_sample_graph() {
    let findings = plugin("cycle-finder").analyze(&sample_graph()).await.unwrap().result.findings;
    assert_eq!(findings.len(), 3, "{findings:?}");
    assert!(findings[0].starts_with("dependency cycle of 3 nodes: rust:fn:find_cycles:"), "{findings:?}");
    assert!(findings[0].contains("rust:fn:render_cycles:") && findings[0].contains("rust:fn:run_all:"));
    assert!(findings[1].starts_with("dependency cycle of 3 nodes: rust:fn:flush_events:"), "{findings:?}");
    assert!(findings[2].starts_with("self-dependency: rust:fn:visit:"), "{findings:?}");
}

#[tokio::test]
async fn node_census_counts_types_and_flags_a_dominant_one() {
    let nodes = vec![node("a", "fn"), node("b", "fn"), node("c", "fn"), node("d", "struct")];
    let g = Graph::new(nodes, vec![]).unwrap();
    let analysis = plugin("node-census").analyze(&g).await.unwrap();
    assert_eq!(analysis.result.findings, vec!["fn: 3 of 4 nodes (75.0%)", "struct: 1 of 4 nodes (25.0%)"]);
    assert_eq!(analysis.result.recommendations.len(), 1);
    assert!(analysis.result.recommendations[0].starts_with("`fn` makes up 75.0% of all nodes"));
    assert_eq!(analysis.logs.len(), 1);
    assert_eq!(analysis.logs[0].message, "counted 4 nodes of 2 types");

    let strict = load("node-census", PluginOptions::new().config("threshold", "0.8"));
    assert!(strict.analyze(&g).await.unwrap().result.recommendations.is_empty());
}

#[tokio::test]
async fn node_census_warns_about_a_bad_threshold() {
    let g = Graph::new(vec![node("a", "fn"), node("b", "enum")], vec![]).unwrap();
    let plugin = load("node-census", PluginOptions::new().config("threshold", "lots"));
    let analysis = plugin.analyze(&g).await.unwrap();
    assert!(analysis.logs.iter().any(|r| r.message.contains("must be a number between 0 and 1")));
    assert_eq!(analysis.result.recommendations.len(), 1, "falls back to 0.5");
}

#[tokio::test]
async fn an_instance_is_reused_between_calls() {
    let mut instance = plugin("node-census").instance();
    let first = instance.analyze(&sample_graph()).await.unwrap();
    let second = instance.analyze(&sample_graph()).await.unwrap();
    assert!(first.usage.fresh_instance);
    assert!(!second.usage.fresh_instance);
    assert_eq!(first.result, second.result);
    assert!(second.usage.peak_memory_bytes > 0);
}

#[test]
fn calls_are_send_so_they_can_run_on_any_tokio_worker() {
    fn send<T: Send>(_: &T) {}
    fn shared<T: Send + Sync>() {}
    shared::<parseltongue_plugins::Plugin>();
    shared::<parseltongue_plugins::Sandbox>();
    let plugin = plugin("node-census");
    let graph = sample_graph();
    let mut instance = plugin.instance();
    send(&instance.analyze(&graph));
    send(&plugin.analyze(&graph));
}
