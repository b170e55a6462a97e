//! The audit-log verifier on arbitrary bytes: a report, never a panic; and it never calls a log
//! intact that has a bad record.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parseltongue_plugins::audit;

fuzz_target!(|bytes: &[u8]| {
    let report = audit::verify_chain(bytes).expect("reading a slice cannot fail");
    if report.first_bad.is_some() {
        assert!(!report.is_intact());
    }
});
