//! What this process holds: resident memory and open descriptors, for soak runs, metrics and
//! `ptplugin top`. Flat over time is what a host that never leaks looks like.

/// One sample of the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct ProcessSample {
    /// Cycles (or calls) completed when sampled; 0 where that means nothing.
    pub cycle: usize,
    /// Resident set size in bytes.
    pub rss_bytes: u64,
    /// Open file descriptors.
    pub fds: usize,
}

/// Resident set size and open descriptors of this process (Linux `/proc`; zeros elsewhere).
///
/// Samples are taken one at a time: the monitor samples every second and a soak samples on its
/// own schedule, and each sample holds a descriptor of `/proc` open while it counts; two at
/// once would each count the other's (a leak of one descriptor that is not there, seen on busy
/// machines where the two schedules meet).
pub fn sample_process(cycle: usize) -> ProcessSample {
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let page = rustix::param::page_size() as u64;
    let rss_pages = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .unwrap_or(0);
    let fds = std::fs::read_dir("/proc/self/fd").map(|d| d.count()).unwrap_or(0);
    ProcessSample { cycle, rss_bytes: rss_pages * page, fds }
}

/// Last minus first of a measure over samples (0 for fewer than two): the growth a soak judges.
pub fn growth<T>(samples: &[T], measure: impl Fn(&T) -> i64) -> i64 {
    match (samples.first(), samples.last()) {
        (Some(a), Some(b)) => measure(b) - measure(a),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_sample_sees_this_process() {
        let s = super::sample_process(3);
        assert_eq!(s.cycle, 3);
        assert!(s.rss_bytes > 1 << 20, "{s:?}");
        assert!(s.fds >= 3, "stdin, stdout, stderr at least: {s:?}");
    }

    #[test]
    fn growth_is_last_minus_first() {
        assert_eq!(super::growth(&[5i64, 9, 7], |x| *x), 2);
        assert_eq!(super::growth(&[5i64], |x| *x), 0);
        assert_eq!(super::growth::<i64>(&[], |x| *x), 0);
    }
}
