//! A baseline file (SARIF or our JSON results): read or refused with a typed error, never a
//! panic; what is read is compared with results and gated without panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parseltongue_plugins::Severity;
use parseltongue_plugins::results::{Baseline, FailOn, Gate, GraphInfo, Results, compare};

fuzz_target!(|text: &str| {
    match Baseline::parse("fuzz.sarif", text) {
        Ok(baseline) => {
            let mut results = Results::new(GraphInfo { source: "fuzz".into(), nodes: 0, edges: 0 });
            compare(&mut results, &baseline);
            let summary = results.baseline.as_ref().expect("compared");
            assert!(summary.absent.len() <= baseline.findings.len());
            let _ = Gate { fail_on: FailOn::Any, min_severity: Severity::Note }.judge(&results);
        }
        Err(e) => assert_eq!(e.kind(), parseltongue_plugins::ErrorKind::InvalidBaseline, "{e}"),
    }
});
