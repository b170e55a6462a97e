//! Poison-input detection: an input that crashes a plugin again and again is refused for that
//! plugin instead of crash-looping it.

use std::collections::{HashMap, HashSet, VecDeque};

/// How many distinct crashing inputs are remembered per plugin; the oldest are forgotten first.
const REMEMBERED: usize = 1024;

/// Crash counts per input fingerprint, and the inputs declared poison.
#[derive(Debug, Default)]
pub(crate) struct PoisonTracker {
    crashes: HashMap<u128, u32>,
    order: VecDeque<u128>,
    poison: HashSet<u128>,
}

impl PoisonTracker {
    /// Whether `fingerprint` is refused.
    pub(crate) fn is_poison(&self, fingerprint: u128) -> bool {
        self.poison.contains(&fingerprint)
    }

    /// Counts a crash on `fingerprint`; returns true when this crash makes it poison.
    pub(crate) fn record_crash(&mut self, fingerprint: u128, threshold: u32) -> bool {
        if self.poison.contains(&fingerprint) {
            return false;
        }
        let count = self.crashes.entry(fingerprint).or_insert_with(|| {
            self.order.push_back(fingerprint);
            0
        });
        *count += 1;
        let poisoned = *count >= threshold.max(1);
        if poisoned {
            self.crashes.remove(&fingerprint);
            self.poison.insert(fingerprint);
        }
        while self.order.len() > REMEMBERED {
            if let Some(old) = self.order.pop_front() {
                self.crashes.remove(&old);
            }
        }
        if self.poison.len() > REMEMBERED {
            self.poison.clear(); // a plugin crashing on this many inputs is quarantined long before
        }
        poisoned
    }

    /// How many inputs are refused.
    pub(crate) fn len(&self) -> usize {
        self.poison.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_input_becomes_poison_at_the_threshold() {
        let mut t = PoisonTracker::default();
        assert!(!t.record_crash(7, 2));
        assert!(!t.is_poison(7));
        assert!(!t.record_crash(8, 2), "another input counts separately");
        assert!(t.record_crash(7, 2));
        assert!(t.is_poison(7));
        assert!(!t.is_poison(8));
        assert!(!t.record_crash(7, 2), "already poison: not reported twice");
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn memory_is_bounded() {
        let mut t = PoisonTracker::default();
        for f in 0..(REMEMBERED as u128 * 3) {
            t.record_crash(f, 2);
        }
        assert!(t.crashes.len() <= REMEMBERED && t.order.len() <= REMEMBERED);
    }
}
