//! The actor runtime: restarts with backoff, quarantine and release, no lost requests,
//! backpressure, poison inputs, graceful degradation, hot swap, shutdown.
//!
//! Timing is checked on tokio's paused clock (backoff delays are tokio timers), never by sleeping.

use std::sync::Arc;
use std::time::Duration;

use parseltongue_plugins::{
    Backoff, Error, ErrorKind, EventKind, Graph, HostEvent, Limits, PluginHost, PluginOptions, PluginSpec,
    PluginState, RestartPolicy, Strategy, bundled,
};
use tokio::sync::broadcast;

use crate::support::{empty_graph, sample_graph, sandbox, small_graph};

fn spec(name: &str) -> PluginSpec {
    PluginSpec::bytes(name, bundled::get(name).expect("bundled").wasm)
}

/// A policy with no jitter and room for many restarts, so tests see exact delays.
fn policy() -> RestartPolicy {
    RestartPolicy {
        backoff: Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_millis(400),
            multiplier: 2.0,
            jitter: 0.0,
        },
        max_restarts: 100,
        period: Duration::from_secs(60),
        poison_threshold: 100,
        ..RestartPolicy::default()
    }
}

async fn host(specs: Vec<PluginSpec>, policy: RestartPolicy) -> PluginHost {
    let mut builder = PluginHost::builder().sandbox(sandbox().clone()).restart_policy(policy);
    for s in specs {
        builder = builder.plugin(s);
    }
    builder.start().await.expect("host starts")
}

/// Events received so far (without waiting).
fn drain(rx: &mut broadcast::Receiver<HostEvent>) -> Vec<EventKind> {
    let mut out = Vec::new();
    while let Ok(e) = rx.try_recv() {
        out.push(e.kind);
    }
    out
}

fn small() -> Arc<Graph> {
    Arc::new(small_graph())
}

fn empty() -> Arc<Graph> {
    Arc::new(empty_graph())
}

#[tokio::test]
async fn a_crashed_instance_is_restarted_and_serves_the_next_call() {
    let host = host(vec![spec("fault-panic")], policy()).await;
    let mut events = host.subscribe();
    let e = host.analyze("fault-panic", small()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Trap, "{e}");
    host.analyze("fault-panic", empty()).await.expect("the restarted instance answers");
    let kinds = drain(&mut events);
    assert!(matches!(kinds[0], EventKind::Crashed { instance: 0, kind: ErrorKind::Trap, .. }), "{kinds:?}");
    assert!(kinds.contains(&EventKind::RestartScheduled {
        instance: 0,
        attempt: 1,
        delay: Duration::from_millis(100)
    }));
    assert!(kinds.contains(&EventKind::Restarted { instance: 0 }), "{kinds:?}");
    let status = host.status().await;
    let sup = status.plugin("fault-panic").unwrap().supervisor.clone().unwrap();
    assert_eq!((sup.crashes, sup.restarts), (1, 1));
    assert_eq!(sup.state, PluginState::Running);
    host.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn backoff_delays_grow_and_are_capped() {
    let host = host(vec![spec("fault-panic")], policy()).await;
    let mut events = host.subscribe();
    let mut gaps = Vec::new();
    for _ in 0..5 {
        let crashed_at = tokio::time::Instant::now();
        assert_eq!(host.analyze("fault-panic", small()).await.unwrap_err().kind(), ErrorKind::Trap);
        // The next call waits in the queue for the restarted instance: its wait is the backoff.
        host.analyze("fault-panic", empty()).await.unwrap();
        gaps.push(crashed_at.elapsed());
    }
    let delays: Vec<Duration> = drain(&mut events)
        .into_iter()
        .filter_map(|k| match k {
            EventKind::RestartScheduled { delay, .. } => Some(delay),
            _ => None,
        })
        .collect();
    let ms = Duration::from_millis;
    assert_eq!(delays, vec![ms(100), ms(200), ms(400), ms(400), ms(400)]);
    for (gap, delay) in gaps.iter().zip(&delays) {
        assert!(*gap >= *delay && *gap < *delay + ms(50), "gap {gap:?} for delay {delay:?}");
    }
    host.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn too_many_restarts_quarantine_until_released() {
    let policy = RestartPolicy { max_restarts: 2, ..policy() };
    let host = host(vec![spec("fault-panic")], policy).await;
    let mut events = host.subscribe();
    for _ in 0..3 {
        assert_eq!(host.analyze("fault-panic", small()).await.unwrap_err().kind(), ErrorKind::Trap);
    }
    let e = host.analyze("fault-panic", empty()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Quarantined, "{e}");
    assert!(e.to_string().contains("2 restarts within 60 s"), "{e}");
    assert!(drain(&mut events).iter().any(|k| matches!(k, EventKind::Quarantined { .. })));
    let status = host.status().await;
    assert!(matches!(status.plugin("fault-panic").unwrap().state(), Some(PluginState::Quarantined(_))));

    assert!(host.release("fault-panic").await.unwrap(), "it was quarantined");
    host.analyze("fault-panic", empty()).await.expect("serving again after release");
    assert!(!host.release("fault-panic").await.unwrap(), "nothing to release twice");
    assert!(drain(&mut events).contains(&EventKind::Released));
    assert_eq!(host.release("nope").await.unwrap_err().kind(), ErrorKind::NotFound);
    host.shutdown().await;
}

#[tokio::test]
async fn the_in_flight_request_gets_the_error_and_queued_ones_survive_the_crash() {
    let host = host(vec![spec("fault-panic")], policy()).await;
    let (crash, a, b, c) = tokio::join!(
        host.analyze("fault-panic", small()),
        host.analyze("fault-panic", empty()),
        host.analyze("fault-panic", empty()),
        host.analyze("fault-panic", empty()),
    );
    assert_eq!(crash.unwrap_err().kind(), ErrorKind::Trap, "the running request is answered with the trap");
    for queued in [a, b, c] {
        let analysis = queued.expect("served by the restarted instance");
        assert_eq!(analysis.result.recommendations, vec!["nothing to panic about"]);
    }
    host.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_refuses_with_overloaded() {
    let limits = Limits::default().with_cpu_time(Duration::from_millis(300));
    let host = PluginHost::builder()
        .sandbox(sandbox().clone())
        .plugin(spec("fault-loop").options(PluginOptions::new().limits(limits)))
        .queue_capacity(1)
        .start()
        .await
        .unwrap();
    let spawn = |host: &PluginHost| {
        let host = host.clone();
        tokio::spawn(async move { host.analyze("fault-loop", small()).await })
    };
    let running = spawn(&host);
    let queued = spawn(&host);
    // Wait until one call runs and one waits: the plugin is now at capacity.
    for _ in 0..200 {
        let sup = host.status().await.plugin("fault-loop").unwrap().supervisor.clone().unwrap();
        if sup.queued == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let refused = host.analyze("fault-loop", empty()).await;
    let (running, queued) = (running.await.unwrap(), queued.await.unwrap());
    let refused = refused.unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::Overloaded, "{refused}");
    assert!(matches!(refused, Error::Overloaded { capacity: 2, .. }));
    assert_eq!(running.unwrap_err().kind(), ErrorKind::Timeout);
    assert_eq!(queued.unwrap_err().kind(), ErrorKind::Timeout, "the queued one ran after the restart");
    host.analyze("fault-loop", empty()).await.expect("capacity is back once answered");
    host.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn an_input_that_keeps_crashing_the_plugin_becomes_poison() {
    let policy = RestartPolicy { poison_threshold: 2, ..policy() };
    let host = host(vec![spec("fault-panic")], policy).await;
    let mut events = host.subscribe();
    let poison = small();
    assert_eq!(host.analyze("fault-panic", poison.clone()).await.unwrap_err().kind(), ErrorKind::Trap);
    assert_eq!(host.analyze("fault-panic", poison.clone()).await.unwrap_err().kind(), ErrorKind::Trap);
    let e = host.analyze("fault-panic", poison.clone()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PoisonInput, "{e}");
    // An equal graph built separately is recognised too; other inputs still run.
    assert_eq!(host.analyze("fault-panic", small()).await.unwrap_err().kind(), ErrorKind::PoisonInput);
    host.analyze("fault-panic", empty()).await.expect("other inputs are fine");
    let poison_events =
        drain(&mut events).into_iter().filter(|k| matches!(k, EventKind::PoisonInput { .. })).count();
    assert_eq!(poison_events, 1);
    let sup = host.status().await.plugin("fault-panic").unwrap().supervisor.clone().unwrap();
    assert_eq!((sup.poison_inputs, sup.crashes), (1, 2), "refusing poison costs no crash");
    host.shutdown().await;
}

#[tokio::test]
async fn analyze_all_degrades_gracefully() {
    let names = ["node-census", "cycle-finder", "fault-panic", "fault-memory-bomb", "fault-deep-recursion"];
    let host = host(names.iter().map(|n| spec(n)).collect(), policy()).await;
    let results = host.analyze_all(sample_graph()).await;
    assert_eq!(results.keys().map(String::as_str).collect::<Vec<_>>(), {
        let mut sorted = names.to_vec();
        sorted.sort();
        sorted
    });
    assert_eq!(results["node-census"].as_ref().unwrap().result.findings.len(), 4);
    assert_eq!(results["cycle-finder"].as_ref().unwrap().result.findings.len(), 3);
    assert_eq!(results["fault-panic"].as_ref().unwrap_err().kind(), ErrorKind::Trap);
    assert_eq!(results["fault-memory-bomb"].as_ref().unwrap_err().kind(), ErrorKind::MemoryLimit);
    assert_eq!(results["fault-deep-recursion"].as_ref().unwrap_err().kind(), ErrorKind::StackOverflow);
    host.shutdown().await;
}

#[tokio::test]
async fn one_for_all_restarts_every_instance() {
    let policy = RestartPolicy { strategy: Strategy::OneForAll, ..policy() };
    let host = PluginHost::builder()
        .sandbox(sandbox().clone())
        .restart_policy(policy)
        .plugin(spec("fault-panic").instances(3))
        .start()
        .await
        .unwrap();
    let mut events = host.subscribe();
    host.analyze("fault-panic", small()).await.unwrap_err();
    host.analyze("fault-panic", empty()).await.unwrap();
    let mut scheduled: Vec<usize> = drain(&mut events)
        .into_iter()
        .filter_map(|k| match k {
            EventKind::RestartScheduled { instance, .. } => Some(instance),
            _ => None,
        })
        .collect();
    scheduled.sort();
    assert_eq!(scheduled, vec![0, 1, 2]);
    host.shutdown().await;
}

#[tokio::test]
async fn a_hot_swap_sends_new_calls_to_the_new_version_while_old_calls_finish() {
    let slow = Limits::default().with_cpu_time(Duration::from_millis(400));
    let v1 = PluginSpec::bytes("swap", bundled::get("fault-loop").unwrap().wasm)
        .version(semver::Version::new(1, 0, 0))
        .options(PluginOptions::new().limits(slow));
    let v2 = PluginSpec::bytes("swap", bundled::get("node-census").unwrap().wasm)
        .version(semver::Version::new(2, 0, 0));
    let host = host(vec![v1], policy()).await;
    let in_flight = {
        let host = host.clone();
        tokio::spawn(async move { host.analyze("swap", small()).await })
    };
    tokio::time::sleep(Duration::from_millis(50)).await; // let v1 start on it
    let key = host.load(v2).await.unwrap();
    assert_eq!(key.version, semver::Version::new(2, 0, 0));
    let new = host.analyze("swap", small()).await.expect("v2 answers new calls");
    assert_eq!(new.result.messages(), vec!["fn: 3 of 3 nodes (100.0%)"]);
    let old = in_flight.await.unwrap();
    assert_eq!(old.unwrap_err().kind(), ErrorKind::Timeout, "the in-flight call finished on v1");
    // v1 drains and stops; only v2 remains.
    let mut versions = Vec::new();
    for _ in 0..100 {
        versions = host.status().await.plugins.iter().map(|p| p.version.clone()).collect();
        if versions == ["2.0.0"] {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(versions, ["2.0.0"]);
    host.shutdown().await;
}

#[tokio::test]
async fn unload_and_unknown_plugins() {
    let host = host(vec![spec("node-census")], policy()).await;
    assert_eq!(host.plugins(), vec!["node-census"]);
    host.unload("node-census").await.unwrap();
    assert_eq!(host.analyze("node-census", small()).await.unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(host.unload("node-census").await.unwrap_err().kind(), ErrorKind::NotFound);
    host.shutdown().await;
}

#[tokio::test]
async fn a_plugin_that_fails_to_load_is_reported_and_the_others_start() {
    let host = host(vec![spec("node-census"), PluginSpec::bytes("broken", &b"not wasm"[..])], policy()).await;
    assert_eq!(host.plugins(), vec!["node-census"]);
    let status = host.status().await;
    assert_eq!(status.failed.len(), 1);
    assert_eq!(status.failed[0].kind, ErrorKind::InvalidComponent);
    assert_eq!(status.failed[0].source, "broken");
    host.shutdown().await;
}

#[tokio::test]
async fn plugin_dirs_are_discovered_with_their_manifests() {
    let dir = tempfile::tempdir().unwrap();
    let census = dir.path().join("census");
    std::fs::create_dir(&census).unwrap();
    std::fs::write(
        census.join("plugin.toml"),
        "name = \"census\"\nversion = \"1.4.2\"\ncomponent = \"c.wasm\"\n",
    )
    .unwrap();
    std::fs::write(census.join("c.wasm"), bundled::get("node-census").unwrap().wasm).unwrap();
    std::fs::write(dir.path().join("cycle_finder.wasm"), bundled::get("cycle-finder").unwrap().wasm).unwrap();
    let bad = dir.path().join("bad");
    std::fs::create_dir(&bad).unwrap();
    std::fs::write(bad.join("plugin.toml"), "name = \"bad\"\nversion = \"1.0.0\"\ncolour = \"red\"\n")
        .unwrap();

    let host = PluginHost::builder().sandbox(sandbox().clone()).plugin_dir(dir.path()).start().await.unwrap();
    assert_eq!(host.plugins(), vec!["census", "cycle_finder"]);
    let status = host.status().await;
    assert_eq!(status.plugin("census").unwrap().version, "1.4.2");
    assert_eq!(status.failed.len(), 1);
    assert_eq!(status.failed[0].kind, ErrorKind::InvalidManifest);
    assert!(status.failed[0].error.contains("unknown field `colour`"), "{:?}", status.failed);
    host.analyze("census", sample_graph()).await.unwrap();
    host.shutdown().await;
}

#[tokio::test]
async fn shutdown_stops_every_actor_and_drops_every_instance() {
    let sandbox = parseltongue_plugins::Sandbox::builder().no_cache().build().unwrap();
    let metrics = tokio::runtime::Handle::current().metrics();
    let tasks_before = metrics.num_alive_tasks();
    let host = PluginHost::builder()
        .sandbox(sandbox.clone())
        .instances(3)
        .plugin(spec("node-census"))
        .plugin(spec("fault-panic"))
        .start()
        .await
        .unwrap();
    host.analyze("node-census", small()).await.unwrap();
    host.analyze("fault-panic", small()).await.unwrap_err();
    assert!(sandbox.live_instances() >= 5, "{}", sandbox.live_instances());
    host.shutdown().await;
    assert_eq!(sandbox.live_instances(), 0);
    for _ in 0..100 {
        if metrics.num_alive_tasks() <= tasks_before {
            break;
        }
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(metrics.num_alive_tasks(), tasks_before, "no task outlives the host");
    let e = host.analyze("node-census", small()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable);
    host.shutdown().await; // idempotent
}

#[tokio::test]
async fn a_long_guest_call_does_not_block_its_runtime_thread() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    // One runtime thread: if guest calls blocked it, the ticker below could not run at all.
    let limits = Limits::default().with_cpu_time(Duration::from_millis(500));
    let plugin = crate::support::load("fault-loop", PluginOptions::new().limits(limits));
    let ticks = Arc::new(AtomicUsize::new(0));
    let counter = ticks.clone();
    let ticker = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(10)).await;
            counter.fetch_add(1, Ordering::Relaxed);
        }
    });
    let e = plugin.analyze(&small_graph()).await.unwrap_err();
    ticker.abort();
    assert_eq!(e.kind(), ErrorKind::Timeout);
    let ticks = ticks.load(Ordering::Relaxed);
    assert!(ticks >= 5, "only {ticks} ticks ran beside a 500 ms guest call");
}

fn looping(timeout_ms: u64, quota: parseltongue_plugins::Quota) -> PluginSpec {
    let limits = Limits::default().with_cpu_time(Duration::from_millis(timeout_ms));
    spec("fault-loop").options(PluginOptions::new().limits(limits)).quota(quota)
}

fn levels(events: Vec<EventKind>) -> Vec<parseltongue_plugins::QuotaLevel> {
    events
        .into_iter()
        .filter_map(|k| match k {
            EventKind::Quota { level, .. } => Some(level),
            _ => None,
        })
        .collect()
}

#[tokio::test(start_paused = true)]
async fn a_plugin_over_its_cpu_budget_is_warned_then_throttled_until_the_window_frees() {
    use parseltongue_plugins::{Quota, QuotaLevel};
    let quota = Quota { cpu_per_window: Some(Duration::from_millis(250)), ..Quota::default() };
    let host = host(vec![looping(100, quota)], policy()).await;
    let mut events = host.subscribe();
    for _ in 0..3 {
        assert_eq!(host.analyze("fault-loop", small()).await.unwrap_err().kind(), ErrorKind::Timeout);
    }
    // 300 ms used of 250: throttled. The next call waits for the one-minute window to pass.
    let waited = tokio::time::Instant::now();
    host.analyze("fault-loop", empty()).await.expect("served once the window frees budget");
    assert!(waited.elapsed() >= Duration::from_secs(55), "held back for {:?}", waited.elapsed());
    assert_eq!(
        levels(drain(&mut events)),
        vec![QuotaLevel::Warned, QuotaLevel::Throttled, QuotaLevel::Normal]
    );
    let usage = host.status().await.plugin("fault-loop").unwrap().usage.clone().unwrap();
    assert_eq!(usage.calls, 4);
    assert_eq!(usage.errors.get(&ErrorKind::Timeout), Some(&3));
    host.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_plugin_far_over_its_budget_is_stopped_and_quarantined() {
    use parseltongue_plugins::Quota;
    let quota = Quota { cpu_per_window: Some(Duration::from_millis(100)), ..Quota::default() };
    let host = host(vec![looping(200, quota)], policy()).await;
    host.analyze("fault-loop", small()).await.unwrap_err();
    let mut state = None;
    for _ in 0..100 {
        state = host.status().await.plugin("fault-loop").unwrap().state().cloned();
        if matches!(state, Some(PluginState::Quarantined(_))) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let Some(PluginState::Quarantined(reason)) = state else { panic!("not quarantined: {state:?}") };
    assert!(reason.contains("its budget of 100 ms"), "{reason}");
    assert_eq!(host.analyze("fault-loop", empty()).await.unwrap_err().kind(), ErrorKind::Quarantined);
    assert!(host.release("fault-loop").await.unwrap());
    host.analyze("fault-loop", empty()).await.expect("a release also resets the quota window");
    host.shutdown().await;
}
