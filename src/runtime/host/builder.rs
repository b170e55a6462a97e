//! Configuring and starting a host: the sandbox, plugin sources, limits, restart policy,
//! quotas, policy, audit trail, kv store and metrics endpoint, then the actor tree.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use dashmap::DashMap;
use ractor::Actor;

use super::endpoint;
use super::handle::{EVENT_BUFFER, HostInner, PluginHost, WeakHost};
use crate::error::{Error, Result};
use crate::observe::Quota;
use crate::observe::audit::{AuditLog, AuditRecord};
use crate::observe::telemetry::MetricsSink;
use crate::policy::Limits;
use crate::policy::Policy;
use crate::runtime::discovery::discover;
use crate::runtime::events::Events;
use crate::runtime::monitor::Monitor;
use crate::runtime::registry::{Registry, RegistryArgs, Routes};
use crate::runtime::restart::RestartPolicy;
use crate::runtime::spec::PluginSpec;
use crate::sandbox::KvStore;
use crate::sandbox::PluginOptions;
use crate::sandbox::Sandbox;

/// Configures and starts a [`PluginHost`].
///
/// ```no_run
/// # async fn demo() -> parseltongue_plugins::Result<()> {
/// use parseltongue_plugins::{Limits, PluginHost, RestartPolicy};
///
/// let host = PluginHost::builder()
///     .plugin_dir("plugins")
///     .limits(Limits::default())
///     .restart_policy(RestartPolicy::default())
///     .instances(2)
///     .start()
///     .await?;
/// # host.shutdown().await; Ok(()) }
/// ```
#[derive(Debug, Default)]
pub struct PluginHostBuilder {
    sandbox: Option<Sandbox>,
    dirs: Vec<PathBuf>,
    specs: Vec<PluginSpec>,
    options: PluginOptions,
    restart: RestartPolicy,
    quota: Quota,
    instances: Option<usize>,
    queue_capacity: Option<usize>,
    policy: PolicySource,
    audit: Option<AuditSource>,
    kv: Option<KvStore>,
    metrics_endpoint: Option<SocketAddr>,
    own_metrics: bool,
}

/// Where the audit trail comes from.
#[derive(Debug)]
enum AuditSource {
    Path(PathBuf),
    Open(AuditLog),
}

/// Where the host policy comes from.
#[derive(Debug, Default)]
enum PolicySource {
    /// Allow nothing.
    #[default]
    DenyAll,
    Given(Box<Policy>),
    File(PathBuf),
}

impl PluginHostBuilder {
    /// Serves metrics on this loopback address: `/metrics` in the Prometheus text format and
    /// `/snapshot` as JSON (what `ptplugin top --connect` reads). Port 0 picks a free port
    /// ([`PluginHost::metrics_endpoint`] says which). Off by default; without it the host
    /// records through the `metrics` crate's global recorder, if the program installed one.
    pub fn metrics_endpoint(mut self, addr: SocketAddr) -> Self {
        self.metrics_endpoint = Some(addr);
        self
    }

    /// Keeps the host's own Prometheus recorder without serving it: [`PluginHost::prometheus_text`]
    /// renders it for an embedder that serves metrics itself (`ptplugin serve`'s `/metrics`).
    pub fn own_metrics(mut self) -> Self {
        self.own_metrics = true;
        self
    }

    /// Uses this sandbox (engines and compile cache). By default `Sandbox::new()`.
    pub fn sandbox(mut self, sandbox: Sandbox) -> Self {
        self.sandbox = Some(sandbox);
        self
    }

    /// Loads every plugin in `dir` at start (see [`crate::discover`]). Repeatable.
    pub fn plugin_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.dirs.push(dir.into());
        self
    }

    /// Loads this plugin at start. Repeatable.
    pub fn plugin(mut self, spec: PluginSpec) -> Self {
        self.specs.push(spec);
        self
    }

    /// Loads these plugins at start.
    pub fn plugins(mut self, specs: impl IntoIterator<Item = PluginSpec>) -> Self {
        self.specs.extend(specs);
        self
    }

    /// Limits for plugins whose spec sets none. By default [`Limits::default`].
    pub fn limits(mut self, limits: Limits) -> Self {
        self.options = self.options.limits(limits);
        self
    }

    /// Restart policy for plugins whose spec sets none. By default [`RestartPolicy::default`].
    pub fn restart_policy(mut self, policy: RestartPolicy) -> Self {
        self.restart = policy;
        self
    }

    /// What plugins may be granted beyond the sandbox. By default nothing.
    pub fn policy(mut self, policy: Policy) -> Self {
        self.policy = PolicySource::Given(Box::new(policy));
        self
    }

    /// Reads the policy from a TOML file at start (see [`Policy`]).
    pub fn policy_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.policy = PolicySource::File(path.into());
        self
    }

    /// Keeps a tamper-evident audit trail in this file (see [`crate::observe::audit`]). By default none.
    pub fn audit_log(mut self, path: impl Into<PathBuf>) -> Self {
        self.audit = Some(AuditSource::Path(path.into()));
        self
    }

    /// Records into an audit trail that is already open (shared with, e.g., a
    /// [`crate::distribution::Distribution`] recording verification verdicts).
    pub fn audit_trail(mut self, log: AuditLog) -> Self {
        self.audit = Some(AuditSource::Open(log));
        self
    }

    /// Serves `kv` grants from this store. By default, if the policy allows storage at all, the
    /// store at [`KvStore::default_path`] is opened at start.
    pub fn kv_store(mut self, store: KvStore) -> Self {
        self.kv = Some(store);
        self
    }

    /// Quota for plugins whose spec sets none. By default none.
    pub fn quota(mut self, quota: Quota) -> Self {
        self.quota = quota;
        self
    }

    /// Instances per plugin whose spec sets none. By default 1.
    pub fn instances(mut self, instances: usize) -> Self {
        self.instances = Some(instances.max(1));
        self
    }

    /// Requests that may wait per plugin beyond those running; more are refused as
    /// `overloaded`. By default 64.
    pub fn queue_capacity(mut self, capacity: usize) -> Self {
        self.queue_capacity = Some(capacity);
        self
    }

    /// Starts the resource monitor and the registry, then loads every plugin (concurrently).
    /// A plugin that fails to load is reported in [`HostStatus::failed`](crate::HostStatus::failed) and as an event; the
    /// others still start.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if a plugin directory cannot be listed, the audit log or key-value store
    /// cannot be opened, or the sandbox cannot start; [`Error::InvalidPolicy`] for a bad policy
    /// file; [`Error::Unavailable`] if an actor cannot be spawned.
    pub async fn start(self) -> Result<PluginHost> {
        let sandbox = match self.sandbox {
            Some(sandbox) => sandbox,
            None => Sandbox::new()?,
        };
        let mut specs = Vec::new();
        for dir in &self.dirs {
            specs.extend(discover(dir)?);
        }
        specs.extend(self.specs);
        let (policy, policy_source) = match self.policy {
            PolicySource::DenyAll => (Policy::default(), "default (deny all)".to_string()),
            PolicySource::Given(policy) => (*policy, "builder".to_string()),
            PolicySource::File(path) => (Policy::from_path(&path)?, path.display().to_string()),
        };
        let kv = match self.kv {
            Some(kv) => Some(kv),
            None if policy.allows_kv() => KvStore::default_path().map(KvStore::open).transpose()?,
            None => None,
        };
        let audit = match self.audit {
            Some(AuditSource::Path(path)) => Some(AuditLog::open(path)?),
            Some(AuditSource::Open(log)) => Some(log),
            None => None,
        };
        let (listener, sink) = match self.metrics_endpoint {
            Some(addr) => (Some(endpoint::bind(addr).await?), MetricsSink::prometheus()),
            None if self.own_metrics => (None, MetricsSink::prometheus()),
            None => (None, MetricsSink::Global),
        };
        let events = Events::new(EVENT_BUFFER, audit);
        events.audit(AuditRecord::PolicyChange {
            source: policy_source,
            policy: serde_json::to_value(&policy).unwrap_or_default(),
        });
        let spawn_failed =
            |what: &str, e: ractor::SpawnErr| Error::CannotSpawn { actor: what.into(), source: Box::new(e) };
        let (monitor, _) = Actor::spawn(None, Monitor, (events.clone(), sink.clone()))
            .await
            .map_err(|e| spawn_failed("resource monitor", e))?;
        let routes: Routes = Arc::new(DashMap::new());
        let args = RegistryArgs {
            routes: routes.clone(),
            monitor: monitor.clone(),
            events: events.clone(),
            sink: sink.clone(),
        };
        let (registry, _) =
            Actor::spawn(None, Registry, args).await.map_err(|e| spawn_failed("registry", e))?;

        let host = PluginHost {
            inner: Arc::new(HostInner {
                sandbox,
                registry,
                monitor,
                routes,
                events,
                options: self.options,
                restart: self.restart,
                policy: RwLock::new(policy),
                kv,
                quota: self.quota,
                instances: self.instances.unwrap_or(1),
                queue_capacity: self.queue_capacity.unwrap_or(64),
                stopped: AtomicBool::new(false),
                specs: DashMap::new(),
                started: Instant::now(),
                sink,
                endpoint: listener.as_ref().and_then(|l| l.local_addr().ok()),
                server: Mutex::new(None),
            }),
        };
        if let Some(listener) = listener {
            let task = tokio::spawn(endpoint::serve(listener, WeakHost(Arc::downgrade(&host.inner))));
            if let Ok(mut slot) = host.inner.server.lock() {
                *slot = Some(task);
            }
        }
        let loads = specs.into_iter().map(|spec| {
            let host = host.clone();
            async move { host.load(spec).await }
        });
        for result in futures::future::join_all(loads).await {
            if let Err(e) = result {
                tracing::warn!("plugin not loaded: {e}");
            }
        }
        Ok(host)
    }
}

impl PluginHost {
    /// A builder that reads like a sentence.
    pub fn builder() -> PluginHostBuilder {
        PluginHostBuilder::default()
    }
}
