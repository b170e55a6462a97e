//! The embedding API: [`PluginHost`] starts the actor tree and is the one handle Parseltongue
//! needs — `analyze`, `analyze_all`, `status`, `release`, `load`/`unload`, `shutdown`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, Instant};

use dashmap::DashMap;
use ractor::{Actor, ActorRef, RpcReplyPort};
use tokio::sync::broadcast;

use crate::audit::{AuditLog, AuditRecord};
use crate::error::{Error, Result};
use crate::graph::Graph;
use crate::instance::Analysis;
use crate::kv::KvStore;
use crate::limits::Limits;
use crate::plugin::{LoadReport, PluginOptions};
use crate::policy::Policy;
use crate::runtime::PluginKey;
use crate::runtime::discovery::discover;
use crate::runtime::events::{EventKind, Events, HostEvent};
use crate::runtime::monitor::{Monitor, MonitorMsg, PluginUsage};
use crate::runtime::quota::Quota;
use crate::runtime::registry::{FailedLoad, Loaded, Registry, RegistryArgs, RegistryMsg, Route, Routes};
use crate::runtime::reply::{self, Job};
use crate::runtime::restart::RestartPolicy;
use crate::runtime::spec::{LoadContext, PluginSpec};
use crate::runtime::supervisor::{PluginState, SupervisorMsg, SupervisorStatus};
use crate::sandbox::Sandbox;
use crate::telemetry::recorder::MetricsSink;
use crate::telemetry::{MetricsSnapshot, server};

/// How long a status or control request to an actor may take before it is reported missing.
const CONTROL_TIMEOUT: Duration = Duration::from_secs(10);
/// Events kept for slow subscribers before the oldest are dropped.
const EVENT_BUFFER: usize = 4096;

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

    /// Keeps a tamper-evident audit trail in this file (see [`crate::audit`]). By default none.
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
    /// A plugin that fails to load is reported in [`HostStatus::failed`] and as an event; the
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
            Some(addr) => (Some(server::bind(addr).await?), MetricsSink::prometheus()),
            None => (None, MetricsSink::Global),
        };
        let events = Events::new(EVENT_BUFFER, audit);
        events.audit(AuditRecord::PolicyChange {
            source: policy_source,
            policy: serde_json::to_value(&policy).unwrap_or_default(),
        });
        let spawn_failed = |what: &str, e: ractor::SpawnErr| Error::Unavailable {
            plugin: String::new(),
            reason: format!("cannot start the {what}: {e}"),
        };
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
            let task = tokio::spawn(server::serve(listener, WeakHost(Arc::downgrade(&host.inner))));
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

/// A running plugin host: a registry, a resource monitor, and per plugin a supervisor with its
/// instance actors. Cheap to clone; every clone drives the same actors.
///
/// ```text
///   PluginHost ──► Registry ──┬─► Supervisor "cycle-finder" 1.2.0 ──┬─► instance 0
///       │           (routes)  │        (queue, restarts)            └─► instance 1
///       │                     └─► Supervisor "node-census" 0.3.1 ─────► instance 0
///       └────────► Monitor ◄──── reads each plugin's account (instances write it); quota orders
/// ```
#[derive(Clone)]
pub struct PluginHost {
    inner: Arc<HostInner>,
}

struct HostInner {
    sandbox: Sandbox,
    registry: ActorRef<RegistryMsg>,
    monitor: ActorRef<MonitorMsg>,
    routes: Routes,
    events: Events,
    options: PluginOptions,
    restart: RestartPolicy,
    policy: RwLock<Policy>,
    kv: Option<KvStore>,
    quota: Quota,
    instances: usize,
    queue_capacity: usize,
    stopped: AtomicBool,
    /// The spec each name was last loaded from: what an automatic rollback loads again.
    specs: DashMap<String, PluginSpec>,
    started: Instant,
    sink: MetricsSink,
    endpoint: Option<SocketAddr>,
    server: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

/// A host handle that does not keep the host alive (held by the metrics server).
#[derive(Clone)]
pub(crate) struct WeakHost(Weak<HostInner>);

impl WeakHost {
    pub(crate) fn upgrade(&self) -> Option<PluginHost> {
        self.0
            .upgrade()
            .filter(|inner| !inner.stopped.load(Ordering::Acquire))
            .map(|inner| PluginHost { inner })
    }
}

/// One plugin version in [`HostStatus`].
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PluginStatus {
    /// The plugin's name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// Whether new calls go to this version (false while an older version drains).
    pub active: bool,
    /// SHA-256 of the component, lowercase hex.
    pub sha256: String,
    /// How loading went (compile cache, time).
    pub load: LoadReport,
    /// The limits every call runs under.
    pub limits: Limits,
    /// Its supervisor's view; `None` if the supervisor did not answer in time.
    pub supervisor: Option<SupervisorStatus>,
    /// What it used, from the resource monitor.
    pub usage: Option<PluginUsage>,
}

impl PluginStatus {
    /// Running, quarantined or draining (`None` if unknown).
    pub fn state(&self) -> Option<&PluginState> {
        self.supervisor.as_ref().map(|s| &s.state)
    }
}

/// Everything [`PluginHost::status`] reports.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct HostStatus {
    /// Every running plugin version, by name then version.
    pub plugins: Vec<PluginStatus>,
    /// Plugins that could not be loaded.
    pub failed: Vec<FailedLoad>,
}

impl HostStatus {
    /// The active version of `name`.
    pub fn plugin(&self, name: &str) -> Option<&PluginStatus> {
        self.plugins.iter().find(|p| p.name == name && p.active)
    }
}

/// Asks an actor and waits (bounded) for the answer; silence is `unavailable`, naming `who`.
async fn ask<M: ractor::Message, T: Send + 'static>(
    actor: &ActorRef<M>,
    msg: impl FnOnce(RpcReplyPort<T>) -> M,
    plugin: &str,
    who: &str,
) -> Result<T> {
    match actor.call(msg, Some(CONTROL_TIMEOUT)).await {
        Ok(ractor::rpc::CallResult::Success(value)) => Ok(value),
        _ => Err(Error::Unavailable { plugin: plugin.to_string(), reason: format!("{who} did not answer") }),
    }
}

impl PluginHost {
    /// A builder that reads like a sentence.
    pub fn builder() -> PluginHostBuilder {
        PluginHostBuilder::default()
    }

    /// The sandbox plugins are compiled and run in.
    pub fn sandbox(&self) -> &Sandbox {
        &self.inner.sandbox
    }

    /// Where calls to `plugin` go now.
    fn route(&self, plugin: &str) -> Result<Route> {
        self.inner
            .routes
            .get(plugin)
            .map(|r| r.clone())
            .ok_or_else(|| Error::NotFound { plugin: plugin.to_string() })
    }

    fn unavailable(&self, plugin: &str) -> Option<Error> {
        self.inner.stopped.load(Ordering::Acquire).then(|| Error::Unavailable {
            plugin: plugin.to_string(),
            reason: "the host has shut down".into(),
        })
    }

    /// Runs `plugin` on `graph`. Queued behind other calls to the same plugin when all its
    /// instances are busy; refused at once when its queue is full (`overloaded`), when it is
    /// quarantined, or when this input has crashed it repeatedly (`poison-input`).
    ///
    /// # Errors
    ///
    /// Any plugin error ([`Error::Timeout`], [`Error::Trap`], …, the instance is then restarted
    /// for the next call), [`Error::NotFound`], [`Error::Overloaded`], [`Error::Quarantined`],
    /// [`Error::PoisonInput`], [`Error::Unavailable`].
    pub async fn analyze(&self, plugin: &str, graph: impl Into<Arc<Graph>>) -> Result<Analysis> {
        if let Some(e) = self.unavailable(plugin) {
            return Err(e);
        }
        let route = self.route(plugin)?;
        let permit = route
            .admission
            .clone()
            .try_acquire_owned()
            .map_err(|_| Error::Overloaded { plugin: plugin.to_string(), capacity: route.capacity })?;
        let (job, rx) = Job::new(route.key.name.clone(), graph.into(), Some(permit));
        if route.supervisor.cast(SupervisorMsg::Analyze(job)).is_err() {
            // The job came back inside the error and was dropped there, answering `rx`.
            tracing::debug!(plugin, "supervisor gone while sending");
        }
        reply::wait(plugin, rx).await
    }

    /// Runs every loaded plugin on `graph` at once. Each plugin's result stands alone: the
    /// failures of some never spoil the others.
    pub async fn analyze_all(&self, graph: impl Into<Arc<Graph>>) -> BTreeMap<String, Result<Analysis>> {
        let graph: Arc<Graph> = graph.into();
        let names = self.plugins();
        let runs = names.iter().map(|name| self.analyze(name, graph.clone()));
        names.iter().cloned().zip(futures::future::join_all(runs).await).collect()
    }

    /// The names of the plugins that take calls, sorted.
    pub fn plugins(&self) -> Vec<String> {
        let mut names: Vec<String> = self.inner.routes.iter().map(|r| r.key().clone()).collect();
        names.sort();
        names
    }

    /// Loads (or, for a name already loaded, replaces) a plugin. A replacement is a hot swap:
    /// new calls go to the new version at once; calls queued or running on the old one finish
    /// there, then the old version stops.
    ///
    /// # Errors
    ///
    /// Whatever reading, compiling or checking the plugin ends in; the failure is also kept for
    /// [`PluginHost::status`] and sent as an event.
    pub async fn load(&self, spec: PluginSpec) -> Result<PluginKey> {
        self.load_keeping(spec).await.map(|(key, _)| key)
    }

    /// Loads like [`PluginHost::load`] and returns the spec the name was loaded from before.
    async fn load_keeping(&self, spec: PluginSpec) -> Result<(PluginKey, Option<PluginSpec>)> {
        if let Some(e) = self.unavailable(&spec.source_name()) {
            return Err(e);
        }
        let inner = &self.inner;
        let source = spec.source_name();
        let context = LoadContext {
            sandbox: inner.sandbox.clone(),
            options: inner.options.clone(),
            policy: inner.policy.read().unwrap_or_else(|p| p.into_inner()).clone(),
            kv: inner.kv.clone(),
            events: inner.events.clone(),
        };
        let spec_c = spec.clone();
        // Compiling takes milliseconds to seconds: keep it off the async threads.
        let compiled =
            tokio::task::spawn_blocking(move || spec_c.compile(&context)).await.unwrap_or_else(|e| {
                Err(Error::Unavailable { plugin: source.clone(), reason: format!("the loader failed: {e}") })
            });
        let (plugin, version) = match compiled {
            Ok(compiled) => compiled,
            Err(error) => {
                self.record_failure(&source, &error);
                return Err(error);
            }
        };
        // Start one instance now: a plugin that cannot even start under its limits (a start-up
        // that needs more memory or fuel than allowed, or traps) is a load error with its kind,
        // not a crash loop. The instance becomes the plugin's first.
        let mut first = plugin.instance();
        if let Err(error) = first.warm_up().await {
            let error = Error::CannotStart { plugin: plugin.name().to_string(), source: Box::new(error) };
            self.record_failure(&source, &error);
            return Err(error);
        }
        let key = PluginKey { name: plugin.name().into(), version };
        self.audit_load(&key, &plugin);
        let loaded = Loaded {
            key,
            plugin,
            instances: spec.instances.unwrap_or(inner.instances),
            policy: spec.policy.clone().unwrap_or_else(|| inner.restart.clone()),
            quota: spec.quota.clone().unwrap_or_else(|| inner.quota.clone()),
            queue_capacity: inner.queue_capacity,
            warm: Some(first),
        };
        let name = loaded.key.name.to_string();
        let key = ask(
            &inner.registry,
            |reply| RegistryMsg::Start(Box::new(loaded), reply),
            &source,
            "the registry",
        )
        .await??;
        let previous = inner.specs.insert(name, spec);
        Ok((key, previous))
    }

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

    fn record_failure(&self, source: &str, error: &Error) {
        tracing::warn!(source, "plugin failed to load: {error}");
        let failed = FailedLoad { source: source.to_string(), kind: error.kind(), error: error.to_string() };
        let _ = self.inner.registry.cast(RegistryMsg::Failed(failed));
        self.inner.events.emit_event(HostEvent {
            plugin: source.to_string(),
            version: String::new(),
            kind: EventKind::LoadFailed { error: error.to_string() },
        });
    }

    /// The load, each grant and each denial, in the audit trail (and denials in the log).
    fn audit_load(&self, key: &PluginKey, plugin: &crate::plugin::Plugin) {
        let name = key.name.to_string();
        let events = &self.inner.events;
        events.audit(AuditRecord::Load {
            plugin: name.clone(),
            version: key.version.to_string(),
            sha256: hex::encode(plugin.sha256()),
        });
        let report = plugin.load_report();
        for capability in report.granted.describe() {
            events.audit(AuditRecord::Grant { plugin: name.clone(), capability });
        }
        for denied in &report.denied {
            tracing::warn!(plugin = %name, "not granted: {} ({})", denied.capability, denied.why);
            events.audit(AuditRecord::denial(&name, denied, "load"));
        }
    }

    /// Replaces the host policy for plugins loaded from now on (loaded ones keep their grants;
    /// reload them to apply it). Recorded in the audit trail.
    pub fn set_policy(&self, policy: Policy, source: &str) {
        self.inner.events.audit(AuditRecord::PolicyChange {
            source: source.to_string(),
            policy: serde_json::to_value(&policy).unwrap_or_default(),
        });
        *self.inner.policy.write().unwrap_or_else(|p| p.into_inner()) = policy;
    }

    /// Stops serving `plugin`: no new calls; queued and running ones finish, then it stops.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] if no plugin of that name is loaded.
    pub async fn unload(&self, plugin: &str) -> Result<()> {
        let name = plugin.to_string();
        ask(&self.inner.registry, |reply| RegistryMsg::Unload(name, reply), plugin, "the registry").await?
    }

    /// Lifts `plugin`'s quarantine (an operator's decision): its crash history and quota window
    /// start afresh and its instances start again. Returns whether it was quarantined.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] if no plugin of that name is loaded.
    pub async fn release(&self, plugin: &str) -> Result<bool> {
        let route = self.route(plugin)?;
        ask(&route.supervisor, SupervisorMsg::Release, plugin, "its supervisor").await
    }

    /// Every plugin's state, instances, restarts and usage, and the plugins that failed to load.
    pub async fn status(&self) -> HostStatus {
        let Ok(snapshot) = ask(&self.inner.registry, RegistryMsg::Snapshot, "", "the registry").await else {
            return HostStatus { plugins: Vec::new(), failed: Vec::new() };
        };
        let usage =
            ask(&self.inner.monitor, MonitorMsg::Snapshot, "", "the monitor").await.unwrap_or_default();
        let mut plugins = Vec::new();
        for entry in snapshot.entries {
            let supervisor = ask(&entry.supervisor, SupervisorMsg::Status, "", "a supervisor").await.ok();
            let (name, version) = (entry.key.name.to_string(), entry.key.version.to_string());
            let usage = usage.iter().find(|u| u.plugin == name && u.version == version).cloned();
            plugins.push(PluginStatus {
                name,
                version,
                active: entry.active,
                sha256: hex::encode(entry.plugin.sha256()),
                load: entry.plugin.load_report().clone(),
                limits: entry.plugin.limits().clone(),
                supervisor,
                usage,
            });
        }
        HostStatus { plugins, failed: snapshot.failed }
    }

    /// Every plugin's figures now — calls, errors by kind, restarts, quarantines, latency
    /// histogram, guest time and fuel, peak memory against its limit, throttled bytes, recent
    /// errors — with the process's memory and descriptors. The same data `/snapshot` serves.
    pub async fn metrics(&self) -> MetricsSnapshot {
        MetricsSnapshot::from_status(&self.status().await, self.inner.started.elapsed())
    }

    /// The metrics in the Prometheus text format, if this host has an endpoint (and so its own
    /// recorder).
    pub fn prometheus_text(&self) -> Option<String> {
        self.inner.sink.handle().map(|h| h.render())
    }

    /// The address the metrics endpoint listens on, if one was asked for.
    pub fn metrics_endpoint(&self) -> Option<SocketAddr> {
        self.inner.endpoint
    }

    /// Events as they happen: loads, crashes, restart delays, quarantines, quota levels.
    pub fn subscribe(&self) -> broadcast::Receiver<HostEvent> {
        self.inner.events.subscribe()
    }

    /// Stops every actor and drops every instance; calls still queued are answered
    /// `unavailable`, calls running finish first (within their time limit). Idempotent.
    pub async fn shutdown(&self) {
        if self.inner.stopped.swap(true, Ordering::AcqRel) {
            return;
        }
        if let Some(server) = self.inner.server.lock().ok().and_then(|mut s| s.take()) {
            server.abort();
        }
        let _ = ask(&self.inner.registry, RegistryMsg::Shutdown, "", "the registry").await;
        let _ = self.inner.registry.stop_and_wait(None, Some(CONTROL_TIMEOUT)).await;
        let _ = self.inner.monitor.stop_and_wait(None, Some(CONTROL_TIMEOUT)).await;
        if let Some(audit) = self.inner.events.audit_log() {
            let audit = audit.clone();
            let _ = tokio::task::spawn_blocking(move || audit.close()).await;
        }
    }
}
