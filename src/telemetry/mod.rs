//! What operators see: per-plugin metrics through the `metrics` facade, an optional loopback
//! endpoint serving them in the Prometheus format, and [`MetricsSnapshot`], the same figures as
//! plain data for the embedding API and `ptplugin top`.
//!
//! ```text
//! InstanceActor ── Meter::call(usage, error) ──► Account ── PluginHandles (counters, histogram)
//! Supervisor ── Meter::restarted / quarantined ──┘   │          │ MetricsSink: own Prometheus
//!                                                     │          │ recorder, or the global one
//! PluginHost::metrics() ◄── status + accounts ── MetricsSnapshot ▼
//! server: GET /metrics (render) · GET /snapshot (JSON)   ◄── PluginHost::prometheus_text()
//! ```

pub mod latency;
pub(crate) mod recorder;
pub(crate) mod server;
pub mod snapshot;

pub use latency::LatencyHistogram;
pub use recorder::names;
pub use snapshot::{MetricsSnapshot, PluginMetrics, RecentError};
