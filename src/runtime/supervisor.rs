//! The supervisor: one per loaded plugin version. It owns the plugin's request queue and its
//! instance actors, hands each job to an idle instance, restarts crashed instances after a
//! backoff (one-for-one, one-for-all or rest-for-one), refuses poison inputs, and quarantines the
//! plugin when it crashes too often.
//!
//! The queue lives here, not in the instances' mailboxes: an instance holds at most the job it
//! is running, so a crash loses nothing but that job — which the instance answers before it
//! fails — and everything queued behind it goes to the restarted instance.

use std::collections::VecDeque;
use std::time::Duration;

use ractor::{Actor, ActorCell, ActorId, ActorProcessingErr, ActorRef, SupervisionEvent};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::error::{Error, ErrorKind};
use crate::observe::EventKind;
use crate::observe::PluginKey;
use crate::runtime::events::Events;
use crate::runtime::messages::{InstanceMsg, InstanceState, PluginState, SupervisorMsg, SupervisorStatus};
use crate::runtime::meter::Meter;
use crate::runtime::poison::PoisonTracker;
use crate::runtime::reply::Job;
use crate::runtime::restart::{Decision, History, RestartPolicy};
use crate::runtime::worker::{Crashed, InstanceActor, InstanceArgs};
use crate::sandbox::Plugin;
use crate::sandbox::PluginInstance;

enum Slot {
    Idle(ActorRef<InstanceMsg>),
    Busy(ActorRef<InstanceMsg>, u128),
    /// Waiting to restart: on a timer, or (`None`) with the restart message already sent.
    BackingOff(Option<JoinHandle<()>>),
    /// Asked to stop; restarted after `Some(delay)` once it has.
    Stopping(ActorRef<InstanceMsg>, Option<Duration>),
    Stopped,
}

impl Slot {
    fn actor(&self) -> Option<&ActorRef<InstanceMsg>> {
        match self {
            Slot::Idle(a) | Slot::Busy(a, _) | Slot::Stopping(a, _) => Some(a),
            Slot::BackingOff(_) | Slot::Stopped => None,
        }
    }

    fn state(&self) -> InstanceState {
        match self {
            Slot::Idle(_) => InstanceState::Idle,
            Slot::Busy(..) => InstanceState::Busy,
            Slot::BackingOff(_) => InstanceState::BackingOff,
            Slot::Stopping(..) => InstanceState::Stopping,
            Slot::Stopped => InstanceState::Stopped,
        }
    }
}

pub(crate) struct Supervisor;

pub(crate) struct SupervisorArgs {
    pub(crate) key: PluginKey,
    pub(crate) plugin: Plugin,
    pub(crate) instances: usize,
    pub(crate) policy: RestartPolicy,
    pub(crate) events: Events,
    pub(crate) meter: Meter,
    /// An instance the loader already started (proving the plugin can start under its limits):
    /// the first instance spawned takes it instead of starting another.
    pub(crate) warm: Option<PluginInstance>,
}

pub(crate) struct SupervisorState {
    args: SupervisorArgs,
    slots: Vec<Slot>,
    queue: VecDeque<Job>,
    history: History,
    poison: PoisonTracker,
    state: PluginState,
    throttled: bool,
    restarts: u64,
    /// The registry asked this version to stop once its work is done (hot swap or unload).
    drain_requested: bool,
}

impl SupervisorState {
    fn emit(&self, kind: EventKind) {
        let key = &self.args.key;
        tracing::debug!(plugin = %key.name, version = %key.version, ?kind, "plugin event");
        self.args.events.emit(key, kind);
    }

    /// Whether instances are kept running (and restarted): while serving or draining.
    fn serving(&self) -> bool {
        matches!(self.state, PluginState::Running | PluginState::Draining)
    }

    fn slot_of(&self, actor: ActorId) -> Option<usize> {
        self.slots.iter().position(|s| s.actor().is_some_and(|a| a.get_id() == actor))
    }

    /// Starts instance `index`; a failure to start counts as a crash.
    async fn spawn(&mut self, me: &ActorRef<SupervisorMsg>, index: usize) -> bool {
        let args = InstanceArgs {
            key: self.args.key.clone(),
            plugin: self.args.plugin.clone(),
            index,
            supervisor: me.clone(),
            meter: self.args.meter.clone(),
            events: self.args.events.clone(),
            warm: self.args.warm.take(),
        };
        match Actor::spawn_linked(None, InstanceActor, args, me.get_cell()).await {
            Ok((actor, _)) => {
                self.slots[index] = Slot::Idle(actor);
                true
            }
            Err(e) => {
                // Our own start failure carries its kind; a panic in ractor's hands does not.
                let crashed = match &e {
                    ractor::SpawnErr::StartupFailed(inner) => inner.downcast_ref::<Crashed>(),
                    _ => None,
                };
                let (kind, message) = match crashed {
                    Some(c) => (c.kind, format!("could not start: {}", c.message)),
                    None => (ErrorKind::Trap, e.to_string()),
                };
                tracing::warn!(plugin = %self.args.key.name, index, "instance failed to start: {message}");
                self.slots[index] = Slot::Stopped;
                self.emit(EventKind::Crashed { instance: index, kind, message });
                self.on_crash(me, index, None);
                false
            }
        }
    }

    /// Hands queued jobs to idle instances.
    fn dispatch(&mut self) {
        if self.throttled || !self.serving() {
            return;
        }
        while !self.queue.is_empty() {
            let idle = self.slots.iter().enumerate().find_map(|(i, s)| match s {
                Slot::Idle(actor) => Some((i, actor.clone())),
                _ => None,
            });
            let Some((index, actor)) = idle else { return };
            let Some(job) = self.queue.pop_front() else { return };
            if self.poison.is_poison(job.fingerprint) {
                let plugin = self.args.key.name.to_string();
                job.answer(Err(Error::PoisonInput { plugin }));
                continue;
            }
            let fingerprint = job.fingerprint;
            match actor.cast(InstanceMsg::Run(job)) {
                Ok(()) => self.slots[index] = Slot::Busy(actor, fingerprint),
                // The instance died between becoming idle and now; its exit event is on the way
                // (and restarts it). Keep the job for the next instance.
                Err(ractor::MessagingErr::SendErr(InstanceMsg::Run(job))) => {
                    self.queue.push_front(job);
                    self.slots[index] = Slot::Stopping(actor, Some(Duration::ZERO));
                }
                Err(_) => self.slots[index] = Slot::Stopping(actor, Some(Duration::ZERO)),
            }
        }
    }

    /// A crash of instance `index` (on input `fingerprint`, if it was running one).
    fn on_crash(&mut self, me: &ActorRef<SupervisorMsg>, index: usize, fingerprint: Option<u128>) {
        if let Some(fp) = fingerprint
            && self.poison.record_crash(fp, self.args.policy.poison_threshold)
        {
            tracing::warn!(plugin = %self.args.key.name, "input {fp:032x} crashed the plugin repeatedly: refusing it");
            self.emit(EventKind::PoisonInput { fingerprint: format!("{fp:032x}") });
            let plugin = self.args.key.name.to_string();
            let (poison, rest): (Vec<Job>, Vec<Job>) =
                self.queue.drain(..).partition(|job| job.fingerprint == fp);
            self.queue = rest.into();
            for job in poison {
                job.answer(Err(Error::PoisonInput { plugin: plugin.clone() }));
            }
        }
        if !self.serving() {
            self.slots[index] = Slot::Stopped;
            return;
        }
        let spread = rand::random_range(-1.0..=1.0);
        match self.history.record(Instant::now(), &self.args.policy, spread) {
            Decision::Quarantine { restarts, period } => {
                let reason = format!("{restarts} restarts within {} s", period.as_secs_f64());
                self.quarantine(reason);
            }
            Decision::Restart { attempt, delay } => {
                for i in self.args.policy.strategy.affected(index, self.slots.len()) {
                    self.emit(EventKind::RestartScheduled { instance: i, attempt, delay });
                    match std::mem::replace(&mut self.slots[i], Slot::Stopped) {
                        Slot::Idle(actor) | Slot::Busy(actor, _) | Slot::Stopping(actor, _) if i != index => {
                            actor.stop(Some("restarting with a crashed peer".into()));
                            self.slots[i] = Slot::Stopping(actor, Some(delay));
                        }
                        Slot::BackingOff(timer) if i != index => self.slots[i] = Slot::BackingOff(timer),
                        _ => self.schedule(me, i, delay),
                    }
                }
            }
        }
    }

    fn schedule(&mut self, me: &ActorRef<SupervisorMsg>, index: usize, delay: Duration) {
        if delay.is_zero() {
            // Even a zero-length tokio sleep waits for the timer wheel's next millisecond tick.
            let _ = me.cast(SupervisorMsg::Restart { index });
            self.slots[index] = Slot::BackingOff(None);
            return;
        }
        let me = me.clone();
        let timer = tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let _ = me.cast(SupervisorMsg::Restart { index });
        });
        self.slots[index] = Slot::BackingOff(Some(timer));
    }

    /// Stops every instance and refuses all work until released.
    fn quarantine(&mut self, reason: String) {
        if matches!(self.state, PluginState::Quarantined(_)) {
            return;
        }
        tracing::warn!(plugin = %self.args.key.name, "quarantined: {reason}");
        self.state = PluginState::Quarantined(reason.clone());
        for slot in &mut self.slots {
            *slot = match std::mem::replace(slot, Slot::Stopped) {
                Slot::Idle(actor) | Slot::Busy(actor, _) | Slot::Stopping(actor, _) => {
                    actor.stop(Some("quarantined".into()));
                    Slot::Stopping(actor, None)
                }
                Slot::BackingOff(timer) => {
                    timer.inspect(JoinHandle::abort);
                    Slot::Stopped
                }
                Slot::Stopped => Slot::Stopped,
            };
        }
        let plugin = self.args.key.name.to_string();
        for job in self.queue.drain(..) {
            job.answer(Err(Error::Quarantined { plugin: plugin.clone(), reason: reason.clone() }));
        }
        self.args.meter.quarantined(&reason);
        self.emit(EventKind::Quarantined { reason });
    }

    fn drained(&self) -> bool {
        self.queue.is_empty() && self.slots.iter().all(|s| !matches!(s, Slot::Busy(..)))
    }

    /// Stops the supervisor if a drain was asked for and no work is left (also when the plugin
    /// was quarantined while draining: its queue was answered then).
    fn stop_if_drained(&self, me: &ActorRef<SupervisorMsg>) {
        if self.drain_requested && self.drained() {
            me.stop(Some("drained".into()));
        }
    }

    fn status(&self) -> SupervisorStatus {
        SupervisorStatus {
            state: self.state.clone(),
            instances: self.slots.iter().map(Slot::state).collect(),
            queued: self.queue.len(),
            crashes: self.history.total(),
            restarts: self.restarts,
            poison_inputs: self.poison.len(),
            throttled: self.throttled,
        }
    }
}

impl Actor for Supervisor {
    type Msg = SupervisorMsg;
    type State = SupervisorState;
    type Arguments = SupervisorArgs;

    async fn pre_start(
        &self,
        _me: ActorRef<SupervisorMsg>,
        args: SupervisorArgs,
    ) -> Result<SupervisorState, ActorProcessingErr> {
        let slots = (0..args.instances.max(1)).map(|_| Slot::Stopped).collect();
        Ok(SupervisorState {
            args,
            slots,
            queue: VecDeque::new(),
            history: History::default(),
            poison: PoisonTracker::default(),
            state: PluginState::Running,
            throttled: false,
            restarts: 0,
            drain_requested: false,
        })
    }

    async fn post_start(
        &self,
        me: ActorRef<SupervisorMsg>,
        state: &mut SupervisorState,
    ) -> Result<(), ActorProcessingErr> {
        for index in 0..state.slots.len() {
            if matches!(state.slots[index], Slot::Stopped) && matches!(state.state, PluginState::Running) {
                state.spawn(&me, index).await;
            }
        }
        Ok(())
    }

    async fn handle(
        &self,
        me: ActorRef<SupervisorMsg>,
        msg: SupervisorMsg,
        state: &mut SupervisorState,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            SupervisorMsg::Analyze(job) => match &state.state {
                PluginState::Quarantined(reason) => {
                    let plugin = state.args.key.name.to_string();
                    job.answer(Err(Error::Quarantined { plugin, reason: reason.clone() }));
                }
                _ if state.poison.is_poison(job.fingerprint) => {
                    let plugin = state.args.key.name.to_string();
                    job.answer(Err(Error::PoisonInput { plugin }));
                }
                _ => {
                    state.queue.push_back(job);
                    state.dispatch();
                }
            },
            SupervisorMsg::Idle { index, actor } => {
                if let Some(slot) = state.slots.get_mut(index) {
                    *slot = match std::mem::replace(slot, Slot::Stopped) {
                        Slot::Busy(a, _) if a.get_id() == actor => Slot::Idle(a),
                        other => other,
                    };
                }
                state.dispatch();
                state.stop_if_drained(&me);
            }
            SupervisorMsg::Restart { index } => {
                if matches!(state.slots.get(index), Some(Slot::BackingOff(_))) && state.serving() {
                    if state.spawn(&me, index).await {
                        state.restarts += 1;
                        state.args.meter.restarted();
                        state.emit(EventKind::Restarted { instance: index });
                    }
                    state.dispatch();
                }
            }
            SupervisorMsg::Release(reply) => {
                let was = matches!(state.state, PluginState::Quarantined(_));
                if was {
                    state.state = PluginState::Running;
                    state.history.clear();
                    state.args.meter.released();
                    state.emit(EventKind::Released);
                    for index in 0..state.slots.len() {
                        match std::mem::replace(&mut state.slots[index], Slot::Stopped) {
                            Slot::Stopping(actor, _) => {
                                state.slots[index] = Slot::Stopping(actor, Some(Duration::ZERO))
                            }
                            other => {
                                state.slots[index] = other;
                                if matches!(state.slots[index], Slot::Stopped) {
                                    state.spawn(&me, index).await;
                                }
                            }
                        }
                    }
                }
                let _ = reply.send(was);
            }
            SupervisorMsg::Quarantine(reason) => {
                state.quarantine(reason);
                state.stop_if_drained(&me);
            }
            SupervisorMsg::Throttle(on) => {
                state.throttled = on;
                state.dispatch();
            }
            SupervisorMsg::Drain => {
                state.drain_requested = true;
                if state.state == PluginState::Running {
                    state.state = PluginState::Draining;
                }
                state.stop_if_drained(&me);
            }
            SupervisorMsg::Status(reply) => {
                let _ = reply.send(state.status());
            }
        }
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        me: ActorRef<SupervisorMsg>,
        event: SupervisionEvent,
        state: &mut SupervisorState,
    ) -> Result<(), ActorProcessingErr> {
        match event {
            SupervisionEvent::ActorFailed(cell, error) => {
                let Some(index) = state.slot_of(cell.get_id()) else { return Ok(()) };
                let busy_on = match &state.slots[index] {
                    Slot::Busy(_, fp) => Some(*fp),
                    _ => None,
                };
                let (kind, message, fingerprint) = match error.downcast_ref::<Crashed>() {
                    Some(c) => (c.kind, c.message.clone(), c.fingerprint.or(busy_on)),
                    // A panic in host code: the job (if any) was answered by `Job`'s drop.
                    None => (ErrorKind::Trap, error.to_string(), busy_on),
                };
                state.emit(EventKind::Crashed { instance: index, kind, message });
                state.slots[index] = Slot::Stopped;
                state.on_crash(&me, index, fingerprint);
                state.dispatch();
                state.stop_if_drained(&me);
            }
            SupervisionEvent::ActorTerminated(cell, _, _) => {
                let Some(index) = state.slot_of(cell.get_id()) else { return Ok(()) };
                match std::mem::replace(&mut state.slots[index], Slot::Stopped) {
                    Slot::Stopping(_, Some(delay)) if state.serving() => state.schedule(&me, index, delay),
                    Slot::Stopping(..) => {}
                    // An instance that stops without being asked to is treated as a crash.
                    _ => {
                        let message = "the instance stopped unexpectedly".to_string();
                        state.emit(EventKind::Crashed { instance: index, kind: ErrorKind::Trap, message });
                        state.on_crash(&me, index, None);
                    }
                }
                state.stop_if_drained(&me);
            }
            _ => {}
        }
        Ok(())
    }

    async fn post_stop(
        &self,
        me: ActorRef<SupervisorMsg>,
        state: &mut SupervisorState,
    ) -> Result<(), ActorProcessingErr> {
        for slot in &mut state.slots {
            if let Slot::BackingOff(Some(timer)) = std::mem::replace(slot, Slot::Stopped) {
                timer.abort();
            }
        }
        // Queued jobs are answered (Unavailable) as they drop.
        state.queue.clear();
        stop_children(me.get_cell()).await;
        Ok(())
    }
}

/// Stops every instance and waits until each has (each finishes its job first).
async fn stop_children(cell: ActorCell) {
    cell.stop_children_and_wait(Some("supervisor stopping".into()), None).await;
}
