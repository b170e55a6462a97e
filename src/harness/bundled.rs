//! The plugins and sample graph shipped inside the library: the demo's content, the fixtures the
//! tests and `ptplugin conformance`-style checks run, and a starting point for plugin authors.
//!
//! Each plugin is built from `guests/<name>` by `build.rs`, which also writes [`PLUGINS`] from
//! `guests/Cargo.toml` (the order) and each guest's `[package.metadata.ptplugin]` (role and
//! summary): adding a plugin is adding its crate. No binary is committed.

use crate::error::ErrorKind;

/// What a bundled plugin is for, and so what running it on a non-empty graph must end in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case", tag = "role", content = "expect")]
pub enum Role {
    /// A real analysis: succeeds with findings.
    Analysis,
    /// Misbehaves; the sandbox must stop it with this error kind (and it succeeds on an empty graph).
    Fault(ErrorKind),
    /// Misbehaves but returns: the sandbox must bound what it produces (e.g. a log flood).
    Flood,
    /// Tries to reach outside the sandbox and reports each attempt as a finding; every attempt
    /// must be denied.
    Escape,
    /// Reports what it can reach (storage, clock); a fixture for grant tests, not judged.
    Probe,
}

/// A plugin compiled into this library.
#[derive(Debug, Clone, Copy)]
pub struct BundledPlugin {
    /// The plugin's name, as in `bundled:<name>`.
    pub name: &'static str,
    /// What it is for.
    pub role: Role,
    /// One line on what it does.
    pub summary: &'static str,
    /// The component bytes.
    pub wasm: &'static [u8],
}

include!(concat!(env!("OUT_DIR"), "/bundled.rs"));

/// The bundled plugin called `name`.
pub fn get(name: &str) -> Option<&'static BundledPlugin> {
    PLUGINS.iter().find(|p| p.name == name)
}

pub use crate::graph::{
    PARSELTONGUE_EDGES, PARSELTONGUE_ENTITIES, PARSELTONGUE_V17_EDGE_PAGES, PARSELTONGUE_V17_ENTITIES,
    SAMPLE_GRAPH, parseltongue_sample, parseltongue_v097_sample,
};

/// The directory the guest components were built into, for tests and tools that want files.
pub const GUEST_DIR: &str = env!("PTPLUGIN_GUEST_DIR");

/// Whether a bundled plugin's outcome is the one its [`Role`] demands, in one line.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Verdict {
    /// The outcome is what the role demands: an analysis succeeded, a fault was stopped with
    /// the right kind, a flood was bounded, every escape attempt was denied.
    pub as_expected: bool,
    /// What happened, for people.
    pub summary: String,
}

/// Judges `outcome` (the plugin run on a non-empty graph) against `role`.
pub fn judge(role: Role, outcome: &crate::Result<crate::Analysis>) -> Verdict {
    let verdict = |as_expected, summary: String| Verdict { as_expected, summary };
    match (role, outcome) {
        (Role::Analysis, Ok(a)) => verdict(true, format!("{} findings", a.result.findings.len())),
        (Role::Fault(kind), Err(e)) if e.kind() == kind => verdict(true, format!("stopped: {kind}")),
        (Role::Fault(kind), Err(e)) => verdict(false, format!("expected {kind}, got {}: {e}", e.kind())),
        (Role::Fault(kind), Ok(_)) => verdict(false, format!("expected {kind}, but the call succeeded")),
        (Role::Flood, Ok(a)) => {
            let u = &a.usage;
            let bounded = u.log_bytes_dropped > 0 || u.stdio_bytes_dropped > 0;
            verdict(
                bounded,
                format!(
                    "bounded: kept {} KiB of log, dropped {:.1} MB of log and {:.1} MB of stdout/stderr",
                    u.log_bytes.div_ceil(1024),
                    u.log_bytes_dropped as f64 / 1e6,
                    u.stdio_bytes_dropped as f64 / 1e6
                ),
            )
        }
        (Role::Escape, Ok(a)) => match a.result.findings.iter().find(|f| !f.message.contains(": denied: ")) {
            Some(escaped) => verdict(false, format!("ESCAPED: {}", escaped.message)),
            None if a.result.findings.is_empty() => verdict(true, "denied: saw nothing of the host".into()),
            None => {
                let attempts: Vec<&str> =
                    a.result.findings.iter().filter_map(|f| f.message.split(": denied: ").next()).collect();
                verdict(true, format!("denied: {}", attempts.join(", ")))
            }
        },
        (Role::Probe, Ok(a)) => verdict(true, messages(&a.result.findings).join("; ")),
        (Role::Analysis | Role::Flood | Role::Escape | Role::Probe, Err(e)) => {
            verdict(false, format!("failed with {}: {e}", e.kind()))
        }
    }
}

/// The findings' messages.
pub(crate) fn messages(findings: &[crate::contract::Finding]) -> Vec<&str> {
    findings.iter().map(|f| f.message.as_str()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Analysis, Error, Finding, Report, Usage};

    fn ok(findings: &[&str]) -> crate::Result<Analysis> {
        Ok(Analysis {
            result: Report {
                findings: findings.iter().map(|f| Finding::from_text("probe", f.to_string())).collect(),
                confidence: 1.0,
                recommendations: vec![],
            },
            usage: Usage::default(),
            logs: vec![],
            stdout: String::new(),
            stderr: String::new(),
        })
    }

    #[test]
    fn every_bundled_plugin_is_present_and_named_uniquely() {
        for p in PLUGINS {
            assert!(p.wasm.starts_with(b"\0asm"), "{}", p.name);
            assert_eq!(get(p.name).map(|q| q.name), Some(p.name));
        }
        assert!(PLUGINS.len() >= 11);
    }

    #[test]
    fn escapes_pass_only_when_every_attempt_was_denied() {
        assert!(judge(Role::Escape, &ok(&["read x: denied: nope", "list /: denied: no"])).as_expected);
        assert_eq!(
            judge(Role::Escape, &ok(&["read x: denied: nope", "list /: denied: no"])).summary,
            "denied: read x, list /"
        );
        assert!(judge(Role::Escape, &ok(&[])).as_expected);
        let escaped = judge(Role::Escape, &ok(&["read x: denied: nope", "env HOME=/root"]));
        assert!(!escaped.as_expected);
        assert_eq!(escaped.summary, "ESCAPED: env HOME=/root");
    }

    #[test]
    fn faults_pass_only_with_their_kind() {
        let timeout: crate::Result<Analysis> =
            Err(Error::Timeout { limit: std::time::Duration::from_secs(1), clock: crate::Clock::Cpu });
        assert!(judge(Role::Fault(ErrorKind::Timeout), &timeout).as_expected);
        assert!(!judge(Role::Fault(ErrorKind::MemoryLimit), &timeout).as_expected);
        assert!(!judge(Role::Fault(ErrorKind::Timeout), &ok(&[])).as_expected);
        assert!(!judge(Role::Analysis, &timeout).as_expected);
    }

    #[test]
    fn a_flood_passes_only_when_something_was_dropped() {
        assert!(!judge(Role::Flood, &ok(&[])).as_expected);
        let mut flood = ok(&[]).unwrap();
        flood.usage.log_bytes_dropped = 10;
        assert!(judge(Role::Flood, &Ok(flood)).as_expected);
    }
}
