//! `ptplugin import`: read a graph the way `run --graph` does and say what the import made of it.

use std::process::ExitCode;

use parseltongue_plugins::{Error, import};
use serde_json::json;

use crate::args::{Format, ImportArgs};
use crate::report::{self, Failure};

pub fn import(args: ImportArgs) -> Result<ExitCode, Failure> {
    let imported = import::load_bounded(
        &args.graph,
        args.edges.as_deref(),
        args.max_graph_mb * parseltongue_plugins::MIB,
    )?;
    if let Some(output) = &args.output {
        std::fs::write(output, imported.graph.to_json())
            .map_err(|e| Error::Io { context: format!("cannot write {}", output.display()), source: e })?;
    }
    match args.format {
        Format::Json => {
            let mut value = json!(imported.stats);
            value["nodes"] = json!(imported.stats.nodes());
            value["edges"] = json!(imported.stats.edges());
            value["resolved"] = json!(imported.stats.resolved());
            if let Some(output) = &args.output {
                value["output"] = json!(output.display().to_string());
            }
            report::print_json(&value)?;
        }
        Format::Text => {
            let mut text = format!("{}\n", imported.stats);
            if let Some(output) = &args.output {
                text.push_str(&format!("wrote {}\n", output.display()));
            }
            report::print_text(&text)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
