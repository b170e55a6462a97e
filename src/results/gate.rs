//! The CI gate: each finding marked new or unchanged against a baseline (by plugin and
//! fingerprint, as a multiset: two identical findings need two in the baseline), the baseline's
//! vanished findings listed as absent, and a verdict from `--fail-on` and `--min-severity`.

use std::collections::HashMap;

use crate::contract::Severity;
use crate::results::baseline::Baseline;
use crate::results::model::{AbsentFinding, BaselineState, BaselineSummary, Results};

/// Which findings fail the gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FailOn {
    /// None: the gate always passes (report only).
    #[default]
    Never,
    /// Findings not in the baseline (every finding, without a baseline).
    New,
    /// Every finding.
    Any,
}

/// `--fail-on` × `--min-severity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Gate {
    /// Which findings count.
    pub fail_on: FailOn,
    /// The least severity that counts.
    pub min_severity: Severity,
}

/// What the gate decided.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Verdict {
    /// Whether the gate passed.
    pub passed: bool,
    /// The findings that failed it, as `plugin rule fingerprint`.
    pub failing: usize,
    /// The gate that decided.
    pub gate: Gate,
}

/// Marks every finding of `results` against `baseline` and records the summary in
/// `results.baseline`. A plugin that failed now is left out of the comparison: its baseline
/// findings are unknown, not absent.
pub fn compare(results: &mut Results, baseline: &Baseline) {
    let mut remaining: HashMap<(&str, &str), usize> = HashMap::new();
    for f in &baseline.findings {
        *remaining.entry((f.plugin.as_str(), f.fingerprint.as_str())).or_default() += 1;
    }
    let failed_now: Vec<String> = results.failed().map(|p| p.name.clone()).collect();
    let (mut new, mut unchanged) = (0, 0);
    for plugin in &mut results.plugins {
        for found in &mut plugin.findings {
            let left = remaining.get_mut(&(plugin.name.as_str(), found.fingerprint.as_str()));
            let state = match left {
                Some(n) if *n > 0 => {
                    *n -= 1;
                    unchanged += 1;
                    BaselineState::Unchanged
                }
                _ => {
                    new += 1;
                    BaselineState::New
                }
            };
            found.baseline_state = Some(state);
        }
    }
    let mut absent = Vec::new();
    for f in &baseline.findings {
        if failed_now.contains(&f.plugin) {
            continue;
        }
        if let Some(n) = remaining.get_mut(&(f.plugin.as_str(), f.fingerprint.as_str()))
            && *n > 0
        {
            *n -= 1;
            absent.push(AbsentFinding {
                plugin: f.plugin.clone(),
                rule: f.rule.clone(),
                severity: f.severity,
                message: f.message.clone(),
                fingerprint: f.fingerprint.clone(),
            });
        }
    }
    results.baseline = Some(BaselineSummary { path: baseline.path.clone(), new, unchanged, absent });
}

impl Gate {
    /// Judges the results (compared with a baseline or not).
    pub fn judge(&self, results: &Results) -> Verdict {
        let failing = match self.fail_on {
            FailOn::Never => 0,
            FailOn::New | FailOn::Any => results
                .findings()
                .filter(|(_, f)| f.finding.severity >= self.min_severity)
                .filter(|(_, f)| {
                    self.fail_on == FailOn::Any
                        || f.baseline_state.unwrap_or(BaselineState::New) == BaselineState::New
                })
                .count(),
        };
        Verdict { passed: failing == 0, failing, gate: *self }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::Finding;
    use crate::results::baseline::BaselineFinding;
    use crate::results::model::{GraphInfo, PluginResults, ResultFinding};

    fn results(findings: &[(&str, Severity)]) -> Results {
        let mut r = Results::new(GraphInfo { source: "g".into(), nodes: 0, edges: 0 });
        r.plugins.push(PluginResults {
            name: "p".into(),
            version: "1.0.0".into(),
            sha256: String::new(),
            rules: Vec::new(),
            error: None,
            findings: findings
                .iter()
                .map(|(fp, severity)| ResultFinding {
                    finding: Finding {
                        rule: "r".into(),
                        severity: *severity,
                        message: String::new(),
                        nodes: Vec::new(),
                    },
                    fingerprint: fp.to_string(),
                    baseline_state: None,
                })
                .collect(),
            recommendations: Vec::new(),
            confidence: None,
            usage: None,
        });
        r
    }

    fn baseline(fps: &[&str]) -> Baseline {
        Baseline {
            path: "b".into(),
            plugins: vec!["p".into()],
            findings: fps
                .iter()
                .map(|fp| BaselineFinding {
                    plugin: "p".into(),
                    rule: "r".into(),
                    severity: Severity::Warning,
                    message: String::new(),
                    fingerprint: fp.to_string(),
                })
                .collect(),
        }
    }

    #[test]
    fn new_unchanged_and_absent_are_counted_as_a_multiset() {
        let mut r = results(&[("a", Severity::Warning), ("a", Severity::Warning), ("b", Severity::Note)]);
        compare(&mut r, &baseline(&["a", "c"]));
        let states: Vec<_> = r.plugins[0].findings.iter().map(|f| f.baseline_state.unwrap()).collect();
        assert_eq!(states, [BaselineState::Unchanged, BaselineState::New, BaselineState::New]);
        let summary = r.baseline.as_ref().unwrap();
        assert_eq!((summary.new, summary.unchanged), (2, 1));
        assert_eq!(summary.absent.iter().map(|a| a.fingerprint.as_str()).collect::<Vec<_>>(), ["c"]);

        let gate = |fail_on, min_severity| Gate { fail_on, min_severity }.judge(&r);
        assert_eq!(gate(FailOn::New, Severity::Warning).failing, 1);
        assert_eq!(gate(FailOn::New, Severity::Note).failing, 2);
        assert_eq!(gate(FailOn::Any, Severity::Warning).failing, 2);
        assert!(gate(FailOn::New, Severity::Error).passed);
        assert!(gate(FailOn::Never, Severity::Note).passed);
    }
}
