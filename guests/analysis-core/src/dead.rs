//! Dead-code candidates: definitions nothing in the graph uses. Not proof — code can be reached
//! by macros, reflection-like registration, other crates or a trait's dynamic dispatch — so
//! the likely false positives are set apart: entry points (`main`), test code, methods of trait
//! implementations (called through the trait), and names some ambiguous call may mean.

use std::collections::HashSet;

use crate::model::CodeGraph;
use crate::report::{Finding, Report, Rule, Severity};

/// What `dead-code` reports.
pub const RULES: [Rule; 5] = [
    Rule {
        id: "dead-code.unused",
        summary: "a definition nothing in the graph calls, uses or imports",
        severity: Severity::Warning,
        help: "delete it, or document why it stays (public API, called by macros or other crates)",
    },
    Rule {
        id: "dead-code.unused-or-test",
        summary: "nothing uses it, or it is a test whose file's entities the graph lacks",
        severity: Severity::Note,
        help: "check whether it is a test; if not, treat it as unused",
    },
    Rule {
        id: "dead-code.test-only",
        summary: "a definition only tests use",
        severity: Severity::Note,
        help: "move it under #[cfg(test)] or find the production caller that is missing",
    },
    Rule {
        id: "dead-code.maybe-used",
        summary: "unused unless an ambiguous call by the same name means it",
        severity: Severity::Note,
        help: "check the ambiguous calls by this name",
    },
    Rule {
        id: "dead-code.unlisted",
        summary: "more candidates than the plugin lists (max-findings)",
        severity: Severity::Note,
        help: "raise max-findings to see them all",
    },
];

/// Why a definition is listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    /// Nothing uses it.
    Unused,
    /// Nothing uses it, but it is a free function known only from its own edges: Parseltongue
    /// leaves the entities of files with tests out of its export, and gives no attributes, so
    /// it may be a `#[test]` in a `mod tests`.
    PossiblyTest,
    /// Only test code uses it.
    TestOnly,
    /// Nothing certain uses it, but a call by an ambiguous name may mean it.
    MaybeUsed,
}

/// Node kinds that are code one could delete.
fn deletable(node_type: &str) -> bool {
    matches!(
        node_type,
        "function" | "fn" | "method" | "struct" | "enum" | "trait" | "type" | "const" | "static" | "class"
    )
}

/// Names a language's runtime calls without a call in the source: entry points (`main`, Go's
/// `init`), Python's special methods (`__init__`, `__str__`, …), JavaScript constructors.
fn called_implicitly(name: &str) -> bool {
    matches!(name, "main" | "init" | "constructor")
        || (name.len() > 4 && name.starts_with("__") && name.ends_with("__"))
}

/// Every candidate with its verdict, in graph order.
pub fn candidates(graph: &CodeGraph<'_>) -> Vec<(usize, Verdict)> {
    let maybe: HashSet<&str> =
        graph.nodes.iter().filter(|n| n.node_type == "ambiguous").map(|n| n.name()).collect();
    let trait_impl_methods = trait_impl_methods(graph);
    let mut out = Vec::new();
    for (v, n) in graph.nodes.iter().enumerate() {
        if !deletable(n.node_type)
            || n.is_test()
            || called_implicitly(n.name())
            || trait_impl_methods.contains(&v)
        {
            continue;
        }
        let users: Vec<usize> = graph.predecessors(v).iter().map(|(s, _)| *s).filter(|&s| s != v).collect();
        let verdict = if users.iter().any(|&s| !graph.nodes[s].is_test()) {
            continue;
        } else if !users.is_empty() {
            Verdict::TestOnly
        } else if maybe.contains(n.name()) {
            Verdict::MaybeUsed
        } else if n.get("origin") == Some("edge-endpoint") && n.node_type != "method" {
            Verdict::PossiblyTest
        } else {
            Verdict::Unused
        };
        out.push((v, verdict));
    }
    out
}

/// Methods inside `impl` blocks that implement a trait (the block has an `Implements` edge).
fn trait_impl_methods(graph: &CodeGraph<'_>) -> HashSet<usize> {
    (0..graph.len())
        .filter(|&v| {
            graph
                .owner(v)
                .is_some_and(|block| graph.successors(block).iter().any(|(_, t)| *t == "Implements"))
        })
        .collect()
}

/// Findings, unused first, at most `max` listed.
pub fn report(graph: &CodeGraph<'_>, max: usize) -> Report {
    let mut found = candidates(graph);
    found.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| graph.nodes[a.0].id.cmp(graph.nodes[b.0].id)));
    let count = |which: Verdict| found.iter().filter(|(_, v)| *v == which).count();
    let (unused, test_only, maybe) =
        (count(Verdict::Unused), count(Verdict::TestOnly), count(Verdict::MaybeUsed));
    let possibly_test = count(Verdict::PossiblyTest);
    let mut findings: Vec<Finding> = found
        .iter()
        .take(max)
        .map(|&(v, verdict)| {
            let n = &graph.nodes[v];
            let why = match verdict {
                Verdict::Unused if n.is_callable() => "nothing in the graph calls it".to_string(),
                Verdict::Unused => {
                    "nothing calls or imports it (the graph has no edges for mentions in types)".to_string()
                }
                Verdict::TestOnly => "used only by tests".to_string(),
                Verdict::MaybeUsed => format!("unused unless an ambiguous call to `{}` means it", n.name()),
                Verdict::PossiblyTest => {
                    "nothing uses it (or it is a #[test]: its file's entities are not exported)".to_string()
                }
            };
            let rule = match verdict {
                Verdict::Unused => &RULES[0],
                Verdict::PossiblyTest => &RULES[1],
                Verdict::TestOnly => &RULES[2],
                Verdict::MaybeUsed => &RULES[3],
            };
            Finding::new(
                rule,
                format!("{} `{}`: {why}", n.node_type, graph.qualified_name(v)),
                vec![v as u32],
            )
        })
        .collect();
    if found.len() > max {
        findings.push(Finding::new(
            &RULES[4],
            format!("{} more candidates not listed (max-findings = {max})", found.len() - max),
            Vec::new(),
        ));
    }
    let mut recommendations = Vec::new();
    if unused > 0 {
        recommendations.push(format!(
            "review the {unused} unused definitions: delete them, or document why they stay (public API, called by macros or other crates)"
        ));
    }
    if test_only > 0 {
        recommendations.push(format!(
            "{test_only} definitions are used only by tests: move them under #[cfg(test)] or find the production caller that is missing"
        ));
    }
    let summary = format!(
        "{unused} unused, {possibly_test} unused or tests, {test_only} test-only, {maybe} maybe used via ambiguous names"
    );
    Report { findings, recommendations, summary }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fixtures::Owned;

    #[test]
    fn what_a_runtime_calls_is_not_dead() {
        let o = Owned::new()
            .node("py-init", "method", &["name=__init__", "file=app/models.py"])
            .node("go-init", "function", &["name=init", "file=cmd/main.go"])
            .node("js-ctor", "method", &["name=constructor", "file=web/view.js"])
            .node("orphan", "function", &["name=orphan", "file=app/models.py"]);
        let found: Vec<usize> = candidates(&o.graph()).into_iter().map(|(v, _)| v).collect();
        assert_eq!(found, [3]);
    }

    fn program() -> Owned {
        Owned::new()
            .node("main", "function", &[])
            .node("run", "function", &[])
            .node("orphan", "function", &[])
            .node("helper", "function", &[])
            .node("test_helper", "function", &["test=true"])
            .node("Config", "struct", &[])
            .node("Unused", "struct", &[])
            .node("new", "method", &["file=a.rs", "line_start=5", "line_end=6"])
            .node("fmt", "method", &["file=a.rs", "line_start=21", "line_end=25"])
            .node("impl-display", "impl", &["file=a.rs", "line_start=20", "line_end=30"])
            .node("Display", "external", &[])
            .node("amb-new", "ambiguous", &["name=new"])
            .node("recursive", "function", &[])
            .node("check_it", "function", &["origin=edge-endpoint"])
            .edge("main", "run", "Calls")
            .edge("run", "Config", "Uses")
            .edge("run", "amb-new", "Calls")
            .edge("test_helper", "helper", "Calls")
            .edge("impl-display", "Display", "Implements")
            .edge("recursive", "recursive", "Calls")
    }

    #[test]
    fn verdicts_set_likely_false_positives_apart() {
        let o = program();
        let g = o.graph();
        let got: Vec<(&str, Verdict)> = candidates(&g).into_iter().map(|(v, d)| (g.nodes[v].id, d)).collect();
        assert_eq!(
            got,
            [
                ("orphan", Verdict::Unused),
                ("helper", Verdict::TestOnly),
                ("Unused", Verdict::Unused),
                ("new", Verdict::MaybeUsed),
                ("recursive", Verdict::Unused),
                ("check_it", Verdict::PossiblyTest),
            ],
            "main, run, Config, tests and the Display impl's fmt are not candidates"
        );
    }

    #[test]
    fn report_lists_unused_first_and_caps() {
        let o = program();
        let r = report(&o.graph(), 2);
        assert_eq!((r.findings[0].rule, r.findings[0].nodes.as_slice()), ("dead-code.unused", &[6][..]));
        assert_eq!(
            r.messages(),
            [
                "struct `Unused`: nothing calls or imports it (the graph has no edges for mentions in types)",
                "function `orphan`: nothing in the graph calls it",
                "4 more candidates not listed (max-findings = 2)",
            ]
        );
        assert_eq!(r.summary, "3 unused, 1 unused or tests, 1 test-only, 1 maybe used via ambiguous names");
        assert_eq!(r.recommendations.len(), 2);
    }
}
