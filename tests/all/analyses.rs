//! The real analyses give the right answers on graphs whose answer is known.

use parseltongue_plugins::{Graph, GraphNode, PluginOptions};

use crate::support::{graph, lines, load, messages, node, plugin, sample_graph};

#[tokio::test]
async fn cycle_finder_reports_each_cycle_largest_first() {
    let g = graph(
        &["a", "b", "c", "d", "e", "f", "g"],
        &[("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"), ("d", "e"), ("e", "d"), ("f", "f"), ("f", "g")],
    );
    let analysis = plugin("cycle-finder").analyze(&g).await.unwrap();
    assert_eq!(
        lines(&analysis.result.findings),
        vec![
            "warning cycle.dependency: dependency cycle of 3 nodes: a -> b -> c -> a — a",
            "warning cycle.dependency: dependency cycle of 2 nodes: d -> e -> d — d",
            "note cycle.self: depends on itself — f",
        ]
    );
    let ids = |i: usize| analysis.result.findings[i].nodes.iter().map(|n| n.id.as_str()).collect::<Vec<_>>();
    assert_eq!((ids(0), ids(1), ids(2)), (vec!["a", "b", "c"], vec!["d", "e"], vec!["f"]));
    assert_eq!(analysis.result.findings[0].nodes[1].index, 1);
    assert_eq!(analysis.result.confidence, 1.0);
    assert!(analysis.result.recommendations[0].contains("largest cycle (3 nodes, including a)"));
    assert!(analysis.usage.host_calls >= 2, "config() goes through the host: {:?}", analysis.usage);
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
        messages(&findings),
        vec!["dependency cycle of 2 nodes: a -> b -> a", "1 further cycles not listed (max-cycles = 1)"]
    );
    assert_eq!((findings[1].rule.as_str(), findings[1].nodes.len()), ("cycle.unlisted", 0));

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
    let findings = messages(&findings);
    assert!(findings[0].starts_with("dependency cycle of 3 nodes: rust:fn:find_cycles:"), "{findings:?}");
    assert!(findings[0].contains("rust:fn:render_cycles:") && findings[0].contains("rust:fn:run_all:"));
    assert!(findings[1].starts_with("dependency cycle of 3 nodes: rust:fn:flush_events:"), "{findings:?}");
    assert_eq!(findings[2], "depends on itself", "{findings:?}");
}

#[tokio::test]
async fn node_census_counts_types_and_flags_a_dominant_one() {
    let nodes = vec![node("a", "fn"), node("b", "fn"), node("c", "fn"), node("d", "struct")];
    let g = Graph::new(nodes, vec![]).unwrap();
    let analysis = plugin("node-census").analyze(&g).await.unwrap();
    assert_eq!(
        lines(&analysis.result.findings),
        vec!["note census.type: fn: 3 of 4 nodes (75.0%)", "note census.type: struct: 1 of 4 nodes (25.0%)"]
    );
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
    let warning = "config `threshold` = `lots` is not a number from 0 to 1: used 0.5";
    assert!(analysis.logs.iter().any(|r| r.message == warning), "{:?}", analysis.logs);
    // In the output too, first; then the recommendation of the 0.5 it fell back to.
    assert_eq!(analysis.result.recommendations[0], warning);
    assert_eq!(analysis.result.recommendations.len(), 2, "falls back to 0.5");
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

/// A graph from `(id, type, "k=v,k=v")` nodes and `(source, target, edge type)` edges.
fn code_graph(nodes: &[(&str, &str, &str)], edges: &[(&str, &str, &str)]) -> Graph {
    let nodes = nodes
        .iter()
        .map(|(id, t, meta)| GraphNode {
            id: id.to_string(),
            node_type: t.to_string(),
            metadata: meta
                .split(',')
                .filter(|kv| !kv.is_empty())
                .map(|kv| {
                    let (k, v) = kv.split_once('=').unwrap();
                    (k.to_string(), v.to_string())
                })
                .collect(),
        })
        .collect();
    let edges = edges
        .iter()
        .map(|(s, t, e)| parseltongue_plugins::GraphEdge {
            source: s.to_string(),
            target: t.to_string(),
            edge_type: e.to_string(),
        })
        .collect();
    Graph::new(nodes, edges).unwrap()
}

#[tokio::test]
async fn cycle_finder_reports_module_cycles_of_imported_graphs() {
    let g = code_graph(
        &[
            ("a1", "function", "module=app::a"),
            ("b1", "function", "module=app::b"),
            ("c1", "function", "module=app::c"),
        ],
        &[("a1", "b1", "Calls"), ("b1", "a1", "Uses"), ("b1", "c1", "Calls")],
    );
    let findings = plugin("cycle-finder").analyze(&g).await.unwrap().result.findings;
    assert_eq!(
        lines(&findings),
        [
            "warning cycle.dependency: dependency cycle of 2 nodes: a1 -> b1 -> a1 — a1",
            "warning cycle.module: module cycle of 2 modules: app::a -> app::b -> app::a — a1"
        ]
    );
}

#[tokio::test]
async fn blast_radius_ranks_what_most_code_depends_on() {
    // core <- util <- {api, cli}; api <- a test; everything calls the external `unwrap`.
    let g = code_graph(
        &[
            ("core", "function", ""),
            ("util", "function", ""),
            ("api", "function", ""),
            ("cli", "function", ""),
            ("test_api", "function", "test=true"),
            ("unwrap", "external", ""),
        ],
        &[
            ("util", "core", "Calls"),
            ("api", "util", "Calls"),
            ("cli", "util", "Calls"),
            ("test_api", "api", "Calls"),
            ("util", "unwrap", "Calls"),
            ("api", "unwrap", "Calls"),
            ("cli", "unwrap", "Calls"),
        ],
    );
    let r = load("blast-radius", PluginOptions::new().config("top", "2")).analyze(&g).await.unwrap().result;
    assert_eq!(
        lines(&r.findings),
        [
            "note blast-radius.hot-spot: function `core`: 1 direct dependents, 4 transitive — core",
            "note blast-radius.hot-spot: function `util`: 2 direct dependents, 3 transitive — util"
        ]
    );
    assert!(r.recommendations[0].contains("reaches 4 other entities"), "{r:?}");
}

#[tokio::test]
async fn god_objects_counts_methods_per_type_and_callees_per_function() {
    let g = code_graph(
        &[
            ("impl", "impl", "name=Store,file=s.rs,line_start=1,line_end=50"),
            ("m1", "method", "file=s.rs,line_start=2,line_end=5"),
            ("m2", "method", "file=s.rs,line_start=6,line_end=9"),
            ("m3", "method", "file=s.rs,line_start=10,line_end=19"),
            ("other", "method", "file=t.rs,line_start=2,line_end=5"),
            ("main", "function", "name=main,file=main.rs,line_start=1"),
            ("x", "external", ""),
        ],
        &[("main", "m1", "Calls"), ("main", "m2", "Calls"), ("main", "x", "Calls"), ("main", "x", "Uses")],
    );
    let p = load("god-objects", PluginOptions::new().config("max-methods", "2").config("max-fan-out", "2"));
    let r = p.analyze(&g).await.unwrap().result;
    assert_eq!(
        lines(&r.findings),
        [
            "warning god-object.methods: type Store: 3 methods in 1 impl blocks (0 traits) across s.rs (threshold 2) — Store (s.rs:1)",
            "warning god-object.fan-out: function `main` calls 3 distinct functions (1 outside the graph) (threshold 2) — main (main.rs:1)",
        ]
    );
    assert!(plugin("god-objects").analyze(&g).await.unwrap().result.findings.is_empty(), "defaults 20 / 25");
}

#[tokio::test]
async fn api_surface_counts_public_items_per_module() {
    let g = code_graph(
        &[
            ("a", "function", "visibility=public,module=core::parse"),
            ("b", "struct", "visibility=public,module=core::parse"),
            ("c", "function", "visibility=private,module=core::parse"),
            ("d", "enum", "visibility=public,module=core"),
            ("t", "function", "visibility=public,module=core::tests,test=true"),
        ],
        &[],
    );
    let p = load("api-surface", PluginOptions::new().config("max-public", "1"));
    let r = p.analyze(&g).await.unwrap().result;
    assert_eq!(
        messages(&r.findings),
        [
            "3 public items (of 4 with a visibility) in 2 modules",
            "core::parse: 2 public (1 function, 1 struct)",
            "core: 1 public (1 enum)",
        ]
    );
    assert_eq!(r.recommendations.len(), 1, "{r:?}");
}

#[tokio::test]
async fn dead_code_lists_what_nothing_uses_and_sets_false_positives_apart() {
    let g = code_graph(
        &[
            ("main", "function", "name=main"),
            ("run", "function", ""),
            ("orphan", "function", ""),
            ("helper", "function", ""),
            ("test_it", "function", "test=true"),
            ("Config", "struct", ""),
            ("fmt", "method", "file=a.rs,line_start=21,line_end=25"),
            ("impl-display", "impl", "file=a.rs,line_start=20,line_end=30"),
            ("Display", "external", ""),
        ],
        &[
            ("main", "run", "Calls"),
            ("run", "Config", "Uses"),
            ("test_it", "helper", "Calls"),
            ("impl-display", "Display", "Implements"),
        ],
    );
    let a = plugin("dead-code").analyze(&g).await.unwrap();
    assert_eq!(
        lines(&a.result.findings),
        [
            "warning dead-code.unused: function `orphan`: nothing in the graph calls it — orphan",
            "note dead-code.test-only: function `helper`: used only by tests — helper"
        ]
    );
    assert!(a.result.confidence < 1.0);
}

#[tokio::test]
async fn the_five_analyses_on_parseltongue_analysing_itself() {
    let g = parseltongue_plugins::bundled::parseltongue_v097_sample().graph;
    let run = |name: &'static str| {
        let g = g.clone();
        async move { plugin(name).analyze(&g).await.unwrap().result }
    };
    let cycles = run("cycle-finder").await;
    let cycles = lines(&cycles.findings);
    assert!(
        cycles.contains(&"note cycle.self: depends on itself — dfs_detect_cycles_in_graph (crates/pt07-visual-analytics-terminal/src/core/cycle_detection.rs:114)".to_string()),
        "places, not ISG keys: {cycles:?}"
    );
    assert!(
        cycles.iter().any(|f| f.starts_with(
            "warning cycle.module: module cycle of 2 modules: parseltongue_core::entities -> parseltongue_core::query_extractor -> parseltongue_core::entities — "
        )),
        "{cycles:?}"
    );
    let blast = run("blast-radius").await;
    assert_eq!(
        blast.findings[0].to_string(),
        "note blast-radius.hot-spot: method `CozoDbStorage::new`: 14 direct dependents, 107 transitive — new (crates/parseltongue-core/src/storage/cozo_client.rs:38)",
        "{blast:?}"
    );
    let god = run("god-objects").await;
    assert!(god.findings[0].message.starts_with("type CozoDbStorage: 30 methods"), "{god:?}");
    assert_eq!(god.findings[0].rule, "god-object.methods");
    let surface = run("api-surface").await;
    assert_eq!(
        surface.findings[1].message,
        "parseltongue_core::storage::cozo_client: 31 public (30 method, 1 struct)"
    );
    assert_eq!(surface.findings[1].nodes.len(), 31, "the public items themselves");
    let dead = run("dead-code").await;
    assert!(
        lines(&dead.findings).iter().any(|f| f
            == "warning dead-code.unused: method `CozoDbStorage::is_connected`: nothing in the graph calls it — is_connected (crates/parseltongue-core/src/storage/cozo_client.rs:57)"),
        "{dead:?}"
    );
}
