//! The plugins and sample graph shipped inside the library: the demo's content, the fixtures the
//! tests and `ptplugin conformance`-style checks run, and a starting point for plugin authors.
//!
//! Each plugin is built from `guests/<name>` by `build.rs`; no binary is committed.

use crate::error::ErrorKind;

mod generated {
    include!(concat!(env!("OUT_DIR"), "/bundled.rs"));
}

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

/// Every bundled plugin: the analyses first, then the faults and escapes.
pub static PLUGINS: &[BundledPlugin] = &[
    BundledPlugin {
        name: "node-census",
        role: Role::Analysis,
        summary: "counts nodes per type; recommends a look when one type dominates",
        wasm: generated::NODE_CENSUS,
    },
    BundledPlugin {
        name: "cycle-finder",
        role: Role::Analysis,
        summary: "reports dependency cycles between definitions and between modules (Tarjan SCC)",
        wasm: generated::CYCLE_FINDER,
    },
    BundledPlugin {
        name: "page-rank",
        role: Role::Analysis,
        summary: "names the nodes the codebase leans on most (PageRank over host.edges())",
        wasm: generated::PAGE_RANK,
    },
    BundledPlugin {
        name: "blast-radius",
        role: Role::Analysis,
        summary: "what breaks if this changes: definitions with the most direct and transitive dependents",
        wasm: generated::BLAST_RADIUS,
    },
    BundledPlugin {
        name: "god-objects",
        role: Role::Analysis,
        summary: "types with too many methods, functions calling too many others",
        wasm: generated::GOD_OBJECTS,
    },
    BundledPlugin {
        name: "api-surface",
        role: Role::Analysis,
        summary: "public items per module, widest first",
        wasm: generated::API_SURFACE,
    },
    BundledPlugin {
        name: "dead-code",
        role: Role::Analysis,
        summary: "definitions nothing in the graph uses (tests, entry points, trait impls set apart)",
        wasm: generated::DEAD_CODE,
    },
    BundledPlugin {
        name: "fault-loop",
        role: Role::Fault(ErrorKind::Timeout),
        summary: "spins forever",
        wasm: generated::FAULT_LOOP,
    },
    BundledPlugin {
        name: "fault-memory-bomb",
        role: Role::Fault(ErrorKind::MemoryLimit),
        summary: "allocates 1 MiB blocks forever",
        wasm: generated::FAULT_MEMORY_BOMB,
    },
    BundledPlugin {
        name: "fault-deep-recursion",
        role: Role::Fault(ErrorKind::StackOverflow),
        summary: "recurses without end",
        wasm: generated::FAULT_DEEP_RECURSION,
    },
    BundledPlugin {
        name: "fault-panic",
        role: Role::Fault(ErrorKind::Trap),
        summary: "panics",
        wasm: generated::FAULT_PANIC,
    },
    BundledPlugin {
        name: "fault-oversized-output",
        role: Role::Fault(ErrorKind::OutputLimit),
        summary: "returns 200,000 findings (about 20 MB)",
        wasm: generated::FAULT_OVERSIZED_OUTPUT,
    },
    BundledPlugin {
        name: "fault-huge-list",
        role: Role::Fault(ErrorKind::OutputLimit),
        summary: "returns 2,000,000 empty findings (config `entries`): tiny text, a huge list",
        wasm: generated::FAULT_HUGE_LIST,
    },
    BundledPlugin {
        name: "fault-log-flood",
        role: Role::Flood,
        summary: "writes ~2 MB each to host.log, stdout and stderr",
        wasm: generated::FAULT_LOG_FLOOD,
    },
    BundledPlugin {
        name: "escape-read-passwd",
        role: Role::Escape,
        summary: "tries to read /etc/passwd, list / and write /tmp (config `read`, `list`, `write`: other paths)",
        wasm: generated::ESCAPE_READ_PASSWD,
    },
    BundledPlugin {
        name: "escape-tcp-connect",
        role: Role::Escape,
        summary: "tries to connect to 127.0.0.1:<config port> and resolve localhost",
        wasm: generated::ESCAPE_TCP_CONNECT,
    },
    BundledPlugin {
        name: "escape-read-env",
        role: Role::Escape,
        summary: "lists the environment variables and arguments it can see",
        wasm: generated::ESCAPE_READ_ENV,
    },
    BundledPlugin {
        name: "kv-counter",
        role: Role::Probe,
        summary: "counts its calls in its key-value store (config `fill`: store that many bytes)",
        wasm: generated::KV_COUNTER,
    },
    BundledPlugin {
        name: "probe-clock",
        role: Role::Probe,
        summary: "reports the wall clock it sees (config `sleep-ms`: waits first)",
        wasm: generated::PROBE_CLOCK,
    },
    BundledPlugin {
        name: "probe-memory-residue",
        role: Role::Probe,
        summary: "writes a secret into its memory (first node `write:SEED`) or scans for one (`scan:SEED`)",
        wasm: generated::PROBE_MEMORY_RESIDUE,
    },
];

/// The bundled plugin called `name`.
pub fn get(name: &str) -> Option<&'static BundledPlugin> {
    PLUGINS.iter().find(|p| p.name == name)
}

pub use crate::graph::{PARSELTONGUE_EDGES, PARSELTONGUE_ENTITIES, SAMPLE_GRAPH, parseltongue_sample};

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
        (Role::Escape, Ok(a)) => match a.result.findings.iter().find(|f| !f.contains(": denied: ")) {
            Some(escaped) => verdict(false, format!("ESCAPED: {escaped}")),
            None if a.result.findings.is_empty() => verdict(true, "denied: saw nothing of the host".into()),
            None => {
                let attempts: Vec<&str> =
                    a.result.findings.iter().filter_map(|f| f.split(": denied: ").next()).collect();
                verdict(true, format!("denied: {}", attempts.join(", ")))
            }
        },
        (Role::Probe, Ok(a)) => verdict(true, a.result.findings.join("; ")),
        (Role::Analysis | Role::Flood | Role::Escape | Role::Probe, Err(e)) => {
            verdict(false, format!("failed with {}: {e}", e.kind()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Analysis, AnalysisResult, Error, Usage};

    fn ok(findings: &[&str]) -> crate::Result<Analysis> {
        Ok(Analysis {
            result: AnalysisResult {
                findings: findings.iter().map(|f| f.to_string()).collect(),
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
