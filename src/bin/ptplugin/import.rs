//! `ptplugin import`: read a graph the way `run --graph` does and say what the import made of it.

use std::process::ExitCode;

use parseltongue_plugins::Error;

use crate::args::ImportArgs;
use crate::graph_source::graph_source;
use crate::output::{self, ImportOutput, Output};
use crate::report::Failure;

pub async fn import(args: ImportArgs) -> Result<ExitCode, Failure> {
    let source = graph_source(&args.graph, args.edges.as_deref(), args.max_graph_mb, args.scope.as_deref())?;
    let imported = source.load().await?;
    if let Some(output) = &args.output {
        std::fs::write(output, imported.graph.to_json())
            .map_err(|e| Error::Io { context: format!("cannot write {}", output.display()), source: e })?;
    }
    let stats = &imported.stats;
    let out = ImportOutput {
        stats,
        nodes: stats.nodes(),
        edges: stats.edges(),
        resolved: stats.resolved(),
        output: args.output.as_ref().map(|o| o.display().to_string()),
    };
    output::print(args.format, &out)?;
    Ok(ExitCode::SUCCESS)
}

impl Output for ImportOutput<'_> {
    fn text(&self) -> String {
        let mut text = format!("{}\n", self.stats);
        if let Some(output) = &self.output {
            text.push_str(&format!("wrote {output}\n"));
        }
        text
    }
}
