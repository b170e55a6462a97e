//! A host policy file: parsed or refused; a parsed policy decides for any request without panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parseltongue_plugins::{Capabilities, Limits, Policy, RequestedLimits};

fuzz_target!(|text: &str| {
    if let Ok(policy) = Policy::parse(text, std::path::Path::new("policy.toml")) {
        let most = RequestedLimits {
            memory_mb: Some(1 << 20),
            timeout_ms: Some(1 << 30),
            fuel: Some(u64::MAX),
            stack_kb: Some(1 << 20),
            max_output_kb: Some(1 << 30),
            max_findings: Some(1 << 40),
        };
        let _ = policy.decide("fuzz", &Capabilities::default(), &most, &Limits::default());
    }
});
