//! Quotas that span calls: a CPU-time budget per rolling window, and the escalation from
//! warning to throttling to quarantine as a plugin uses more of it.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

/// A plugin's budget across calls, in the CPU time its calls spend running its code (the same
/// clock as [`crate::Limits::cpu_time`]; fuel, when metered, is reported beside it).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Quota {
    /// Guest time allowed per `window`; `None` (the default) sets no budget.
    pub cpu_per_window: Option<Duration>,
    /// The rolling window. By default one minute.
    pub window: Duration,
    /// Share of the budget at which a warning is raised. By default 0.8.
    pub warn_at: f64,
    /// Share at which new calls are held back until the window frees budget. By default 1.0.
    pub throttle_at: f64,
    /// Share at which the plugin is stopped and quarantined. By default 1.5 (a call already
    /// running when the budget ran out can overshoot it by at most one call's time limit).
    pub stop_at: f64,
}

impl Default for Quota {
    fn default() -> Self {
        Quota {
            cpu_per_window: None,
            window: Duration::from_secs(60),
            warn_at: 0.8,
            throttle_at: 1.0,
            stop_at: 1.5,
        }
    }
}

/// Where a plugin stands against its quota, in escalating order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum QuotaLevel {
    /// Within budget.
    #[default]
    Normal,
    /// Past `warn_at`.
    Warned,
    /// Past `throttle_at`: new calls wait.
    Throttled,
    /// Past `stop_at`: quarantined.
    Stopped,
}

impl Quota {
    /// The level for `used` time in the current window.
    pub fn level(&self, used: Duration) -> QuotaLevel {
        let Some(budget) = self.cpu_per_window.filter(|b| !b.is_zero()) else {
            return QuotaLevel::Normal;
        };
        let share = used.as_secs_f64() / budget.as_secs_f64();
        if share >= self.stop_at {
            QuotaLevel::Stopped
        } else if share >= self.throttle_at {
            QuotaLevel::Throttled
        } else if share >= self.warn_at {
            QuotaLevel::Warned
        } else {
            QuotaLevel::Normal
        }
    }
}

/// Buckets per window: usage is kept per 1/60 of the window, so memory stays constant however
/// many calls a plugin makes, at the cost of that much precision at the window's edge.
const BUCKETS: u32 = 60;

/// Time used in the last `window`, in a bounded number of buckets.
#[derive(Debug, Default)]
pub(crate) struct Window {
    /// (bucket start, time used in it), oldest first.
    buckets: VecDeque<(Instant, Duration)>,
    sum: Duration,
}

impl Window {
    pub(crate) fn push(&mut self, at: Instant, used: Duration, window: Duration) {
        let width = window / BUCKETS;
        match self.buckets.back_mut() {
            Some((start, total)) if at.duration_since(*start) < width => *total += used,
            _ => self.buckets.push_back((at, used)),
        }
        self.sum += used;
    }

    /// Forgets buckets that ended more than `window` before `now`; returns what remains.
    pub(crate) fn used(&mut self, now: Instant, window: Duration) -> Duration {
        let width = window / BUCKETS;
        while let Some(&(start, used)) = self.buckets.front() {
            if now.duration_since(start) <= window + width {
                break;
            }
            self.buckets.pop_front();
            self.sum = self.sum.saturating_sub(used);
        }
        self.sum
    }

    /// Buckets held (at most a little over [`BUCKETS`] in steady use).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.buckets.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_escalate_with_the_share_of_the_budget() {
        let q = Quota { cpu_per_window: Some(Duration::from_secs(10)), ..Quota::default() };
        assert_eq!(q.level(Duration::from_secs(7)), QuotaLevel::Normal);
        assert_eq!(q.level(Duration::from_secs(8)), QuotaLevel::Warned);
        assert_eq!(q.level(Duration::from_secs(10)), QuotaLevel::Throttled);
        assert_eq!(q.level(Duration::from_secs(15)), QuotaLevel::Stopped);
        assert_eq!(
            Quota::default().level(Duration::from_secs(1000)),
            QuotaLevel::Normal,
            "no budget, no limit"
        );
    }

    #[test]
    fn the_window_forgets_old_usage() {
        let minute = Duration::from_secs(60);
        let mut w = Window::default();
        let t = Instant::now();
        w.push(t, Duration::from_secs(3), minute);
        w.push(t + Duration::from_secs(30), Duration::from_secs(2), minute);
        assert_eq!(w.used(t + Duration::from_secs(40), minute), Duration::from_secs(5));
        assert_eq!(w.used(t + Duration::from_secs(62), minute), Duration::from_secs(2));
        assert_eq!(w.used(t + Duration::from_secs(200), minute), Duration::ZERO);
    }

    #[test]
    fn the_window_stays_small_however_many_calls_it_counts() {
        let minute = Duration::from_secs(60);
        let mut w = Window::default();
        let t = Instant::now();
        for i in 0..100_000u64 {
            let at = t + Duration::from_micros(i * 1200); // 100k calls over two minutes
            w.push(at, Duration::from_micros(100), minute);
            w.used(at, minute);
        }
        assert!(w.len() <= BUCKETS as usize + 2, "{} buckets", w.len());
        let used = w.used(t + Duration::from_secs(120), minute);
        let expected = Duration::from_micros(100 * 50_000); // the last minute's calls
        assert!(used >= expected && used <= expected + Duration::from_millis(200), "{used:?}");
    }
}
