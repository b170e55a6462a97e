//! `ptplugin new`, `test` and `sdk`: from nothing to a running plugin in three commands.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use parseltongue_plugins::sdk::{self, harness, scaffold};
use parseltongue_plugins::{Error, Sandbox, files};

use crate::args::{NewArgs, SdkCommand, TestArgs};
use crate::graph_source::graph_source;
use crate::output::{self, Output, TestOutput};
use crate::report::{Failure, PLUGIN_FAILED};

pub fn new(args: NewArgs) -> Result<ExitCode, Failure> {
    let language: scaffold::Language = args
        .lang
        .parse()
        .map_err(|message: String| Error::InvalidManifest { path: "--lang".into(), message })?;
    let dir = args.dir.unwrap_or_else(|| PathBuf::from(&args.name));
    let contract = args.contract.contract();
    let project = scaffold::create(&dir, &args.name, language, contract)?;
    let mut out =
        format!("created {} ({} plugin, contract {contract}) in {}\n", project.name, language, dir.display());
    for file in &project.files {
        let _ = writeln!(out, "  {file}");
    }
    let _ =
        writeln!(out, "\nnext:\n  cd {}\n  {}\n  ptplugin test .", dir.display(), language.build_command());
    output::print_text(&out)?;
    Ok(ExitCode::SUCCESS)
}

pub async fn test(sandbox: &Sandbox, args: TestArgs) -> Result<ExitCode, Failure> {
    let mut graphs = harness::standard_graphs();
    for path in &args.graph {
        let imported = graph_source(path, None, args.max_graph_mb, None)?.load().await?;
        graphs.push(harness::NamedGraph {
            name: format!(
                "{} ({} nodes, {} edges)",
                path,
                imported.graph.nodes().len(),
                imported.graph.edges().len()
            ),
            graph: Arc::new(imported.graph),
        });
    }
    let result = harness::run(sandbox, &args.project, &graphs).await?;
    output::print(args.format, &TestOutput { passed: result.passed(), report: &result })?;
    Ok(if result.passed() { ExitCode::SUCCESS } else { ExitCode::from(PLUGIN_FAILED) })
}

pub fn sdk(command: SdkCommand) -> Result<ExitCode, Failure> {
    match command {
        SdkCommand::Wit { dir, contract } => sdk::write_wit(&dir, contract.contract())?,
        SdkCommand::CBindings { dir, contract } => sdk::write_c_bindings(&dir, contract.contract())?,
        SdkCommand::Componentize { core, output } => {
            let bytes = files::read(&core, "core module", files::MAX_COMPONENT_BYTES)?;
            let component = sdk::componentize(&bytes)?;
            std::fs::write(&output, component).map_err(|e| Error::Io {
                context: format!("cannot write {}", output.display()),
                source: e,
            })?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

impl Output for TestOutput<'_> {
    fn text(&self) -> String {
        let result = self.report;
        let mut out = format!("testing {} ({})\n", result.plugin, result.component.display());
        for c in &result.checks {
            let _ = writeln!(out, "  [{}] {}: {}", if c.ok { "ok " } else { "BAD" }, c.name, c.detail);
        }
        let failed = result.checks.iter().filter(|c| !c.ok).count();
        let _ = match failed {
            0 => writeln!(out, "all {} checks passed", result.checks.len()),
            n => writeln!(out, "{n} of {} checks FAILED", result.checks.len()),
        };
        out
    }
}
