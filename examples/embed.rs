//! How Parseltongue embeds the host: start it over a plugin directory, send analyses, read the
//! status, shut down. Uses the bundled plugins, written to a temporary plugin directory the way
//! an operator would lay them out (a `plugin.toml` beside each component).
//!
//! ```text
//! cargo run --example embed
//! ```

use std::time::Duration;

use parseltongue_plugins::{Graph, Limits, PluginHost, RestartPolicy, bundled};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    for name in ["node-census", "cycle-finder"] {
        let plugin_dir = dir.path().join(name);
        std::fs::create_dir(&plugin_dir)?;
        std::fs::write(plugin_dir.join("plugin.toml"), format!("name = \"{name}\"\nversion = \"1.0.0\"\n"))?;
        std::fs::write(plugin_dir.join(format!("{name}.wasm")), bundled::get(name).expect("bundled").wasm)?;
    }

    let host = PluginHost::builder()
        .plugin_dir(dir.path())
        .limits(Limits::default().with_cpu_time(Duration::from_millis(500)))
        .restart_policy(RestartPolicy::default())
        .instances(2)
        .start()
        .await?;

    // The graph Parseltongue built (here: the bundled sample).
    let graph = Graph::from_json(bundled::SAMPLE_GRAPH)?;

    let cycles = host.analyze("cycle-finder", graph.clone()).await?;
    println!("cycle-finder: {} findings", cycles.result.findings.len());

    for (plugin, result) in host.analyze_all(graph).await {
        match result {
            Ok(analysis) => println!("{plugin}: {:?}", analysis.result.findings.first()),
            Err(e) => println!("{plugin}: failed [{}] {e}", e.kind()),
        }
    }

    for p in host.status().await.plugins {
        let calls = p.usage.as_ref().map(|u| u.calls).unwrap_or(0);
        println!("{} {}: {:?}, {calls} calls", p.name, p.version, p.state());
    }
    host.shutdown().await;
    Ok(())
}
