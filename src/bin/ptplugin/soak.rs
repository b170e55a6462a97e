//! `ptplugin soak`: crash/restart cycles through the supervision runtime, with the process's
//! memory and descriptors sampled. Exit 1 if anything but flat came out.

use std::fmt::Write as _;
use std::process::ExitCode;

use parseltongue_plugins::Sandbox;
use parseltongue_plugins::soak::{SoakReport, soak as run_soak};
use serde_json::json;

use crate::args::{Format, SoakArgs};
use crate::report::{self, Failure, PLUGIN_FAILED};

/// RSS growth from the first sample to the last that still counts as flat.
pub const FLAT_RSS_BYTES: i64 = 16 * 1024 * 1024;

pub async fn soak(sandbox: &Sandbox, args: SoakArgs) -> Result<ExitCode, Failure> {
    let report = run_soak(sandbox.clone(), args.cycles as usize, args.samples as usize).await?;
    let flat =
        report.rss_growth() <= FLAT_RSS_BYTES && report.fd_growth() <= 0 && report.live_instances_after == 0;
    match args.format {
        Format::Json => {
            let mut value = json!(report);
            value["rss_growth_bytes"] = json!(report.rss_growth());
            value["fd_growth"] = json!(report.fd_growth());
            value["flat"] = json!(flat);
            report::print_json(&value)?;
        }
        Format::Text => report::print_text(&text(&report, flat))?,
    }
    Ok(if flat { ExitCode::SUCCESS } else { ExitCode::from(PLUGIN_FAILED) })
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
