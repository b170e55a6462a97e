//! Where a plugin comes from, parsed in one place for every command: a `.wasm` file,
//! `bundled:NAME`, a `plugin.toml` (or a directory with one), `oci://…` (pulled and verified) or
//! `installed:NAME` (verified again from the store) — and the store and trust policy that the
//! last two need.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use parseltongue_plugins::audit::AuditLog;
use parseltongue_plugins::distribution::Distribution;
use parseltongue_plugins::distribution::progress::Progress;
use parseltongue_plugins::distribution::store::Store;
use parseltongue_plugins::{Error, PluginSpec, Policy, bundled, files};

use crate::args::{RegistryArgs, RunArgs, StoreArgs};

/// Reads a plugin given as a path or as `bundled:NAME`; returns its name and bytes.
pub fn read_plugin(spec: &str) -> Result<(String, Cow<'static, [u8]>), Error> {
    if let Some(name) = spec.strip_prefix("bundled:") {
        let plugin = bundled::get(name).ok_or_else(|| Error::NoSuchPlugin {
            what: format!(
                "no bundled plugin `{name}` (bundled: {})",
                bundled::PLUGINS.iter().map(|p| p.name).collect::<Vec<_>>().join(", ")
            ),
        })?;
        return Ok((plugin.name.to_string(), Cow::Borrowed(plugin.wasm)));
    }
    let path = Path::new(spec);
    if !path.exists() {
        return Err(Error::NoSuchPlugin { what: format!("no plugin at {spec}: no such file") });
    }
    let bytes = files::read_component(path)?;
    let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| spec.to_string());
    Ok((name, Cow::Owned(bytes)))
}

/// The manifest a plugin argument names: a `plugin.toml` itself, or the one in a directory.
pub fn manifest_path(arg: &str) -> Option<PathBuf> {
    let path = Path::new(arg);
    if path.is_dir() {
        Some(path.join("plugin.toml"))
    } else {
        path.extension().is_some_and(|e| e == "toml").then(|| path.to_path_buf())
    }
}

/// A plugin given as `bundled:NAME`, a `.wasm` file, a `plugin.toml` (or a directory with one),
/// `oci://…` (pulled and verified) or `installed:NAME` (verified again from the store).
pub async fn plugin_spec(args: &RunArgs, audit: Option<AuditLog>) -> Result<PluginSpec, Error> {
    spec_for(&args.plugin, &args.registry, args.policy.as_deref(), audit).await
}

/// The spec for one plugin argument (any of the forms [`plugin_spec`] takes); `oci://` and
/// `installed:` plugins come from `registry`'s store and must be signed as `policy`'s `[trust]`
/// (plus `--key`) says.
pub async fn spec_for(
    arg: &str,
    registry: &RegistryArgs,
    policy: Option<&Path>,
    audit: Option<AuditLog>,
) -> Result<PluginSpec, Error> {
    if arg.starts_with("oci://") || arg.starts_with("installed:") {
        // `installed:` only reads the store; `oci://` pulls into it.
        let usage = if arg.starts_with("installed:") { StoreUse::ReadOnly } else { StoreUse::Write };
        let d = distribution(&registry.store, policy, &registry.key, registry.offline, audit, usage)?;
        let artifact = match arg.strip_prefix("installed:") {
            Some(name) => d.load_installed(name)?,
            None => d.pull(arg).await?,
        };
        return Ok(PluginSpec::artifact(artifact));
    }
    if let Some(manifest) = manifest_path(arg) {
        return Ok(PluginSpec::manifest(manifest));
    }
    let (name, bytes) = read_plugin(arg)?;
    Ok(PluginSpec::bytes(name, bytes.into_owned()))
}

/// Whether a command changes the local store. Read-only commands (`list`, `run installed:`)
/// never create or write anything in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreUse {
    ReadOnly,
    Write,
}

/// A distribution over the store the arguments name, trusting the policy's `[trust]` plus
/// `keys`.
pub fn distribution(
    store: &StoreArgs,
    policy: Option<&Path>,
    keys: &[PathBuf],
    offline: bool,
    audit: Option<AuditLog>,
    usage: StoreUse,
) -> Result<Distribution, Error> {
    let root = match &store.store {
        Some(dir) => dir.clone(),
        None => Store::default_root()
            .ok_or_else(|| Error::Usage { message: "no user cache directory; pass --store DIR".into() })?,
    };
    let mut trust = match policy {
        Some(path) => Policy::from_path(path)?.trust,
        None => Default::default(),
    };
    trust.keys.extend(keys.iter().cloned());
    let progress = if store.no_progress { Progress::Quiet } else { Progress::auto() };
    let store_dir = match usage {
        StoreUse::ReadOnly => Store::open_read_only(root)?,
        StoreUse::Write => Store::open(root)?,
    };
    let mut d = Distribution::new(store_dir)
        .trust(trust)
        .insecure(store.insecure)
        .offline(offline)
        .progress(progress);
    if let Some(audit) = audit {
        d = d.audit(audit);
    }
    Ok(d)
}
