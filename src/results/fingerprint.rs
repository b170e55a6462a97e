//! What identifies a finding across runs, so a CI gate can tell a new finding from an old one
//! after unrelated edits: the plugin, the rule and the ids of the nodes it is about — not line
//! numbers (they move with every edit above), not node order (a cycle may be reported from
//! another member), not the message (it carries counts). A finding about no node (a 0.1
//! plugin's text, a whole-graph measurement) has only its message to go by.

use sha2::{Digest, Sha256};

use crate::contract::Finding;

/// The key SARIF's `partialFingerprints` carries ours under.
pub const FINGERPRINT_KEY: &str = "ptpluginFindingHash/v1";

/// 32 hex digits (128 bits of SHA-256) over plugin, rule and the sorted, distinct node ids.
pub fn fingerprint(plugin: &str, finding: &Finding) -> String {
    let mut hash = Sha256::new();
    for part in [plugin, &finding.rule] {
        hash.update(part.as_bytes());
        hash.update([0]);
    }
    if finding.nodes.is_empty() {
        hash.update(b"message\0");
        hash.update(finding.message.as_bytes());
    } else {
        let mut ids: Vec<&str> = finding.nodes.iter().map(|n| n.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        for id in ids {
            hash.update(id.as_bytes());
            hash.update([0]);
        }
    }
    hex::encode(&hash.finalize()[..16])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::{NodeRef, Severity};

    fn node(id: &str, line: u32) -> NodeRef {
        NodeRef {
            index: 0,
            id: id.into(),
            name: None,
            file: Some("src/a.rs".into()),
            line_start: Some(line),
            line_end: None,
        }
    }

    fn cycle(ids: &[(&str, u32)], message: &str) -> Finding {
        Finding {
            rule: "cycle.dependency".into(),
            severity: Severity::Warning,
            message: message.into(),
            nodes: ids.iter().map(|(id, line)| node(id, *line)).collect(),
        }
    }

    #[test]
    fn moved_lines_rotated_cycles_and_new_counts_keep_the_fingerprint() {
        let a = cycle(&[("a", 10), ("b", 20)], "dependency cycle of 2 nodes: a -> b -> a");
        let moved = cycle(&[("b", 31), ("a", 12)], "dependency cycle of 2 nodes: b -> a -> b");
        assert_eq!(fingerprint("cycle-finder", &a), fingerprint("cycle-finder", &moved));
        assert_eq!(fingerprint("cycle-finder", &a).len(), 32);
        // Another node set, rule or plugin is another finding.
        let other = cycle(&[("a", 10), ("c", 20)], "");
        assert_ne!(fingerprint("cycle-finder", &a), fingerprint("cycle-finder", &other));
        assert_ne!(fingerprint("cycle-finder", &a), fingerprint("other", &a));
        let mut rule = a.clone();
        rule.rule = "cycle.module".into();
        assert_ne!(fingerprint("cycle-finder", &a), fingerprint("cycle-finder", &rule));
        // Without nodes, the message is all there is.
        let text = Finding::from_text("census", "12 functions".into());
        let more = Finding::from_text("census", "13 functions".into());
        assert_ne!(fingerprint("census", &text), fingerprint("census", &more));
    }
}
