//! Quotas that span calls: a CPU-time budget per rolling window, and the escalation from
//! warning to throttling to quarantine as a plugin uses more of it.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

/// A plugin's budget across calls. Call time is wall time spent inside the guest, which for a
/// CPU-bound plugin is its CPU time (fuel, when metered, is reported beside it).
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

/// Time used in the last `window`.
#[derive(Debug, Default)]
pub(crate) struct Window {
    entries: VecDeque<(Instant, Duration)>,
    sum: Duration,
}

impl Window {
    pub(crate) fn push(&mut self, at: Instant, used: Duration) {
        self.entries.push_back((at, used));
        self.sum += used;
    }

    /// Forgets what is older than `window` before `now`; returns what remains.
    pub(crate) fn used(&mut self, now: Instant, window: Duration) -> Duration {
        while let Some(&(at, used)) = self.entries.front() {
            if now.duration_since(at) <= window {
                break;
            }
            self.entries.pop_front();
            self.sum = self.sum.saturating_sub(used);
        }
        self.sum
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
        let mut w = Window::default();
        let t = Instant::now();
        w.push(t, Duration::from_secs(3));
        w.push(t + Duration::from_secs(30), Duration::from_secs(2));
        assert_eq!(w.used(t + Duration::from_secs(40), Duration::from_secs(60)), Duration::from_secs(5));
        assert_eq!(w.used(t + Duration::from_secs(61), Duration::from_secs(60)), Duration::from_secs(2));
        assert_eq!(w.used(t + Duration::from_secs(200), Duration::from_secs(60)), Duration::ZERO);
    }
}
