//! Updating a running plugin on probation, and rolling back to the version before it when the
//! new one is quarantined.

use std::time::Duration;

use tokio::sync::broadcast;

use super::handle::PluginHost;
use crate::error::Result;
use crate::observe::PluginKey;
use crate::observe::audit::AuditRecord;
use crate::observe::{EventKind, HostEvent};
use crate::runtime::spec::PluginSpec;

impl PluginHost {
    /// Updates a loaded plugin to `spec` (a hot swap, as [`PluginHost::load`]) on probation:
    /// if the new version is quarantined (crash loop, quota) within `probation`, the version
    /// before it is loaded back automatically, reported as [`EventKind::RolledBack`] and
    /// audited. A plugin not loaded before is simply loaded.
    ///
    /// # Errors
    ///
    /// As [`PluginHost::load`]: on error the running version is untouched.
    pub async fn update(&self, spec: PluginSpec, probation: Duration) -> Result<PluginKey> {
        let mut events = self.subscribe();
        let (key, previous) = self.load_keeping(spec).await?;
        let Some(previous) = previous else { return Ok(key) };
        let host = self.clone();
        let watched = key.clone();
        tokio::spawn(async move {
            let deadline = tokio::time::sleep(probation);
            tokio::pin!(deadline);
            let version = watched.version.to_string();
            loop {
                let event = tokio::select! {
                    _ = &mut deadline => return,
                    event = events.recv() => event,
                };
                let reason = match event {
                    Ok(HostEvent { plugin, version: v, kind: EventKind::Quarantined { reason } })
                        if plugin == *watched.name && v == version =>
                    {
                        reason
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                    _ => continue,
                };
                host.roll_back(&watched, previous, &reason).await;
                return;
            }
        });
        Ok(key)
    }

    async fn roll_back(&self, from: &PluginKey, previous: PluginSpec, reason: &str) {
        let reason = format!("quarantined during probation: {reason}");
        match self.load(previous).await {
            Ok(to) => {
                tracing::warn!(plugin = %from.name, from = %from.version, to = %to.version, "rolled back: {reason}");
                self.inner.events.audit(AuditRecord::Rollback {
                    plugin: from.name.to_string(),
                    to: to.version.to_string(),
                    reason: reason.clone(),
                });
                self.inner.events.emit(from, EventKind::RolledBack { to: to.version.to_string(), reason });
            }
            Err(e) => tracing::error!(plugin = %from.name, "rollback failed: {e}"),
        }
    }
}
