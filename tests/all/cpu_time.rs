//! The per-call time limit counts the CPU time the plugin's code uses, not the time the machine
//! takes to give it: a plugin sharing its core with busy threads runs slower, not into a timeout.
//! The tests make a busy machine for real: the test thread (which runs the guest, on a
//! current-thread runtime) and spinning threads are pinned to one core.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use parseltongue_plugins::{Clock, Error, ErrorKind, Limits, PluginOptions, Usage};

use crate::support::{load, small_graph};

/// The tests that share a core with spinners take turns: two of them pinned to the same core at
/// once would each see the other's spinners and measure neither setup.
/// (tokio's: held across the calls, and never poisoned by a failed test.)
static CORE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Pins the calling thread to the first core this process may use.
fn pin() {
    let allowed = rustix::thread::sched_getaffinity(None).expect("affinity");
    let first = (0..rustix::thread::CpuSet::MAX_CPU).find(|&c| allowed.is_set(c)).expect("a core");
    let mut one = rustix::thread::CpuSet::new();
    one.set(first);
    rustix::thread::sched_setaffinity(None, &one).expect("pin to one core");
}

/// Threads spinning on the pinned core until dropped.
struct Busy {
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Busy {
    fn start(threads: usize) -> Busy {
        let stop = Arc::new(AtomicBool::new(false));
        let threads = (0..threads)
            .map(|_| {
                let stop = stop.clone();
                std::thread::spawn(move || {
                    pin();
                    let mut n = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        n = std::hint::black_box(n.wrapping_add(1));
                    }
                })
            })
            .collect();
        Busy { stop, threads }
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// `fault-loop` spinning `iterations` times (or forever) under `limits`: its usage and outcome.
async fn spin(iterations: Option<u64>, limits: Limits) -> (Result<(), Error>, Usage) {
    let mut options = PluginOptions::new().limits(limits);
    if let Some(n) = iterations {
        options = options.config("iterations", n.to_string());
    }
    let plugin = load("fault-loop", options);
    let mut instance = plugin.instance();
    instance.warm_up().await.expect("starts");
    let outcome = instance.analyze(&small_graph()).await.map(|_| ());
    (outcome, instance.last_usage().clone())
}

#[tokio::test]
async fn a_plugin_slowed_down_by_a_busy_core_is_not_timed_out() {
    let _core = CORE.lock().await;
    pin();
    let generous = Limits::default().with_cpu_time(Duration::from_secs(20));
    // Calibrate: iterations for about 150 ms of CPU on this machine, alone on the core.
    let probe = 20_000_000;
    let (outcome, usage) = spin(Some(probe), generous.clone()).await;
    outcome.expect("a bounded spin returns");
    let per_ms = probe as f64 / (usage.cpu_time.as_secs_f64() * 1000.0).max(0.01);
    let iterations = (per_ms * 150.0) as u64;
    let (outcome, alone) = spin(Some(iterations), generous).await;
    outcome.expect("a bounded spin returns");

    // Twice the CPU it needs; busy threads on its core make it take several times as long. A
    // virtual machine's CPU clock is noisy (a neighbour's steal time can count as ours), so the
    // premise — the call took longer on the wall than its limit — is checked, and the core made
    // busier until it holds. Every attempt must be slowed down, never stopped.
    let limit = alone.cpu_time * 2;
    let limits = Limits::default().with_cpu_time(limit);
    let mut shared_once = None;
    for spinners in [3, 7, 15] {
        let busy = Busy::start(spinners);
        let (outcome, shared) = spin(Some(iterations), limits.clone()).await;
        drop(busy);
        outcome.unwrap_or_else(|e| {
            panic!("slowed down, not stopped: {e}; alone {alone:?}, shared with {spinners}: {shared:?}")
        });
        assert!(shared.cpu_time < limit, "{shared:?}");
        if shared.wall_time > limit {
            shared_once = Some(spinners);
            break;
        }
    }
    let spinners = shared_once.unwrap_or_else(|| {
        panic!("the core was never shared enough for a wall-clock limit of {limit:?} to stop the call")
    });

    // And a plugin that never stops is still stopped, by its CPU time, on the busy core.
    let busy = Busy::start(spinners);
    let (endless, endless_usage) = spin(None, limits).await;
    drop(busy);
    let error = endless.unwrap_err();
    assert!(matches!(error, Error::Timeout { clock: Clock::Cpu, .. }), "{error}");
    assert!(endless_usage.cpu_time >= limit, "{endless_usage:?}");
    assert!(endless_usage.wall_time > endless_usage.cpu_time * 2, "the core was shared: {endless_usage:?}");
}

#[tokio::test]
async fn the_wall_clock_backstop_stops_a_plugin_starved_of_cpu() {
    let _core = CORE.lock().await;
    pin();
    // On a core shared four ways, one second of wall time comes long before one second of CPU.
    let limits =
        Limits::default().with_cpu_time(Duration::from_secs(1)).with_wall_time(Some(Duration::from_secs(1)));
    let busy = Busy::start(3);
    let (outcome, usage) = spin(None, limits).await;
    drop(busy);
    let error = outcome.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Timeout);
    assert!(matches!(error, Error::Timeout { clock: Clock::Wall, .. }), "{error}");
    assert!(error.to_string().contains("wall-clock"), "{error}");
    assert!(usage.wall_time >= Duration::from_secs(1), "{usage:?}");
    assert!(usage.cpu_time < Duration::from_millis(700), "it had CPU time left: {usage:?}");
}

#[tokio::test]
async fn the_wall_clock_backstop_stops_a_plugin_waiting_on_a_clock() {
    // A plugin asleep in a host call uses no CPU and runs no wasm (no epoch check): the
    // backstop must still end the call, and the plugin must answer the next one.
    let limits = Limits::default().with_wall_time(Some(Duration::from_millis(1000)));
    let options = PluginOptions::new().limits(limits).config("sleep-ms", "3600000");
    let plugin = load("probe-clock", options);
    let mut instance = plugin.instance();
    let started = std::time::Instant::now();
    let error = instance.analyze(&small_graph()).await.unwrap_err();
    assert!(matches!(error, Error::Timeout { clock: Clock::Wall, .. }), "{error}");
    assert!(started.elapsed() < Duration::from_secs(60), "{:?}", started.elapsed());
    let usage = instance.last_usage();
    assert!(usage.cpu_time < Duration::from_millis(500), "asleep, not computing: {usage:?}");
    assert!(!instance.is_live(), "an abandoned call's instance is dropped");
}

#[tokio::test(start_paused = true)]
async fn the_backstop_counts_from_the_call_on_a_paused_and_advanced_clock() {
    // Tests (and embedders' simulations) pause tokio's clock and jump it forward: a call made
    // after an hour of such time must still get its whole backstop, not find it long past.
    tokio::time::sleep(Duration::from_secs(3600)).await;
    // Long enough to yield to the runtime at a few epoch ticks.
    let (outcome, usage) = spin(Some(100_000_000), Limits::default()).await;
    outcome.unwrap_or_else(|e| panic!("{e}: {usage:?}"));
    assert!(usage.wall_time > parseltongue_plugins::EPOCH_TICK * 2, "it yielded: {usage:?}");
}
