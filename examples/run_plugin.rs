//! Load a plugin, run it on a graph, print what it found — the library in a dozen lines.
//!
//! ```text
//! cargo run --example run_plugin                      # bundled cycle-finder on the sample graph
//! cargo run --example run_plugin -- my.wasm graph.json
//! ```

use std::time::Duration;

use parseltongue_plugins::{Graph, Limits, PluginOptions, Sandbox, bundled};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (plugin_bytes, graph) = match (args.next(), args.next()) {
        (Some(plugin), Some(graph)) => (std::fs::read(plugin)?, Graph::from_path(graph)?),
        _ => (
            bundled::get("cycle-finder").expect("bundled").wasm.to_vec(),
            Graph::from_json(bundled::SAMPLE_GRAPH)?,
        ),
    };

    let sandbox = Sandbox::new()?;
    let limits = Limits::default().with_cpu_time(Duration::from_millis(500)).with_memory_bytes(32 << 20);
    let plugin = sandbox.load("example", &plugin_bytes, PluginOptions::new().limits(limits))?;

    match plugin.analyze(&graph).await {
        Ok(analysis) => {
            for finding in &analysis.result.findings {
                println!("finding: {finding}");
            }
            for rec in &analysis.result.recommendations {
                println!("recommendation: {rec}");
            }
            println!(
                "took {:?}, peak memory {} bytes",
                analysis.usage.wall_time, analysis.usage.peak_memory_bytes
            );
        }
        // Whatever the plugin did, the host gets a typed error with a stable kind.
        Err(e) => eprintln!("plugin failed [{}]: {e}", e.kind()),
    }
    Ok(())
}
