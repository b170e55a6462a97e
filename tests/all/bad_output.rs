//! Contract 0.2's answers from a plugin that lies: every malformed report ends in a typed error
//! — never a panic, never a read outside the plugin's memory — and the host (and the plugin's
//! next call) carries on. The fixture is `fault-bad-output`, one malformed report per `mode`.

use parseltongue_plugins::{Error, ErrorKind, Limits, MIB, PluginOptions, Severity};

use crate::support::{empty_graph, load, small_graph};

/// `fault-bad-output` in `mode` on the small graph: the error, and whether the same instance
/// then answers an empty graph.
async fn bad(mode: &str, limits: Limits) -> (Error, bool) {
    let plugin = load("fault-bad-output", PluginOptions::new().limits(limits).config("mode", mode));
    let mut instance = plugin.instance();
    let error = instance.analyze(&small_graph()).await.expect_err("a malformed report is refused");
    let recovered = instance.analyze(&empty_graph()).await.is_ok();
    (error, recovered)
}

#[tokio::test]
async fn a_finding_about_node_a_billion_is_invalid_output() {
    let (e, recovered) = bad("node", Limits::default()).await;
    assert_eq!(e.kind(), ErrorKind::InvalidOutput, "{e}");
    assert_eq!(
        e.to_string(),
        "the plugin's result is malformed: findings[0] names node 1000000000; the graph has 3 nodes (0 to 2)"
    );
    assert!(recovered, "the next call gets a fresh instance");
}

#[tokio::test]
async fn a_message_that_is_not_utf8_is_invalid_output() {
    let (e, recovered) = bad("utf8", Limits::default()).await;
    assert_eq!(e.kind(), ErrorKind::InvalidOutput, "{e}");
    assert!(e.to_string().contains("is not UTF-8"), "{e}");
    assert!(recovered);
}

#[tokio::test]
async fn a_string_past_the_end_of_memory_is_invalid_output_not_a_host_read() {
    let (e, recovered) = bad("outside", Limits::default()).await;
    assert_eq!(e.kind(), ErrorKind::InvalidOutput, "{e}");
    assert!(e.to_string().contains("out of bounds of memory"), "{e}");
    assert!(recovered);
}

#[tokio::test]
async fn a_nan_confidence_is_refused() {
    let (e, recovered) = bad("nan", Limits::default()).await;
    assert_eq!(e.kind(), ErrorKind::OutputLimit, "{e}");
    assert!(e.to_string().contains("confidence NaN is outside 0.0..=1.0"), "{e}");
    assert!(recovered);
}

#[tokio::test]
async fn a_rule_id_of_a_mebibyte_is_invalid_output_and_not_echoed_whole() {
    let (e, recovered) = bad("rule", Limits::default()).await;
    assert_eq!(e.kind(), ErrorKind::InvalidOutput, "{e}");
    let text = e.to_string();
    assert!(text.contains("(1048576 bytes) is not a rule id"), "{text}");
    assert!(text.len() < 400, "the message quotes 40 characters of it: {} bytes", text.len());
    assert!(recovered);
}

#[tokio::test]
async fn ten_million_findings_stop_at_the_copy_not_in_host_memory() {
    // The guest needs ~700 MB to build them; the host refuses while copying them out, before it
    // has allocated more than its output budget.
    let limits =
        Limits::default().with_memory_bytes(1536 * MIB).with_cpu_time(std::time::Duration::from_secs(60));
    let (e, recovered) = bad("many", limits).await;
    assert_eq!(e.kind(), ErrorKind::OutputLimit, "{e}");
    assert!(e.to_string().contains("more than"), "{e}");
    assert!(recovered);
}

#[tokio::test]
async fn a_rule_list_naming_a_rule_twice_is_invalid_output() {
    let plugin = load("fault-bad-output", PluginOptions::new().config("mode", "rules"));
    let e = plugin.instance().rules().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidOutput, "{e}");
    assert!(e.to_string().contains("rules[1].id `bad.output` appears twice"), "{e}");
}

#[tokio::test]
async fn a_well_formed_report_resolves_its_nodes_and_lists_its_rules() {
    // The same fixture on an empty graph answers normally; cycle-finder's rules are its table.
    let plugin = load("fault-bad-output", PluginOptions::new());
    assert!(plugin.analyze(&empty_graph()).await.unwrap().result.findings.is_empty());
    let rules = crate::support::plugin("cycle-finder").instance().rules().await.unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["cycle.dependency", "cycle.self", "cycle.module", "cycle.unlisted"]);
    assert_eq!(rules[0].default_severity, Severity::Warning);
    // A 0.1 plugin has one rule: its name.
    let legacy = crate::support::plugin("legacy-census").instance().rules().await.unwrap();
    assert_eq!(legacy.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["legacy-census"]);
}

#[tokio::test]
async fn a_host_refuses_at_load_a_plugin_whose_rules_are_malformed_and_keeps_the_others_rules() {
    use parseltongue_plugins::{PluginHost, PluginSpec, bundled};
    let wasm = |name: &str| bundled::get(name).unwrap().wasm;
    let host = PluginHost::builder().start().await.unwrap();
    let bad = PluginSpec::bytes("fault-bad-output", wasm("fault-bad-output"))
        .options(PluginOptions::new().config("mode", "rules"));
    let e = host.load(bad).await.expect_err("duplicate rule ids are refused at load");
    assert_eq!(e.kind(), ErrorKind::InvalidOutput, "{e}");
    assert!(e.to_string().contains("appears twice"), "{e}");
    host.load(PluginSpec::bytes("cycle-finder", wasm("cycle-finder"))).await.unwrap();
    host.load(PluginSpec::bytes("legacy-census", wasm("legacy-census"))).await.unwrap();
    let status = host.status().await;
    let ids = |name: &str| -> Vec<String> {
        status.plugin(name).unwrap().rules.iter().map(|r| r.id.clone()).collect()
    };
    assert!(ids("cycle-finder").contains(&"cycle.dependency".to_string()), "{:?}", ids("cycle-finder"));
    assert_eq!(ids("legacy-census"), ["legacy-census"], "a 0.1 plugin's one rule is its name");
    assert_eq!(status.failed.len(), 1);
    assert_eq!(status.failed[0].kind, ErrorKind::InvalidOutput);
    host.shutdown().await;
}
