//! `ptplugin test`: the checks an author runs before publishing — the component fits the
//! contract, runs on sample graphs (empty, small, real Parseltongue, large synthetic) under the
//! default limits with nothing granted, gives the same answer twice, keeps no state between
//! calls, tries nothing the sandbox refuses, and is stopped cleanly by a budget far too small
//! for it — each a line that passes or says why not.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::error::{Error, Result};
use crate::graph::Graph;
use crate::graph::{SAMPLE_GRAPH, parseltongue_sample};
use crate::policy::Manifest;
use crate::sandbox::PluginOptions;
use crate::sandbox::Sandbox;
use crate::{Analysis, ErrorKind, Limits, MIB, synthetic, wasi};

/// One check and its outcome.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Check {
    /// What was checked.
    pub name: String,
    /// Whether it passed.
    pub ok: bool,
    /// What was seen.
    pub detail: String,
}

/// Every check, in the order run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    /// The plugin's name.
    pub plugin: String,
    /// The component tested.
    pub component: PathBuf,
    /// The checks.
    pub checks: Vec<Check>,
}

impl Report {
    /// Whether every check passed.
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.ok)
    }
}

/// A graph to run the plugin on, with a name for the report.
pub struct NamedGraph {
    /// Shown in the report.
    pub name: String,
    /// The graph.
    pub graph: Arc<Graph>,
}

/// The graphs every plugin is tested on: empty, the small hand-written sample, Parseltongue's
/// export of itself, and a 10,000-node synthetic graph.
pub fn standard_graphs() -> Vec<NamedGraph> {
    let named = |name: &str, graph: Graph| NamedGraph {
        name: format!("{name} ({} nodes, {} edges)", graph.nodes().len(), graph.edges().len()),
        graph: Arc::new(graph),
    };
    vec![
        named("empty graph", Graph::default()),
        named("small sample", Graph::from_json(SAMPLE_GRAPH).expect("bundled sample")),
        named("Parseltongue self-analysis", parseltongue_sample().graph),
        named("synthetic", synthetic::parseltongue_like(10_000, 7)),
    ]
}

/// The plugin project (or `plugin.toml`) at `path`: its manifest and the component it names.
///
/// # Errors
///
/// [`Error::InvalidManifest`] / [`Error::Io`] for the manifest; [`Error::Io`] naming the build
/// command when the component has not been built.
pub fn locate(path: &Path) -> Result<(Manifest, PathBuf)> {
    if !path.exists() {
        return Err(Error::NoSuchPlugin {
            what: format!("no plugin project at {} (a directory with a plugin.toml)", path.display()),
        });
    }
    let manifest_path = if path.is_dir() { path.join("plugin.toml") } else { path.to_path_buf() };
    let manifest = Manifest::from_path(&manifest_path)?;
    let component = manifest.component_path(&manifest_path)?;
    if !component.exists() {
        return Err(Error::Usage {
            message: format!(
                "{} is not built yet ({} missing): run ./build.sh in {}",
                manifest.name,
                component.display(),
                manifest_path.parent().unwrap_or(Path::new(".")).display()
            ),
        });
    }
    Ok((manifest, component))
}

/// Runs every check on the plugin at `path` with `graphs` (usually [`standard_graphs`] plus
/// the author's own).
///
/// # Errors
///
/// Only when the plugin cannot be found or read; everything the plugin does is a check.
pub async fn run(sandbox: &Sandbox, path: &Path, graphs: &[NamedGraph]) -> Result<Report> {
    let (manifest, component) = locate(path)?;
    let bytes = crate::files::read_component(&component)?;
    let mut checks = Vec::new();
    let mut check =
        |name: &str, ok: bool, detail: String| checks.push(Check { name: name.into(), ok, detail });

    let inspection = sandbox.inspect(&bytes)?;
    let denied: Vec<String> = inspection
        .surface
        .wasi_imports
        .iter()
        .filter(|i| wasi::policy_for(i).starts_with("denied"))
        .map(|i| i.split('@').next().unwrap_or(i).to_string())
        .collect();
    let asked = manifest.capabilities.requested();
    check(
        "fits the contract",
        inspection.satisfies_contract,
        match &inspection.problem {
            Some(problem) => problem.clone(),
            None => format!(
                "{} ({} KiB, {} WASI interfaces imported; denied by default: {}; requested in plugin.toml: {})",
                inspection.world.as_deref().unwrap_or("?"),
                bytes.len() / 1024,
                inspection.surface.wasi_imports.len(),
                if denied.is_empty() { "nothing it imports".into() } else { denied.join(", ") },
                if asked.is_empty() { "nothing".into() } else { asked.join(", ") }
            ),
        },
    );
    if !inspection.satisfies_contract {
        return Ok(Report { plugin: manifest.name, component, checks });
    }

    let denials: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen = Arc::clone(&denials);
    let hook: crate::sandbox::store::DenialHook =
        Arc::new(move |what| seen.lock().expect("not poisoned").push(what));
    let loaded = sandbox
        .load(&manifest.name, &bytes, PluginOptions::new().on_denied(hook))
        .and_then(|plugin| manifest.check_contract(plugin.contract()).map(|()| plugin));
    let plugin = match loaded {
        Ok(plugin) => plugin,
        Err(e) => {
            check("loads", false, format!("[{}] {e}", e.kind()));
            return Ok(Report { plugin: manifest.name, component, checks });
        }
    };
    let load = plugin.load_report();
    let stubs =
        load.stubbed_imports.as_deref().map(|s| format!("; trapping stubs for {s}")).unwrap_or_default();
    check("loads", true, format!("in {:.1} ms{stubs}", load.load_time.as_secs_f64() * 1000.0));
    let mut results = Vec::new();
    for g in graphs {
        let outcome = plugin.analyze(&g.graph).await;
        check(&format!("analyses {}", g.name), outcome.is_ok(), describe(&outcome));
        results.push(outcome.ok().map(|a| a.result));
    }
    if plugin.contract() == crate::Contract::V0_2 {
        let (ok, detail) = match plugin.instance().rules().await {
            Err(e) => (false, format!("rules() failed [{}]: {e}", e.kind())),
            Ok(rules) => {
                let undeclared: std::collections::BTreeSet<&str> = results
                    .iter()
                    .flatten()
                    .flat_map(|r| &r.findings)
                    .map(|f| f.rule.as_str())
                    .filter(|id| !rules.iter().any(|r| r.id == *id))
                    .collect();
                let ids: Vec<&str> = rules.iter().map(|r| r.id.as_str()).collect();
                if undeclared.is_empty() {
                    (true, format!("{} rules ({}); every finding names one", ids.len(), ids.join(", ")))
                } else {
                    let undeclared: Vec<&str> = undeclared.into_iter().collect();
                    (
                        false,
                        format!("findings name rules that rules() does not list: {}", undeclared.join(", ")),
                    )
                }
            }
        };
        check("declares its rules", ok, detail);
    }
    // The last graph that worked (of the standard ones, the largest), for the repeatability checks.
    if let Some((g, first)) = graphs.iter().zip(&results).rev().find_map(|(g, r)| Some((g, r.as_ref()?))) {
        let again = plugin.analyze(&g.graph).await.map(|a| a.result);
        check(
            "same answer on a fresh instance",
            again.as_ref().is_ok_and(|r| same(r, first)),
            format!("{}, twice", g.name),
        );
        let mut instance = plugin.instance();
        let other = graphs.iter().find(|o| !Arc::ptr_eq(&o.graph, &g.graph) && !o.graph.nodes().is_empty());
        let warm = match other {
            Some(other) => instance.analyze(&other.graph).await.map(|_| ()),
            None => Ok(()),
        };
        let reused = match warm {
            Ok(()) => instance.analyze(&g.graph).await.map(|a| a.result),
            Err(e) => Err(e),
        };
        check(
            "no state kept between calls",
            reused.as_ref().is_ok_and(|r| same(r, first)),
            "the same instance, called after another graph, answers as a fresh one".into(),
        );
    }
    let refused = std::mem::take(&mut *denials.lock().expect("not poisoned"));
    check(
        "tried nothing the sandbox refused",
        refused.is_empty(),
        if refused.is_empty() {
            "no refused network or file access during the runs".into()
        } else {
            format!("refused: {} (ask for it in plugin.toml [capabilities])", refused.join("; "))
        },
    );
    // Containment: under a budget far too small, the call must end in a typed limit error (or
    // finish), and the next call with normal limits must succeed.
    if let Some(g) = graphs.iter().max_by_key(|g| g.graph.nodes().len()) {
        let tight = Limits { cpu_time: Duration::from_millis(1), memory_bytes: 2 * MIB, ..Limits::default() };
        let outcome = match sandbox.load(&manifest.name, &bytes, PluginOptions::new().limits(tight)) {
            Ok(starved) => starved.analyze(&g.graph).await.map(|_| ()),
            Err(e) => Err(e),
        };
        let after = plugin.analyze(&g.graph).await;
        let contained = match &outcome {
            Ok(()) => true,
            Err(e) => matches!(e.kind(), ErrorKind::Timeout | ErrorKind::MemoryLimit | ErrorKind::Trap),
        };
        check(
            "contained by its limits",
            contained && after.is_ok(),
            format!(
                "with 1 ms of CPU time and 2 MiB on {}: {}; then with the defaults: {}",
                g.name,
                match &outcome {
                    Ok(()) => "finished anyway".to_string(),
                    Err(e) => format!("stopped [{}]", e.kind()),
                },
                if after.is_ok() { "answers" } else { "FAILED" }
            ),
        );
    }
    Ok(Report { plugin: manifest.name, component, checks })
}

fn same(a: &crate::Report, b: &crate::Report) -> bool {
    a.findings == b.findings && a.recommendations == b.recommendations && a.confidence == b.confidence
}

fn describe(outcome: &Result<Analysis>) -> String {
    match outcome {
        Ok(a) => format!(
            "{} findings, {} recommendations, {:.2} ms, peak memory {:.1} MiB",
            a.result.findings.len(),
            a.result.recommendations.len(),
            a.usage.wall_time.as_secs_f64() * 1000.0,
            a.usage.peak_memory_bytes as f64 / (1024.0 * 1024.0)
        ),
        Err(e) => format!("[{}] {e}", e.kind()),
    }
}
