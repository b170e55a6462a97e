//! Every fault fixture ends in the right error kind, the host stays up, and the very same plugin
//! answers a good call right afterwards.

use std::time::Duration;

use parseltongue_plugins::{Clock, Error, ErrorKind, Limits, PluginOptions, bundled};

use crate::support::{empty_graph, load, plugin, small_graph};

/// Runs `name` on a graph that makes it misbehave, checks the error kind, then runs a good call
/// on the same plugin (which needs a fresh instance).
async fn contained(name: &str, expected: ErrorKind) -> Error {
    let plugin = plugin(name);
    let mut instance = plugin.instance();
    let error = instance.analyze(&small_graph()).await.expect_err("the fault must be stopped");
    assert_eq!(error.kind(), expected, "{name}: {error}");
    assert!(!instance.is_live(), "{name}: a trapped instance must be dropped");
    let good =
        instance.analyze(&empty_graph()).await.unwrap_or_else(|e| panic!("{name} after the fault: {e}"));
    assert!(good.usage.fresh_instance, "{name}: the good call must run on a fresh instance");
    assert!(instance.is_live());
    error
}

#[tokio::test]
async fn infinite_loop_times_out_near_the_deadline() {
    let limits = Limits::default().with_cpu_time(Duration::from_millis(200));
    let plugin = load("fault-loop", PluginOptions::new().limits(limits));
    let mut instance = plugin.instance();
    let error = instance.analyze(&small_graph()).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Timeout, "{error}");
    assert!(
        matches!(error, Error::Timeout { clock: Clock::Cpu, .. }),
        "the CPU limit, not the backstop: {error}"
    );
    let usage = instance.last_usage();
    assert!(usage.cpu_time >= Duration::from_millis(200), "stopped early: {usage:?}");
    assert!(usage.wall_time >= usage.cpu_time, "{usage:?}");
    instance.analyze(&empty_graph()).await.expect("recovers");
}

#[tokio::test]
async fn infinite_loop_with_default_limits() {
    let error = contained("fault-loop", ErrorKind::Timeout).await;
    assert!(error.to_string().contains("1000 ms"), "{error}");
}

#[tokio::test]
async fn infinite_loop_runs_out_of_fuel_when_metered() {
    let limits = Limits::default().with_fuel(Some(5_000_000)).with_cpu_time(Duration::from_secs(30));
    let plugin = load("fault-loop", PluginOptions::new().limits(limits));
    let mut instance = plugin.instance();
    let error = instance.analyze(&small_graph()).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::FuelExhausted, "{error}");
    assert_eq!(instance.last_usage().fuel_consumed, Some(5_000_000));
    let good = instance.analyze(&empty_graph()).await.expect("recovers");
    let fuel = good.usage.fuel_consumed.expect("metered");
    assert!(fuel > 0 && fuel < 5_000_000, "{fuel}");
}

#[tokio::test]
async fn memory_bomb_hits_the_memory_limit() {
    let error = contained("fault-memory-bomb", ErrorKind::MemoryLimit).await;
    assert!(error.to_string().contains("64 MiB"), "{error}");
}

#[tokio::test]
async fn memory_limit_is_per_plugin() {
    let limits = Limits::default().with_memory_bytes(8 * parseltongue_plugins::MIB);
    let plugin = load("fault-memory-bomb", PluginOptions::new().limits(limits));
    let mut instance = plugin.instance();
    let error = instance.analyze(&small_graph()).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::MemoryLimit);
    assert!(error.to_string().contains("limit of 8 MiB"), "{error}");
    let peak = instance.last_usage().peak_memory_bytes;
    assert!(peak <= 8 * parseltongue_plugins::MIB && peak > 4 * parseltongue_plugins::MIB, "{peak}");
}

#[tokio::test]
async fn deep_recursion_overflows_the_stack() {
    contained("fault-deep-recursion", ErrorKind::StackOverflow).await;
}

#[tokio::test]
async fn panic_is_a_trap_that_carries_the_panic_message() {
    let error = contained("fault-panic", ErrorKind::Trap).await;
    assert!(error.to_string().contains("fault-panic was given 3 nodes and gave up"), "{error}");
}

#[tokio::test]
async fn oversized_output_is_refused_before_the_host_copies_it() {
    // 20 MB of findings against a 1 MiB limit: the engine stops copying (hostcall fuel).
    let error = contained_output(plugin("fault-oversized-output")).await;
    assert!(error.to_string().contains("tried to pass more than"), "{error}");
}

#[tokio::test]
async fn output_within_the_copy_budget_still_meets_the_exact_limits() {
    // Room to copy all 20 MB, but only 100,000 findings allowed: the exact check refuses.
    let limits = Limits::default().with_max_findings(100_000).with_max_result_bytes(64 << 20);
    let plugin = load("fault-oversized-output", PluginOptions::new().limits(limits));
    let error = contained_output(plugin).await;
    assert_eq!(
        error.to_string(),
        "the plugin's result breaks the output limits: 200000 findings, over the limit of 100000"
    );
}

#[tokio::test]
async fn a_huge_list_of_empty_strings_is_refused_before_the_host_allocates_for_it() {
    // 2,000,000 empty findings: no text at all, but 48 MB of host `String`s if copied.
    let error = contained_output(plugin("fault-huge-list")).await;
    assert!(error.to_string().contains("tried to pass more than"), "{error}");
    // The limit is what stops it: with room for the list, the very same plugin returns it.
    let limits = Limits::default().with_max_findings(2_000_000);
    let roomy = load("fault-huge-list", PluginOptions::new().limits(limits).config("entries", "200000"));
    let analysis = roomy.analyze(&small_graph()).await.expect("within the raised limits");
    assert_eq!(analysis.result.findings.len(), 200_000);
}

/// An output-limit breach keeps the instance (the guest did nothing wrong inside the sandbox).
async fn contained_output(plugin: parseltongue_plugins::Plugin) -> Error {
    let mut instance = plugin.instance();
    let error = instance.analyze(&small_graph()).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::OutputLimit, "{error}");
    instance.analyze(&empty_graph()).await.expect("answers the next call");
    error
}

#[tokio::test]
async fn log_flood_is_bounded_and_counted() {
    // A generous deadline: this is about bounding output, and debug builds make host calls slow.
    let limits = Limits::default().with_cpu_time(Duration::from_secs(30));
    let plugin = load("fault-log-flood", PluginOptions::new().limits(limits.clone()));
    let analysis = plugin.analyze(&small_graph()).await.expect("a flood is not an error");
    let kept: usize = analysis.logs.iter().map(|r| r.message.len()).sum();
    assert!(kept <= limits.max_log_bytes, "{kept}");
    assert!(
        analysis.usage.log_bytes_dropped > 1_900_000, // 2,000 lines of ~1 KiB against 64 KiB
        "{:?}",
        analysis.usage
    );
    assert!(analysis.usage.log_messages_dropped > 1_900, "{:?}", analysis.usage);
    assert!(analysis.stdout.len() <= limits.max_stdio_bytes);
    assert!(analysis.stderr.len() <= limits.max_stdio_bytes);
    assert!(analysis.usage.stdio_bytes_dropped > 3_800_000, "{:?}", analysis.usage);
    // The guest never saw a failed write: the flood was absorbed, not turned into a panic.
    assert!(
        analysis.result.messages()[0].ends_with("0 stdout and 0 stderr writes failed"),
        "{:?}",
        analysis.result
    );
}

#[tokio::test]
async fn every_fault_fixture_has_its_documented_outcome() {
    for bundled in bundled::PLUGINS {
        if let bundled::Role::Fault(kind) = bundled.role {
            let error = plugin(bundled.name).analyze(&small_graph()).await.unwrap_err();
            assert_eq!(error.kind(), kind, "{}: {error}", bundled.name);
        }
    }
}

#[tokio::test]
async fn faults_in_one_plugin_leave_others_untouched() {
    let (bomb, census, graph) = (plugin("fault-memory-bomb"), plugin("node-census"), small_graph());
    let (bomb, census) = tokio::join!(bomb.analyze(&graph), census.analyze(&graph));
    assert_eq!(bomb.unwrap_err().kind(), ErrorKind::MemoryLimit);
    assert_eq!(census.expect("census unaffected").result.messages(), vec!["fn: 3 of 3 nodes (100.0%)"]);
}

#[tokio::test]
async fn faults_are_contained_in_pooled_instance_slots_too() {
    let pooled = crate::support::pooled_sandbox(4);
    for (name, kind) in [
        ("fault-memory-bomb", ErrorKind::MemoryLimit),
        ("fault-panic", ErrorKind::Trap),
        ("fault-deep-recursion", ErrorKind::StackOverflow),
    ] {
        let wasm = bundled::get(name).unwrap().wasm;
        let plugin = pooled.load(name, wasm, PluginOptions::new()).unwrap();
        let mut instance = plugin.instance();
        let error = instance.analyze(&small_graph()).await.unwrap_err();
        assert_eq!(error.kind(), kind, "{name}: {error}");
        let good =
            instance.analyze(&empty_graph()).await.unwrap_or_else(|e| panic!("{name} after the fault: {e}"));
        assert!(good.usage.fresh_instance);
    }
    // More instances than slots: the fifth is refused with an error, not a crash, and a freed
    // slot is reused.
    let census =
        pooled.load("node-census", bundled::get("node-census").unwrap().wasm, PluginOptions::new()).unwrap();
    let mut held = Vec::new();
    for _ in 0..4 {
        let mut instance = census.instance();
        instance.analyze(&empty_graph()).await.expect("a slot");
        held.push(instance);
    }
    let mut extra = census.instance();
    assert!(extra.analyze(&empty_graph()).await.is_err(), "the pool has 4 slots");
    held.pop();
    extra.analyze(&empty_graph()).await.expect("a freed slot is reused");
}
