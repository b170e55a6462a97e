//! Per-plugin resource limits: what a plugin may use per call. Enforced by the sandbox.

use std::time::Duration;

use crate::error::InvalidLimit;

/// One mebibyte, for readable limits.
pub const MIB: u64 = 1024 * 1024;
/// One kibibyte, for readable limits.
pub const KIB: usize = 1024;

/// Everything a single plugin may use, per call or per instance.
///
/// Every limit is enforced by the host or the engine, never by trusting the guest.
/// Start from [`Limits::default`] and change what you need
/// (`Limits::default().with_cpu_time(Duration::from_millis(250))`); [`Limits::validate`]
/// rejects values that would make a plugin unusable.
///
/// Outside this crate, build them with the `with_*` setters
/// (`Limits::default().with_cpu_time(Duration::from_millis(250))`) or assign fields: the struct is
/// `#[non_exhaustive]`, so a limit added later breaks no one.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct Limits {
    /// Total linear memory of all the instance's memories, in bytes. By default 64 MiB.
    pub memory_bytes: u64,
    /// CPU time per call — the plugin's code and the host's work inside the call for it
    /// (instantiation included) — counted on the thread clock of whichever thread runs it and
    /// checked at every epoch tick, so a busy machine slows a plugin down without failing it.
    /// By default 1 s.
    pub cpu_time: Duration,
    /// Wall-clock time per call: a backstop for what CPU time does not see (a plugin waiting on
    /// a clock, a host starved for minutes). `None` (the default): ten times `cpu_time`, at
    /// least [`Limits::MIN_WALL_BACKSTOP`]; see [`Limits::wall_limit`].
    pub wall_time: Option<Duration>,
    /// Fuel per call (roughly one unit per wasm instruction), when metering is wanted.
    /// Metering slows tight loops, so by default it is off (`None`) and `cpu_time` alone applies.
    pub fuel: Option<u64>,
    /// Wasm stack size in bytes. By default 512 KiB.
    pub max_wasm_stack: usize,
    /// Total bytes of all strings in one result. By default 1 MiB.
    pub max_result_bytes: usize,
    /// Entries in each of `findings` and `recommendations`. By default 10,000.
    pub max_findings: usize,
    /// Bytes of any one string in a result. By default 64 KiB.
    pub max_string_bytes: usize,
    /// Core instances per component instance. By default 64.
    pub max_instances: usize,
    /// Tables per component instance. By default 64.
    pub max_tables: usize,
    /// Linear memories per component instance. By default 16.
    pub max_memories: usize,
    /// Elements of any one table. By default 1,000,000.
    pub max_table_elements: usize,
    /// Bytes of `host.log` messages kept per call; the rest is counted and dropped. By default 64 KiB.
    pub max_log_bytes: usize,
    /// Bytes of one `host.log` message; longer ones are cut. By default 4 KiB.
    pub max_log_message_bytes: usize,
    /// Bytes of guest stdout and of guest stderr kept per call. By default 64 KiB each.
    pub max_stdio_bytes: usize,
    /// `host.log` bytes per second across calls (token bucket, burst `max_log_bytes`); the rest
    /// is dropped and counted. 0 turns the rate off. By default 64 KiB/s.
    pub log_bytes_per_sec: u64,
    /// Guest stdout plus stderr bytes per second across calls (burst `max_stdio_bytes`).
    /// 0 turns the rate off. By default 64 KiB/s.
    pub stdio_bytes_per_sec: u64,
    /// Key-value writes (set and delete) per second, burst the same; the rest are refused with an
    /// error inside the guest. 0 turns the rate off. By default 100.
    pub kv_writes_per_sec: u64,
    /// `host.*` calls per call; one more traps the guest (`throttled`). By default 100,000.
    pub max_host_calls: u64,
}

/// `with_<field>(value)` for every field: the way to build [`Limits`] outside this crate.
macro_rules! setters {
    ($($field:ident: $ty:ty => $setter:ident),* $(,)?) => {
        impl Limits {
            $(
                #[doc = concat!("These limits with [`Limits::", stringify!($field), "`] set to `value`.")]
                #[must_use]
                pub fn $setter(mut self, value: $ty) -> Self {
                    self.$field = value;
                    self
                }
            )*
        }
    };
}

setters! {
    memory_bytes: u64 => with_memory_bytes,
    cpu_time: Duration => with_cpu_time,
    wall_time: Option<Duration> => with_wall_time,
    fuel: Option<u64> => with_fuel,
    max_wasm_stack: usize => with_max_wasm_stack,
    max_result_bytes: usize => with_max_result_bytes,
    max_findings: usize => with_max_findings,
    max_string_bytes: usize => with_max_string_bytes,
    max_instances: usize => with_max_instances,
    max_tables: usize => with_max_tables,
    max_memories: usize => with_max_memories,
    max_table_elements: usize => with_max_table_elements,
    max_log_bytes: usize => with_max_log_bytes,
    max_log_message_bytes: usize => with_max_log_message_bytes,
    max_stdio_bytes: usize => with_max_stdio_bytes,
    log_bytes_per_sec: u64 => with_log_bytes_per_sec,
    stdio_bytes_per_sec: u64 => with_stdio_bytes_per_sec,
    kv_writes_per_sec: u64 => with_kv_writes_per_sec,
    max_host_calls: u64 => with_max_host_calls,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory_bytes: 64 * MIB,
            cpu_time: Duration::from_secs(1),
            wall_time: None,
            fuel: None,
            max_wasm_stack: 512 * KIB,
            max_result_bytes: 1024 * KIB,
            max_findings: 10_000,
            max_string_bytes: 64 * KIB,
            max_instances: 64,
            max_tables: 64,
            max_memories: 16,
            max_table_elements: 1_000_000,
            max_log_bytes: 64 * KIB,
            max_log_message_bytes: 4 * KIB,
            max_stdio_bytes: 64 * KIB,
            log_bytes_per_sec: 64 * KIB as u64,
            stdio_bytes_per_sec: 64 * KIB as u64,
            kv_writes_per_sec: 100,
            max_host_calls: 100_000,
        }
    }
}

impl Limits {
    /// Smallest memory limit accepted: one wasm page is 64 KiB and real plugins need a few.
    pub const MIN_MEMORY_BYTES: u64 = MIB;
    /// Smallest wasm stack accepted.
    pub const MIN_WASM_STACK: usize = 16 * KIB;
    /// Largest wasm stack accepted (the host runs each call on a fiber of this size plus 1 MiB).
    pub const MAX_WASM_STACK: usize = 64 * 1024 * KIB;
    /// The shortest wall-clock backstop given when [`Limits::wall_time`] is not set.
    pub const MIN_WALL_BACKSTOP: Duration = Duration::from_secs(10);

    /// The wall-clock limit per call: [`Limits::wall_time`], or ten times the CPU time (at
    /// least [`Limits::MIN_WALL_BACKSTOP`]).
    pub fn wall_limit(&self) -> Duration {
        self.wall_time.unwrap_or_else(|| self.cpu_time.saturating_mul(10).max(Self::MIN_WALL_BACKSTOP))
    }

    /// Checks that every limit leaves a plugin room to run at all.
    pub fn validate(&self) -> Result<(), InvalidLimit> {
        let bad = |name, problem: String| Err(InvalidLimit { name, problem });
        if self.memory_bytes < Self::MIN_MEMORY_BYTES {
            return bad("memory_bytes", format!("must be at least {} bytes", Self::MIN_MEMORY_BYTES));
        }
        if self.cpu_time.is_zero() {
            return bad("cpu_time", "must be longer than zero".into());
        }
        if let Some(wall) = self.wall_time
            && wall < self.cpu_time
        {
            return bad(
                "wall_time",
                format!(
                    "({} ms) must be at least cpu_time ({} ms): a call may use all its CPU time",
                    wall.as_millis(),
                    self.cpu_time.as_millis()
                ),
            );
        }
        if self.fuel == Some(0) {
            return bad("fuel", "must be more than zero when set".into());
        }
        if !(Self::MIN_WASM_STACK..=Self::MAX_WASM_STACK).contains(&self.max_wasm_stack) {
            return bad(
                "max_wasm_stack",
                format!("must be between {} and {} bytes", Self::MIN_WASM_STACK, Self::MAX_WASM_STACK),
            );
        }
        for (name, value) in [
            ("max_result_bytes", self.max_result_bytes),
            ("max_findings", self.max_findings),
            ("max_string_bytes", self.max_string_bytes),
            ("max_instances", self.max_instances),
            ("max_tables", self.max_tables),
            ("max_memories", self.max_memories),
            ("max_host_calls", self.max_host_calls as usize),
        ] {
            if value == 0 {
                return bad(name, "must be more than zero".into());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_as_documented() {
        let l = Limits::default();
        l.validate().unwrap();
        assert_eq!(l.memory_bytes, 64 * MIB);
        assert_eq!(l.cpu_time, Duration::from_secs(1));
        assert_eq!(l.wall_limit(), Duration::from_secs(10));
        let long = Limits { cpu_time: Duration::from_secs(60), ..Limits::default() };
        assert_eq!(long.wall_limit(), Duration::from_secs(600));
        let set = Limits { wall_time: Some(Duration::from_secs(2)), ..Limits::default() };
        assert_eq!(set.wall_limit(), Duration::from_secs(2));
        assert_eq!(l.max_wasm_stack, 512 * KIB);
        assert_eq!(l.max_result_bytes, 1024 * KIB);
        assert_eq!(l.max_findings, 10_000);
    }

    #[test]
    fn unusable_limits_are_refused_by_name() {
        let refused = |l: Limits| l.validate().unwrap_err().name;
        let d = Limits::default;
        assert_eq!(refused(Limits { memory_bytes: 1000, ..d() }), "memory_bytes");
        assert_eq!(refused(Limits { cpu_time: Duration::ZERO, ..d() }), "cpu_time");
        assert_eq!(refused(Limits { wall_time: Some(Duration::from_millis(999)), ..d() }), "wall_time");
        assert_eq!(refused(Limits { fuel: Some(0), ..d() }), "fuel");
        assert_eq!(refused(Limits { max_wasm_stack: 1, ..d() }), "max_wasm_stack");
        assert_eq!(refused(Limits { max_findings: 0, ..d() }), "max_findings");
    }
}
