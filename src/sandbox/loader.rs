//! The entry point of the library: engines, the compile cache, and loading plugins.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::contract::{Contract, Surface};
use crate::error::Result;
use crate::policy::Limits;
use crate::sandbox::cache::{self, CompileCache};
use crate::sandbox::plugin::{self, Plugin, PluginOptions};
use crate::sandbox::{EngineProfile, EngineSlot, Engines, Pooling};

/// Owns the engines and the compile cache that every plugin it loads shares.
///
/// Cheap to clone. Create one per process (each one runs a small epoch thread).
///
/// # Examples
///
/// ```no_run
/// # async fn demo() -> parseltongue_plugins::Result<()> {
/// use parseltongue_plugins::{Graph, PluginOptions, Sandbox};
///
/// let sandbox = Sandbox::new()?;
/// let plugin = sandbox.load_file("cycle_finder.wasm", PluginOptions::new())?;
/// let graph = Graph::from_path("graph.json")?;
/// let analysis = plugin.analyze(&graph).await?;
/// println!("{:?}", analysis.result.findings);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Sandbox {
    inner: Arc<SandboxInner>,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox").field("cache", &self.inner.cache).finish_non_exhaustive()
    }
}

struct SandboxInner {
    engines: Engines,
    pooling: Option<Pooling>,
    share_components: bool,
    cache: Option<CompileCache>,
    /// Live plugin instances (stores) of every plugin loaded here.
    live: Arc<AtomicUsize>,
}

/// Where compiled plugins are kept between runs.
#[derive(Debug, Clone, Default)]
enum CacheChoice {
    /// The user cache directory; if it cannot be used, run without a cache (with a warning).
    #[default]
    Default,
    /// This directory; failing to use it is an error.
    Dir(PathBuf),
    /// Compile on every load.
    Off,
}

/// Configures a [`Sandbox`].
#[derive(Debug, Clone, Default)]
pub struct SandboxBuilder {
    cache: CacheChoice,
    pooling: Option<Pooling>,
    no_sharing: bool,
}

impl SandboxBuilder {
    /// Keeps compiled plugins in `dir` (created with mode 0700). By default the user's cache
    /// directory is used, e.g. `~/.cache/parseltongue-plugins/compiled`.
    pub fn cache_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cache = CacheChoice::Dir(dir.into());
        self
    }

    /// Uses pre-allocated instance slots (wasmtime's pooling allocator): faster instantiation
    /// (restarts, fresh instances) for reserved address space. A plugin's memory is then capped
    /// by `pooling.memory_mb` as well as by its limits.
    pub fn pooling(mut self, pooling: Pooling) -> Self {
        self.pooling = Some(pooling);
        self
    }

    /// Gives every load its own copy of the machine code, even for bytes already loaded (by
    /// default plugins from the same bytes share one; turning it off is for measuring loads).
    pub fn no_component_sharing(mut self) -> Self {
        self.no_sharing = true;
        self
    }

    /// Compiles every plugin on every load.
    pub fn no_cache(mut self) -> Self {
        self.cache = CacheChoice::Off;
        self
    }

    /// Starts the sandbox.
    ///
    /// # Errors
    ///
    /// [`Error::Io`](crate::Error::Io) if an explicitly chosen cache directory cannot be used, or the epoch
    /// thread cannot start.
    pub fn build(self) -> Result<Sandbox> {
        let cache = match self.cache {
            CacheChoice::Off => None,
            CacheChoice::Dir(dir) => Some(CompileCache::open(dir)?),
            CacheChoice::Default => match CompileCache::default_dir().map(CompileCache::open) {
                Some(Ok(cache)) => Some(cache),
                Some(Err(e)) => {
                    tracing::warn!("running without a compile cache: {e}");
                    None
                }
                None => {
                    tracing::warn!("running without a compile cache: no home directory");
                    None
                }
            },
        };
        Ok(Sandbox {
            inner: Arc::new(SandboxInner {
                engines: Engines::new()?,
                pooling: self.pooling,
                share_components: !self.no_sharing,
                cache,
                live: Arc::default(),
            }),
        })
    }
}

impl Sandbox {
    /// A builder, to choose the cache.
    pub fn builder() -> SandboxBuilder {
        SandboxBuilder::default()
    }

    /// A sandbox with the default cache.
    ///
    /// # Errors
    ///
    /// As [`SandboxBuilder::build`].
    pub fn new() -> Result<Sandbox> {
        Sandbox::builder().build()
    }

    /// How many plugin instances (wasmtime stores) are alive right now, across all plugins
    /// loaded here: zero after every host using this sandbox has shut down.
    pub fn live_instances(&self) -> usize {
        self.inner.live.load(Ordering::Acquire)
    }

    /// The compile cache in use, if any.
    pub fn cache(&self) -> Option<&CompileCache> {
        self.inner.cache.as_ref()
    }

    pub(crate) fn engine_for(&self, limits: &Limits) -> Result<EngineSlot> {
        let profile = EngineProfile { pooling: self.inner.pooling, ..EngineProfile::for_limits(limits) };
        let mut slot = self.inner.engines.get(profile)?;
        slot.sharing = self.inner.share_components;
        Ok(slot)
    }

    /// Loads a plugin from component bytes.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidLimits`](crate::Error::InvalidLimits) for limits that cannot work; [`Error::InvalidComponent`](crate::Error::InvalidComponent) for
    /// bytes that are not a valid component (a core module, a text file, a corrupt binary);
    /// [`Error::Incompatible`](crate::Error::Incompatible) for a component of another world or contract version.
    pub fn load(&self, name: &str, bytes: &[u8], options: PluginOptions) -> Result<Plugin> {
        options.limits.validate()?;
        let slot = self.engine_for(&options.limits)?;
        Plugin::load(&slot, self.cache(), name, bytes, options, self.inner.live.clone())
    }

    /// Loads a plugin from a `.wasm` file; its name is the file stem.
    ///
    /// # Errors
    ///
    /// [`Error::Io`](crate::Error::Io) if the file cannot be read, otherwise as [`Sandbox::load`].
    pub fn load_file(&self, path: impl AsRef<Path>, options: PluginOptions) -> Result<Plugin> {
        let path = path.as_ref();
        let bytes = crate::files::read_component(path)?;
        let name = plugin::name_from_path(path).unwrap_or_else(|| "plugin".into());
        self.load(&name, &bytes, options)
    }

    /// Describes a component without running it: size, hash, imports, exports and whether it
    /// fits the contract.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidComponent`](crate::Error::InvalidComponent) if the bytes are not a component at all.
    pub fn inspect(&self, bytes: &[u8]) -> Result<Inspection> {
        let slot = self.engine_for(&Limits::default())?;
        let sha = cache::sha256(bytes);
        let (component, _) = plugin::compile(&slot, self.cache(), bytes, &sha)?;
        let surface = Surface::of(&component, &slot.engine);
        let verdict = surface.check().and_then(|contract| {
            plugin::link(&slot.linker, &component, contract).map(|(_, stubbed)| (contract, stubbed))
        });
        let (contract, problem, stubbed_imports) = match verdict {
            Ok((contract, stubbed)) => (Some(contract), None, stubbed),
            Err(e) => (None, Some(e.to_string()), None),
        };
        Ok(Inspection {
            size: bytes.len(),
            sha256: hex::encode(sha),
            world: contract.map(Contract::world),
            contract,
            surface,
            satisfies_contract: contract.is_some(),
            problem,
            stubbed_imports,
        })
    }
}

/// What [`Sandbox::inspect`] found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Inspection {
    /// Size in bytes.
    pub size: usize,
    /// SHA-256 of the bytes, lowercase hex.
    pub sha256: String,
    /// The world the component implements, when it fits a contract.
    pub world: Option<String>,
    /// The contract it implements (`"0.1"` or `"0.2"`), when it fits one.
    pub contract: Option<Contract>,
    /// Its imports and exports.
    #[serde(flatten)]
    pub surface: Surface,
    /// Whether it can be loaded as a plugin.
    pub satisfies_contract: bool,
    /// Why not, when it cannot.
    pub problem: Option<String>,
    /// WASI imports this host lacks, which would trap if called.
    pub stubbed_imports: Option<String>,
}
