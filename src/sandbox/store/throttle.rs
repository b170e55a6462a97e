//! Token buckets that bound a plugin's I/O across calls: `host.log` bytes, stdout/stderr bytes
//! and key-value writes. Excess is dropped (logs, output) or refused (writes) and counted; it is
//! never buffered. One set per plugin, shared by all its instances and surviving their restarts,
//! so crashing does not refill a bucket.

use std::num::NonZeroU32;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use crate::policy::Limits;

/// A rate with a burst.
pub(crate) struct Bucket(DefaultDirectRateLimiter);

impl std::fmt::Debug for Bucket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Bucket")
    }
}

impl Bucket {
    /// `per_sec` units per second with room for `burst` at once; `None` when `per_sec` is 0.
    pub(crate) fn new(per_sec: u64, burst: u64) -> Option<Bucket> {
        let clamp = |n: u64| NonZeroU32::new(n.clamp(1, u32::MAX as u64) as u32).expect("clamped above zero");
        (per_sec > 0)
            .then(|| Bucket(RateLimiter::direct(Quota::per_second(clamp(per_sec)).allow_burst(clamp(burst)))))
    }

    /// Takes `n` units if available now.
    pub(crate) fn take(&self, n: usize) -> bool {
        match NonZeroU32::new(n.min(u32::MAX as usize) as u32) {
            None => true,
            Some(n) => matches!(self.0.check_n(n), Ok(Ok(()))),
        }
    }
}

/// A plugin's buckets.
#[derive(Debug)]
pub(crate) struct Throttles {
    pub(crate) log: Option<Bucket>,
    pub(crate) stdio: Option<Bucket>,
    pub(crate) kv_writes: Option<Bucket>,
}

impl Throttles {
    pub(crate) fn new(limits: &Limits) -> Throttles {
        Throttles {
            log: Bucket::new(limits.log_bytes_per_sec, limits.max_log_bytes as u64),
            stdio: Bucket::new(limits.stdio_bytes_per_sec, limits.max_stdio_bytes as u64),
            kv_writes: Bucket::new(limits.kv_writes_per_sec, limits.kv_writes_per_sec),
        }
    }
}

/// Whether `bucket` (if any) lets `n` units through.
pub(crate) fn allows(bucket: &Option<Bucket>, n: usize) -> bool {
    bucket.as_ref().is_none_or(|b| b.take(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_refuses() {
        let b = Bucket::new(10, 100).unwrap();
        assert!(b.take(60));
        assert!(b.take(40));
        assert!(!b.take(30), "the burst is spent and 10/s has not refilled 30 yet");
        assert!(!b.take(101), "more than the burst never fits");
        assert!(b.take(0));
    }

    #[test]
    fn a_zero_rate_means_no_bucket() {
        assert!(Bucket::new(0, 100).is_none());
        assert!(allows(&None, usize::MAX));
    }
}
