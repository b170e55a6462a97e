//! Bounded sinks for what a guest says: its stdout/stderr streams and its `host.log` calls.
//!
//! A guest may write without end; the host keeps the first bytes up to a cap, counts the rest,
//! and never lets a write fail (a failing write would turn chatter into a guest panic).

use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use bytes::Bytes;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

use crate::contract::Level;
use crate::sandbox::store::throttle::{self, Throttles};

/// The most a guest may be told it can write at once; keeps host-side allocations small.
const WRITE_PERMIT: usize = 64 * 1024;

/// A guest output stream that keeps at most `capacity` bytes per drain and counts the rest.
///
/// Clones share one buffer, so the store's WASI context and the host both hold a handle.
#[derive(Clone, Debug)]
pub(crate) struct BoundedOutput {
    inner: Arc<Mutex<OutputBuffer>>,
    /// The plugin's rate across calls (shared by stdout and stderr).
    throttles: Arc<Throttles>,
}

#[derive(Debug, Default)]
struct OutputBuffer {
    kept: Vec<u8>,
    capacity: usize,
    dropped: u64,
}

/// What a stream received since the last drain.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Drained {
    pub(crate) text: String,
    pub(crate) dropped: u64,
}

impl BoundedOutput {
    pub(crate) fn new(capacity: usize, throttles: Arc<Throttles>) -> Self {
        BoundedOutput {
            inner: Arc::new(Mutex::new(OutputBuffer { capacity, ..Default::default() })),
            throttles,
        }
    }

    fn lock(&self) -> MutexGuard<'_, OutputBuffer> {
        // A poisoned lock only means another thread panicked mid-write; the bytes are still fine.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn accept(&self, bytes: &[u8]) {
        let mut buf = self.lock();
        let room = buf.capacity.saturating_sub(buf.kept.len());
        let mut keep = room.min(bytes.len());
        if !throttle::allows(&self.throttles.stdio, keep) {
            keep = 0;
        }
        buf.kept.extend_from_slice(&bytes[..keep]);
        buf.dropped += (bytes.len() - keep) as u64;
    }

    /// Takes what was written since the last drain (lossy UTF-8) and resets the counters.
    pub(crate) fn drain(&self) -> Drained {
        let mut buf = self.lock();
        let kept = std::mem::take(&mut buf.kept);
        Drained {
            text: String::from_utf8_lossy(&kept).into_owned(),
            dropped: std::mem::take(&mut buf.dropped),
        }
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for BoundedOutput {
    async fn ready(&mut self) {}
}

impl OutputStream for BoundedOutput {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.accept(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(WRITE_PERMIT)
    }
}

impl tokio::io::AsyncWrite for BoundedOutput {
    fn poll_write(self: Pin<&mut Self>, _cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        self.accept(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl IsTerminal for BoundedOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for BoundedOutput {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

/// One `host.log` call the host kept.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LogRecord {
    /// The level the plugin chose.
    pub level: Level,
    /// The message, cut to the per-message limit.
    pub message: String,
}

/// The `host.log` messages of one call, bounded in total bytes and per message.
#[derive(Debug, Default)]
pub(crate) struct LogSink {
    records: Vec<LogRecord>,
    kept_bytes: usize,
    max_bytes: usize,
    max_message_bytes: usize,
    dropped_bytes: u64,
    dropped_messages: u64,
}

/// What [`LogSink::drain`] hands back after a call.
#[derive(Debug, Default)]
pub(crate) struct DrainedLogs {
    pub(crate) records: Vec<LogRecord>,
    pub(crate) kept_bytes: u64,
    pub(crate) dropped_bytes: u64,
    pub(crate) dropped_messages: u64,
}

impl LogSink {
    pub(crate) fn new(max_bytes: usize, max_message_bytes: usize) -> Self {
        LogSink { max_bytes, max_message_bytes, ..Default::default() }
    }

    /// Keeps `message` (cut to the per-message limit) if the call's budget allows, returning
    /// the kept record.
    pub(crate) fn push(&mut self, level: Level, mut message: String) -> Option<&LogRecord> {
        if message.len() > self.max_message_bytes {
            let cut = floor_char_boundary(&message, self.max_message_bytes);
            self.dropped_bytes += (message.len() - cut) as u64;
            message.truncate(cut);
        }
        if self.kept_bytes + message.len() > self.max_bytes {
            self.dropped_bytes += message.len() as u64;
            self.dropped_messages += 1;
            return None;
        }
        self.kept_bytes += message.len();
        self.records.push(LogRecord { level, message });
        self.records.last()
    }

    /// Counts a message the plugin's rate refused.
    pub(crate) fn refuse(&mut self, bytes: usize) {
        self.dropped_bytes += bytes as u64;
        self.dropped_messages += 1;
    }

    /// Takes the call's records and counters, leaving the sink empty for the next call.
    pub(crate) fn drain(&mut self) -> DrainedLogs {
        let drained = DrainedLogs {
            records: std::mem::take(&mut self.records),
            kept_bytes: self.kept_bytes as u64,
            dropped_bytes: self.dropped_bytes,
            dropped_messages: self.dropped_messages,
        };
        self.kept_bytes = 0;
        self.dropped_bytes = 0;
        self.dropped_messages = 0;
        drained
    }
}

/// The largest index `<= max` that lies on a char boundary of `s`.
fn floor_char_boundary(s: &str, max: usize) -> usize {
    (0..=max.min(s.len())).rev().find(|&i| s.is_char_boundary(i)).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_keeps_up_to_capacity_and_counts_the_rest() {
        let out = BoundedOutput::new(10, Arc::new(Throttles::new(&crate::policy::Limits::default())));
        let mut stream = out.p2_stream();
        assert_eq!(stream.check_write().unwrap(), WRITE_PERMIT);
        stream.write(Bytes::from_static(b"0123456")).unwrap();
        stream.write(Bytes::from_static(b"789abcdef")).unwrap();
        let d = out.drain();
        assert_eq!(d.text, "0123456789");
        assert_eq!(d.dropped, 6);
        assert_eq!(out.drain(), Drained::default(), "drain resets");
    }

    #[test]
    fn output_past_the_rate_is_dropped_across_drains() {
        let limits =
            crate::policy::Limits { stdio_bytes_per_sec: 1, max_stdio_bytes: 8, ..Default::default() };
        let out = BoundedOutput::new(8, Arc::new(Throttles::new(&limits)));
        let mut stream = out.p2_stream();
        stream.write(Bytes::from_static(b"12345678")).unwrap();
        assert_eq!(out.drain().text, "12345678", "the burst");
        stream.write(Bytes::from_static(b"abcdefgh")).unwrap();
        let d = out.drain();
        assert_eq!((d.text.as_str(), d.dropped), ("", 8), "a new call does not refill the bucket");
    }

    #[test]
    fn log_sink_cuts_long_messages_on_char_boundaries_and_bounds_the_total() {
        let mut sink = LogSink::new(10, 4);
        // 'é' takes bytes 3..5, so a 4-byte cut must back off to "abc".
        let kept = sink.push(Level::Info, "abcé!".into()).unwrap();
        assert_eq!(kept.message, "abc");
        assert!(sink.push(Level::Warn, "abcd".into()).is_some());
        assert!(sink.push(Level::Error, "wxyz".into()).is_none());
        let d = sink.drain();
        assert_eq!(d.records.len(), 2);
        assert_eq!(d.records[0].message, "abc");
        assert_eq!(d.kept_bytes, 3 + 4);
        assert_eq!(d.dropped_bytes, 3 + 4);
        assert_eq!(d.dropped_messages, 1);
        assert!(sink.drain().records.is_empty());
    }
}
