//! `ptplugin soak`: crash/restart cycles through the supervision runtime — or, with `--load`,
//! sustained analyses across many plugins beside them — with the process's memory and
//! descriptors sampled. Exit 1 if anything but flat came out.

use std::fmt::Write as _;
use std::process::ExitCode;

use parseltongue_plugins::Sandbox;
use parseltongue_plugins::load::{self, LoadOptions, LoadReport, Progress, TimedSample};
use parseltongue_plugins::soak::{SoakReport, soak as run_soak};

use crate::args::{Format, SoakArgs};
use crate::output::{self, LoadOutput, Output, SoakOutput};
use crate::report::{self, Failure, PLUGIN_FAILED};

/// RSS growth from the first sample to the last that still counts as flat.
pub const FLAT_RSS_BYTES: i64 = 16 * 1024 * 1024;

pub async fn soak(sandbox: &Sandbox, args: SoakArgs) -> Result<ExitCode, Failure> {
    if let Some(duration) = args.load {
        return sustained(sandbox, &args, duration).await;
    }
    let report = run_soak(sandbox.clone(), args.cycles as usize, args.samples as usize).await?;
    let flat =
        report.rss_growth() <= FLAT_RSS_BYTES && report.fd_growth() <= 0 && report.live_instances_after == 0;
    let out = SoakOutput {
        report: &report,
        rss_growth_bytes: report.rss_growth(),
        fd_growth: report.fd_growth(),
        flat,
    };
    output::print(args.format, &out)?;
    Ok(if flat { ExitCode::SUCCESS } else { ExitCode::from(PLUGIN_FAILED) })
}

impl Output for SoakOutput<'_> {
    fn text(&self) -> String {
        text(self.report, self.flat)
    }
}

impl Output for LoadOutput<'_> {
    fn text(&self) -> String {
        load_summary(self.report, self.flat)
    }
}

fn text(r: &SoakReport, flat: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} crash/restart cycles in {:.1} s ({} restarts); crash → next good reply: p50 {:.3} ms, p99 {:.3} ms",
        r.cycles,
        r.elapsed.as_secs_f64(),
        r.restarts,
        r.restart_p50.as_secs_f64() * 1000.0,
        r.restart_p99.as_secs_f64() * 1000.0
    );
    for s in &r.samples {
        let _ = writeln!(
            out,
            "  after {:>6} cycles: rss {:>10}, {} fds",
            s.cycle,
            report::bytes(s.rss_bytes),
            s.fds
        );
    }
    let _ = writeln!(
        out,
        "rss growth {:+.1} MiB, fd growth {:+}, live instances after shutdown {}: {}",
        r.rss_growth() as f64 / (1024.0 * 1024.0),
        r.fd_growth(),
        r.live_instances_after,
        if flat { "flat" } else { "NOT FLAT" }
    );
    out
}

/// Connections to the metrics endpoint come and go while sampling; allow that many.
const ENDPOINT_FDS: i64 = 4;

async fn sustained(
    sandbox: &Sandbox,
    args: &SoakArgs,
    duration: std::time::Duration,
) -> Result<ExitCode, Failure> {
    let options = LoadOptions {
        duration,
        plugins: args.plugins as usize,
        concurrency: args.concurrency as usize,
        metrics_endpoint: args.metrics,
        ..LoadOptions::default()
    };
    let text = args.format == Format::Text;
    let (plugins, callers) = (options.plugins, options.concurrency);
    // Nothing is said about the endpoint until it is bound (a refused address is an error only).
    let report = load::run(sandbox.clone(), options, |progress| match progress {
        Progress::Started { metrics } if text => println!(
            "{plugins} plugins, {callers} callers, a crashing plugin beside them, for {:.0} s{}",
            duration.as_secs_f64(),
            metrics.map(|a| format!("; metrics on http://{a}/metrics")).unwrap_or_default()
        ),
        Progress::Sample(s) if text => println!("{}", sample_line(s)),
        _ => {}
    })
    .await?;
    let fd_slack = if args.metrics.is_some() { ENDPOINT_FDS } else { 0 };
    let flat = report.rss_growth() <= FLAT_RSS_BYTES
        && report.fd_growth() <= fd_slack
        && report.failed_calls == 0
        && report.live_instances_after == 0;
    let out = LoadOutput {
        report: &report,
        rss_growth_bytes: report.rss_growth(),
        fd_growth: report.fd_growth(),
        calls_per_sec: report.throughput(),
        flat,
    };
    output::print(args.format, &out)?;
    Ok(if flat { ExitCode::SUCCESS } else { ExitCode::from(PLUGIN_FAILED) })
}

fn sample_line(s: &TimedSample) -> String {
    format!(
        "  {:>7.1} s: {:>9} analyses, {:>7} crash cycles, rss {:>10}, {} fds",
        s.at_secs,
        s.calls,
        s.crash_cycles,
        report::bytes(s.rss_bytes),
        s.fds
    )
}

fn load_summary(r: &LoadReport, flat: bool) -> String {
    format!(
        "{} analyses ({:.0}/s, {} failed) and {} crash/restart cycles in {:.1} s; rss growth {:+.1} MiB, \
         fd growth {:+}, live instances after shutdown {}: {}\n",
        r.calls,
        r.throughput(),
        r.failed_calls,
        r.crash_cycles,
        r.elapsed.as_secs_f64(),
        r.rss_growth() as f64 / (1024.0 * 1024.0),
        r.fd_growth(),
        r.live_instances_after,
        if flat { "flat" } else { "NOT FLAT" }
    )
}
