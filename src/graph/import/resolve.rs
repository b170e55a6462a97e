//! Name resolution for edge targets that Parseltongue records by name only.
//!
//! Every `Calls` and `Implements` target in a real export is `rust:fn:NAME:unknown:0-0` and every
//! `Uses` target `rust:module:NAME:0-0`. A target resolves to a definition of that name known to
//! the import (an entity, or a definition seen only as an edge source), preferring, when several
//! share the name, the one in the caller's file, then the one in the caller's crate. Anything else
//! is ambiguous (several equally likely) or external (no definition: std or a dependency).

use rustc_hash::FxHashMap;

use serde::Serialize;

/// How a by-name target was resolved. Recorded in the import statistics, and on the synthetic
/// node of an unresolved target as its `resolution` metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Resolution {
    /// Exactly one definition carries the name.
    Unique,
    /// Several do; exactly one is in the caller's file.
    SameFile,
    /// Several do; none in the caller's file, exactly one in the caller's crate.
    SameCrate,
    /// The reference names the crate (a v1.7 `external-dependency-CRATE` of a crate in the
    /// graph) and exactly one definition there carries the name.
    NamedCrate,
    /// Several do and nothing tells them apart.
    Ambiguous,
    /// None does: a standard-library or third-party item, or code the export left out.
    External,
}

impl Resolution {
    /// The stable word used in metadata and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Resolution::Unique => "unique",
            Resolution::SameFile => "same-file",
            Resolution::SameCrate => "same-crate",
            Resolution::NamedCrate => "named-crate",
            Resolution::Ambiguous => "ambiguous",
            Resolution::External => "external",
        }
    }
}

/// Where a definition lives, for telling same-named definitions apart.
#[derive(Debug, Clone)]
pub(crate) struct Site {
    pub file: Option<String>,
    /// The crate or package (see [`super::language::place`]).
    pub krate: Option<String>,
    /// The language family ([`super::language::family`]): a name never resolves across families.
    pub lang: Option<String>,
}

impl Site {
    /// Nowhere in particular.
    pub const NONE: Site = Site { file: None, krate: None, lang: None };

    fn same_language(&self, other: &Site) -> bool {
        match (&self.lang, &other.lang) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        }
    }
}

/// Definitions by name, with their node index, node type and site.
#[derive(Default)]
pub(crate) struct NameIndex {
    by_name: FxHashMap<String, Vec<(usize, String, Site)>>,
}

/// What a lookup found.
pub(crate) enum Found {
    One(usize, Resolution),
    Many(Vec<usize>),
    None,
}

impl NameIndex {
    pub fn add(&mut self, name: &str, node: usize, node_type: &str, site: Site) {
        self.by_name.entry(name.to_string()).or_default().push((node, node_type.to_string(), site));
    }

    /// Looks `name` up among definitions whose node type `accepts`, from the caller `caller`
    /// (called `caller_name`) at `from`. When several share the name, locality does not decide
    /// a call to the caller's own name: `new` calling `Other::new` is far more common than `new`
    /// calling itself or its neighbour `new`.
    pub fn resolve(
        &self,
        name: &str,
        accepts: impl Fn(&str) -> bool,
        caller: usize,
        caller_name: &str,
        from: &Site,
    ) -> Found {
        let Some(all) = self.by_name.get(name) else { return Found::None };
        let candidates: Vec<&(usize, String, Site)> =
            all.iter().filter(|(_, t, site)| accepts(t) && site.same_language(from)).collect();
        match candidates.as_slice() {
            [] => return Found::None,
            // `x.clone()` is any type's clone: the one in the graph is a candidate, no more.
            [(node, t, _)] if t == "method" && STANDARD_TRAIT_METHODS.contains(&name) => {
                return Found::Many(vec![*node]);
            }
            [(node, ..)] => return Found::One(*node, Resolution::Unique),
            _ if caller_name == name => {
                return Found::Many(candidates.iter().map(|(node, ..)| *node).collect());
            }
            _ => {}
        }
        let narrowed = |same: &dyn Fn(&Site) -> bool| -> Option<usize> {
            let mut hits = candidates.iter().filter(|(node, _, site)| *node != caller && same(site));
            match (hits.next(), hits.next()) {
                (Some((node, ..)), None) => Some(*node),
                _ => None,
            }
        };
        if from.file.is_some()
            && let Some(node) = narrowed(&|s: &Site| s.file == from.file)
        {
            return Found::One(node, Resolution::SameFile);
        }
        if from.krate.is_some()
            && let Some(node) = narrowed(&|s: &Site| s.krate == from.krate)
        {
            return Found::One(node, Resolution::SameCrate);
        }
        Found::Many(candidates.iter().map(|(node, ..)| *node).collect())
    }
}

impl NameIndex {
    /// Looks `name` up among the definitions in `package` only (an import that names its crate).
    pub fn resolve_in(&self, name: &str, accepts: impl Fn(&str) -> bool, package: &str) -> Found {
        let Some(all) = self.by_name.get(name) else { return Found::None };
        let hits: Vec<usize> = all
            .iter()
            .filter(|(_, t, site)| accepts(t) && site.krate.as_deref() == Some(package))
            .map(|(node, ..)| *node)
            .collect();
        match hits.as_slice() {
            [] => Found::None,
            [one] => Found::One(*one, Resolution::NamedCrate),
            _ => Found::Many(hits),
        }
    }
}

/// Methods of the standard traits and interfaces every type may implement (Rust's `Clone`,
/// `Display`, `Iterator`, `From`…; Java's and JavaScript's `toString`/`equals`/`hashCode`; Go's
/// `Stringer` and `error`). A call by one of these names is far more often to a library type's
/// implementation than to the one definition of it in the graph, so a lone candidate is not a
/// resolution: the target is `ambiguous` (with that one candidate).
const STANDARD_TRAIT_METHODS: &[&str] = &[
    "clone",
    "to_string",
    "fmt",
    "eq",
    "ne",
    "next",
    "default",
    "from",
    "into",
    "try_from",
    "try_into",
    "from_str",
    "drop",
    "deref",
    "deref_mut",
    "as_ref",
    "as_mut",
    "hash",
    "cmp",
    "partial_cmp",
    "toString",
    "equals",
    "hashCode",
    "String",
    "Error",
];

/// Which node types an edge of `edge_type` may point at by name.
pub(crate) fn accepts(edge_type: &str) -> fn(&str) -> bool {
    match edge_type {
        "Calls" => |t| matches!(t, "function" | "fn" | "method"),
        "Implements" => |t| matches!(t, "trait" | "interface"),
        _ => |t| !matches!(t, "method" | "impl" | "file"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(file: &str, krate: &str) -> Site {
        Site { file: Some(file.into()), krate: Some(krate.into()), lang: Some("rust".into()) }
    }

    fn index() -> NameIndex {
        let mut ix = NameIndex::default();
        ix.add("parse", 0, "function", site("a/src/lib.rs", "a"));
        ix.add("new", 1, "method", site("a/src/lib.rs", "a"));
        ix.add("new", 2, "method", site("a/src/other.rs", "a"));
        ix.add("new", 3, "method", site("b/src/lib.rs", "b"));
        ix.add("Config", 4, "struct", site("b/src/lib.rs", "b"));
        ix
    }

    fn one(found: Found) -> (usize, Resolution) {
        match found {
            Found::One(n, r) => (n, r),
            _ => panic!("expected one"),
        }
    }

    #[test]
    fn prefers_unique_then_same_file_then_same_crate() {
        let ix = index();
        let calls = accepts("Calls");
        assert_eq!(
            one(ix.resolve("parse", calls, usize::MAX, "", &site("z/src/x.rs", "z"))),
            (0, Resolution::Unique)
        );
        assert_eq!(
            one(ix.resolve("new", calls, usize::MAX, "", &site("a/src/other.rs", "a"))),
            (2, Resolution::SameFile)
        );
        assert_eq!(
            one(ix.resolve("new", calls, usize::MAX, "", &site("b/src/main.rs", "b"))),
            (3, Resolution::SameCrate)
        );
        assert!(
            matches!(ix.resolve("new", calls, usize::MAX, "", &site("a/src/third.rs", "a")), Found::Many(v) if v == [1, 2, 3])
        );
        assert!(
            matches!(ix.resolve("new", calls, usize::MAX, "", &site("c/src/x.rs", "c")), Found::Many(v) if v.len() == 3)
        );
        assert!(matches!(
            ix.resolve("unwrap", calls, usize::MAX, "", &site("a/src/lib.rs", "a")),
            Found::None
        ));
    }

    #[test]
    fn a_caller_is_not_its_own_local_match() {
        let ix = index();
        // A caller never picks itself by locality.
        assert_eq!(
            one(ix.resolve("new", accepts("Calls"), 1, "other", &site("a/src/lib.rs", "a"))),
            (2, Resolution::SameCrate)
        );
        // `new` calling `new`: some other type's, nothing says which.
        assert!(matches!(
            ix.resolve("new", accepts("Calls"), 1, "new", &site("a/src/lib.rs", "a")),
            Found::Many(_)
        ));
        // A unique name may still be a recursive call.
        assert_eq!(
            one(ix.resolve("parse", accepts("Calls"), 0, "parse", &site("a/src/lib.rs", "a"))),
            (0, Resolution::Unique)
        );
    }

    #[test]
    fn a_lone_standard_trait_method_is_only_a_candidate() {
        let mut ix = NameIndex::default();
        ix.add("clone", 7, "method", site("a/src/error.rs", "a"));
        ix.add("clone_all", 8, "function", site("a/src/lib.rs", "a"));
        assert!(matches!(
            ix.resolve("clone", accepts("Calls"), usize::MAX, "", &site("a/src/lib.rs", "a")),
            Found::Many(v) if v == [7]
        ));
        assert_eq!(
            one(ix.resolve("clone_all", accepts("Calls"), usize::MAX, "", &site("a/src/x.rs", "a"))),
            (8, Resolution::Unique)
        );
    }

    #[test]
    fn a_name_never_resolves_into_another_language() {
        let mut ix = index();
        let py = Site { lang: Some("python".into()), ..site("pkg/util.py", "pkg") };
        ix.add("parse", 9, "function", py.clone());
        // From Python, only the Python `parse`; from Rust, only the Rust one.
        assert_eq!(one(ix.resolve("parse", accepts("Calls"), usize::MAX, "", &py)), (9, Resolution::Unique));
        assert_eq!(
            one(ix.resolve("parse", accepts("Calls"), usize::MAX, "", &site("a/src/lib.rs", "a"))),
            (0, Resolution::Unique)
        );
        assert!(matches!(ix.resolve("Config", accepts("Uses"), usize::MAX, "", &py), Found::None));
    }

    #[test]
    fn edge_types_restrict_what_a_name_may_mean() {
        let ix = index();
        let from = site("a/src/lib.rs", "a");
        assert!(matches!(ix.resolve("Config", accepts("Calls"), usize::MAX, "", &from), Found::None));
        assert_eq!(
            one(ix.resolve("Config", accepts("Uses"), usize::MAX, "", &from)),
            (4, Resolution::Unique)
        );
        assert!(matches!(ix.resolve("new", accepts("Uses"), usize::MAX, "", &from), Found::None));
    }
}
