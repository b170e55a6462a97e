//! A request on its way through the actors, and the guarantee that its caller always hears back.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, oneshot};

use crate::error::{Error, Result};
use crate::graph::Graph;
use crate::sandbox::Analysis;

/// One `analyze` request. Dropping it unanswered — anywhere, for any reason (an instance killed
/// mid-call, a mailbox dropped at shutdown, a panic) — answers the caller with
/// [`Error::Unavailable`], so no caller ever waits on a dropped reply.
pub(crate) struct Job {
    pub(crate) graph: Arc<Graph>,
    pub(crate) fingerprint: u128,
    reply: Option<oneshot::Sender<Result<Analysis>>>,
    plugin: Arc<str>,
    /// The admission permit: held until the job is answered, so queued work stays bounded.
    _permit: Option<OwnedSemaphorePermit>,
}

impl Job {
    /// A job and the receiver its answer will arrive on.
    pub(crate) fn new(
        plugin: Arc<str>,
        graph: Arc<Graph>,
        permit: Option<OwnedSemaphorePermit>,
    ) -> (Job, oneshot::Receiver<Result<Analysis>>) {
        let (tx, rx) = oneshot::channel();
        let fingerprint = graph.fingerprint();
        let job = Job { graph, fingerprint, reply: Some(tx), plugin, _permit: permit };
        (job, rx)
    }

    /// Answers the caller (who may have stopped waiting; that is fine).
    pub(crate) fn answer(mut self, result: Result<Analysis>) {
        if let Some(tx) = self.reply.take() {
            let _ = tx.send(result);
        }
    }
}

impl Drop for Job {
    fn drop(&mut self) {
        if let Some(tx) = self.reply.take() {
            let _ = tx.send(Err(Error::Unavailable {
                plugin: self.plugin.to_string(),
                reason: "the request was dropped before an instance answered it".into(),
            }));
        }
    }
}

/// Waits for a job's answer; a vanished sender (which `Job`'s drop rules out) still ends in an
/// error rather than a hang.
pub(crate) async fn wait(plugin: &str, rx: oneshot::Receiver<Result<Analysis>>) -> Result<Analysis> {
    rx.await.unwrap_or_else(|_| {
        Err(Error::Unavailable {
            plugin: plugin.to_string(),
            reason: "the plugin stopped without answering".into(),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_dropped_job_answers_with_an_error() {
        let (job, rx) = Job::new("p".into(), Arc::new(Graph::default()), None);
        drop(job);
        let e = wait("p", rx).await.unwrap_err();
        assert!(matches!(e, Error::Unavailable { .. }), "{e}");
    }

    #[tokio::test]
    async fn the_permit_is_released_with_the_job() {
        let sem = Arc::new(tokio::sync::Semaphore::new(1));
        let permit = sem.clone().try_acquire_owned().unwrap();
        let (job, _rx) = Job::new("p".into(), Arc::new(Graph::default()), Some(permit));
        assert_eq!(sem.available_permits(), 0);
        job.answer(Err(Error::NotFound { plugin: "p".into() }));
        assert_eq!(sem.available_permits(), 1);
    }
}
