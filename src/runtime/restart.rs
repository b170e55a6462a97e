//! When and how a supervisor restarts crashed instances: strategy, exponential backoff with
//! jitter, restart intensity (OTP's "at most N restarts in T"), and the healthy period after
//! which the backoff starts over.
//!
//! Pure bookkeeping with no clock of its own, so every rule is tested with plain numbers. (Retry
//! crates model one caller's retry loop; a supervisor needs a failure history that outlives any
//! one loop, resets after health and ends in quarantine, so it is kept here.)

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

/// Which instances restart when one fails (OTP's strategies; instances of a plugin are peers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    /// Only the failed instance. The default: instances share nothing.
    #[default]
    OneForOne,
    /// Every instance of the plugin, e.g. when instances keep state that must stay consistent.
    OneForAll,
    /// The failed instance and every instance started after it.
    RestForOne,
}

impl Strategy {
    /// The instances (of `count`) to restart when instance `failed` crashes.
    pub(crate) fn affected(self, failed: usize, count: usize) -> std::ops::Range<usize> {
        match self {
            Strategy::OneForOne => failed..failed + 1,
            Strategy::OneForAll => 0..count,
            Strategy::RestForOne => failed..count,
        }
    }
}

/// Exponential backoff between a crash and the restart: `initial × multiplier^(n-1)`, capped at
/// `max`, spread by ± `jitter` (a fraction) so that many crashing instances do not restart in step.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Backoff {
    /// Delay before the first restart. By default 10 ms.
    pub initial: Duration,
    /// Longest delay. By default 5 s.
    pub max: Duration,
    /// Growth per consecutive failure. By default 2.
    pub multiplier: f64,
    /// Random spread as a fraction of the delay, 0 to 1. By default 0.1.
    pub jitter: f64,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial: Duration::from_millis(10),
            max: Duration::from_secs(5),
            multiplier: 2.0,
            jitter: 0.1,
        }
    }
}

impl Backoff {
    /// The delay before restart number `attempt` (1-based), given a `spread` sample in -1..=1.
    pub fn delay(&self, attempt: u32, spread: f64) -> Duration {
        let exponent = attempt.saturating_sub(1).min(64) as i32;
        let base = self.initial.as_secs_f64() * self.multiplier.max(1.0).powi(exponent);
        let jittered = base * (1.0 + self.jitter.clamp(0.0, 1.0) * spread.clamp(-1.0, 1.0));
        Duration::from_secs_f64(jittered.clamp(0.0, self.max.as_secs_f64()))
    }
}

/// How a plugin's supervisor reacts to crashes.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RestartPolicy {
    /// Which instances restart together. By default one-for-one.
    pub strategy: Strategy,
    /// Delay before each restart.
    pub backoff: Backoff,
    /// Restarts allowed within `period` before the plugin is quarantined. By default 5
    /// (OTP's default is 1 in 5 s; plugins crash more readily than OTP processes).
    pub max_restarts: u32,
    /// The window for `max_restarts`. By default 10 s.
    pub period: Duration,
    /// After this long without a crash the backoff starts again from `initial`. By default 30 s.
    pub reset_after: Duration,
    /// Crashes on the same input after which that input is refused as poison. By default 2.
    pub poison_threshold: u32,
}

impl Default for RestartPolicy {
    fn default() -> Self {
        RestartPolicy {
            strategy: Strategy::OneForOne,
            backoff: Backoff::default(),
            max_restarts: 5,
            period: Duration::from_secs(10),
            reset_after: Duration::from_secs(30),
            poison_threshold: 2,
        }
    }
}

/// Crash times remembered at most, whatever the policy (a policy allowing more restarts than this
/// in its period behaves as if it allowed exactly this many).
const MAX_REMEMBERED: usize = 10_000;

/// What to do about a crash.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Decision {
    /// Restart after `delay`; this is consecutive failure number `attempt`.
    Restart { attempt: u32, delay: Duration },
    /// Too many restarts in the period: stop trying.
    Quarantine { restarts: usize, period: Duration },
}

/// The crashes a supervisor has seen.
#[derive(Debug, Default)]
pub(crate) struct History {
    recent: VecDeque<Instant>,
    consecutive: u32,
    last: Option<Instant>,
    total: u64,
}

impl History {
    /// Records a crash at `now` and decides. `spread` is a random sample in -1..=1 for jitter.
    pub(crate) fn record(&mut self, now: Instant, policy: &RestartPolicy, spread: f64) -> Decision {
        if self.last.is_some_and(|last| now.duration_since(last) >= policy.reset_after) {
            self.consecutive = 0;
        }
        self.last = Some(now);
        self.consecutive = self.consecutive.saturating_add(1);
        self.total += 1;
        self.recent.push_back(now);
        // Only whether the period holds more than `max_restarts` matters: keep no more than that.
        let keep = (policy.max_restarts as usize).saturating_add(1).min(MAX_REMEMBERED);
        while self.recent.len() > keep
            || self.recent.front().is_some_and(|t| now.duration_since(*t) > policy.period)
        {
            self.recent.pop_front();
        }
        if self.recent.len() > policy.max_restarts as usize {
            return Decision::Quarantine { restarts: self.recent.len() - 1, period: policy.period };
        }
        Decision::Restart { attempt: self.consecutive, delay: policy.backoff.delay(self.consecutive, spread) }
    }

    /// Forgets everything but the total (on release from quarantine).
    pub(crate) fn clear(&mut self) {
        self.recent.clear();
        self.consecutive = 0;
        self.last = None;
    }

    /// Crashes ever recorded.
    pub(crate) fn total(&self) -> u64 {
        self.total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn strategies_choose_their_instances() {
        assert_eq!(Strategy::OneForOne.affected(1, 4), 1..2);
        assert_eq!(Strategy::OneForAll.affected(1, 4), 0..4);
        assert_eq!(Strategy::RestForOne.affected(1, 4), 1..4);
        assert_eq!(Strategy::RestForOne.affected(3, 4), 3..4);
    }

    #[test]
    fn backoff_grows_by_the_multiplier_and_is_capped() {
        let b = Backoff { initial: ms(10), max: ms(100), multiplier: 2.0, jitter: 0.0 };
        let delays: Vec<Duration> = (1..=6).map(|n| b.delay(n, 0.7)).collect();
        assert_eq!(delays, vec![ms(10), ms(20), ms(40), ms(80), ms(100), ms(100)]);
        assert_eq!(b.delay(u32::MAX, 0.0), ms(100), "no overflow");
    }

    #[test]
    fn jitter_spreads_within_its_fraction_and_never_past_the_cap() {
        let b = Backoff { initial: ms(100), max: ms(1000), multiplier: 2.0, jitter: 0.2 };
        assert_eq!(b.delay(1, -1.0), ms(80));
        assert_eq!(b.delay(1, 1.0), ms(120));
        assert_eq!(b.delay(1, 0.0), ms(100));
        assert_eq!(b.delay(4, 1.0), ms(960));
        assert_eq!(b.delay(5, 1.0), ms(1000));
    }

    #[test]
    fn more_than_max_restarts_in_the_period_quarantines() {
        let policy =
            RestartPolicy { max_restarts: 2, period: Duration::from_secs(5), ..RestartPolicy::default() };
        let mut h = History::default();
        let t = Instant::now();
        assert!(matches!(h.record(t, &policy, 0.0), Decision::Restart { attempt: 1, .. }));
        assert!(matches!(h.record(t + ms(100), &policy, 0.0), Decision::Restart { attempt: 2, .. }));
        assert_eq!(
            h.record(t + ms(200), &policy, 0.0),
            Decision::Quarantine { restarts: 2, period: Duration::from_secs(5) }
        );
    }

    #[test]
    fn crashes_older_than_the_period_do_not_count() {
        let policy =
            RestartPolicy { max_restarts: 1, period: Duration::from_secs(5), ..RestartPolicy::default() };
        let mut h = History::default();
        let t = Instant::now();
        assert!(matches!(h.record(t, &policy, 0.0), Decision::Restart { .. }));
        assert!(matches!(h.record(t + Duration::from_secs(6), &policy, 0.0), Decision::Restart { .. }));
        assert!(matches!(h.record(t + Duration::from_secs(7), &policy, 0.0), Decision::Quarantine { .. }));
    }

    #[test]
    fn a_healthy_period_resets_the_backoff() {
        let policy = RestartPolicy {
            backoff: Backoff { jitter: 0.0, ..Backoff::default() },
            max_restarts: 100,
            reset_after: Duration::from_secs(30),
            ..RestartPolicy::default()
        };
        let mut h = History::default();
        let t = Instant::now();
        h.record(t, &policy, 0.0);
        h.record(t + ms(10), &policy, 0.0);
        assert_eq!(h.record(t + ms(20), &policy, 0.0), Decision::Restart { attempt: 3, delay: ms(40) });
        assert_eq!(
            h.record(t + Duration::from_secs(60), &policy, 0.0),
            Decision::Restart { attempt: 1, delay: ms(10) }
        );
        assert_eq!(h.total(), 4);
    }
}
