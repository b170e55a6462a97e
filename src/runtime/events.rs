//! What happens to plugins, as a stream any number of observers can follow
//! ([`crate::PluginHost::subscribe`]): examples print it, tests assert on it, and the audit
//! trail will record it.

use std::time::Duration;

use crate::error::ErrorKind;
use crate::runtime::quota::QuotaLevel;

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
        #[serde(serialize_with = "crate::instance::as_millis", rename = "delay_ms")]
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
        #[serde(serialize_with = "crate::instance::as_millis", rename = "used_ms")]
        used: Duration,
    },
}

/// Where events go: the audit trail first (never dropped), then the broadcast to subscribers
/// (a slow subscriber may miss old events; the audit trail does not).
#[derive(Clone)]
pub(crate) struct Events {
    tx: tokio::sync::broadcast::Sender<HostEvent>,
    audit: Option<crate::audit::AuditLog>,
}

impl Events {
    pub(crate) fn new(capacity: usize, audit: Option<crate::audit::AuditLog>) -> Events {
        Events { tx: tokio::sync::broadcast::channel(capacity).0, audit }
    }

    /// Records and broadcasts `kind` for `key`.
    pub(crate) fn emit(&self, key: &crate::runtime::PluginKey, kind: EventKind) {
        self.emit_event(HostEvent { plugin: key.name.to_string(), version: key.version.to_string(), kind });
    }

    /// Records and broadcasts an event.
    pub(crate) fn emit_event(&self, event: HostEvent) {
        if let Some(audit) = &self.audit {
            audit.record(crate::audit::AuditRecord::Event(event.clone()));
        }
        let _ = self.tx.send(event);
    }

    /// Writes a record to the audit trail only.
    pub(crate) fn audit(&self, record: crate::audit::AuditRecord) {
        if let Some(audit) = &self.audit {
            audit.record(record);
        }
    }

    /// The audit trail, if one is kept.
    pub(crate) fn audit_log(&self) -> Option<&crate::audit::AuditLog> {
        self.audit.as_ref()
    }

    pub(crate) fn subscribe(&self) -> tokio::sync::broadcast::Receiver<HostEvent> {
        self.tx.subscribe()
    }
}
