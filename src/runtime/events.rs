//! The host's event bus: every [`HostEvent`] goes to the audit trail first (never dropped), then
//! to the broadcast that subscribers follow.

use crate::observe::audit::{AuditLog, AuditRecord};
use crate::observe::{EventKind, HostEvent, PluginKey};

/// Where events go: the audit trail first (never dropped), then the broadcast to subscribers
/// (a slow subscriber may miss old events; the audit trail does not).
#[derive(Clone)]
pub(crate) struct Events {
    tx: tokio::sync::broadcast::Sender<HostEvent>,
    audit: Option<AuditLog>,
}

impl Events {
    pub(crate) fn new(capacity: usize, audit: Option<AuditLog>) -> Events {
        Events { tx: tokio::sync::broadcast::channel(capacity).0, audit }
    }

    /// Records and broadcasts `kind` for `key`.
    pub(crate) fn emit(&self, key: &PluginKey, kind: EventKind) {
        self.emit_event(HostEvent { plugin: key.name.to_string(), version: key.version.to_string(), kind });
    }

    /// Records and broadcasts an event.
    pub(crate) fn emit_event(&self, event: HostEvent) {
        if let Some(audit) = &self.audit {
            audit.record(AuditRecord::Event(event.clone()));
        }
        let _ = self.tx.send(event);
    }

    /// Writes a record to the audit trail only.
    pub(crate) fn audit(&self, record: AuditRecord) {
        if let Some(audit) = &self.audit {
            audit.record(record);
        }
    }

    /// The audit trail, if one is kept.
    pub(crate) fn audit_log(&self) -> Option<&AuditLog> {
        self.audit.as_ref()
    }

    pub(crate) fn subscribe(&self) -> tokio::sync::broadcast::Receiver<HostEvent> {
        self.tx.subscribe()
    }
}
