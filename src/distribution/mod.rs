//! Distribution: plugins as signed OCI artifacts, verified before they can load.
//!
//! Lifecycle: resolve a reference (tag, digest or semver range) → fetch the manifest, blobs
//! and signatures into the local content-addressed [`Store`] (every byte checked against its
//! digest) → evaluate the [`TrustPolicy`] offline against what is stored → only then hand out a
//! [`VerifiedArtifact`], the one way an OCI plugin becomes a [`crate::PluginSpec`]. A plugin that
//! fails verification is never compiled, let alone instantiated. Every verdict is audited.
//!
//! `--offline` runs the same path from the store alone.

pub mod artifact;
pub mod bundle;
pub mod digest;
pub mod media;
pub mod progress;
pub mod reference;
pub mod registry;
pub mod requires;
pub mod signing;
pub mod store;
pub mod trust;

use std::collections::BTreeMap;
use std::sync::Arc;

use oci_client::Reference;
use oci_client::manifest::OciImageManifest;

use crate::error::{Error, Result};
use crate::observe::audit::{AuditLog, AuditRecord};
use crate::policy::Manifest;
use progress::Progress;
use reference::{PluginRef, Selector};
use registry::RegistryClient;
use store::{Installed, Release, Store};
use trust::{Evidence, TrustPolicy, Verdict};

/// Media type of Sigstore bundles attached to an artifact's signature manifest.
pub const BUNDLE_LAYER: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";

/// A plugin whose bytes matched their digests and whose signatures satisfied the trust policy.
/// Only this module makes them.
#[derive(Debug, Clone)]
pub struct VerifiedArtifact {
    pub(crate) manifest: Manifest,
    pub(crate) plugin_toml: String,
    pub(crate) component: Arc<[u8]>,
    pub(crate) reference: PluginRef,
    pub(crate) digest: String,
    pub(crate) verdict: Verdict,
}

impl crate::PluginSpec {
    /// A plugin pulled from a registry and verified ([`Distribution`]); name, version, requested
    /// capabilities and limits come from its `plugin.toml`.
    pub fn artifact(artifact: VerifiedArtifact) -> Self {
        let pinned = artifact.pinned();
        crate::runtime::PluginSpec::verified(artifact.manifest, artifact.component, pinned)
    }
}

impl VerifiedArtifact {
    /// Its `plugin.toml`.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }
    /// The `plugin.toml` text as published.
    pub fn manifest_text(&self) -> &str {
        &self.plugin_toml
    }
    /// Where it came from, pinned to its digest.
    pub fn pinned(&self) -> String {
        format!("{}@{}", self.reference.repo(), self.digest)
    }
    /// Its manifest digest.
    pub fn digest(&self) -> &str {
        &self.digest
    }
    /// Why it was trusted.
    pub fn verdict(&self) -> &Verdict {
        &self.verdict
    }
    /// The component bytes.
    pub fn component(&self) -> &[u8] {
        &self.component
    }
}

/// A version change `update` made.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Update {
    /// The plugin.
    pub name: String,
    /// The version before.
    pub from: semver::Version,
    /// The version now.
    pub to: semver::Version,
    /// Capabilities the new version asks for that the old one did not (`+`) and the reverse
    /// (`-`). New ones are granted only if the host policy allows them, like any request.
    pub capability_diff: Vec<String>,
    /// Everything the new version requests, for checking against a host policy.
    pub requested: crate::policy::Capabilities,
}

fn not_installed(name: &str, installed: &BTreeMap<String, Installed>) -> Error {
    let names: Vec<&str> = installed.keys().map(String::as_str).collect();
    Error::Unresolved {
        what: format!("installed plugin `{name}`"),
        reason: if names.is_empty() {
            "nothing is installed (ptplugin pull installs)".into()
        } else {
            format!("not installed; installed: {}", names.join(", "))
        },
    }
}

/// Pushes, pulls, signs and verifies plugins; owns the local store.
#[derive(Debug, Clone)]
pub struct Distribution {
    store: Store,
    trust: TrustPolicy,
    insecure: bool,
    offline: bool,
    progress: Progress,
    audit: Option<AuditLog>,
}

impl Distribution {
    /// Over a store, with the default trust policy (unsigned refused, nobody trusted).
    pub fn new(store: Store) -> Distribution {
        Distribution {
            store,
            trust: TrustPolicy::default(),
            insecure: false,
            offline: false,
            progress: Progress::Quiet,
            audit: None,
        }
    }

    /// Which signers are trusted.
    pub fn trust(mut self, trust: TrustPolicy) -> Self {
        self.trust = trust;
        self
    }

    /// Allow plain HTTP to non-loopback registries.
    pub fn insecure(mut self, insecure: bool) -> Self {
        self.insecure = insecure;
        self
    }

    /// Resolve only from the store; never touch the network.
    pub fn offline(mut self, offline: bool) -> Self {
        self.offline = offline;
        self
    }

    /// How to show transfers.
    pub fn progress(mut self, progress: Progress) -> Self {
        self.progress = progress;
        self
    }

    /// Record every verification verdict here.
    pub fn audit(mut self, audit: AuditLog) -> Self {
        self.audit = Some(audit);
        self
    }

    /// The local store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    fn client(&self, r: &PluginRef) -> RegistryClient {
        RegistryClient::new(r, self.insecure, self.progress)
    }

    fn online(&self, what: &str) -> Result<()> {
        if self.offline {
            return Err(Error::Unresolved {
                what: what.into(),
                reason: "offline: this needs the registry".into(),
            });
        }
        Ok(())
    }

    /// Pushes a component with its `plugin.toml` text to `reference` (a tag; by default the
    /// manifest's version). Returns the pinned reference.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidManifest`]/[`Error::Incompatible`] for the manifest,
    /// [`Error::InvalidComponent`] if the bytes are not a component, [`Error::Registry`].
    pub async fn push(&self, component: Vec<u8>, plugin_toml: &str, reference: &str) -> Result<String> {
        self.online(reference)?;
        let manifest = Manifest::parse(plugin_toml, std::path::Path::new("plugin.toml"))?;
        if !wasmparser::Parser::is_component(&component) {
            return Err(Error::InvalidComponent {
                message: "not a WebAssembly component".into(),
                source: None,
            });
        }
        let r = PluginRef::parse(reference)?;
        let tag = match &r.selector {
            Selector::Tag(tag) if tag == "latest" && !reference.ends_with(":latest") => {
                manifest.version.to_string()
            }
            Selector::Tag(tag) => tag.clone(),
            _ => {
                return Err(Error::Unresolved {
                    what: reference.into(),
                    reason: "push needs a tag (or none: the plugin's version is used)".into(),
                });
            }
        };
        let packed = artifact::pack(component, plugin_toml, &manifest)?;
        let digest = self.client(&r).push(&r.with_tag(&tag), &packed).await?;
        Ok(format!("{}:{tag}@{digest}", r.repo()))
    }

    /// Signs the artifact `reference` names with a cosign key (`sha256-<digest>.sig` tag).
    /// Returns the signature tag.
    ///
    /// # Errors
    ///
    /// [`Error::Untrusted`] for an unusable key, [`Error::Registry`], [`Error::Unresolved`]
    /// if the artifact does not exist.
    pub async fn sign(&self, reference: &str, key_pem: &[u8], password: &[u8]) -> Result<String> {
        self.online(reference)?;
        let signer = signing::signing_key(key_pem, password)?;
        let (r, digest) = self.remote_digest(reference).await?;
        let payload = signing::payload(&r.repo(), &digest);
        let signature = signing::sign(&signer, &payload)?;
        let client = self.client(&r);
        let sig_ref = r.with_tag(&media::signature_tag(&digest));
        let existing = self.remote_signature_manifest(&client, &sig_ref).await?;
        let (manifest, config) = signing::add_signature(existing, &payload, &signature);
        client.push_blob(&sig_ref, &payload, &digest::sha256(&payload), "signature").await?;
        client.push_blob(&sig_ref, &config, &manifest.config.digest, "signature config").await?;
        client.push_manifest(&sig_ref, &manifest).await?;
        Ok(sig_ref.whole())
    }

    /// Attaches a Sigstore bundle (made over the component file, e.g. by
    /// `cosign sign-blob --bundle`) to the artifact's signature manifest, for identity-based
    /// trust.
    ///
    /// # Errors
    ///
    /// [`Error::Untrusted`] if it is not a bundle; [`Error::Registry`].
    pub async fn attach_bundle(&self, reference: &str, bundle_json: &str) -> Result<String> {
        self.online(reference)?;
        sigstore_verify::types::Bundle::from_json(bundle_json).map_err(|e| Error::Untrusted {
            subject: "bundle".into(),
            reason: "malformed bundle".into(),
            source: Some(e.into()),
        })?;
        let (r, digest) = self.remote_digest(reference).await?;
        let client = self.client(&r);
        let sig_ref = r.with_tag(&media::signature_tag(&digest));
        let mut manifest =
            self.remote_signature_manifest(&client, &sig_ref).await?.unwrap_or_else(|| OciImageManifest {
                schema_version: 2,
                media_type: Some(media::OCI_MANIFEST.into()),
                ..Default::default()
            });
        let bytes = bundle_json.as_bytes();
        let bundle_digest = digest::sha256(bytes);
        if !manifest.layers.iter().any(|l| l.digest == bundle_digest) {
            manifest.layers.push(oci_client::manifest::OciDescriptor {
                media_type: BUNDLE_LAYER.into(),
                digest: bundle_digest.clone(),
                size: bytes.len() as i64,
                ..Default::default()
            });
        }
        let config = b"{}".to_vec();
        manifest.config = oci_client::manifest::OciDescriptor {
            media_type: "application/vnd.oci.empty.v1+json".into(),
            digest: digest::sha256(&config),
            size: config.len() as i64,
            ..Default::default()
        };
        client.push_blob(&sig_ref, bytes, &bundle_digest, "bundle").await?;
        client.push_blob(&sig_ref, &config, &manifest.config.digest, "config").await?;
        client.push_manifest(&sig_ref, &manifest).await?;
        Ok(sig_ref.whole())
    }

    async fn remote_signature_manifest(
        &self,
        client: &RegistryClient,
        sig_ref: &Reference,
    ) -> Result<Option<OciImageManifest>> {
        match client.manifest(sig_ref).await? {
            Some((bytes, _)) => Ok(Some(artifact::parse_manifest(&sig_ref.whole(), &bytes)?)),
            None => Ok(None),
        }
    }

    /// The manifest digest a reference resolves to, from the registry.
    async fn remote_digest(&self, reference: &str) -> Result<(PluginRef, String)> {
        let r = PluginRef::parse(reference)?;
        let oci = self.resolve(&r).await?;
        match self.client(&r).manifest(&oci).await? {
            Some((_, digest)) => Ok((r, digest)),
            None => Err(Error::Unresolved {
                what: reference.into(),
                reason: "no such artifact in the registry".into(),
            }),
        }
    }

    /// The OCI reference a plugin reference selects: a range becomes the highest matching tag
    /// (listed from the registry, or from the store when offline).
    ///
    /// # Errors
    ///
    /// [`Error::Unresolved`] naming the available versions if none matches.
    pub async fn resolve(&self, r: &PluginRef) -> Result<Reference> {
        match &r.selector {
            Selector::Tag(tag) => Ok(r.with_tag(tag)),
            Selector::Digest(d) => Ok(r.with_digest(d)),
            Selector::Range(req) => {
                let tags: Vec<String> = if self.offline {
                    self.store
                        .index()?
                        .tags
                        .get(&r.repo())
                        .map(|t| t.iter().cloned().collect())
                        .unwrap_or_default()
                } else {
                    let tags = self.client(r).tags(&r.with_tag("latest")).await?;
                    self.store.update_index(|i| i.tags.insert(r.repo(), tags.iter().cloned().collect()))?;
                    tags
                };
                let tag = requires::highest_matching(&tags, req).ok_or_else(|| Error::Unresolved {
                    what: r.to_string(),
                    reason: format!(
                        "no version matches {req}; available: {}",
                        requires::versions(&tags)
                            .iter()
                            .map(|v| v.to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                })?;
                Ok(r.with_tag(&tag))
            }
        }
    }

    /// Fetches (unless offline) and verifies a plugin. The verdict, accepted or not, is audited.
    ///
    /// # Errors
    ///
    /// [`Error::Untrusted`] if the trust policy refuses it; [`Error::Integrity`] for content
    /// that does not match its digest (remote or cached); [`Error::Unresolved`] when offline
    /// and something is not in the store (named); [`Error::Incompatible`] if its `api` range
    /// excludes this host; [`Error::Registry`].
    pub async fn pull(&self, reference: &str) -> Result<VerifiedArtifact> {
        let r = PluginRef::parse(reference)?;
        let oci = self.resolve(&r).await?;
        let digest = if self.offline { self.cached_digest(&r, &oci)? } else { self.fetch(&r, &oci).await? };
        self.verify_stored(&r, &oci, &digest)
    }

    fn cached_digest(&self, r: &PluginRef, oci: &Reference) -> Result<String> {
        if let Some(d) = oci.digest() {
            return Ok(d.to_string());
        }
        let key = format!("{}:{}", r.repo(), oci.tag().unwrap_or("latest"));
        self.store.index()?.refs.get(&key).cloned().ok_or_else(|| Error::Unresolved {
            what: key.clone(),
            reason: format!("offline, and {key} was never pulled into {}", self.store.root().display()),
        })
    }

    /// Brings manifest, config, component and signatures into the store; returns the digest.
    async fn fetch(&self, r: &PluginRef, oci: &Reference) -> Result<String> {
        let client = self.client(r);
        let (bytes, digest) = client.manifest(oci).await?.ok_or_else(|| Error::Unresolved {
            what: oci.whole(),
            reason: "no such artifact in the registry".into(),
        })?;
        let manifest = artifact::parse_manifest(&oci.whole(), &bytes)?;
        let layer = artifact::wasm_layer(&oci.whole(), &manifest)?.clone();
        self.store.put("manifest", &bytes, &digest)?;
        for (descriptor, what) in [(&manifest.config, "config"), (&layer, "component")] {
            if !self.store.has(&descriptor.digest) || self.store.get(what, &descriptor.digest).is_err() {
                let blob = client.blob(oci, descriptor, what).await?;
                self.store.put(what, &blob, &descriptor.digest)?;
            }
        }
        let sig_ref = r.with_tag(&media::signature_tag(&digest));
        let signatures =
            match client.manifest(&sig_ref).await? {
                Some((sig_bytes, sig_digest)) => {
                    let sig_manifest = artifact::parse_manifest(&sig_ref.whole(), &sig_bytes)?;
                    for layer in sig_manifest.layers.iter().filter(|l| {
                        l.media_type == media::COSIGN_SIMPLE_SIGNING || l.media_type == BUNDLE_LAYER
                    }) {
                        if !self.store.has(&layer.digest) {
                            let blob = client.blob(&sig_ref, layer, "signature").await?;
                            self.store.put("signature", &blob, &layer.digest)?;
                        }
                    }
                    self.store.put("signature manifest", &sig_bytes, &sig_digest)?;
                    Some(sig_digest)
                }
                None => None,
            };
        let tag = oci.tag().map(|t| format!("{}:{t}", r.repo()));
        self.store.update_index(|index| {
            if let Some(tag) = tag {
                index.refs.insert(tag, digest.clone());
            }
            match signatures {
                Some(sig) => index.signatures.insert(digest.clone(), sig),
                None => index.signatures.remove(&digest),
            };
        })?;
        Ok(digest)
    }

    /// Verifies a stored artifact: integrity of every blob, then the trust policy.
    fn verify_stored(&self, r: &PluginRef, oci: &Reference, digest: &str) -> Result<VerifiedArtifact> {
        let subject = oci.whole();
        let bytes = self.store.get(&format!("manifest of {subject}"), digest)?;
        let manifest = artifact::parse_manifest(&subject, &bytes)?;
        let layer = artifact::wasm_layer(&subject, &manifest)?;
        let component = self.store.get(&format!("component of {subject}"), &layer.digest)?;
        let evidence = self.evidence(digest)?;
        let verdict = self.trust.evaluate(&subject, digest, &layer.digest, &evidence)?;
        if let Some(audit) = &self.audit {
            audit.record(AuditRecord::Verification(verdict.clone()));
        }
        let verdict = verdict.into_result()?;
        // A digest reference still has the tag it was pulled by (foreign artifacts take their
        // version from it).
        let tag = match oci.tag() {
            Some(tag) => Some(tag.to_string()),
            None => {
                let prefix = format!("{}:", r.repo());
                self.store.index()?.refs.iter().find_map(|(key, d)| {
                    (d == digest).then(|| key.strip_prefix(&prefix).map(str::to_string)).flatten()
                })
            }
        };
        let (plugin_manifest, plugin_toml) =
            artifact::plugin_manifest(&subject, &manifest, &r.repository, tag.as_deref())?;
        Ok(VerifiedArtifact {
            manifest: plugin_manifest,
            plugin_toml,
            component: component.into(),
            reference: r.clone(),
            digest: digest.to_string(),
            verdict,
        })
    }

    fn evidence(&self, digest: &str) -> Result<Evidence> {
        let Some(sig_digest) = self.store.index()?.signatures.get(digest).cloned() else {
            return Ok(Evidence::default());
        };
        let bytes = self.store.get("signature manifest", &sig_digest)?;
        let manifest = artifact::parse_manifest("signature manifest", &bytes)?;
        let signatures = signing::signatures(&manifest, |l| self.store.get("signature", &l.digest))?;
        let mut bundles = Vec::new();
        for layer in manifest.layers.iter().filter(|l| l.media_type == BUNDLE_LAYER) {
            let blob = self.store.get("bundle", &layer.digest)?;
            bundles.push(String::from_utf8_lossy(&blob).into_owned());
        }
        Ok(Evidence { signatures, bundles })
    }

    /// Pulls, verifies and records a plugin as installed (the current version becomes the
    /// previous one). Checks its `requires` against the other installed plugins.
    ///
    /// # Errors
    ///
    /// As [`Distribution::pull`], and [`Error::Unresolved`] for unmet requirements.
    pub async fn install(&self, reference: &str) -> Result<VerifiedArtifact> {
        let artifact = self.pull(reference).await?;
        self.record_install(&artifact)?;
        Ok(artifact)
    }

    /// Makes a verified artifact the installed version of its plugin, once its `requires` are
    /// met by what else is installed.
    fn record_install(&self, artifact: &VerifiedArtifact) -> Result<()> {
        let name = artifact.manifest.name.clone();
        let mut others: BTreeMap<String, semver::Version> =
            self.installed()?.into_iter().filter_map(|(n, i)| i.current.map(|c| (n, c.version))).collect();
        others.insert(name.clone(), artifact.manifest.version.clone());
        requires::check(std::iter::once(&artifact.manifest), &others)?;
        let release = Release {
            reference: artifact.pinned(),
            version: artifact.manifest.version.clone(),
            digest: artifact.digest.clone(),
        };
        self.store.update_index(|index| {
            let entry = index.installed.entry(name).or_default();
            if let Some(current) = entry.current.take()
                && current.digest != release.digest
            {
                entry.history.push(current);
            }
            entry.current = Some(release);
        })?;
        Ok(())
    }

    /// What is installed.
    ///
    /// # Errors
    ///
    /// As [`Store::index`].
    pub fn installed(&self) -> Result<BTreeMap<String, Installed>> {
        Ok(self.store.index()?.installed)
    }

    /// The installed current version of `name`, verified again from the store (offline).
    ///
    /// # Errors
    ///
    /// [`Error::Unresolved`] if not installed; as [`Distribution::pull`].
    pub fn load_installed(&self, name: &str) -> Result<VerifiedArtifact> {
        let mut installed = self.installed()?;
        let release =
            installed.remove(name).and_then(|i| i.current).ok_or_else(|| not_installed(name, &installed))?;
        let r = PluginRef::parse(&release.reference)?;
        let oci = r.with_digest(&release.digest);
        self.verify_stored(&r, &oci, &release.digest)
    }

    /// For each installed plugin (or just `name`): the highest newer version in its repository
    /// that is compatible with this host and trusted, installed in its place.
    ///
    /// # Errors
    ///
    /// [`Error::Unresolved`] if `name` is not installed; [`Error::Registry`].
    pub async fn update(&self, name: Option<&str>) -> Result<Vec<Result<Update>>> {
        self.online("update")?;
        let installed = self.installed()?;
        if let Some(name) = name
            && !installed.contains_key(name)
        {
            return Err(not_installed(name, &installed));
        }
        let mut outcomes = Vec::new();
        for (plugin, entry) in installed.into_iter().filter(|(n, _)| name.is_none_or(|x| x == n)) {
            let Some(current) = entry.current else { continue };
            outcomes.push(self.update_one(&plugin, &current).await.transpose());
        }
        Ok(outcomes.into_iter().flatten().collect())
    }

    async fn update_one(&self, plugin: &str, current: &Release) -> Result<Option<Update>> {
        let r = PluginRef::parse(&current.reference)?;
        let tags = self.client(&r).tags(&r.with_tag("latest")).await?;
        let mut candidates: Vec<(semver::Version, String)> = tags
            .iter()
            .filter_map(|t| semver::Version::parse(t.trim_start_matches('v')).ok().map(|v| (v, t.clone())))
            .filter(|(v, _)| *v > current.version && v.pre.is_empty())
            .collect();
        candidates.sort();
        let old = self.load_installed(plugin)?;
        let mut last_error = None;
        // Newest first; an incompatible or untrusted version falls back to the next one.
        for (_, tag) in candidates.into_iter().rev() {
            let reference = format!("{}:{tag}", r.repo());
            match self.pull(&reference).await {
                Ok(new)
                    if crate::Contract::ALL.into_iter().any(|c| new.manifest.accepts(c))
                        && new.manifest.name == plugin =>
                {
                    self.record_install(&new)?;
                    return Ok(Some(Update {
                        name: plugin.to_string(),
                        from: current.version.clone(),
                        to: new.manifest.version.clone(),
                        capability_diff: requires::capability_diff(&old.manifest, &new.manifest),
                        requested: new.manifest.capabilities.clone(),
                    }));
                }
                Ok(_) => continue,
                Err(e) => last_error = Some(e),
            }
        }
        match last_error {
            Some(e) => Err(e),
            None => Ok(None),
        }
    }

    /// Makes the previous installed version of `name` current again. Returns it.
    ///
    /// # Errors
    ///
    /// [`Error::Unresolved`] if not installed or there is no earlier version.
    pub fn rollback(&self, name: &str) -> Result<Release> {
        let result = self.store.update_index(|index| {
            let names: BTreeMap<String, Installed> = index.installed.clone();
            let Some(entry) = index.installed.get_mut(name) else {
                return Err(not_installed(name, &names));
            };
            let Some(previous) = entry.history.pop() else {
                return Err(Error::Unresolved {
                    what: format!("rollback of {name}"),
                    reason: "no earlier version is installed".into(),
                });
            };
            entry.current = Some(previous.clone());
            Ok(previous)
        })??;
        if let Some(audit) = &self.audit {
            audit.record(AuditRecord::Rollback {
                plugin: name.to_string(),
                to: result.version.to_string(),
                reason: "operator".into(),
            });
        }
        Ok(result)
    }
}
