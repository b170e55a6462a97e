//! Bounds on what a plugin returns.
//!
//! Two layers. While the engine copies the result out of guest memory, the store's *hostcall
//! fuel* ([`fuel_for`]) caps how many bytes it will allocate on the guest's behalf, so a result of
//! millions of entries fails before the host has spent memory on it. Once copied, [`check`]
//! applies the exact limits: entries per list, bytes per string, bytes in total, confidence.

use crate::contract::AnalysisResult;
use crate::error::{Error, Result};
use crate::policy::Limits;

/// What wasmtime says when a copy from guest to host runs out of hostcall fuel. Its error type is
/// private, so the message is matched; a test (the oversized-output fixture) pins it.
pub(crate) const HOSTCALL_FUEL_EXHAUSTED: &str = "fuel allocated for hostcalls has been exhausted";

/// Hostcall fuel for one call: the bytes of text allowed, plus each entry's host-side `String`.
pub(crate) fn fuel_for(limits: &Limits) -> usize {
    let entries = limits.max_findings.saturating_mul(2).saturating_mul(size_of::<String>());
    limits.max_result_bytes.saturating_add(entries).saturating_add(64 * 1024)
}

/// Refuses a result with too many entries, an oversized string, too many bytes in total, or a
/// confidence outside `0.0..=1.0`.
pub(crate) fn check(result: &AnalysisResult, limits: &Limits) -> Result<()> {
    let refuse = |message: String| Err(Error::OutputLimit { message });
    if !(0.0..=1.0).contains(&result.confidence) {
        return refuse(format!("confidence {} is outside 0.0..=1.0", result.confidence));
    }
    let mut total = 0usize;
    for (list, entries) in [("findings", &result.findings), ("recommendations", &result.recommendations)] {
        if entries.len() > limits.max_findings {
            return refuse(format!("{} {list}, over the limit of {}", entries.len(), limits.max_findings));
        }
        for (i, entry) in entries.iter().enumerate() {
            if entry.len() > limits.max_string_bytes {
                return refuse(format!(
                    "{list}[{i}] is {} bytes, over the per-string limit of {}",
                    entry.len(),
                    limits.max_string_bytes
                ));
            }
            total += entry.len();
        }
    }
    if total > limits.max_result_bytes {
        return refuse(format!("{total} bytes of text, over the limit of {}", limits.max_result_bytes));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(findings: Vec<String>, confidence: f32) -> AnalysisResult {
        AnalysisResult { findings, confidence, recommendations: vec![] }
    }

    fn message(r: &AnalysisResult, limits: &Limits) -> String {
        match check(r, limits) {
            Err(Error::OutputLimit { message }) => message,
            other => panic!("expected output-limit, got {other:?}"),
        }
    }

    #[test]
    fn accepts_results_within_limits() {
        check(&result(vec!["a".into(); 10], 0.5), &Limits::default()).unwrap();
        check(&result(vec![], 0.0), &Limits::default()).unwrap();
        check(&result(vec![], 1.0), &Limits::default()).unwrap();
    }

    #[test]
    fn refuses_each_kind_of_excess() {
        let limits =
            Limits { max_findings: 3, max_string_bytes: 5, max_result_bytes: 12, ..Limits::default() };
        assert_eq!(message(&result(vec!["a".into(); 4], 1.0), &limits), "4 findings, over the limit of 3");
        assert_eq!(
            message(&result(vec!["ok".into(), "toolong".into()], 1.0), &limits),
            "findings[1] is 7 bytes, over the per-string limit of 5"
        );
        assert_eq!(
            message(&result(vec!["12345".into(); 3], 1.0), &limits),
            "15 bytes of text, over the limit of 12"
        );
        assert!(message(&result(vec![], f32::NAN), &limits).contains("NaN"));
        assert!(message(&result(vec![], 1.5), &limits).contains("1.5"));
    }

    #[test]
    fn fuel_covers_a_result_at_every_limit() {
        let limits = Limits::default();
        let largest = limits.max_result_bytes + 2 * limits.max_findings * size_of::<String>();
        assert!(fuel_for(&limits) >= largest);
        assert!(fuel_for(&limits) < 4 * 1024 * 1024, "and not much more");
    }
}
