//! The handle an embedder holds: calls, loading and unloading, events, shutdown.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, Instant};

use dashmap::DashMap;
use ractor::{ActorRef, RpcReplyPort};
use tokio::sync::broadcast;

use crate::error::{Error, Result};
use crate::graph::Graph;
use crate::observe::PluginKey;
use crate::observe::Quota;
use crate::observe::audit::AuditRecord;
use crate::observe::telemetry::MetricsSink;
use crate::observe::{EventKind, HostEvent};
use crate::policy::Policy;
use crate::runtime::events::Events;
use crate::runtime::messages::MonitorMsg;
use crate::runtime::messages::SupervisorMsg;
use crate::runtime::messages::{FailedLoad, Loaded, RegistryMsg};
use crate::runtime::registry::{Route, Routes};
use crate::runtime::reply::{self, Job};
use crate::runtime::restart::RestartPolicy;
use crate::runtime::spec::{LoadContext, PluginSpec};
use crate::sandbox::Analysis;
use crate::sandbox::KvStore;
use crate::sandbox::PluginOptions;
use crate::sandbox::Sandbox;

/// How long a status or control request to an actor may take before it is reported missing.
pub(super) const CONTROL_TIMEOUT: Duration = Duration::from_secs(10);
/// Events kept for slow subscribers before the oldest are dropped.
pub(super) const EVENT_BUFFER: usize = 4096;

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
    pub(super) inner: Arc<HostInner>,
}

pub(super) struct HostInner {
    pub(super) sandbox: Sandbox,
    pub(super) registry: ActorRef<RegistryMsg>,
    pub(super) monitor: ActorRef<MonitorMsg>,
    pub(super) routes: Routes,
    pub(super) events: Events,
    pub(super) options: PluginOptions,
    pub(super) restart: RestartPolicy,
    pub(super) policy: RwLock<Policy>,
    pub(super) kv: Option<KvStore>,
    pub(super) quota: Quota,
    pub(super) instances: usize,
    pub(super) queue_capacity: usize,
    pub(super) stopped: AtomicBool,
    /// The spec each name was last loaded from: what an automatic rollback loads again.
    pub(super) specs: DashMap<String, PluginSpec>,
    pub(super) started: Instant,
    pub(super) sink: MetricsSink,
    pub(super) endpoint: Option<SocketAddr>,
    pub(super) server: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

/// A host handle that does not keep the host alive (held by the metrics server).
#[derive(Clone)]
pub(crate) struct WeakHost(pub(super) Weak<HostInner>);

impl WeakHost {
    pub(crate) fn upgrade(&self) -> Option<PluginHost> {
        self.0
            .upgrade()
            .filter(|inner| !inner.stopped.load(Ordering::Acquire))
            .map(|inner| PluginHost { inner })
    }
}

/// Asks an actor and waits (bounded) for the answer; silence is `unavailable`, naming `who`.
pub(super) async fn ask<M: ractor::Message, T: Send + 'static>(
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
    /// The sandbox plugins are compiled and run in.
    pub fn sandbox(&self) -> &Sandbox {
        &self.inner.sandbox
    }

    /// Where calls to `plugin` go now.
    pub(super) fn route(&self, plugin: &str) -> Result<Route> {
        self.inner
            .routes
            .get(plugin)
            .map(|r| r.clone())
            .ok_or_else(|| Error::NotFound { plugin: plugin.to_string() })
    }

    pub(super) fn unavailable(&self, plugin: &str) -> Option<Error> {
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
    pub(super) async fn load_keeping(&self, spec: PluginSpec) -> Result<(PluginKey, Option<PluginSpec>)> {
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
        // Its rules, once: reports (SARIF's `tool.driver.rules`, the HTML report) name them, and
        // a plugin whose rule list is malformed is refused here rather than at every report.
        match first.rules().await {
            Ok(rules) => plugin.remember_rules(rules),
            Err(error) => {
                let error = Error::CannotStart { plugin: plugin.name().to_string(), source: Box::new(error) };
                self.record_failure(&source, &error);
                return Err(error);
            }
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

    pub(super) fn record_failure(&self, source: &str, error: &Error) {
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
    pub(super) fn audit_load(&self, key: &PluginKey, plugin: &crate::sandbox::Plugin) {
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
