//! Counting nodes per type.

use std::collections::BTreeMap;

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
    fn dominant_needs_threshold_and_a_second_type() {
        let c = Census::count(["fn", "fn", "fn", "struct"]);
        assert_eq!(c.dominant(0.7), Some(("fn", 0.75)));
        assert_eq!(c.dominant(0.8), None);
        assert_eq!(Census::count(["fn", "fn"]).dominant(0.5), None);
        assert_eq!(Census::count(std::iter::empty()).dominant(0.5), None);
    }
}
