//! What one audit record says: the typed payload of each line of the log.

use crate::observe::HostEvent;
use crate::policy::Denied;
use crate::sandbox::Usage;
use serde_json::Value;

/// What one audit record says.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "kebab-case", tag = "record")]
#[non_exhaustive]
pub enum AuditRecord {
    /// The log was opened by a host.
    Opened {
        /// This crate's version.
        host_version: String,
    },
    /// A torn last line from a crash was moved aside.
    TornTailRecovered {
        /// Bytes moved to `<file>.torn`.
        bytes: u64,
    },
    /// A host policy took effect.
    PolicyChange {
        /// Where it came from (a file path, or `builder`).
        source: String,
        /// The policy, as data.
        policy: Value,
    },
    /// A plugin was loaded.
    Load {
        /// Plugin name.
        plugin: String,
        /// Version.
        version: String,
        /// SHA-256 of its component.
        sha256: String,
    },
    /// A capability was granted at load.
    Grant {
        /// Plugin name.
        plugin: String,
        /// What was granted.
        capability: String,
    },
    /// A capability was refused, at load (policy) or at run time (an attempt).
    Denial {
        /// Plugin name.
        plugin: String,
        /// What was refused.
        capability: String,
        /// Why.
        why: String,
        /// `load` or `run`.
        when: String,
    },
    /// A call began.
    CallStart {
        /// Plugin name.
        plugin: String,
        /// Version.
        version: String,
        /// Instance index.
        instance: usize,
        /// The input's fingerprint.
        input: String,
    },
    /// A call ended.
    CallEnd {
        /// Plugin name.
        plugin: String,
        /// Version.
        version: String,
        /// Instance index.
        instance: usize,
        /// `ok` or the error kind.
        outcome: String,
        /// What it used.
        usage: Usage,
    },
    /// A plugin artifact's signatures were checked against the trust policy (accepted or not).
    Verification(crate::policy::Verdict),
    /// A plugin went back to an earlier version.
    Rollback {
        /// Plugin name.
        plugin: String,
        /// The version now in use.
        to: String,
        /// `operator`, or why it was automatic.
        reason: String,
    },
    /// Anything the runtime reports as an event: crashes (traps), restarts, quarantines,
    /// releases, poison inputs, quota levels, swaps, unloads, failed loads.
    Event(HostEvent),
}

impl AuditRecord {
    /// A denial record from a policy [`Denied`].
    pub fn denial(plugin: &str, denied: &Denied, when: &str) -> AuditRecord {
        AuditRecord::Denial {
            plugin: plugin.to_string(),
            capability: denied.capability.clone(),
            why: denied.why.clone(),
            when: when.to_string(),
        }
    }
}
