//! What a call returns, whichever contract the plugin implements: findings with a rule, a
//! severity, a message and the nodes they are about (resolved to ids and places by the
//! sandbox), the plugin's confidence and its recommendations. Plain data; the CLI's JSON.

use std::fmt;

use crate::contract::columnar::{RawRule, RawSeverity};

/// How bad a finding is (SARIF's `note`, `warning`, `error`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing.
    Note,
    /// Worth fixing.
    Warning,
    /// Wrong.
    Error,
}

impl Severity {
    /// The lowercase word (`note`, `warning`, `error`).
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<RawSeverity> for Severity {
    fn from(s: RawSeverity) -> Self {
        match s {
            RawSeverity::Note => Severity::Note,
            RawSeverity::Warning => Severity::Warning,
            RawSeverity::Error => Severity::Error,
        }
    }
}

/// A node a finding is about: its index and id in the graph, and where it is when the graph
/// says (metadata `name`, `file`, `line_start`, `line_end`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NodeRef {
    /// Index into the graph's nodes.
    pub index: u32,
    /// The node's id.
    pub id: String,
    /// Metadata `name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Metadata `file`, as the graph wrote it (a leading `./` dropped).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Metadata `line_start`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_start: Option<u32>,
    /// Metadata `line_end`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_end: Option<u32>,
}

impl NodeRef {
    /// `name (file:line)`, as much of it as is known; the id when nothing is.
    pub fn label(&self) -> String {
        let name = self.name.as_deref().unwrap_or(&self.id);
        match (&self.file, self.line_start) {
            (Some(file), Some(line)) => format!("{name} ({file}:{line})"),
            (Some(file), None) => format!("{name} ({file})"),
            _ => name.to_string(),
        }
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Finding {
    /// The rule it breaks: a stable dotted id (`cycle.call`), or a 0.1 plugin's name.
    pub rule: String,
    /// How bad it is.
    pub severity: Severity,
    /// What the plugin says.
    pub message: String,
    /// The nodes it is about, most relevant first.
    pub nodes: Vec<NodeRef>,
}

impl Finding {
    /// A 0.1 plugin's finding: a bare string, so the plugin's name is its rule, it is a
    /// warning, and it names no nodes.
    pub fn from_text(plugin: &str, text: String) -> Finding {
        Finding { rule: plugin.to_string(), severity: Severity::Warning, message: text, nodes: Vec::new() }
    }
}

/// `severity rule: message — Type::method (file:line)`: the first node's place, when known.
impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.severity, self.rule, self.message)?;
        if let Some(first) = self.nodes.first() {
            write!(f, " — {}", first.label())?;
        }
        Ok(())
    }
}

/// A plugin's answer, checked and resolved.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Report {
    /// What it found.
    pub findings: Vec<Finding>,
    /// How sure it is, from 0.0 to 1.0.
    pub confidence: f32,
    /// What to do about it.
    pub recommendations: Vec<String>,
}

impl Report {
    /// The findings' messages, in order (a 0.1 plugin's findings as it wrote them).
    pub fn messages(&self) -> Vec<&str> {
        self.findings.iter().map(|f| f.message.as_str()).collect()
    }
}

/// A rule a plugin can report (contract 0.2's `rules` export).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Rule {
    /// Stable, dotted: what findings carry in `rule`.
    pub id: String,
    /// One line.
    pub summary: String,
    /// The severity its findings usually have.
    pub default_severity: Severity,
    /// How to fix what it finds.
    pub help: String,
}

impl From<RawRule> for Rule {
    fn from(r: RawRule) -> Self {
        Rule { id: r.id, summary: r.summary, default_severity: r.default_severity.into(), help: r.help }
    }
}

/// Whether `id` may name a rule: 1 to 128 of `a-z 0-9 . - _`, starting with a letter. Rule ids
/// end up in SARIF files, CI gates and file names; nothing else is accepted from a plugin.
pub fn is_rule_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id.starts_with(|c: char| c.is_ascii_lowercase())
        && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_finding_prints_its_first_node_place() {
        let node = NodeRef {
            index: 3,
            id: "rust:fn:open".into(),
            name: Some("Store::open".into()),
            file: Some("src/store.rs".into()),
            line_start: Some(12),
            line_end: None,
        };
        let f = Finding {
            rule: "cycle.call".into(),
            severity: Severity::Warning,
            message: "dependency cycle of 2 nodes".into(),
            nodes: vec![node],
        };
        assert_eq!(
            f.to_string(),
            "warning cycle.call: dependency cycle of 2 nodes — Store::open (src/store.rs:12)"
        );
        let old = Finding::from_text("census", "12 functions".into());
        assert_eq!(old.to_string(), "warning census: 12 functions");
    }

    #[test]
    fn rule_ids_are_short_and_plain() {
        assert!(is_rule_id("cycle.call") && is_rule_id("dead-code.unused") && is_rule_id("a"));
        for bad in ["", "Cycle", "1cycle", "cycle call", "cycle\n", &"a".repeat(129), "règle"] {
            assert!(!is_rule_id(bad), "{bad:?}");
        }
    }
}
