//! A loaded plugin: compiled (or taken from the cache), checked against the contract, linked once
//! into an [`InstancePre`](wasmtime::component::InstancePre) so that every instance after the
//! first costs microseconds.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use wasmtime::Engine;
use wasmtime::component::{Component, Linker};

use crate::contract::{AnalyzerPre, ColumnarAnalyzerPre};
use crate::contract::{Contract, Rule, Surface};
use crate::error::{Error, Result};
use crate::policy::Limits;
use crate::policy::{Denied, Grants};
use crate::sandbox::EngineSlot;
use crate::sandbox::KvStore;
use crate::sandbox::cache::{self, CacheStatus, CompileCache};
use crate::sandbox::store::Throttles;
use crate::sandbox::store::{Access, DenialHook};
use crate::sandbox::store::{Reach, StoreState};

/// How a plugin is to be run: its limits, the values `host.config` serves it, and what it may
/// reach beyond the sandbox.
#[derive(Clone, Default)]
pub struct PluginOptions {
    pub(crate) limits: Limits,
    pub(crate) config: BTreeMap<String, String>,
    pub(crate) grants: Grants,
    pub(crate) kv_store: Option<KvStore>,
    /// What the policy refused before these options were made (reported at load).
    pub(crate) denied: Vec<Denied>,
    pub(crate) on_denied: Option<DenialHook>,
}

impl std::fmt::Debug for PluginOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginOptions")
            .field("limits", &self.limits)
            .field("config", &self.config)
            .field("grants", &self.grants)
            .field("kv_store", &self.kv_store)
            .finish_non_exhaustive()
    }
}

impl PluginOptions {
    /// Default limits, no config.
    pub fn new() -> Self {
        Self::default()
    }

    /// Replaces the limits.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Adds one value for `host.config(key)`.
    pub fn config(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.config.insert(key.into(), value.into());
        self
    }

    /// Grants these capabilities (normally decided by a [`crate::Policy`]; this bypasses it).
    pub fn grants(mut self, grants: Grants) -> Self {
        self.grants = grants;
        self
    }

    /// The key-value database a `kv` grant is served from.
    pub fn kv_store(mut self, store: KvStore) -> Self {
        self.kv_store = Some(store);
        self
    }

    /// Called for every operation the sandbox refuses at run time (for auditing).
    pub fn on_denied(mut self, hook: DenialHook) -> Self {
        self.on_denied = Some(hook);
        self
    }
}

/// How a load went: whether the cache helped, and how long it took.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LoadReport {
    /// What the compile cache did.
    pub cache: CacheStatus,
    /// Reading, compiling or deserializing, checking and linking, all together.
    #[serde(rename = "load_time_ms", serialize_with = "crate::sandbox::as_millis")]
    pub load_time: Duration,
    /// Set when some WASI imports are newer than this host's and were linked as functions that
    /// trap if called; the plugin still loads and runs as long as it does not call them.
    pub stubbed_imports: Option<String>,
    /// What the plugin was granted (after checking against this machine).
    pub granted: Grants,
    /// What it asked for and did not get, with why.
    pub denied: Vec<Denied>,
}

/// A plugin ready to run; cheap to clone and safe to share between threads.
#[derive(Clone)]
pub struct Plugin {
    inner: Arc<PluginInner>,
}

pub(crate) struct PluginInner {
    pub(crate) name: Arc<str>,
    pub(crate) sha256: [u8; 32],
    pub(crate) size: usize,
    pub(crate) limits: Limits,
    pub(crate) config: Arc<BTreeMap<String, String>>,
    pub(crate) engine: Engine,
    pub(crate) pre: Pre,
    pub(crate) surface: Surface,
    pub(crate) load: LoadReport,
    pub(crate) reach: Reach,
    /// The sandbox's count of live instances.
    pub(crate) live: Arc<AtomicUsize>,
    /// Its rule list, once an instance has answered `rules` (a host asks at load).
    pub(crate) rules: OnceLock<Vec<Rule>>,
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin")
            .field("name", &self.inner.name)
            .field("sha256", &hex::encode(self.inner.sha256))
            .field("limits", &self.inner.limits)
            .finish_non_exhaustive()
    }
}

/// A plugin's default name for a component file: its stem (`cycle_finder.wasm` → `cycle_finder`).
pub(crate) fn name_from_path(path: &Path) -> Option<String> {
    path.file_stem().map(|s| s.to_string_lossy().into_owned())
}

/// A component linked once against the host, under the contract it implements.
pub(crate) enum Pre {
    V0_1(AnalyzerPre<StoreState>),
    V0_2(ColumnarAnalyzerPre<StoreState>),
}

impl Pre {
    pub(crate) fn contract(&self) -> Contract {
        match self {
            Pre::V0_1(_) => Contract::V0_1,
            Pre::V0_2(_) => Contract::V0_2,
        }
    }
}

/// Compiles (or deserializes) `bytes` on `slot`'s engine. Shared by loading and inspecting.
pub(crate) fn compile(
    slot: &EngineSlot,
    cache: Option<&CompileCache>,
    bytes: &[u8],
    sha: &[u8; 32],
) -> Result<(Component, CacheStatus)> {
    crate::files::check_header(bytes)?;
    let (component, status) = slot.component(sha, || match cache {
        Some(cache) => cache.load_or_compile(&slot.engine, bytes, sha),
        None => Ok((cache::compile(&slot.engine, bytes)?, CacheStatus::Disabled)),
    })?;
    Ok((component, status.unwrap_or(CacheStatus::Shared)))
}

/// Links `component` against the host, stubbing WASI imports this host lacks (newer 0.2.x
/// functions, unprovided interfaces) as trapping functions so the plugin still loads.
pub(crate) fn link(
    linker: &Linker<StoreState>,
    component: &Component,
    contract: Contract,
) -> Result<(Pre, Option<String>)> {
    let incompatible = |e: wasmtime::Error| Error::Incompatible {
        message: "its exports do not match the contract's types".into(),
        source: Some(e.into()),
    };
    let (pre, stubbed) = match linker.instantiate_pre(component) {
        Ok(pre) => (pre, None),
        Err(first) => {
            // Report the first (strict) failure if stubbing does not help either.
            let reason = format!("{first:#}");
            let refused = |_| Error::Incompatible { message: reason.clone(), source: None };
            let mut lenient = linker.clone();
            lenient.define_unknown_imports_as_traps(component).map_err(refused)?;
            let pre = lenient.instantiate_pre(component).map_err(refused)?;
            (pre, Some(reason))
        }
    };
    let pre = match contract {
        Contract::V0_1 => Pre::V0_1(AnalyzerPre::new(pre).map_err(incompatible)?),
        Contract::V0_2 => Pre::V0_2(ColumnarAnalyzerPre::new(pre).map_err(incompatible)?),
    };
    Ok((pre, stubbed))
}

/// Resolves the options' grants against this machine: what the plugin can reach, the grants
/// that held, and every denial (the policy's and resolution's).
fn reach(name: &str, options: &PluginOptions) -> (Reach, Grants, Vec<Denied>) {
    let (access, mut resolution_denied) = Access::resolve(&options.grants);
    let mut denied = options.denied.clone();
    let kv = match (options.grants.kv_quota_bytes, &options.kv_store) {
        (Some(quota), Some(store)) => Some(store.handle(name, quota)),
        (Some(_), None) => {
            resolution_denied.push(Denied {
                capability: "kv".into(),
                requested_because: String::new(),
                why: "this host has no key-value store configured".into(),
            });
            None
        }
        (None, _) => None,
    };
    let granted = Grants {
        read_dirs: access.dirs.clone(),
        connect: access.targets.clone(),
        env: access.env.iter().map(|(k, _)| k.clone()).collect(),
        wall_clock: access.wall_clock,
        kv_quota_bytes: kv.as_ref().and(options.grants.kv_quota_bytes),
    };
    denied.extend(resolution_denied);
    let throttles = Arc::new(Throttles::new(&options.limits));
    (Reach { access, kv, throttles, on_denied: options.on_denied.clone() }, granted, denied)
}

impl Plugin {
    pub(crate) fn load(
        slot: &EngineSlot,
        cache: Option<&CompileCache>,
        name: &str,
        bytes: &[u8],
        options: PluginOptions,
        live: Arc<AtomicUsize>,
    ) -> Result<Plugin> {
        let started = Instant::now();
        let sha256 = cache::sha256(bytes);
        let (component, cache_status) = compile(slot, cache, bytes, &sha256)?;
        let surface = Surface::of(&component, &slot.engine);
        let contract = surface.check()?;
        let (pre, stubbed_imports) = link(&slot.linker, &component, contract)?;
        if let Some(why) = &stubbed_imports {
            tracing::warn!(
                plugin = name,
                "some WASI imports are not provided and will trap if called: {why}"
            );
        }
        let (reach, granted, denied) = reach(name, &options);
        let load = LoadReport {
            cache: cache_status,
            load_time: started.elapsed(),
            stubbed_imports,
            granted,
            denied,
        };
        tracing::debug!(plugin = name, ?load, "plugin loaded");
        Ok(Plugin {
            inner: Arc::new(PluginInner {
                name: name.into(),
                sha256,
                size: bytes.len(),
                limits: options.limits,
                config: Arc::new(options.config),
                engine: slot.engine.clone(),
                pre,
                surface,
                load,
                reach,
                live,
                rules: OnceLock::new(),
            }),
        })
    }

    /// The name the plugin was loaded under.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// SHA-256 of the component bytes.
    pub fn sha256(&self) -> [u8; 32] {
        self.inner.sha256
    }

    /// Size of the component in bytes.
    pub fn size(&self) -> usize {
        self.inner.size
    }

    /// The limits every instance of this plugin runs under.
    pub fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    /// The contract the component implements.
    pub fn contract(&self) -> Contract {
        self.inner.pre.contract()
    }

    /// What the component imports and exports.
    pub fn surface(&self) -> &Surface {
        &self.inner.surface
    }

    /// How the load went.
    pub fn load_report(&self) -> &LoadReport {
        &self.inner.load
    }

    /// The rules its findings may name, once known: a [`crate::PluginHost`] asks an instance
    /// ([`PluginInstance::rules`](crate::PluginInstance::rules)) when it loads the plugin.
    pub fn rules(&self) -> Option<&[Rule]> {
        self.inner.rules.get().map(Vec::as_slice)
    }

    /// Keeps the rules an instance answered (the first answer stays: a plugin's rules are
    /// fixed per build and config).
    pub(crate) fn remember_rules(&self, rules: Vec<Rule>) {
        let _ = self.inner.rules.set(rules);
    }

    pub(crate) fn inner(&self) -> &PluginInner {
        &self.inner
    }
}
