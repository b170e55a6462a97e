//! Memory isolation between instances: what one instance wrote must never be visible to the
//! next, in particular when the pooling allocator hands the next one the same slot.

use parseltongue_plugins::conformance::ResidueScan;
use parseltongue_plugins::{Graph, Plugin, PluginOptions, Sandbox, bundled};

use crate::support::graph;

const PROBE: &str = "probe-memory-residue";

fn probe(sandbox: &Sandbox) -> Plugin {
    sandbox.load(PROBE, bundled::get(PROBE).unwrap().wasm, PluginOptions::new()).unwrap()
}

fn order(mode: &str, seed: u64) -> Graph {
    graph(&[&format!("{mode}:{seed}")], &[])
}

fn scan(findings: &[String]) -> ResidueScan {
    ResidueScan::read(findings)
}

#[tokio::test]
async fn the_probe_finds_a_secret_left_in_the_same_instance() {
    // The control: the same instance keeps its memory between calls, so the scan must see the
    // secret in all three places; a clean scan elsewhere then means something.
    let plugin = probe(&Sandbox::builder().no_cache().build().unwrap());
    let mut instance = plugin.instance();
    let wrote = crate::support::texts(instance.analyze(&order("write", 7)).await.unwrap().result);
    assert!(wrote.iter().any(|f| f.starts_with("grown pages: 1024 KiB")), "{wrote:?}");
    let seen = crate::support::texts(instance.analyze(&order("scan", 7)).await.unwrap().result);
    assert!(scan(&seen).traces >= 3, "static area, heap and grown pages: {seen:?}");
    let other_seed = crate::support::texts(instance.analyze(&order("scan", 8)).await.unwrap().result);
    assert_eq!(scan(&other_seed).traces, 0, "{other_seed:?}");
}

#[tokio::test]
async fn a_pooled_slot_is_wiped_between_instances() {
    let plugin = probe(&crate::support::pooled_sandbox(1));
    // The same secret every round: whichever memory slot the scanner gets, an earlier writer
    // used it.
    let seed = 11;
    for round in 0..4 {
        let mut writer = plugin.instance();
        let wrote =
            crate::support::texts(writer.analyze(&order("write", seed)).await.expect("writes").result);
        assert_eq!(wrote.len(), 4, "{wrote:?}");
        drop(writer);
        // One instance slot in the whole sandbox: the scanner must get the writer's.
        let seen = crate::support::texts(plugin.analyze(&order("scan", seed)).await.expect("scans").result);
        assert_eq!(scan(&seen), ResidueScan { traces: 0, nonzero_grown_words: 0 }, "round {round}: {seen:?}");
    }
}

#[tokio::test]
async fn on_demand_instances_start_from_clean_memory_too() {
    let sandbox = Sandbox::builder().no_cache().build().unwrap();
    let plugin = probe(&sandbox);
    plugin.analyze(&order("write", 21)).await.unwrap();
    let seen = crate::support::texts(plugin.analyze(&order("scan", 21)).await.unwrap().result);
    assert_eq!(scan(&seen), ResidueScan { traces: 0, nonzero_grown_words: 0 }, "{seen:?}");
}
