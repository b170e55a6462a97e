//! What operators see, as data: per-plugin metrics recorded through the `metrics` facade (into
//! the host's own Prometheus recorder, or the global one), latency histograms, and
//! [`MetricsSnapshot`], the same figures as plain data for the embedding API and `ptplugin top`.
//!
//! ```text
//! InstanceActor ── Meter::call(usage, error) ──► Account ── PluginHandles (counters, histogram)
//! Supervisor ── Meter::restarted / quarantined ──┘   │          │ MetricsSink: own Prometheus
//!                                                     │          │ recorder, or the global one
//! PluginHost::metrics() ◄── status + accounts ── MetricsSnapshot ▼
//! runtime/host/endpoint: GET /metrics (render) · GET /snapshot (JSON)
//! ```
//!
//! Building a snapshot from a host's status and serving the endpoint belong to the runtime
//! (`runtime/host/`): this module never imports the runtime.

mod latency;
mod recorder;
mod snapshot;

pub use latency::{BUCKETS, LatencyHistogram};
pub use recorder::names;
pub(crate) use recorder::{MetricsSink, PluginHandles};
pub(crate) use snapshot::unix_ms;
pub use snapshot::{MetricsSnapshot, PluginMetrics, RecentError};
