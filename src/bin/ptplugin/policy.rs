//! `ptplugin policy check`: requested / granted / denied for one plugin under a policy.

use std::fmt::Write as _;
use std::process::ExitCode;

use parseltongue_plugins::wasi::Access;
use parseltongue_plugins::{Capabilities, Limits, Manifest, Policy, RequestedLimits};

use crate::args::PolicyCheckArgs;
use crate::output::{self, Output, PolicyCheckOutput};
use crate::plugin_source::{manifest_path, read_plugin};
use crate::report::{Failure, PLUGIN_FAILED};

/// Exit 0 when everything requested is granted, 1 when something is denied.
pub fn check(args: PolicyCheckArgs) -> Result<ExitCode, Failure> {
    let policy = match &args.policy {
        Some(path) => Policy::from_path(path)?,
        None => Policy::default(),
    };
    let (name, capabilities, limits) = requests(&args.plugin)?;
    let mut decision = policy.decide(&name, &capabilities, &limits, &Limits::default());
    // Grants that cannot hold on this machine (missing directory, unresolvable name) are denied too.
    let (_, unresolved) = Access::resolve(&decision.granted);
    decision.denied.extend(unresolved);
    let out = PolicyCheckOutput {
        plugin: &name,
        requested: &capabilities,
        requested_limits: &limits,
        granted: &decision.granted,
        denied: &decision.denied,
        limits: &decision.limits,
    };
    output::print(args.format, &out)?;
    Ok(if decision.denied.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(PLUGIN_FAILED) })
}

/// The plugin's name and what its manifest (if any) requests. A component without a manifest
/// requests nothing, but it must be there and be a component.
fn requests(spec: &str) -> Result<(String, Capabilities, RequestedLimits), parseltongue_plugins::Error> {
    match manifest_path(spec) {
        Some(manifest) => {
            let m = Manifest::from_path(&manifest)?;
            // Where its component would be must be inside its directory.
            m.component_path(&manifest)?;
            Ok((m.name, m.capabilities, m.limits))
        }
        None => {
            let (name, _bytes) = read_plugin(spec)?;
            Ok((name, Capabilities::default(), RequestedLimits::default()))
        }
    }
}

impl Output for PolicyCheckOutput<'_> {
    fn text(&self) -> String {
        text(self)
    }
}

fn text(check: &PolicyCheckOutput) -> String {
    let (name, requested, limits) = (check.plugin, check.requested, check.limits);
    let mut out = String::new();
    let _ = writeln!(out, "plugin: {name}");
    let _ = writeln!(out, "requested:");
    let asked: Vec<String> = requested
        .read_dirs
        .iter()
        .map(|r| format!("read-dir {} — {}", r.path.display(), r.reason))
        .chain(requested.connect.iter().map(|r| format!("connect {} — {}", r.target, r.reason)))
        .chain(requested.env.iter().map(|r| format!("env {} — {}", r.name, r.reason)))
        .chain(requested.wall_clock.iter().map(|r| format!("wall-clock — {}", r.reason)))
        .chain(requested.kv.iter().map(|r| format!("kv — {}", r.reason)))
        .collect();
    if asked.is_empty() {
        let _ = writeln!(out, "  nothing (complete isolation)");
    }
    for a in asked {
        let _ = writeln!(out, "  {a}");
    }
    let _ = writeln!(out, "granted:");
    let granted = check.granted.describe();
    if granted.is_empty() {
        let _ = writeln!(out, "  nothing");
    }
    for g in granted {
        let _ = writeln!(out, "  {g}");
    }
    let _ = writeln!(out, "denied:");
    if check.denied.is_empty() {
        let _ = writeln!(out, "  nothing");
    }
    for x in check.denied {
        let _ = writeln!(out, "  {} — {}", x.capability, x.why);
    }
    let _ = writeln!(
        out,
        "limits: {} MiB memory, {} ms of CPU time per call, {} KiB stack",
        limits.memory_bytes >> 20,
        limits.cpu_time.as_millis(),
        limits.max_wasm_stack >> 10
    );
    out
}
