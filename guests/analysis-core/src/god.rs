//! God objects: types that gather too many methods, and functions that reach out to too many
//! others. Methods belong to the type of the `impl` block whose line range holds them
//! ([`CodeGraph::owner`]).

use std::collections::{BTreeMap, BTreeSet};

use crate::model::CodeGraph;
use crate::report::{Finding, MAX_FINDING_NODES, Report, Rule, Severity};

/// What `god-objects` reports.
pub const RULES: [Rule; 2] = [
    Rule {
        id: "god-object.methods",
        summary: "a type with more methods than the threshold (max-methods)",
        severity: Severity::Warning,
        help: "split it by responsibility: group methods that share fields into smaller types or traits",
    },
    Rule {
        id: "god-object.fan-out",
        summary: "a function calling more distinct functions than the threshold (max-fan-out)",
        severity: Severity::Warning,
        help: "break it into steps with one job each",
    },
];

/// Thresholds above which a finding is made.
#[derive(Debug, Clone, Copy)]
pub struct Thresholds {
    /// More methods than this on one type is a finding.
    pub max_methods: usize,
    /// More distinct callees than this from one function is a finding.
    pub max_fan_out: usize,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds { max_methods: 20, max_fan_out: 25 }
    }
}

/// A type and what it gathers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeSize {
    /// The type's name (the `impl` blocks' name).
    pub name: String,
    /// Methods inside its impl blocks.
    pub methods: usize,
    /// Its impl blocks.
    pub impls: usize,
    /// Traits it implements (targets of its impl blocks' `Implements` edges).
    pub traits: usize,
    /// Files its impl blocks are in.
    pub files: BTreeSet<String>,
    /// Its `impl` blocks (node indices).
    pub blocks: Vec<usize>,
}

/// Methods per type, largest first.
pub fn type_sizes(graph: &CodeGraph<'_>) -> Vec<TypeSize> {
    let mut sizes: BTreeMap<&str, TypeSize> = BTreeMap::new();
    for (v, n) in graph.nodes.iter().enumerate() {
        if n.node_type != "impl" || n.get("file").is_none() || n.lines().is_none() {
            continue;
        }
        let size = sizes.entry(n.name()).or_insert_with(|| TypeSize {
            name: n.name().to_string(),
            methods: 0,
            impls: 0,
            traits: 0,
            files: BTreeSet::new(),
            blocks: Vec::new(),
        });
        size.impls += 1;
        size.blocks.push(v);
        size.traits += graph.successors(v).iter().filter(|(_, t)| *t == "Implements").count();
        size.files.insert(n.get("file").unwrap_or_default().trim_start_matches("./").to_string());
    }
    for v in 0..graph.len() {
        if let Some(size) = graph.owner(v).and_then(|block| sizes.get_mut(graph.nodes[block].name())) {
            size.methods += 1;
        }
    }
    let mut sizes: Vec<TypeSize> = sizes.into_values().collect();
    sizes.sort_by(|a, b| b.methods.cmp(&a.methods).then_with(|| a.name.cmp(&b.name)));
    sizes
}

/// Distinct callees per callable, largest first: (node index, distinct callees, of which external).
pub fn fan_outs(graph: &CodeGraph<'_>) -> Vec<(usize, usize, usize)> {
    let mut out: Vec<(usize, usize, usize)> = (0..graph.len())
        .filter(|&v| graph.nodes[v].is_callable())
        .map(|v| {
            let mut callees: Vec<usize> =
                graph.successors(v).iter().filter(|(_, t)| *t == "Calls").map(|(c, _)| *c).collect();
            callees.sort_unstable();
            callees.dedup();
            let external = callees.iter().filter(|&&c| !graph.nodes[c].is_definition()).count();
            (v, callees.len(), external)
        })
        .collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| graph.nodes[a.0].id.cmp(graph.nodes[b.0].id)));
    out
}

/// Findings for every type and function over its threshold.
pub fn report(graph: &CodeGraph<'_>, limits: Thresholds) -> Report {
    let mut findings = Vec::new();
    let mut recommendations = Vec::new();
    let big_types: Vec<TypeSize> =
        type_sizes(graph).into_iter().filter(|t| t.methods > limits.max_methods).collect();
    for t in &big_types {
        findings.push(Finding::new(
            &RULES[0],
            format!(
                "type {}: {} methods in {} impl blocks ({} traits) across {} (threshold {})",
                t.name,
                t.methods,
                t.impls,
                t.traits,
                t.files.iter().cloned().collect::<Vec<_>>().join(", "),
                limits.max_methods
            ),
            t.blocks.iter().take(MAX_FINDING_NODES).map(|&b| b as u32).collect(),
        ));
    }
    let busy: Vec<(usize, usize, usize)> =
        fan_outs(graph).into_iter().filter(|(_, n, _)| *n > limits.max_fan_out).collect();
    for &(v, n, external) in &busy {
        let node = &graph.nodes[v];
        let test = if node.is_test() { ", test code" } else { "" };
        findings.push(Finding::new(
            &RULES[1],
            format!(
                "function `{}` calls {n} distinct functions ({external} outside the graph{test}) (threshold {})",
                graph.qualified_name(v),
                limits.max_fan_out
            ),
            vec![v as u32],
        ));
    }
    if let Some(t) = big_types.first() {
        recommendations.push(format!(
            "split {} ({} methods) by responsibility: group methods that share fields into smaller types or traits",
            t.name, t.methods
        ));
    }
    if let Some(&(v, n, _)) = busy.iter().find(|(v, ..)| !graph.nodes[*v].is_test()) {
        recommendations
            .push(format!("break {} (calls {n} functions) into steps with one job each", graph.label(v)));
    }
    let summary = format!("{} oversized types, {} functions with high fan-out", big_types.len(), busy.len());
    Report { findings, recommendations, summary }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fixtures::Owned;

    fn store() -> Owned {
        let mut o = Owned::new()
            .node(
                "impl-store",
                "impl",
                &["name=Store", "file=./src/store.rs", "line_start=10", "line_end=100"],
            )
            .node(
                "impl-store-display",
                "impl",
                &["name=Store", "file=./src/fmt.rs", "line_start=1", "line_end=20"],
            )
            .node(
                "impl-cfg",
                "impl",
                &["name=Config", "file=./src/store.rs", "line_start=200", "line_end=220"],
            )
            .node("Display", "external", &[])
            .edge("impl-store-display", "Display", "Implements");
        for i in 0..5 {
            let line = format!("line_start={}", 11 + i * 10);
            let end = format!("line_end={}", 15 + i * 10);
            o = o.node(&format!("store-m{i}"), "method", &["file=./src/store.rs", &line, &end]);
        }
        o = o.node("fmt", "method", &["file=./src/fmt.rs", "line_start=2", "line_end=5"]);
        o = o.node("cfg-new", "method", &["file=./src/store.rs", "line_start=201", "line_end=210"]);
        // A method outside every impl block belongs to no type.
        o = o.node("stray", "method", &["file=./src/store.rs", "line_start=150", "line_end=160"]);
        // A function calling 4 distinct functions (one twice, one outside the graph).
        o = o.node("main", "function", &[]).node("ext", "external", &[]);
        for callee in ["store-m0", "store-m1", "store-m1", "fmt", "ext"] {
            o = o.edge("main", callee, "Calls");
        }
        o
    }

    #[test]
    fn methods_belong_to_the_impl_block_that_holds_them() {
        let o = store();
        let sizes = type_sizes(&o.graph());
        let got: Vec<(&str, usize, usize, usize)> =
            sizes.iter().map(|t| (t.name.as_str(), t.methods, t.impls, t.traits)).collect();
        assert_eq!(got, [("Store", 6, 2, 1), ("Config", 1, 1, 0)]);
        assert_eq!(sizes[0].files.iter().collect::<Vec<_>>(), ["src/fmt.rs", "src/store.rs"]);
    }

    #[test]
    fn fan_out_counts_distinct_callees() {
        let o = store();
        let g = o.graph();
        let f = fan_outs(&g);
        assert_eq!((g.nodes[f[0].0].id, f[0].1, f[0].2), ("main", 4, 1));
    }

    #[test]
    fn only_what_passes_a_threshold_is_reported() {
        let o = store();
        let g = o.graph();
        let r = report(&g, Thresholds { max_methods: 5, max_fan_out: 3 });
        assert_eq!((r.findings[0].rule, r.findings[0].nodes.as_slice()), ("god-object.methods", &[0, 1][..]));
        assert_eq!(
            r.messages(),
            [
                "type Store: 6 methods in 2 impl blocks (1 traits) across src/fmt.rs, src/store.rs (threshold 5)",
                "function `main` calls 4 distinct functions (1 outside the graph) (threshold 3)",
            ]
        );
        assert_eq!(r.recommendations.len(), 2);
        assert!(report(&g, Thresholds::default()).findings.is_empty());
    }
}
