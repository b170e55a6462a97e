//! Where metrics go: a host with an endpoint records into its own Prometheus recorder (so two
//! hosts in one process never mix their figures); any other host records through the `metrics`
//! facade's global recorder, which is a no-op unless the embedding program installed one.
//!
//! Handles are registered once per plugin version and cached, so a call costs a few atomic adds.

use std::collections::HashMap;
use std::sync::Arc;

use metrics::{Counter, Gauge, Histogram, Key, KeyName, Label, Metadata, Recorder, SharedString, Unit};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder};

use crate::error::ErrorKind;
use crate::observe::PluginKey;
use crate::observe::telemetry::BUCKETS;
use crate::sandbox::Usage;

/// Metric names, all prefixed `ptplugin_`, labelled `plugin` and `version` (and `kind` for errors).
pub mod names {
    /// Calls answered, whatever their outcome.
    pub const CALLS: &str = "ptplugin_calls_total";
    /// Calls that ended in an error, by `kind`.
    pub const ERRORS: &str = "ptplugin_errors_total";
    /// Instances restarted after a crash.
    pub const RESTARTS: &str = "ptplugin_restarts_total";
    /// Times the plugin was quarantined.
    pub const QUARANTINES: &str = "ptplugin_quarantines_total";
    /// Whether the plugin is quarantined now (0 or 1).
    pub const QUARANTINED: &str = "ptplugin_quarantined";
    /// Call latency as the caller of the instance sees it (instantiation included), seconds.
    pub const CALL_DURATION: &str = "ptplugin_call_duration_seconds";
    /// CPU time spent running guest code, microseconds (counters are integers).
    pub const GUEST_TIME: &str = "ptplugin_guest_time_microseconds_total";
    /// Fuel consumed by metered calls.
    pub const FUEL: &str = "ptplugin_fuel_consumed_total";
    /// The highest linear memory any call reached, bytes.
    pub const PEAK_MEMORY: &str = "ptplugin_peak_memory_bytes";
    /// Log, stdout and stderr bytes dropped by per-call budgets and rate limits.
    pub const THROTTLED_BYTES: &str = "ptplugin_throttled_bytes_total";
    /// `host.*` calls made by guests.
    pub const HOST_CALLS: &str = "ptplugin_host_calls_total";
    /// Resident memory of the host process, bytes.
    pub const PROCESS_RSS: &str = "ptplugin_process_resident_memory_bytes";
    /// Open file descriptors of the host process.
    pub const PROCESS_FDS: &str = "ptplugin_process_open_fds";
}

/// The recorder a host writes to.
#[derive(Clone, Default)]
pub(crate) enum MetricsSink {
    /// The `metrics` facade's global recorder (a no-op unless one is installed).
    #[default]
    Global,
    /// The host's own Prometheus recorder.
    Prometheus(Arc<PrometheusRecorder>),
}

static METADATA: Metadata<'static> =
    Metadata::new(module_path!(), metrics::Level::INFO, Some(module_path!()));

impl MetricsSink {
    /// A Prometheus recorder with [`BUCKETS`] for call latency (a real histogram, not a summary).
    pub(crate) fn prometheus() -> MetricsSink {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(names::CALL_DURATION.into()), &BUCKETS)
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let sink = MetricsSink::Prometheus(Arc::new(builder.build_recorder()));
        sink.describe();
        sink
    }

    /// The Prometheus exposition handle, for hosts that keep their own recorder.
    pub(crate) fn handle(&self) -> Option<PrometheusHandle> {
        match self {
            MetricsSink::Prometheus(r) => Some(r.handle()),
            MetricsSink::Global => None,
        }
    }

    fn with<T>(&self, f: impl FnOnce(&dyn Recorder) -> T) -> T {
        match self {
            MetricsSink::Global => metrics::with_recorder(f),
            MetricsSink::Prometheus(r) => f(r.as_ref()),
        }
    }

    fn describe(&self) {
        use names::*;
        let counters: [(&str, Option<Unit>, &str); 8] = [
            (CALLS, None, "Calls answered, whatever their outcome"),
            (ERRORS, None, "Calls that ended in an error, by kind"),
            (RESTARTS, None, "Instances restarted after a crash"),
            (QUARANTINES, None, "Times the plugin was quarantined"),
            (GUEST_TIME, Some(Unit::Microseconds), "Wall time spent inside the guest"),
            (FUEL, None, "Fuel consumed by metered calls"),
            (THROTTLED_BYTES, Some(Unit::Bytes), "Log and stdio bytes dropped by budgets and rate limits"),
            (HOST_CALLS, None, "host.* calls made by guests"),
        ];
        let gauges: [(&str, Option<Unit>, &str); 4] = [
            (QUARANTINED, None, "1 while the plugin is quarantined"),
            (PEAK_MEMORY, Some(Unit::Bytes), "Highest linear memory any call reached"),
            (PROCESS_RSS, Some(Unit::Bytes), "Resident memory of the host process"),
            (PROCESS_FDS, None, "Open file descriptors of the host process"),
        ];
        self.with(|r| {
            for (name, unit, help) in counters {
                r.describe_counter(KeyName::from_const_str(name), unit, SharedString::const_str(help));
            }
            for (name, unit, help) in gauges {
                r.describe_gauge(KeyName::from_const_str(name), unit, SharedString::const_str(help));
            }
            r.describe_histogram(
                KeyName::from_const_str(CALL_DURATION),
                Some(Unit::Seconds),
                SharedString::const_str("Call latency, instantiation included"),
            );
        });
    }

    /// The handles for one plugin version.
    pub(crate) fn plugin(&self, key: &PluginKey) -> PluginHandles {
        let labels =
            vec![Label::new("plugin", key.name.to_string()), Label::new("version", key.version.to_string())];
        let key_of = |name: &'static str| Key::from_parts(name, labels.clone());
        self.with(|r| PluginHandles {
            calls: r.register_counter(&key_of(names::CALLS), &METADATA),
            restarts: r.register_counter(&key_of(names::RESTARTS), &METADATA),
            quarantines: r.register_counter(&key_of(names::QUARANTINES), &METADATA),
            quarantined: r.register_gauge(&key_of(names::QUARANTINED), &METADATA),
            duration: r.register_histogram(&key_of(names::CALL_DURATION), &METADATA),
            guest_time: r.register_counter(&key_of(names::GUEST_TIME), &METADATA),
            fuel: r.register_counter(&key_of(names::FUEL), &METADATA),
            peak_memory: r.register_gauge(&key_of(names::PEAK_MEMORY), &METADATA),
            throttled_bytes: r.register_counter(&key_of(names::THROTTLED_BYTES), &METADATA),
            host_calls: r.register_counter(&key_of(names::HOST_CALLS), &METADATA),
            errors: HashMap::new(),
            labels: labels.clone(),
            sink: self.clone(),
        })
    }

    /// Records the process's resident memory and descriptors.
    pub(crate) fn process(&self, sample: &crate::observe::process::ProcessSample) {
        self.with(|r| {
            r.register_gauge(&Key::from_static_name(names::PROCESS_RSS), &METADATA)
                .set(sample.rss_bytes as f64);
            r.register_gauge(&Key::from_static_name(names::PROCESS_FDS), &METADATA).set(sample.fds as f64);
        });
        if let MetricsSink::Prometheus(r) = self {
            // Histograms are buffered until rendered; bound the buffer between scrapes.
            r.handle().run_upkeep();
        }
    }
}

/// One plugin version's registered metrics.
pub(crate) struct PluginHandles {
    calls: Counter,
    restarts: Counter,
    quarantines: Counter,
    quarantined: Gauge,
    duration: Histogram,
    guest_time: Counter,
    fuel: Counter,
    peak_memory: Gauge,
    throttled_bytes: Counter,
    host_calls: Counter,
    errors: HashMap<ErrorKind, Counter>,
    labels: Vec<Label>,
    sink: MetricsSink,
}

impl PluginHandles {
    /// One call's usage and outcome.
    pub(crate) fn call(&mut self, usage: &Usage, error: Option<ErrorKind>, peak_memory: u64) {
        self.calls.increment(1);
        self.duration.record(usage.wall_time.as_secs_f64());
        self.guest_time.increment(u64::try_from(usage.cpu_time.as_micros()).unwrap_or(u64::MAX));
        self.fuel.increment(usage.fuel_consumed.unwrap_or(0));
        self.peak_memory.set(peak_memory as f64);
        self.throttled_bytes.increment(usage.log_bytes_dropped + usage.stdio_bytes_dropped);
        self.host_calls.increment(usage.host_calls);
        if let Some(kind) = error {
            let (sink, labels) = (&self.sink, &self.labels);
            self.errors
                .entry(kind)
                .or_insert_with(|| {
                    let mut labels = labels.clone();
                    labels.push(Label::new("kind", kind.as_str()));
                    sink.with(|r| r.register_counter(&Key::from_parts(names::ERRORS, labels), &METADATA))
                })
                .increment(1);
        }
    }

    pub(crate) fn restarted(&self) {
        self.restarts.increment(1);
    }

    pub(crate) fn quarantined(&self, now: bool) {
        if now {
            self.quarantines.increment(1);
        }
        self.quarantined.set(if now { 1.0 } else { 0.0 });
    }
}
