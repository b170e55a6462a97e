//! The plugin actor: one per instance. It owns the instance (its wasmtime `Store`), runs one job
//! at a time, answers the caller itself, records usage in its plugin's meter, and after a crash fails so
//! that its supervisor sees it — with the crashed job already answered.

use ractor::{Actor, ActorProcessingErr, ActorRef};

use crate::error::ErrorKind;
use crate::observe::PluginKey;
use crate::observe::audit::AuditRecord;
use crate::runtime::events::Events;
use crate::runtime::messages::InstanceMsg;
use crate::runtime::messages::SupervisorMsg;
use crate::runtime::meter::Meter;
use crate::sandbox::Plugin;
use crate::sandbox::PluginInstance;

/// Why an instance actor failed; its supervisor reads it back from the failure event.
#[derive(Debug, thiserror::Error)]
#[error("instance {index} crashed ({kind}): {message}")]
pub(crate) struct Crashed {
    pub(crate) index: usize,
    pub(crate) kind: ErrorKind,
    pub(crate) message: String,
    /// The input it crashed on, for poison detection; `None` if it crashed while starting.
    pub(crate) fingerprint: Option<u128>,
}

pub(crate) struct InstanceActor;

pub(crate) struct InstanceArgs {
    pub(crate) key: PluginKey,
    pub(crate) plugin: Plugin,
    pub(crate) index: usize,
    pub(crate) supervisor: ActorRef<SupervisorMsg>,
    pub(crate) meter: Meter,
    pub(crate) events: Events,
    /// An instance already started (by the loader), to use instead of starting one.
    pub(crate) warm: Option<PluginInstance>,
}

pub(crate) struct InstanceState {
    args: InstanceArgs,
    instance: PluginInstance,
}

impl Actor for InstanceActor {
    type Msg = InstanceMsg;
    type State = InstanceState;
    type Arguments = InstanceArgs;

    async fn pre_start(
        &self,
        _me: ActorRef<InstanceMsg>,
        mut args: InstanceArgs,
    ) -> Result<InstanceState, ActorProcessingErr> {
        let mut instance = args.warm.take().unwrap_or_else(|| args.plugin.instance());
        // Instantiate now: a restarted instance is ready before the next job reaches it.
        if let Err(e) = instance.warm_up().await {
            return Err(Box::new(Crashed {
                index: args.index,
                kind: e.kind(),
                message: e.to_string(),
                fingerprint: None,
            }));
        }
        Ok(InstanceState { args, instance })
    }

    async fn handle(
        &self,
        me: ActorRef<InstanceMsg>,
        msg: InstanceMsg,
        state: &mut InstanceState,
    ) -> Result<(), ActorProcessingErr> {
        let InstanceMsg::Run(job) = msg;
        let args = &state.args;
        let (plugin, version) = (args.key.name.to_string(), args.key.version.to_string());
        args.events.audit(AuditRecord::CallStart {
            plugin: plugin.clone(),
            version: version.clone(),
            instance: args.index,
            input: format!("{:032x}", job.fingerprint),
        });
        let result = state.instance.analyze(&job.graph).await;
        let args = &state.args;
        args.events.audit(AuditRecord::CallEnd {
            plugin,
            version,
            instance: args.index,
            outcome: result.as_ref().map_or_else(|e| e.kind().to_string(), |_| "ok".into()),
            usage: state.instance.last_usage().clone(),
        });
        args.meter
            .call(state.instance.last_usage(), result.as_ref().err().map(|e| (e.kind(), e.to_string())));
        let crash = match &result {
            Err(e) if e.kind().is_crash() => Some(Crashed {
                index: args.index,
                kind: e.kind(),
                message: e.to_string(),
                fingerprint: Some(job.fingerprint),
            }),
            _ => None,
        };
        // The caller hears first; only then does the supervisor learn of the crash.
        job.answer(result);
        match crash {
            Some(crashed) => Err(Box::new(crashed)),
            None => {
                let _ = args.supervisor.cast(SupervisorMsg::Idle { index: args.index, actor: me.get_id() });
                Ok(())
            }
        }
    }
}
