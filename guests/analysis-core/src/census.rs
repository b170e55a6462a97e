//! Counting nodes per type.

use std::collections::BTreeMap;

use crate::report::{Finding, Report, Rule, Severity};

/// What `node-census` reports.
pub const RULES: [Rule; 1] = [Rule {
    id: "census.type",
    summary: "how many nodes of one type the graph holds",
    severity: Severity::Note,
    help: "when one type dominates, check whether it should be split into more specific types or modules",
}];

/// How many nodes carry each type, with the share of the whole.
#[derive(Debug, Clone, PartialEq)]
pub struct Census {
    /// Node type → count, sorted by descending count then by name.
    pub counts: Vec<(String, usize)>,
    /// Total number of nodes counted.
    pub total: usize,
}

impl Census {
    /// Counts `types`, one item per node.
    pub fn count<'a>(types: impl IntoIterator<Item = &'a str>) -> Census {
        let mut by_type: BTreeMap<&str, usize> = BTreeMap::new();
        let mut total = 0;
        for t in types {
            *by_type.entry(t).or_default() += 1;
            total += 1;
        }
        let mut counts: Vec<(String, usize)> = by_type.into_iter().map(|(t, n)| (t.to_string(), n)).collect();
        counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        Census { counts, total }
    }

    /// The share of `count` in the whole, between 0 and 1.
    pub fn share(&self, count: usize) -> f64 {
        if self.total == 0 { 0.0 } else { count as f64 / self.total as f64 }
    }

    /// `count`'s share as a percentage with one decimal, rounded half up in integers, so that
    /// plugins in every language print the same digits (float formatting rounds ties differently
    /// in Rust, JavaScript, Python and C).
    pub fn percent(&self, count: usize) -> String {
        if self.total == 0 {
            return "0.0".into();
        }
        let tenths = (2000 * count + self.total) / (2 * self.total);
        format!("{}.{}", tenths / 10, tenths % 10)
    }

    /// The most common type, when its share is at least `threshold`.
    pub fn dominant(&self, threshold: f64) -> Option<(&str, f64)> {
        let (name, count) = self.counts.first()?;
        let share = self.share(*count);
        (self.counts.len() > 1 && share >= threshold).then_some((name.as_str(), share))
    }
}

impl Census {
    /// One finding per type (most common first) and, when one type's share reaches
    /// `threshold`, a recommendation to look at it.
    pub fn report(&self, threshold: f64) -> Report {
        let findings = self
            .counts
            .iter()
            .map(|(t, n)| {
                Finding::new(
                    &RULES[0],
                    format!("{t}: {n} of {} nodes ({}%)", self.total, self.percent(*n)),
                    Vec::new(),
                )
            })
            .collect();
        let recommendations = match self.dominant(threshold) {
            Some((t, _)) => vec![format!(
                "`{t}` makes up {}% of all nodes: review whether it should be split into more specific types or modules",
                self.percent(self.counts[0].1)
            )],
            None => Vec::new(),
        };
        let summary = format!("counted {} nodes of {} types", self.total, self.counts.len());
        Report { findings, recommendations, summary }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_sorted_by_frequency_then_name() {
        let c = Census::count(["fn", "struct", "fn", "enum", "struct", "fn"]);
        assert_eq!(c.total, 6);
        assert_eq!(c.counts, vec![("fn".into(), 3), ("struct".into(), 2), ("enum".into(), 1)]);
    }

    #[test]
    fn percent_rounds_half_up() {
        let c = Census::count(["a"; 16]);
        assert_eq!(c.percent(1), "6.3", "6.25 rounds up");
        assert_eq!(c.percent(16), "100.0");
        assert_eq!(Census::count(["a", "b", "c"]).percent(1), "33.3");
        assert_eq!(Census::count(std::iter::empty()).percent(0), "0.0");
    }

    #[test]
    fn the_report_has_a_finding_per_type() {
        let r = Census::count(["fn", "fn", "fn", "struct"]).report(0.7);
        assert_eq!(r.messages(), ["fn: 3 of 4 nodes (75.0%)", "struct: 1 of 4 nodes (25.0%)"]);
        assert_eq!(r.findings[0].rule, "census.type");
        assert!(r.recommendations[0].starts_with("`fn` makes up 75.0%"));
    }

    #[test]
    fn dominant_needs_threshold_and_a_second_type() {
        let c = Census::count(["fn", "fn", "fn", "struct"]);
        assert_eq!(c.dominant(0.7), Some(("fn", 0.75)));
        assert_eq!(c.dominant(0.8), None);
        assert_eq!(Census::count(["fn", "fn"]).dominant(0.5), None);
        assert_eq!(Census::count(std::iter::empty()).dominant(0.5), None);
    }
}
