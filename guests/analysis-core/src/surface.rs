//! Public API surface: how many public items each module exposes, by kind. A wide surface is
//! what a crate promises to keep working; modules far above the rest are where to narrow it.

use std::collections::BTreeMap;

use crate::model::CodeGraph;
use crate::report::{Finding, MAX_FINDING_NODES, Report, Rule, Severity};

/// What `api-surface` reports.
pub const RULES: [Rule; 4] = [
    Rule {
        id: "api-surface.total",
        summary: "how many public items the graph's modules expose in all",
        severity: Severity::Note,
        help: "a wide surface is what a crate promises to keep working",
    },
    Rule {
        id: "api-surface.module",
        summary: "one module's public items, by kind",
        severity: Severity::Note,
        help: "make helpers pub(crate) or split the module when it exposes far more than the rest",
    },
    Rule {
        id: "api-surface.unlisted",
        summary: "modules with public items beyond those listed (top)",
        severity: Severity::Note,
        help: "raise top to see them all",
    },
    Rule {
        id: "api-surface.no-visibility",
        summary: "the graph records no visibility, so the public API cannot be measured",
        severity: Severity::Note,
        help: "import a graph whose entities carry a visibility (Parseltongue's export files did)",
    },
];

/// One module's exposure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleSurface {
    /// The module path (metadata `module`, else the file).
    pub module: String,
    /// Public items by node type.
    pub public: BTreeMap<String, usize>,
    /// Items with any visibility recorded.
    pub items: usize,
    /// Its public items (node indices), in graph order.
    pub public_nodes: Vec<usize>,
}

impl ModuleSurface {
    /// Public items in all.
    pub fn public_total(&self) -> usize {
        self.public.values().sum()
    }
}

/// Per-module surfaces, widest first. Items without a `visibility` are not counted (the graph
/// says nothing about them); test code and `impl`/`module` declarations are not API.
pub fn surfaces(graph: &CodeGraph<'_>) -> Vec<ModuleSurface> {
    let mut by_module: BTreeMap<&str, ModuleSurface> = BTreeMap::new();
    for (v, n) in graph.nodes.iter().enumerate() {
        let Some(visibility) = n.get("visibility") else { continue };
        if !n.is_definition() || n.is_test() || matches!(n.node_type, "impl" | "module" | "mod") {
            continue;
        }
        let Some(module) = n.get("module").or_else(|| n.get("file")) else { continue };
        let s = by_module.entry(module).or_insert_with(|| ModuleSurface {
            module: module.to_string(),
            public: BTreeMap::new(),
            items: 0,
            public_nodes: Vec::new(),
        });
        s.items += 1;
        if visibility.eq_ignore_ascii_case("public") || visibility == "pub" {
            *s.public.entry(n.node_type.to_string()).or_default() += 1;
            s.public_nodes.push(v);
        }
    }
    let mut out: Vec<ModuleSurface> = by_module.into_values().filter(|s| s.public_total() > 0).collect();
    out.sort_by(|a, b| b.public_total().cmp(&a.public_total()).then_with(|| a.module.cmp(&b.module)));
    out
}

/// Findings for the widest `top` modules; recommendations for those above `max_public`.
pub fn report(graph: &CodeGraph<'_>, top: usize, max_public: usize) -> Report {
    if !graph.nodes.iter().any(|n| n.get("visibility").is_some()) {
        return Report {
            findings: vec![Finding::new(
                &RULES[3],
                "no definition in the graph records a visibility (Parseltongue v1.7's server gives none): the public API cannot be measured"
                    .into(),
                Vec::new(),
            )],
            recommendations: Vec::new(),
            summary: "no visibility recorded".into(),
        };
    }
    let all = surfaces(graph);
    let total: usize = all.iter().map(ModuleSurface::public_total).sum();
    let items: usize = all.iter().map(|s| s.items).sum();
    let mut findings = vec![Finding::new(
        &RULES[0],
        format!("{total} public items (of {items} with a visibility) in {} modules", all.len()),
        Vec::new(),
    )];
    for s in all.iter().take(top) {
        let mut kinds: Vec<(&String, &usize)> = s.public.iter().collect();
        kinds.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let kinds: Vec<String> = kinds.iter().map(|(k, n)| format!("{n} {k}")).collect();
        findings.push(Finding::new(
            &RULES[1],
            format!("{}: {} public ({})", s.module, s.public_total(), kinds.join(", ")),
            s.public_nodes.iter().take(MAX_FINDING_NODES).map(|&v| v as u32).collect(),
        ));
    }
    if all.len() > top {
        findings.push(Finding::new(
            &RULES[2],
            format!("{} more modules with public items not listed", all.len() - top),
            Vec::new(),
        ));
    }
    let recommendations = all
        .iter()
        .filter(|s| s.public_total() > max_public)
        .map(|s| {
            format!(
                "{} exposes {} public items (more than {max_public}): make helpers pub(crate) or split the module",
                s.module,
                s.public_total()
            )
        })
        .collect();
    let summary = format!("{total} public items in {} modules", all.len());
    Report { findings, recommendations, summary }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fixtures::Owned;

    fn lib() -> Owned {
        Owned::new()
            .node("a", "function", &["visibility=public", "module=core::parse"])
            .node("b", "struct", &["visibility=Public", "module=core::parse"])
            .node("c", "function", &["visibility=private", "module=core::parse"])
            .node("d", "method", &["visibility=public", "module=core::parse"])
            .node("e", "function", &["visibility=public", "module=core"])
            .node("t", "function", &["visibility=public", "module=core::tests", "test=true"])
            .node("i", "impl", &["visibility=public", "module=core"])
            .node("x", "function", &["module=core"])
            .node("m", "external", &["visibility=public"])
    }

    #[test]
    fn counts_public_items_per_module_by_kind() {
        let o = lib();
        let s = surfaces(&o.graph());
        let got: Vec<(&str, usize, usize)> =
            s.iter().map(|m| (m.module.as_str(), m.public_total(), m.items)).collect();
        assert_eq!(got, [("core::parse", 3, 4), ("core", 1, 1)]);
        assert_eq!(s[0].public.get("function"), Some(&1));
    }

    #[test]
    fn a_graph_without_visibility_says_so_instead_of_counting_zero() {
        let o = Owned::new().node("f", "function", &["name=f", "module=m"]);
        let r = report(&o.graph(), 5, 20);
        assert_eq!(r.findings.len(), 1);
        assert!(
            r.findings[0].message.starts_with("no definition in the graph records a visibility"),
            "{:?}",
            r.findings
        );
    }

    #[test]
    fn report_lists_widest_first_and_recommends_over_threshold() {
        let o = lib();
        let r = report(&o.graph(), 1, 2);
        assert_eq!(r.findings[1].nodes, [0, 1, 3]);
        assert_eq!(
            r.messages(),
            [
                "4 public items (of 5 with a visibility) in 2 modules",
                "core::parse: 3 public (1 function, 1 method, 1 struct)",
                "1 more modules with public items not listed",
            ]
        );
        assert_eq!(r.recommendations.len(), 1);
        assert!(r.recommendations[0].starts_with("core::parse exposes 3"));
    }
}
