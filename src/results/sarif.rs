//! SARIF 2.1.0 (OASIS), as GitHub code scanning and IDEs ingest it, built on the typed object
//! model of `serde-sarif` rather than by hand: one `run` per plugin, its rules in
//! `tool.driver.rules`, findings as `results` with a location per node, our fingerprint in
//! `partialFingerprints`, and a failed plugin as a failed invocation with a notification.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde_sarif::sarif::{
    ArtifactLocation, Invocation, Location, LogicalLocation, Message, MultiformatMessageString, Notification,
    PhysicalLocation, PropertyBag, Region, ReportingConfiguration, ReportingDescriptor,
    ReportingDescriptorReference, Result as SarifResult, ResultLevel, Run, Sarif, Tool, ToolComponent,
};

use crate::contract::{NodeRef, Severity};
use crate::results::fingerprint::FINGERPRINT_KEY;
use crate::results::model::{PluginResults, ResultFinding, Results};

/// The schema our SARIF names (the OASIS 2.1.0 schema as SchemaStore serves it).
pub const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// The `uriBaseId` every location is relative to.
pub const SOURCE_ROOT_ID: &str = "SRCROOT";
/// The run property that says a run was written by ptplugin (a baseline must have it).
pub const RUN_MARKER: &str = "ptplugin";

/// Characters a path segment keeps percent-encoded in a URI reference (RFC 3986).
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b']')
    .add(b'\\')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// How locations are written.
#[derive(Debug, Clone, Default)]
pub struct SarifOptions {
    /// The directory the graph's file paths are relative to (where Parseltongue indexed):
    /// absolute paths under it are made relative, and it is recorded as `SRCROOT`.
    pub source_root: Option<PathBuf>,
}

/// The results as a SARIF log.
pub fn to_sarif(results: &Results, options: &SarifOptions) -> Sarif {
    let runs = results.plugins.iter().map(|p| run(results, p, options)).collect::<Vec<_>>();
    Sarif::builder().schema(SARIF_SCHEMA).version(serde_json::json!("2.1.0")).runs(runs).build()
}

/// The log as pretty JSON, ending in a newline.
pub fn to_sarif_json(results: &Results, options: &SarifOptions) -> String {
    let mut text = serde_json::to_string_pretty(&to_sarif(results, options)).expect("SARIF serializes");
    text.push('\n');
    text
}

fn run(results: &Results, plugin: &PluginResults, options: &SarifOptions) -> Run {
    let rules: Vec<ReportingDescriptor> = plugin.rules.iter().map(rule).collect();
    let mut driver_props = BTreeMap::new();
    if !plugin.sha256.is_empty() {
        driver_props.insert("sha256".to_string(), serde_json::json!(plugin.sha256));
    }
    let mut driver = ToolComponent::builder()
        .name(plugin.name.clone())
        .information_uri(env!("CARGO_PKG_REPOSITORY"))
        .rules(rules)
        .properties(PropertyBag::builder().additional_properties(driver_props).build())
        .build();
    if !plugin.version.is_empty() {
        driver.version = Some(plugin.version.clone());
        driver.semantic_version = semver::Version::parse(&plugin.version).ok().map(|v| v.to_string());
    }
    let sarif_results: Vec<SarifResult> =
        plugin.findings.iter().map(|f| result(plugin, f, options)).collect();
    let mut invocation = Invocation::builder().execution_successful(plugin.error.is_none()).build();
    if let Some(error) = &plugin.error {
        let notification = Notification::builder()
            .level(serde_json::json!("error"))
            .descriptor(ReportingDescriptorReference::builder().id(error.kind.as_str()).build())
            .message(text(format!("{} failed [{}]: {}", plugin.name, error.kind, error.message)))
            .build();
        invocation.tool_execution_notifications = Some(vec![notification]);
    }
    let marker = BTreeMap::from([(
        RUN_MARKER.to_string(),
        serde_json::json!({ "version": results.tool.version, "graph": results.graph }),
    )]);
    let mut run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .results(sarif_results)
        .invocations(vec![invocation])
        .properties(PropertyBag::builder().additional_properties(marker).build())
        .build();
    if let Some(root) = options.source_root.as_deref().and_then(root_uri) {
        run.original_uri_base_ids = Some(BTreeMap::from([(
            SOURCE_ROOT_ID.to_string(),
            ArtifactLocation::builder().uri(root).build(),
        )]));
    }
    run
}

fn rule(rule: &crate::contract::Rule) -> ReportingDescriptor {
    let mut descriptor = ReportingDescriptor::builder()
        .id(rule.id.clone())
        .name(pascal(&rule.id))
        .short_description(multiformat(&rule.summary))
        .full_description(multiformat(&rule.summary))
        .default_configuration(
            ReportingConfiguration::builder()
                .level(serde_json::json!(level(rule.default_severity).to_string()))
                .build(),
        )
        .build();
    if !rule.help.is_empty() {
        descriptor.help = Some(multiformat(&rule.help));
    }
    descriptor
}

fn result(plugin: &PluginResults, found: &ResultFinding, options: &SarifOptions) -> SarifResult {
    let f = &found.finding;
    let mut out = SarifResult::builder()
        .rule_id(f.rule.clone())
        .level(level(f.severity))
        .message(text(f.message.clone()))
        .partial_fingerprints(BTreeMap::from([(FINGERPRINT_KEY.to_string(), found.fingerprint.clone())]))
        .build();
    if let Some(index) = plugin.rules.iter().position(|r| r.id == f.rule) {
        out.rule_index = Some(index as i64);
    }
    if let Some(state) = found.baseline_state {
        out.baseline_state = Some(serde_json::json!(state.as_str()));
    }
    let mut locations = f.nodes.iter().map(|n| location(n, options));
    if let Some(first) = locations.next() {
        out.locations = Some(vec![first]);
        let related: Vec<Location> = locations
            .enumerate()
            .map(|(i, mut l)| {
                l.id = Some(i as i64 + 1);
                l
            })
            .collect();
        if !related.is_empty() {
            out.related_locations = Some(related);
        }
    }
    out
}

fn location(node: &NodeRef, options: &SarifOptions) -> Location {
    let logical = LogicalLocation::builder()
        .fully_qualified_name(node.id.clone())
        .name(node.name.clone().unwrap_or_else(|| node.id.clone()))
        .build();
    let mut location = Location::builder().logical_locations(vec![logical]).build();
    if let Some(file) = &node.file {
        let (uri, base) = artifact_uri(file, options.source_root.as_deref());
        let mut artifact = ArtifactLocation::builder().uri(uri).build();
        if base {
            artifact.uri_base_id = Some(SOURCE_ROOT_ID.to_string());
        }
        let mut physical = PhysicalLocation::builder().artifact_location(artifact).build();
        if let Some(start) = node.line_start.filter(|&l| l >= 1) {
            let end = node.line_end.filter(|&e| e >= start).unwrap_or(start);
            physical.region =
                Some(Region::builder().start_line(i64::from(start)).end_line(i64::from(end)).build());
        }
        location.physical_location = Some(physical);
    }
    location
}

/// A graph's file path as a URI reference: relative paths (and absolute ones under the source
/// root) relative to `SRCROOT`; other absolute paths as `file:` URLs. Whether it is relative.
fn artifact_uri(file: &str, root: Option<&Path>) -> (String, bool) {
    let file = file.replace('\\', "/");
    let path = Path::new(&file);
    let relative = if path.is_absolute() {
        match root.and_then(|r| path.strip_prefix(r).ok()) {
            Some(rest) => rest.to_string_lossy().into_owned(),
            None => {
                let url = url::Url::from_file_path(path).map(String::from).unwrap_or_else(|()| encode(&file));
                return (url, false);
            }
        }
    } else {
        file.trim_start_matches("./").to_string()
    };
    (encode(&relative), true)
}

fn encode(path: &str) -> String {
    path.split('/').map(|s| utf8_percent_encode(s, SEGMENT).to_string()).collect::<Vec<_>>().join("/")
}

fn root_uri(root: &Path) -> Option<String> {
    let absolute = std::path::absolute(root).ok()?;
    url::Url::from_directory_path(absolute).ok().map(String::from)
}

/// SARIF's level for a severity.
pub fn level(severity: Severity) -> ResultLevel {
    match severity {
        Severity::Note => ResultLevel::Note,
        Severity::Warning => ResultLevel::Warning,
        Severity::Error => ResultLevel::Error,
    }
}

fn text(message: String) -> Message {
    Message::builder().text(message).build()
}

fn multiformat(text: &str) -> MultiformatMessageString {
    MultiformatMessageString::builder().text(text.to_string()).build()
}

/// `cycle.dependency` → `CycleDependency`: SARIF's advice for a rule's `name`.
fn pascal(id: &str) -> String {
    id.split(['.', '-', '_'])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_uri_references_relative_to_the_source_root() {
        let root = Path::new("/home/me/repo");
        assert_eq!(artifact_uri("src/a b#1.rs", Some(root)), ("src/a%20b%231.rs".into(), true));
        assert_eq!(artifact_uri("./src/lib.rs", None), ("src/lib.rs".into(), true));
        assert_eq!(artifact_uri("/home/me/repo/src/x.rs", Some(root)), ("src/x.rs".into(), true));
        assert_eq!(artifact_uri("/elsewhere/y.rs", Some(root)), ("file:///elsewhere/y.rs".into(), false));
        assert_eq!(artifact_uri("src\\win.rs", None), ("src/win.rs".into(), true));
        assert_eq!(pascal("dead-code.unused_or-test"), "DeadCodeUnusedOrTest");
    }
}
