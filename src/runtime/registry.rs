//! The registry: one per host. It keeps name → version → supervisor, publishes the active
//! version of each plugin in a shared routing table (so calls never wait on the registry), starts
//! supervisors, and swaps versions: new calls go to the new one while the old one drains.

use std::collections::BTreeMap;
use std::sync::Arc;

use dashmap::DashMap;
use ractor::{Actor, ActorProcessingErr, ActorRef, SupervisionEvent};
use tokio::sync::Semaphore;

use crate::error::{Error, Result};
use crate::observe::EventKind;
use crate::observe::PluginKey;
use crate::observe::telemetry::MetricsSink;
use crate::runtime::events::Events;
use crate::runtime::messages::MonitorMsg;
use crate::runtime::messages::SupervisorMsg;
use crate::runtime::messages::{Entry, FailedLoad, Loaded, RegistryMsg, RegistrySnapshot};
use crate::runtime::meter::Meter;
use crate::runtime::supervisor::{Supervisor, SupervisorArgs};

/// Where calls to a plugin go: its active version's supervisor, behind an admission semaphore.
#[derive(Clone)]
pub(crate) struct Route {
    pub(crate) key: PluginKey,
    pub(crate) supervisor: ActorRef<SupervisorMsg>,
    /// One permit per request queued or running; none left means `overloaded`.
    pub(crate) admission: Arc<Semaphore>,
    pub(crate) capacity: usize,
}

/// The routing table shared by the registry (writer) and the host handle (readers).
pub(crate) type Routes = Arc<DashMap<String, Route>>;

pub(crate) struct Registry;

pub(crate) struct RegistryArgs {
    pub(crate) routes: Routes,
    pub(crate) monitor: ActorRef<MonitorMsg>,
    pub(crate) sink: MetricsSink,
    pub(crate) events: Events,
}

pub(crate) struct RegistryState {
    args: RegistryArgs,
    /// name → version → running versions (a version can run twice while a rebuild drains).
    entries: BTreeMap<String, BTreeMap<semver::Version, Vec<Entry>>>,
    failed: Vec<FailedLoad>,
}

impl RegistryState {
    fn emit(&self, key: &PluginKey, kind: EventKind) {
        self.args.events.emit(key, kind);
    }

    fn all(&self) -> impl Iterator<Item = &Entry> {
        self.entries.values().flat_map(|versions| versions.values().flatten())
    }

    fn forget(&mut self, supervisor: ractor::ActorId) -> Option<PluginKey> {
        let key = self.all().find(|e| e.supervisor.get_id() == supervisor)?.key.clone();
        if let Some(versions) = self.entries.get_mut(&*key.name) {
            if let Some(list) = versions.get_mut(&key.version) {
                list.retain(|e| e.supervisor.get_id() != supervisor);
                if list.is_empty() {
                    versions.remove(&key.version);
                }
            }
            if versions.is_empty() {
                self.entries.remove(&*key.name);
            }
        }
        self.args.routes.remove_if(&*key.name, |_, r| r.supervisor.get_id() == supervisor);
        let _ = self.args.monitor.cast(MonitorMsg::Unregister { key: key.clone() });
        Some(key)
    }

    fn deactivate(&mut self, supervisor: ractor::ActorId) {
        for versions in self.entries.values_mut() {
            for entry in versions.values_mut().flatten() {
                if entry.supervisor.get_id() == supervisor {
                    entry.active = false;
                }
            }
        }
    }
}

impl Actor for Registry {
    type Msg = RegistryMsg;
    type State = RegistryState;
    type Arguments = RegistryArgs;

    async fn pre_start(
        &self,
        _me: ActorRef<RegistryMsg>,
        args: RegistryArgs,
    ) -> Result<RegistryState, ActorProcessingErr> {
        Ok(RegistryState { args, entries: BTreeMap::new(), failed: Vec::new() })
    }

    async fn handle(
        &self,
        me: ActorRef<RegistryMsg>,
        msg: RegistryMsg,
        state: &mut RegistryState,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            RegistryMsg::Start(loaded, reply) => {
                let Loaded { key, plugin, instances, policy, quota, queue_capacity, warm } = *loaded;
                let monitor = state.args.monitor.clone();
                let watched = key.clone();
                let evaluate = move || {
                    let _ = monitor.cast(MonitorMsg::Evaluate { key: watched.clone() });
                };
                let meter = Meter::new(key.clone(), quota, &state.args.sink, evaluate);
                let args = SupervisorArgs {
                    key: key.clone(),
                    plugin: plugin.clone(),
                    instances,
                    policy,
                    events: state.args.events.clone(),
                    meter: meter.clone(),
                    warm,
                };
                let supervisor = match Actor::spawn_linked(None, Supervisor, args, me.get_cell()).await {
                    Ok((supervisor, _)) => supervisor,
                    Err(e) => {
                        let error = Error::CannotSpawn {
                            actor: format!("supervisor of plugin `{}`", key.name),
                            source: Box::new(e),
                        };
                        let _ = reply.send(Err(error));
                        return Ok(());
                    }
                };
                let _ =
                    state.args.monitor.cast(MonitorMsg::Register { meter, supervisor: supervisor.clone() });
                let capacity = queue_capacity + instances.max(1);
                let route = Route {
                    key: key.clone(),
                    supervisor: supervisor.clone(),
                    admission: Arc::new(Semaphore::new(capacity)),
                    capacity,
                };
                // From here on new calls go to the new version; the old one finishes its queue.
                if let Some(old) = state.args.routes.insert(key.name.to_string(), route) {
                    let _ = old.supervisor.cast(SupervisorMsg::Drain);
                    state.deactivate(old.supervisor.get_id());
                    state.emit(&old.key, EventKind::Replaced { by: key.version.to_string() });
                }
                state
                    .entries
                    .entry(key.name.to_string())
                    .or_default()
                    .entry(key.version.clone())
                    .or_default()
                    .push(Entry { key: key.clone(), plugin, supervisor, active: true });
                state.emit(&key, EventKind::Loaded { instances: instances.max(1) });
                let _ = reply.send(Ok(key));
            }
            RegistryMsg::Unload(name, reply) => match state.args.routes.remove(&name) {
                Some((_, route)) => {
                    let _ = route.supervisor.cast(SupervisorMsg::Drain);
                    state.deactivate(route.supervisor.get_id());
                    state.emit(&route.key, EventKind::Unloaded);
                    let _ = reply.send(Ok(()));
                }
                None => {
                    let _ = reply.send(Err(Error::NotFound { plugin: name }));
                }
            },
            RegistryMsg::Snapshot(reply) => {
                let _ = reply.send(RegistrySnapshot {
                    entries: state.all().cloned().collect(),
                    failed: state.failed.clone(),
                });
            }
            RegistryMsg::Failed(failed) => state.failed.push(failed),
            RegistryMsg::Shutdown(reply) => {
                state.args.routes.clear();
                let supervisors: Vec<_> = state.all().map(|e| e.supervisor.clone()).collect();
                for supervisor in supervisors {
                    let _ = supervisor.stop_and_wait(Some("host shutting down".into()), None).await;
                }
                state.entries.clear();
                let _ = reply.send(());
                me.stop(Some("host shut down".into()));
            }
        }
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        _me: ActorRef<RegistryMsg>,
        event: SupervisionEvent,
        state: &mut RegistryState,
    ) -> Result<(), ActorProcessingErr> {
        match event {
            SupervisionEvent::ActorTerminated(cell, _, _) => {
                state.forget(cell.get_id());
            }
            SupervisionEvent::ActorFailed(cell, error) => {
                // A supervisor failing is a bug in this crate, not in a plugin: stop routing to it.
                if let Some(key) = state.forget(cell.get_id()) {
                    tracing::error!(plugin = %key.name, "supervisor failed: {error}");
                    state.emit(&key, EventKind::Unloaded);
                }
            }
            _ => {}
        }
        Ok(())
    }
}
