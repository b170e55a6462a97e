//! What to load: a component from bytes, a file or a manifest, and how to run it.

use std::path::PathBuf;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::manifest::Manifest;
use crate::plugin::{Plugin, PluginOptions};
use crate::runtime::quota::Quota;
use crate::runtime::restart::RestartPolicy;
use crate::sandbox::Sandbox;

#[derive(Debug, Clone)]
enum Source {
    Bytes(Arc<[u8]>),
    File(PathBuf),
    Manifest(PathBuf),
}

/// A plugin to load into a [`crate::PluginHost`]. Settings left unset take the host's defaults.
#[derive(Debug, Clone)]
pub struct PluginSpec {
    name: Option<String>,
    version: Option<semver::Version>,
    source: Source,
    pub(crate) options: Option<PluginOptions>,
    pub(crate) instances: Option<usize>,
    pub(crate) policy: Option<RestartPolicy>,
    pub(crate) quota: Option<Quota>,
}

impl PluginSpec {
    fn new(name: Option<String>, source: Source) -> Self {
        PluginSpec { name, version: None, source, options: None, instances: None, policy: None, quota: None }
    }

    /// Component bytes under `name` (version 0.0.0 unless set).
    pub fn bytes(name: impl Into<String>, bytes: impl Into<Arc<[u8]>>) -> Self {
        Self::new(Some(name.into()), Source::Bytes(bytes.into()))
    }

    /// A `.wasm` file, named after the file (`cycle_finder.wasm` → `cycle_finder`).
    pub fn file(path: impl Into<PathBuf>) -> Self {
        Self::new(None, Source::File(path.into()))
    }

    /// A `plugin.toml`; name, version and component come from it.
    pub fn manifest(path: impl Into<PathBuf>) -> Self {
        Self::new(None, Source::Manifest(path.into()))
    }

    /// Overrides the name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Overrides the version.
    pub fn version(mut self, version: semver::Version) -> Self {
        self.version = Some(version);
        self
    }

    /// Limits and config for this plugin instead of the host's defaults.
    pub fn options(mut self, options: PluginOptions) -> Self {
        self.options = Some(options);
        self
    }

    /// How many instances serve this plugin.
    pub fn instances(mut self, instances: usize) -> Self {
        self.instances = Some(instances.max(1));
        self
    }

    /// Restart policy for this plugin.
    pub fn restart_policy(mut self, policy: RestartPolicy) -> Self {
        self.policy = Some(policy);
        self
    }

    /// Cross-call quota for this plugin.
    pub fn quota(mut self, quota: Quota) -> Self {
        self.quota = Some(quota);
        self
    }

    /// Where the plugin comes from, for messages.
    pub fn source_name(&self) -> String {
        match &self.source {
            Source::Bytes(_) => self.name.clone().unwrap_or_else(|| "<bytes>".into()),
            Source::File(p) | Source::Manifest(p) => p.display().to_string(),
        }
    }

    /// Reads, compiles (or fetches from the cache) and links the plugin. Blocking: run it off
    /// the async threads.
    pub(crate) fn compile(
        &self,
        sandbox: &Sandbox,
        default: &PluginOptions,
    ) -> Result<(Plugin, semver::Version)> {
        let read = |path: &PathBuf| {
            std::fs::read(path).map_err(|e| Error::io(format!("cannot read plugin {}", path.display()), e))
        };
        let (name, version, bytes): (String, semver::Version, Arc<[u8]>) = match &self.source {
            Source::Bytes(bytes) => {
                (self.name.clone().unwrap_or_default(), semver::Version::new(0, 0, 0), bytes.clone())
            }
            Source::File(path) => {
                let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
                (stem, semver::Version::new(0, 0, 0), read(path)?.into())
            }
            Source::Manifest(path) => {
                let manifest = Manifest::from_path(path)?;
                let bytes = read(&manifest.component_path(path))?;
                (manifest.name, manifest.version, bytes.into())
            }
        };
        let name = self.name.clone().unwrap_or(name);
        if name.is_empty() {
            return Err(Error::InvalidManifest {
                path: self.source_name(),
                message: "the plugin has no name".into(),
            });
        }
        let version = self.version.clone().unwrap_or(version);
        let options = self.options.clone().unwrap_or_else(|| default.clone());
        Ok((sandbox.load(&name, &bytes, options)?, version))
    }
}
