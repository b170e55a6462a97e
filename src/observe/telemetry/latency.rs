//! Call latency as a fixed-bucket histogram: constant memory however many calls, the same
//! buckets the Prometheus exporter uses, and quantiles good to a bucket's width.

use std::time::Duration;

/// Upper bounds of the buckets, seconds (Prometheus `le`); a last, open bucket holds the rest.
pub const BUCKETS: [f64; 16] =
    [0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// Calls per latency bucket.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LatencyHistogram {
    /// Calls in each bucket of [`BUCKETS`], then the calls slower than the last bound.
    pub counts: Vec<u64>,
    /// Calls counted.
    pub count: u64,
    /// Their total time, seconds.
    pub sum_seconds: f64,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        LatencyHistogram { counts: vec![0; BUCKETS.len() + 1], count: 0, sum_seconds: 0.0 }
    }
}

impl LatencyHistogram {
    /// Counts one call.
    pub fn record(&mut self, latency: Duration) {
        let s = latency.as_secs_f64();
        let bucket = BUCKETS.iter().position(|&le| s <= le).unwrap_or(BUCKETS.len());
        if let Some(c) = self.counts.get_mut(bucket) {
            *c += 1;
        }
        self.count += 1;
        self.sum_seconds += s;
    }

    /// The `q`-quantile (0..=1), interpolated inside its bucket; `None` before any call.
    pub fn quantile(&self, q: f64) -> Option<Duration> {
        if self.count == 0 {
            return None;
        }
        let rank = (q.clamp(0.0, 1.0) * self.count as f64).max(1.0);
        let mut seen = 0u64;
        for (i, &n) in self.counts.iter().enumerate() {
            if n > 0 && (seen + n) as f64 >= rank {
                let lower = if i == 0 { 0.0 } else { BUCKETS[i - 1] };
                let upper = BUCKETS.get(i).copied().unwrap_or(lower * 2.0);
                let within = (rank - seen as f64) / n as f64;
                return Some(Duration::from_secs_f64(lower + (upper - lower) * within));
            }
            seen += n;
        }
        None
    }

    /// Mean latency; `None` before any call.
    pub fn mean(&self) -> Option<Duration> {
        (self.count > 0).then(|| Duration::from_secs_f64(self.sum_seconds / self.count as f64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_fall_in_the_right_bucket() {
        let mut h = LatencyHistogram::default();
        assert_eq!(h.quantile(0.5), None);
        for _ in 0..90 {
            h.record(Duration::from_micros(700)); // (0.5 ms, 1 ms]
        }
        for _ in 0..10 {
            h.record(Duration::from_millis(200)); // (100 ms, 250 ms]
        }
        let p50 = h.quantile(0.5).unwrap();
        assert!(p50 > Duration::from_micros(500) && p50 <= Duration::from_millis(1), "{p50:?}");
        let p99 = h.quantile(0.99).unwrap();
        assert!(p99 > Duration::from_millis(100) && p99 <= Duration::from_millis(250), "{p99:?}");
        assert_eq!(h.count, 100);
        assert_eq!(h.counts.iter().sum::<u64>(), 100);
        let mean = h.mean().unwrap().as_secs_f64();
        assert!((mean - 0.02063).abs() < 1e-6, "{mean}");
    }

    #[test]
    fn calls_slower_than_every_bound_are_kept() {
        let mut h = LatencyHistogram::default();
        h.record(Duration::from_secs(100));
        assert_eq!(h.counts[BUCKETS.len()], 1);
        assert!(h.quantile(1.0).unwrap() >= Duration::from_secs(30));
    }
}
