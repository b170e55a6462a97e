//! The name every layer above the sandbox uses for one loaded plugin version.

use std::sync::Arc;

/// A loaded plugin version: the unit the registry, supervisors and monitor talk about.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct PluginKey {
    /// The plugin's name.
    pub name: Arc<str>,
    /// Its version.
    pub version: semver::Version,
}

impl std::fmt::Display for PluginKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}", self.name, self.version)
    }
}
