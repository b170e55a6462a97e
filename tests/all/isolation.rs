//! Memory isolation between instances: what one instance wrote must never be visible to the
//! next, in particular when the pooling allocator hands the next one the same slot.

use parseltongue_plugins::{Graph, Plugin, PluginOptions, Pooling, Sandbox, bundled};

use crate::support::graph;

const PROBE: &str = "probe-memory-residue";

fn probe(sandbox: &Sandbox) -> Plugin {
    sandbox.load(PROBE, bundled::get(PROBE).unwrap().wasm, PluginOptions::new()).unwrap()
}

fn order(mode: &str, seed: u64) -> Graph {
    graph(&[&format!("{mode}:{seed}")], &[])
}

fn traces(findings: &[String]) -> usize {
    findings.iter().filter(|f| f.starts_with("secret found at")).count()
}

/// The scan reports how many nonzero words it saw in pages it grew itself.
fn nonzero_grown_words(findings: &[String]) -> usize {
    let first = &findings[0];
    let n = first.split("; ").nth(1).and_then(|s| s.split(' ').next()).expect(first);
    n.parse().expect(first)
}

#[tokio::test]
async fn the_probe_finds_a_secret_left_in_the_same_instance() {
    // The control: the same instance keeps its memory between calls, so the scan must see the
    // secret in all three places; a clean scan elsewhere then means something.
    let plugin = probe(&Sandbox::builder().no_cache().build().unwrap());
    let mut instance = plugin.instance();
    let wrote = instance.analyze(&order("write", 7)).await.unwrap().result.findings;
    assert!(wrote.iter().any(|f| f.starts_with("grown pages: 1024 KiB")), "{wrote:?}");
    let seen = instance.analyze(&order("scan", 7)).await.unwrap().result.findings;
    assert!(traces(&seen) >= 3, "static area, heap and grown pages: {seen:?}");
    let other_seed = instance.analyze(&order("scan", 8)).await.unwrap().result.findings;
    assert_eq!(traces(&other_seed), 0, "{other_seed:?}");
}

#[tokio::test]
async fn a_pooled_slot_is_wiped_between_instances() {
    let cache = tempfile::tempdir().unwrap();
    let pooled = Sandbox::builder()
        .cache_dir(cache.path())
        .pooling(Pooling { instances: 1, memory_mb: 64 })
        .build()
        .unwrap();
    let plugin = probe(&pooled);
    // The same secret every round: whichever memory slot the scanner gets, an earlier writer
    // used it.
    let seed = 11;
    for round in 0..4 {
        let mut writer = plugin.instance();
        let wrote = writer.analyze(&order("write", seed)).await.expect("writes").result.findings;
        assert_eq!(wrote.len(), 4, "{wrote:?}");
        drop(writer);
        // One instance slot in the whole sandbox: the scanner must get the writer's.
        let seen = plugin.analyze(&order("scan", seed)).await.expect("scans").result.findings;
        assert_eq!(traces(&seen), 0, "round {round}: {seen:?}");
        assert_eq!(nonzero_grown_words(&seen), 0, "round {round}: {seen:?}");
    }
}

#[tokio::test]
async fn on_demand_instances_start_from_clean_memory_too() {
    let sandbox = Sandbox::builder().no_cache().build().unwrap();
    let plugin = probe(&sandbox);
    plugin.analyze(&order("write", 21)).await.unwrap();
    let seen = plugin.analyze(&order("scan", 21)).await.unwrap().result.findings;
    assert_eq!((traces(&seen), nonzero_grown_words(&seen)), (0, 0), "{seen:?}");
}
