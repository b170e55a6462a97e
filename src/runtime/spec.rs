//! What to load: a component from bytes, a file or a manifest, and how to run it.

use std::path::PathBuf;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::files::read_component;
use crate::observe::Quota;
use crate::observe::audit::AuditRecord;
use crate::policy::Policy;
use crate::policy::{Capabilities, Manifest, RequestedLimits};
use crate::runtime::events::Events;
use crate::runtime::restart::RestartPolicy;
use crate::sandbox::KvStore;
use crate::sandbox::Sandbox;
use crate::sandbox::{Plugin, PluginOptions, name_from_path};

#[derive(Debug, Clone)]
enum Source {
    Bytes(Arc<[u8]>),
    File(PathBuf),
    Manifest(PathBuf),
    /// Pulled from a registry and verified against the trust policy (`distribution` makes these
    /// from a `VerifiedArtifact`; the runtime never sees the registry).
    Verified {
        manifest: Box<Manifest>,
        component: Arc<[u8]>,
        pinned: String,
    },
}

/// A plugin to load into a [`crate::PluginHost`]. Settings left unset take the host's defaults.
#[derive(Debug, Clone)]
pub struct PluginSpec {
    name: Option<String>,
    version: Option<semver::Version>,
    source: Source,
    /// Requested on top of (or, without a manifest, instead of) the manifest's.
    capabilities: Capabilities,
    requested_limits: Option<RequestedLimits>,
    pub(crate) options: Option<PluginOptions>,
    pub(crate) instances: Option<usize>,
    pub(crate) policy: Option<RestartPolicy>,
    pub(crate) quota: Option<Quota>,
}

impl PluginSpec {
    fn new(name: Option<String>, source: Source) -> Self {
        PluginSpec {
            name,
            version: None,
            source,
            capabilities: Capabilities::default(),
            requested_limits: None,
            options: None,
            instances: None,
            policy: None,
            quota: None,
        }
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

    /// A verified plugin's manifest and component; `pinned` names where it came from.
    /// `PluginSpec::artifact` (in `distribution`) is the public way in.
    pub(crate) fn verified(manifest: Manifest, component: Arc<[u8]>, pinned: String) -> Self {
        Self::new(None, Source::Verified { manifest: Box::new(manifest), component, pinned })
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

    /// Capabilities this plugin requests (as a manifest's `[capabilities]` would); the host
    /// policy decides what it gets. Added to its manifest's requests, if it has one.
    pub fn capabilities(mut self, capabilities: Capabilities) -> Self {
        self.capabilities = capabilities;
        self
    }

    /// Limits this plugin requests (as a manifest's `[limits]` would); the policy caps them.
    pub fn requested_limits(mut self, limits: RequestedLimits) -> Self {
        self.requested_limits = Some(limits);
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
            Source::Verified { pinned, .. } => pinned.clone(),
        }
    }

    /// Reads, applies the host policy, compiles (or fetches from the cache) and links the
    /// plugin. Blocking: run it off the async threads.
    pub(crate) fn compile(&self, cx: &LoadContext) -> Result<(Plugin, semver::Version)> {
        let mut capabilities = Capabilities::default();
        let mut requested_limits = RequestedLimits::default();
        let mut manifest_of = None;
        let (name, version, bytes): (String, semver::Version, Arc<[u8]>) = match &self.source {
            Source::Bytes(bytes) => {
                (self.name.clone().unwrap_or_default(), semver::Version::new(0, 0, 0), bytes.clone())
            }
            Source::File(path) => {
                let stem = name_from_path(path).unwrap_or_default();
                (stem, semver::Version::new(0, 0, 0), read_component(path)?.into())
            }
            Source::Manifest(path) => {
                let manifest = Manifest::from_path(path)?;
                let bytes = read_component(&manifest.component_path(path)?)?;
                capabilities = manifest.capabilities.clone();
                requested_limits = manifest.limits.clone();
                let (name, version) = (manifest.name.clone(), manifest.version.clone());
                manifest_of = Some(manifest);
                (name, version, bytes.into())
            }
            Source::Verified { manifest, component, .. } => {
                capabilities = manifest.capabilities.clone();
                requested_limits = manifest.limits.clone();
                manifest_of = Some((**manifest).clone());
                (manifest.name.clone(), manifest.version.clone(), component.clone())
            }
        };
        let name = self.name.clone().unwrap_or(name);
        if name.is_empty() {
            return Err(Error::InvalidManifest {
                path: self.source_name(),
                message: "the plugin has no name".into(),
            });
        }
        capabilities.merge(&self.capabilities);
        self.capabilities
            .validate()
            .map_err(|message| Error::InvalidManifest { path: self.source_name(), message })?;
        if let Some(limits) = &self.requested_limits {
            requested_limits = limits.clone();
        }
        let version = self.version.clone().unwrap_or(version);

        let mut options = self.options.clone().unwrap_or_else(|| cx.options.clone());
        let decision = cx.policy.decide(&name, &capabilities, &requested_limits, &options.limits);
        options.limits = decision.limits;
        options.grants = options.grants.union(&decision.granted);
        options.denied.extend(decision.denied);
        if options.kv_store.is_none() {
            options.kv_store = cx.kv.clone();
        }
        let (events, plugin) = (cx.events.clone(), name.clone());
        options.on_denied = Some(Arc::new(move |what: String| {
            tracing::warn!(plugin = %plugin, "refused: {what}");
            events.audit(AuditRecord::Denial {
                plugin: plugin.clone(),
                capability: what,
                why: "not granted".into(),
                when: "run".into(),
            });
        }));
        let plugin = cx.sandbox.load(&name, &bytes, options)?;
        if let Some(manifest) = manifest_of {
            manifest.check_contract(plugin.contract())?;
        }
        Ok((plugin, version))
    }
}

/// What loading needs from the host.
pub(crate) struct LoadContext {
    pub(crate) sandbox: Sandbox,
    pub(crate) options: PluginOptions,
    pub(crate) policy: Policy,
    pub(crate) kv: Option<KvStore>,
    pub(crate) events: Events,
}
