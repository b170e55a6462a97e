//! `ptplugin inspect`: what a component is, without running it.

use std::fmt::Write as _;
use std::process::ExitCode;

use parseltongue_plugins::{Inspection, Sandbox, wasi};

use crate::args::InspectArgs;
use crate::output::{self, InspectOutput, Output};
use crate::plugin_source::read_plugin;
use crate::report::{Failure, PLUGIN_FAILED};

/// Exit 0 when the component fits the contract, 1 when it does not (or is not a component).
pub fn inspect(sandbox: &Sandbox, args: InspectArgs) -> Result<ExitCode, Failure> {
    let (name, bytes) = read_plugin(&args.file)?;
    let inspection = sandbox.inspect(&bytes)?;
    let out = InspectOutput {
        inspection: &inspection,
        file: &args.file,
        name: &name,
        wasi_policy: inspection
            .surface
            .wasi_imports
            .iter()
            .map(|i| (i.clone(), wasi::policy_for(i)))
            .collect(),
    };
    output::print(args.format, &out)?;
    Ok(if inspection.satisfies_contract { ExitCode::SUCCESS } else { ExitCode::from(PLUGIN_FAILED) })
}

impl Output for InspectOutput<'_> {
    fn text(&self) -> String {
        text(self.file, self.inspection)
    }
}

fn text(file: &str, i: &Inspection) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "file:     {file}");
    let _ = writeln!(out, "size:     {} bytes", i.size);
    let _ = writeln!(out, "sha256:   {}", i.sha256);
    match (&i.world, &i.problem) {
        (Some(world), _) => {
            let contract = i.contract.map(|c| format!("contract {c}, ")).unwrap_or_default();
            let _ = writeln!(out, "world:    {world} ({contract}satisfies it)");
        }
        (None, problem) => {
            let _ = writeln!(
                out,
                "world:    unknown — does NOT satisfy the contract: {}",
                problem.as_deref().unwrap_or("?")
            );
        }
    }
    let _ = writeln!(out, "exports:");
    for e in &i.surface.exports {
        let _ = writeln!(out, "  {e}");
    }
    let _ = writeln!(out, "imports:");
    for h in &i.surface.host_imports {
        let _ = writeln!(out, "  {h:<44} host interface");
    }
    for w in &i.surface.wasi_imports {
        let _ = writeln!(out, "  {w:<44} {}", wasi::policy_for(w));
    }
    for o in &i.surface.other_imports {
        let _ = writeln!(out, "  {o:<44} NOT PROVIDED by this host");
    }
    if let Some(stubbed) = &i.stubbed_imports {
        let _ =
            writeln!(out, "note: some WASI functions are newer than this host and trap if called: {stubbed}");
    }
    out
}
