//! What changed between two analyses of a changing codebase: per plugin, the findings that
//! appeared and the ones that disappeared (a finding is its line — severity, rule, message and
//! place — so a 0.1 finding is its text), and plugins that started or stopped failing.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::error::{ErrorKind, Result};
use crate::sandbox::Analysis;

/// One plugin's outcome, as compared between rounds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Its findings.
    Findings(BTreeSet<String>),
    /// It failed: the kind and message.
    Failed(ErrorKind, String),
}

impl Outcome {
    /// The outcome of one call.
    pub fn of(result: &Result<Analysis>) -> Outcome {
        match result {
            Ok(a) => Outcome::Findings(a.result.findings.iter().map(ToString::to_string).collect()),
            Err(e) => Outcome::Failed(e.kind(), e.to_string()),
        }
    }
}

/// How one plugin's outcome changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PluginChange {
    /// The plugin.
    pub plugin: String,
    /// Findings now reported that were not before.
    pub appeared: Vec<String>,
    /// Findings reported before and not now.
    pub disappeared: Vec<String>,
    /// The plugin fails now (and did not, or failed otherwise): kind and message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failing: Option<(ErrorKind, String)>,
    /// The plugin failed before and answers now.
    pub recovered: bool,
}

/// Per plugin (by name), what differs from `before` to `after`; plugins without a change are
/// left out.
pub fn changes(before: &BTreeMap<String, Outcome>, after: &BTreeMap<String, Outcome>) -> Vec<PluginChange> {
    let empty = Outcome::Findings(BTreeSet::new());
    let mut out = Vec::new();
    for (plugin, now) in after {
        let was = before.get(plugin).unwrap_or(&empty);
        if was == now {
            continue;
        }
        let mut change = PluginChange {
            plugin: plugin.clone(),
            appeared: Vec::new(),
            disappeared: Vec::new(),
            failing: None,
            recovered: false,
        };
        match (was, now) {
            (Outcome::Findings(a), Outcome::Findings(b)) => {
                change.appeared = b.difference(a).cloned().collect();
                change.disappeared = a.difference(b).cloned().collect();
            }
            (_, Outcome::Failed(kind, message)) => change.failing = Some((*kind, message.clone())),
            (Outcome::Failed(..), Outcome::Findings(b)) => {
                change.recovered = true;
                change.appeared = b.iter().cloned().collect();
            }
        }
        out.push(change);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(items: &[&str]) -> Outcome {
        Outcome::Findings(items.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn only_what_changed_is_reported() {
        let before = BTreeMap::from([
            ("cycles".to_string(), found(&["a -> b -> a"])),
            ("census".to_string(), found(&["3 nodes"])),
        ]);
        let after = BTreeMap::from([
            ("cycles".to_string(), found(&["a -> b -> a", "x -> y -> z -> x"])),
            ("census".to_string(), found(&["3 nodes"])),
        ]);
        let c = changes(&before, &after);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].plugin, "cycles");
        assert_eq!(c[0].appeared, ["x -> y -> z -> x"]);
        assert!(c[0].disappeared.is_empty());
        let back = changes(&after, &before);
        assert_eq!(back[0].disappeared, ["x -> y -> z -> x"]);
        assert!(changes(&after, &after).is_empty());
    }

    #[test]
    fn failing_and_recovering_are_changes() {
        let before = BTreeMap::from([("p".to_string(), found(&["f"]))]);
        let failed = BTreeMap::from([("p".to_string(), Outcome::Failed(ErrorKind::Timeout, "slow".into()))]);
        let c = changes(&before, &failed);
        assert_eq!(c[0].failing, Some((ErrorKind::Timeout, "slow".into())));
        let c = changes(&failed, &before);
        assert!(c[0].recovered);
        assert_eq!(c[0].appeared, ["f"]);
    }
}
