//! What happens to plugins, as plain data: the host broadcasts these to any number of observers
//! ([`crate::PluginHost::subscribe`]) and writes them to the audit trail.

use std::time::Duration;

use crate::error::ErrorKind;
use crate::observe::QuotaLevel;

/// One thing that happened to one plugin.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct HostEvent {
    /// The plugin's name.
    pub plugin: String,
    /// Its version.
    pub version: String,
    /// What happened.
    #[serde(flatten)]
    pub kind: EventKind,
}

/// The kinds of [`HostEvent`].
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "kebab-case", tag = "event")]
#[non_exhaustive]
pub enum EventKind {
    /// Loaded and its instances started.
    Loaded {
        /// Instances started.
        instances: usize,
    },
    /// Could not be loaded.
    LoadFailed {
        /// Why.
        error: String,
    },
    /// A newer version took over new calls; this (older) one drains and stops.
    Replaced {
        /// The version now serving calls.
        by: String,
    },
    /// Stopped and removed.
    Unloaded,
    /// An instance crashed (trap or limit); its in-flight request got the error.
    Crashed {
        /// Which instance.
        instance: usize,
        /// The error kind.
        kind: ErrorKind,
        /// The error message.
        message: String,
    },
    /// An instance will be restarted after `delay`.
    RestartScheduled {
        /// Which instance.
        instance: usize,
        /// Consecutive failure number.
        attempt: u32,
        /// The backoff delay.
        #[serde(serialize_with = "crate::sandbox::as_millis", rename = "delay_ms")]
        delay: Duration,
    },
    /// An instance is running again.
    Restarted {
        /// Which instance.
        instance: usize,
    },
    /// An input crashed the plugin repeatedly; it will be refused from now on.
    PoisonInput {
        /// The input's fingerprint.
        fingerprint: String,
    },
    /// Too many crashes (or too much CPU): no more calls until released.
    Quarantined {
        /// Why.
        reason: String,
    },
    /// Released from quarantine by an operator.
    Released,
    /// An update crash-looped into quarantine during its probation; the previous version
    /// was loaded back. Reported under the version rolled back *from*.
    RolledBack {
        /// The version now serving calls.
        to: String,
        /// Why.
        reason: String,
    },
    /// The plugin's standing against its quota changed.
    Quota {
        /// The new level.
        level: QuotaLevel,
        /// Guest time in the current window.
        #[serde(serialize_with = "crate::sandbox::as_millis", rename = "used_ms")]
        used: Duration,
    },
}
