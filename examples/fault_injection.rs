//! Healthy plugins beside crashing, looping and memory-bombing ones: watch restarts with their
//! backoff delays, a quarantine, a poison input, and the healthy plugins' results arriving
//! throughout.
//!
//! ```text
//! cargo run --example fault_injection
//! ```

use std::sync::Arc;
use std::time::Duration;

use parseltongue_plugins::{
    Backoff, EventKind, Graph, GraphNode, Limits, PluginHost, PluginOptions, PluginSpec, RestartPolicy,
    bundled,
};

fn spec(name: &str) -> PluginSpec {
    PluginSpec::bytes(name, bundled::get(name).expect("bundled").wasm)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let policy = RestartPolicy {
        backoff: Backoff {
            initial: Duration::from_millis(20),
            max: Duration::from_millis(320),
            multiplier: 2.0,
            jitter: 0.1,
        },
        max_restarts: 4,
        period: Duration::from_secs(30),
        poison_threshold: 2,
        ..RestartPolicy::default()
    };
    let quick = PluginOptions::new().limits(Limits::default().with_cpu_time(Duration::from_millis(200)));
    let host = PluginHost::builder()
        .restart_policy(policy)
        .plugin(spec("node-census"))
        .plugin(spec("cycle-finder"))
        .plugin(spec("fault-panic"))
        .plugin(spec("fault-loop").options(quick))
        .plugin(spec("fault-memory-bomb"))
        .start()
        .await?;

    let mut events = host.subscribe();
    let printer = tokio::spawn(async move {
        while let Ok(event) = events.recv().await {
            let what = match &event.kind {
                EventKind::Crashed { instance, kind, .. } => format!("instance {instance} crashed: {kind}"),
                EventKind::RestartScheduled { instance, attempt, delay } => {
                    format!("instance {instance}: restart #{attempt} in {} ms", delay.as_millis())
                }
                EventKind::Restarted { instance } => format!("instance {instance} restarted"),
                EventKind::Quarantined { reason } => format!("QUARANTINED: {reason}"),
                EventKind::PoisonInput { fingerprint } => {
                    format!("poison input {fingerprint} refused from now on")
                }
                EventKind::Released => "released from quarantine".into(),
                other => format!("{other:?}"),
            };
            println!("  [event] {:<18} {what}", event.plugin);
        }
    });

    let sample = Graph::from_json(bundled::SAMPLE_GRAPH)?;
    for round in 1..=6 {
        // A different input each round, so the crashes count towards quarantine, not poison.
        let mut nodes = sample.nodes().to_vec();
        nodes.push(GraphNode { id: format!("round-{round}"), node_type: "marker".into(), metadata: vec![] });
        let graph = Arc::new(Graph::new(nodes, sample.edges().to_vec())?);
        println!("round {round}:");
        for (plugin, result) in host.analyze_all(graph).await {
            match result {
                Ok(a) => println!("  {plugin:<18} ok: {} findings", a.result.findings.len()),
                Err(e) => println!("  {plugin:<18} {}: {e}", e.kind()),
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    println!("releasing fault-panic from quarantine (an operator's decision):");
    host.release("fault-panic").await?;
    let calm = host.analyze("fault-panic", Graph::default()).await?;
    println!("  fault-panic on an empty graph: {:?}", calm.result.recommendations);

    println!("the same input three times (poison threshold 2):");
    let same = Arc::new(sample);
    for _ in 0..3 {
        let e = host.analyze("fault-panic", same.clone()).await.expect_err("it crashes on any nodes");
        println!("  fault-panic: {}", e.kind());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    println!("status:");
    for p in host.status().await.plugins {
        let sup = p.supervisor.as_ref();
        println!(
            "  {:<18} {:?}, {} restarts, {} poison inputs",
            p.name,
            p.state(),
            sup.map(|s| s.restarts).unwrap_or(0),
            sup.map(|s| s.poison_inputs).unwrap_or(0)
        );
    }
    host.shutdown().await;
    printer.abort();
    Ok(())
}
