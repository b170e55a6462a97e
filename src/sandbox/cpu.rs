//! The CPU time a call spends running its plugin's code: the limit that measures the plugin, not
//! the machine.
//!
//! A wall-clock limit turns a busy machine into a plugin fault: ten plugins on two cores, or a
//! loaded CI box, make a 200 ms analysis take seconds. So the per-call limit counts the CPU time
//! of the thread running the call (`CLOCK_THREAD_CPUTIME_ID`, user + system), and only while it
//! runs: each poll of the call's future is one *segment* on one thread (a call can resume on
//! another tokio worker after a yield; segments are summed, each read on the thread that ran it).
//! Time spent waiting — descheduled, asleep in a WASI clock, between polls — is not counted.
//!
//! A segment holds the guest's code and what the host does inside the call for it: lowering its
//! input, copying its output, its `host.*` calls. (Reading the clock at every entry into and exit
//! from wasm instead — call hooks — costs a system call per transition: contract 0.1 lowers each
//! of a graph's ~10^5 strings through a call into the guest, and those reads made such a call
//! ten times slower.) The wall-clock backstop ([`crate::Limits::wall_time`]) bounds everything,
//! waits included.

use std::sync::{Arc, Mutex};

use std::thread::ThreadId;
use std::time::Duration;

/// The CPU time of the current thread.
fn thread_cpu() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(t.tv_sec.max(0) as u64, t.tv_nsec.clamp(0, 999_999_999) as u32)
}

/// One call's guest CPU time: the closed segments, and the one running now.
#[derive(Debug, Default)]
pub(crate) struct CpuClock {
    used: Duration,
    running: Option<(ThreadId, Duration)>,
}

impl CpuClock {
    /// Starts counting afresh (a new call).
    pub(crate) fn reset(&mut self) {
        *self = CpuClock::default();
    }

    /// The call starts (or resumes) running on this thread.
    pub(crate) fn enter(&mut self) {
        self.running = Some((std::thread::current().id(), thread_cpu()));
    }

    /// The call stops running (it yields, or ends). A segment that ends on another thread than
    /// it began cannot be read and is not counted; segments bracket single polls, so this does
    /// not happen, but the clock must never count another thread's time.
    pub(crate) fn leave(&mut self) {
        if let Some((thread, start)) = self.running.take()
            && thread == std::thread::current().id()
        {
            self.used += thread_cpu().saturating_sub(start);
        }
    }

    /// Guest CPU time so far, the running segment included when on this thread.
    pub(crate) fn used(&self) -> Duration {
        match self.running {
            Some((thread, start)) if thread == std::thread::current().id() => {
                self.used + thread_cpu().saturating_sub(start)
            }
            _ => self.used,
        }
    }
}

/// A call's clock, shared between its store (the epoch callback reads it) and the future
/// that drives the call (which opens and closes the segments).
pub(crate) type SharedCpuClock = Arc<Mutex<CpuClock>>;

/// Runs `call` with every poll counted as one segment of `clock`.
pub(crate) async fn metered<T>(clock: &SharedCpuClock, call: impl Future<Output = T>) -> T {
    let lock = || clock.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut call = std::pin::pin!(call);
    std::future::poll_fn(|cx| {
        lock().enter();
        let polled = call.as_mut().poll(cx);
        lock().leave();
        polled
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spin(d: Duration) {
        let start = thread_cpu();
        while thread_cpu() - start < d {
            std::hint::black_box(0u64.wrapping_add(1));
        }
    }

    #[test]
    fn only_time_inside_segments_is_counted() {
        let mut clock = CpuClock::default();
        clock.enter();
        spin(Duration::from_millis(20));
        clock.leave();
        // Outside a segment: neither spinning nor sleeping counts.
        spin(Duration::from_millis(30));
        std::thread::sleep(Duration::from_millis(30));
        let used = clock.used();
        assert!(used >= Duration::from_millis(20) && used < Duration::from_millis(30), "{used:?}");
        clock.enter();
        spin(Duration::from_millis(10));
        assert!(clock.used() >= used + Duration::from_millis(10), "the running segment is included");
        clock.leave();
        clock.reset();
        assert_eq!(clock.used(), Duration::ZERO);
    }

    #[test]
    fn a_segment_left_on_another_thread_is_not_read_there() {
        let mut clock = CpuClock::default();
        clock.enter();
        let clock = std::thread::spawn(move || {
            spin(Duration::from_millis(20));
            clock.leave();
            clock
        })
        .join()
        .unwrap();
        assert_eq!(clock.used(), Duration::ZERO);
    }

    #[tokio::test]
    async fn a_metered_future_counts_its_polls_not_its_waits() {
        let clock = SharedCpuClock::default();
        metered(&clock, async {
            spin(Duration::from_millis(20));
            tokio::time::sleep(Duration::from_millis(40)).await;
            spin(Duration::from_millis(10));
        })
        .await;
        let used = clock.lock().unwrap().used();
        assert!(used >= Duration::from_millis(30) && used < Duration::from_millis(55), "{used:?}");
    }

    #[test]
    fn sleeping_threads_use_no_cpu() {
        let mut clock = CpuClock::default();
        clock.enter();
        std::thread::sleep(Duration::from_millis(50));
        clock.leave();
        assert!(clock.used() < Duration::from_millis(25), "{:?}", clock.used());
    }
}
