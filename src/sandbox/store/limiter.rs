//! The [`ResourceLimiter`] that makes the engine enforce a plugin's [`Limits`] inside one store,
//! and remembers the peak of linear memory for the call's usage report.

use wasmtime::ResourceLimiter;

use crate::policy::{Limits, MIB};

/// Why the limiter refused a request; turned into [`crate::Error::MemoryLimit`] by the caller.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct LimitExceeded(pub(crate) String);

/// Enforces [`Limits`] inside one store and remembers the peak of linear memory.
///
/// Refusals are returned as errors (which trap the guest) rather than as a failed `memory.grow`,
/// so the host learns precisely which limit was hit instead of seeing a guest abort.
#[derive(Debug)]
pub(crate) struct Limiter {
    memory_limit: u64,
    table_elements: usize,
    instances: usize,
    tables: usize,
    memories: usize,
    /// Current total of all linear memories, in bytes.
    memory_now: u64,
    /// Highest `memory_now` since the last [`Limiter::reset_peak`].
    peak: u64,
    /// The growth most recently allowed, undone if the engine then fails to grow.
    last_growth: u64,
}

impl Limiter {
    pub(crate) fn new(limits: &Limits) -> Self {
        Limiter {
            memory_limit: limits.memory_bytes,
            table_elements: limits.max_table_elements,
            instances: limits.max_instances,
            tables: limits.max_tables,
            memories: limits.max_memories,
            memory_now: 0,
            peak: 0,
            last_growth: 0,
        }
    }

    /// Starts a new measuring period at the current size.
    pub(crate) fn reset_peak(&mut self) {
        self.peak = self.memory_now;
    }

    /// The highest total linear memory since [`Limiter::reset_peak`].
    pub(crate) fn peak(&self) -> u64 {
        self.peak
    }
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let growth = desired.saturating_sub(current) as u64;
        let total = self.memory_now.saturating_add(growth);
        if total > self.memory_limit {
            return Err(wasmtime::Error::new(LimitExceeded(format!(
                "tried to grow its memory to {} MiB, over its limit of {} MiB",
                total.div_ceil(MIB),
                self.memory_limit / MIB
            ))));
        }
        self.memory_now = total;
        self.last_growth = growth;
        self.peak = self.peak.max(total);
        Ok(true)
    }

    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        // The engine refused a growth we had allowed (e.g. past the memory's own maximum):
        // undo the accounting and let `memory.grow` return -1 to the guest as the spec says.
        tracing::debug!("memory growth failed inside the engine: {error}");
        self.memory_now = self.memory_now.saturating_sub(std::mem::take(&mut self.last_growth));
        Ok(())
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.table_elements {
            return Err(wasmtime::Error::new(LimitExceeded(format!(
                "tried to grow a table to {desired} elements, over its limit of {}",
                self.table_elements
            ))));
        }
        Ok(true)
    }

    fn instances(&self) -> usize {
        self.instances
    }

    fn tables(&self) -> usize {
        self.tables
    }

    fn memories(&self) -> usize {
        self.memories
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::MIB;

    #[test]
    fn limiter_counts_all_memories_together_and_tracks_the_peak() {
        let l = Limits { memory_bytes: 4 * MIB, ..Limits::default() };
        let mut limiter = Limiter::new(&l);
        let mib = MIB as usize;
        assert!(limiter.memory_growing(0, 2 * mib, None).unwrap());
        assert!(limiter.memory_growing(0, mib, None).unwrap());
        assert_eq!(limiter.peak(), 3 * MIB);
        let err = limiter.memory_growing(2 * mib, 4 * mib, None).unwrap_err();
        assert!(err.downcast_ref::<LimitExceeded>().is_some(), "{err}");
        assert_eq!(limiter.peak(), 3 * MIB, "a refused growth is not counted");
        limiter.reset_peak();
        assert_eq!(limiter.peak(), 3 * MIB);
    }

    #[test]
    fn limiter_refuses_oversized_tables() {
        let l = Limits { max_table_elements: 10, ..Limits::default() };
        let mut limiter = Limiter::new(&l);
        assert!(limiter.table_growing(0, 10, None).unwrap());
        assert!(limiter.table_growing(10, 11, None).is_err());
    }
}
