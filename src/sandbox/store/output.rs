//! Bounds on what a plugin returns.
//!
//! Two layers. While the engine copies the result out of guest memory, the store's *hostcall
//! fuel* ([`fuel_for`]) caps how many bytes it will allocate on the guest's behalf, so a result of
//! millions of entries fails before the host has spent memory on it. Once copied, [`check`]
//! applies the exact limits: entries per list, bytes per string, bytes in total, confidence —
//! and, for contract 0.2, what makes a report well-formed: rule ids, node indices in range. Then
//! both contracts' answers become one [`Report`].

use crate::contract::{AnalysisResult, Finding, NodeRef, RawFinding, RawReport, Report, is_rule_id};
use crate::error::{Error, Result};
use crate::graph::Graph;
use crate::policy::Limits;

/// What wasmtime says when a copy from guest to host runs out of hostcall fuel. Its error type is
/// private, so the message is matched; a test (the oversized-output fixture) pins it.
pub(crate) const HOSTCALL_FUEL_EXHAUSTED: &str = "fuel allocated for hostcalls has been exhausted";

/// Hostcall fuel for one call: the bytes allowed (text, and 4 per node reference in 0.2), plus
/// each entry's host-side record (a 0.2 finding, or a 0.1 `String`) and a recommendation's.
pub(crate) fn fuel_for(limits: &Limits) -> usize {
    let entry = size_of::<RawFinding>().max(size_of::<String>()) + size_of::<String>();
    let entries = limits.max_findings.saturating_mul(entry);
    limits.max_result_bytes.saturating_add(entries).saturating_add(64 * 1024)
}

/// How many nodes one finding may name (a cycle of 10,000 functions is named by its first few).
pub(crate) const MAX_NODES_PER_FINDING: usize = 1000;

/// A 0.1 plugin's result, within the limits, as a [`Report`]: each string a finding with the
/// plugin's name as its rule.
pub(crate) fn report_v1(plugin: &str, result: AnalysisResult, limits: &Limits) -> Result<Report> {
    check(&result, limits)?;
    Ok(Report {
        findings: result.findings.into_iter().map(|f| Finding::from_text(plugin, f)).collect(),
        confidence: result.confidence,
        recommendations: result.recommendations,
    })
}

/// A 0.2 plugin's report, within the limits and well-formed, with its node indices resolved
/// against `graph`.
pub(crate) fn report_v2(raw: RawReport, limits: &Limits, graph: &Graph) -> Result<Report> {
    let refuse = |message: String| Err(Error::OutputLimit { message });
    let invalid = |message: String| Err(Error::InvalidOutput { message });
    confidence(raw.confidence)?;
    for (list, len) in [("findings", raw.findings.len()), ("recommendations", raw.recommendations.len())] {
        if len > limits.max_findings {
            return refuse(format!("{len} {list}, over the limit of {}", limits.max_findings));
        }
    }
    let nodes = graph.nodes();
    let mut total = 0usize;
    for (i, f) in raw.findings.iter().enumerate() {
        if !is_rule_id(&f.rule) {
            let shown: String = f.rule.chars().take(40).collect();
            return invalid(format!(
                "findings[{i}].rule `{shown}`{} ({} bytes) is not a rule id: 1 to 128 of a-z, 0-9, `.`, `-`, `_`, starting with a letter",
                if shown.len() < f.rule.len() { "…" } else { "" },
                f.rule.len()
            ));
        }
        if f.message.len() > limits.max_string_bytes {
            return refuse(format!(
                "findings[{i}].message is {} bytes, over the per-string limit of {}",
                f.message.len(),
                limits.max_string_bytes
            ));
        }
        if f.nodes.len() > MAX_NODES_PER_FINDING {
            return refuse(format!(
                "findings[{i}] names {} nodes, over the limit of {MAX_NODES_PER_FINDING}",
                f.nodes.len()
            ));
        }
        if let Some(&bad) = f.nodes.iter().find(|&&n| n as usize >= nodes.len()) {
            return invalid(format!(
                "findings[{i}] names node {bad}; the graph has {} nodes (0 to {})",
                nodes.len(),
                nodes.len().saturating_sub(1)
            ));
        }
        total += f.rule.len() + f.message.len() + 4 * f.nodes.len();
    }
    for (i, r) in raw.recommendations.iter().enumerate() {
        if r.len() > limits.max_string_bytes {
            return refuse(format!(
                "recommendations[{i}] is {} bytes, over the per-string limit of {}",
                r.len(),
                limits.max_string_bytes
            ));
        }
        total += r.len();
    }
    if total > limits.max_result_bytes {
        return refuse(format!("{total} bytes of text, over the limit of {}", limits.max_result_bytes));
    }
    let findings = raw
        .findings
        .into_iter()
        .map(|f| Finding {
            rule: f.rule,
            severity: f.severity.into(),
            message: f.message,
            nodes: f.nodes.iter().map(|&n| node_ref(graph, n)).collect(),
        })
        .collect();
    Ok(Report { findings, confidence: raw.confidence, recommendations: raw.recommendations })
}

/// Node `index` (in range) as a finding names it: id and, from its metadata, where it is.
fn node_ref(graph: &Graph, index: u32) -> NodeRef {
    let node = &graph.nodes()[index as usize];
    let get = |key: &str| node.metadata.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
    let line = |key: &str| get(key).and_then(|v| v.trim().parse::<u32>().ok());
    NodeRef {
        index,
        id: node.id.clone(),
        name: get("name").map(str::to_string),
        file: get("file").map(|f| f.strip_prefix("./").unwrap_or(f).to_string()),
        line_start: line("line_start"),
        line_end: line("line_end"),
    }
}

fn confidence(c: f32) -> Result<()> {
    if !(0.0..=1.0).contains(&c) {
        return Err(Error::OutputLimit { message: format!("confidence {c} is outside 0.0..=1.0") });
    }
    Ok(())
}

/// Refuses a result with too many entries, an oversized string, too many bytes in total, or a
/// confidence outside `0.0..=1.0`.
fn check(result: &AnalysisResult, limits: &Limits) -> Result<()> {
    let refuse = |message: String| Err(Error::OutputLimit { message });
    confidence(result.confidence)?;
    let mut total = 0usize;
    for (list, entries) in [("findings", &result.findings), ("recommendations", &result.recommendations)] {
        if entries.len() > limits.max_findings {
            return refuse(format!("{} {list}, over the limit of {}", entries.len(), limits.max_findings));
        }
        for (i, entry) in entries.iter().enumerate() {
            if entry.len() > limits.max_string_bytes {
                return refuse(format!(
                    "{list}[{i}] is {} bytes, over the per-string limit of {}",
                    entry.len(),
                    limits.max_string_bytes
                ));
            }
            total += entry.len();
        }
    }
    if total > limits.max_result_bytes {
        return refuse(format!("{total} bytes of text, over the limit of {}", limits.max_result_bytes));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(findings: Vec<String>, confidence: f32) -> AnalysisResult {
        AnalysisResult { findings, confidence, recommendations: vec![] }
    }

    fn message(r: &AnalysisResult, limits: &Limits) -> String {
        match check(r, limits) {
            Err(Error::OutputLimit { message }) => message,
            other => panic!("expected output-limit, got {other:?}"),
        }
    }

    #[test]
    fn accepts_results_within_limits() {
        check(&result(vec!["a".into(); 10], 0.5), &Limits::default()).unwrap();
        check(&result(vec![], 0.0), &Limits::default()).unwrap();
        check(&result(vec![], 1.0), &Limits::default()).unwrap();
    }

    #[test]
    fn refuses_each_kind_of_excess() {
        let limits =
            Limits { max_findings: 3, max_string_bytes: 5, max_result_bytes: 12, ..Limits::default() };
        assert_eq!(message(&result(vec!["a".into(); 4], 1.0), &limits), "4 findings, over the limit of 3");
        assert_eq!(
            message(&result(vec!["ok".into(), "toolong".into()], 1.0), &limits),
            "findings[1] is 7 bytes, over the per-string limit of 5"
        );
        assert_eq!(
            message(&result(vec!["12345".into(); 3], 1.0), &limits),
            "15 bytes of text, over the limit of 12"
        );
        assert!(message(&result(vec![], f32::NAN), &limits).contains("NaN"));
        assert!(message(&result(vec![], 1.5), &limits).contains("1.5"));
    }

    fn raw(findings: Vec<RawFinding>) -> RawReport {
        RawReport { findings, confidence: 1.0, recommendations: vec![] }
    }

    fn finding(rule: &str, message: &str, nodes: Vec<u32>) -> RawFinding {
        RawFinding {
            rule: rule.into(),
            severity: crate::contract::RawSeverity::Error,
            message: message.into(),
            nodes,
        }
    }

    fn graph() -> Graph {
        let node = |id: &str, meta: &[(&str, &str)]| crate::GraphNode {
            id: id.into(),
            node_type: "function".into(),
            metadata: meta.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        };
        Graph::new(
            vec![
                node(
                    "a",
                    &[("name", "open"), ("file", "./src/a.rs"), ("line_start", "12"), ("line_end", "x")],
                ),
                node("b", &[]),
            ],
            vec![],
        )
        .unwrap()
    }

    #[test]
    fn a_report_resolves_its_nodes_from_their_metadata() {
        let r = report_v2(raw(vec![finding("x.y", "m", vec![0, 1])]), &Limits::default(), &graph()).unwrap();
        let f = &r.findings[0];
        assert_eq!((f.rule.as_str(), f.severity), ("x.y", crate::Severity::Error));
        assert_eq!(f.nodes[0].label(), "open (src/a.rs:12)");
        assert_eq!(f.nodes[0].line_end, None, "a line that is not a number is left out");
        assert_eq!((f.nodes[1].id.as_str(), f.nodes[1].label()), ("b", "b".to_string()));
    }

    #[test]
    fn a_report_over_a_limit_or_malformed_is_refused_with_its_place() {
        let limits =
            Limits { max_findings: 2, max_string_bytes: 8, max_result_bytes: 20, ..Limits::default() };
        let g = graph();
        let kind = |r: RawReport| report_v2(r, &limits, &g).unwrap_err();
        let e = kind(raw(vec![finding("a", "", vec![]); 3]));
        assert_eq!(
            e.to_string(),
            "the plugin's result breaks the output limits: 3 findings, over the limit of 2"
        );
        let e = kind(raw(vec![finding("a", "123456789", vec![])]));
        assert!(e.to_string().contains("findings[0].message is 9 bytes"), "{e}");
        let e = kind(raw(vec![finding("a", "", vec![0; MAX_NODES_PER_FINDING + 1])]));
        assert!(e.to_string().contains("names 1001 nodes"), "{e}");
        let e = kind(raw(vec![finding("a", "12345678", vec![0, 1, 0]), finding("b", "1", vec![])]));
        assert!(e.to_string().contains("bytes of text, over the limit of 20"), "{e}");
        let e = kind(raw(vec![finding("Not A Rule", "", vec![])]));
        assert_eq!(e.kind(), crate::ErrorKind::InvalidOutput, "{e}");
        let e = kind(raw(vec![finding("a", "", vec![2])]));
        assert_eq!(
            e.to_string(),
            "the plugin's result is malformed: findings[0] names node 2; the graph has 2 nodes (0 to 1)"
        );
    }

    #[test]
    fn fuel_covers_a_result_at_every_limit() {
        let limits = Limits::default();
        let largest = limits.max_result_bytes + 2 * limits.max_findings * size_of::<String>();
        assert!(fuel_for(&limits) >= largest);
        assert!(fuel_for(&limits) < 4 * 1024 * 1024, "and not much more");
    }
}
