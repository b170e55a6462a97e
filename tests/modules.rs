//! The module structure, checked over the `use` paths of `src/` (ARCHITECTURE.md, "Layers"):
//!
//! - **no import cycles between files**: no file imports a file that imports it back, directly
//!   or through others;
//! - **layers only look down**: contract → graph → policy → sandbox → observe → runtime →
//!   distribution → live → results → sdk → harness; `error.rs` and `files.rs` are the foundation every layer may
//!   use, `lib.rs` only re-exports. The CLI (`src/bin/ptplugin`) is its own crate over the
//!   library's public API and is checked for cycles on its own.
//!
//! Paths are resolved as the compiler would for this crate's style: `crate::`, `super::`,
//! `self::` and child-module paths, through `use` aliases and re-exports (`pub use` in a `mod.rs`
//! or `lib.rs` leads to the file that defines the item). A module declaration (`mod x;`) is
//! containment, not an import. Test code (`#[cfg(test)]`, `tests.rs`) is left out: tests may
//! reach up. `cargo test --test modules -- --nocapture` prints the file graph by layer.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use syn::visit::Visit;

/// The library's layers, lowest first: a file may import files of its own layer or lower ones.
const LAYERS: &[&str] = &[
    "foundation",
    "contract",
    "graph",
    "policy",
    "sandbox",
    "observe",
    "runtime",
    "distribution",
    "live",
    "results",
    "sdk",
    "harness",
    "lib",
];

type ModPath = Vec<String>;

/// One source file: its module path and what it brings into scope or refers to.
#[derive(Default)]
struct FileInfo {
    /// Top-level items defined here (including inline modules' names).
    defined: BTreeSet<String>,
    /// Top-level `use` names → the absolute path they stand for.
    imports: HashMap<String, ModPath>,
    /// Top-level glob imports.
    globs: Vec<ModPath>,
    /// Every absolute path this file mentions (uses and expression/type paths).
    refs: Vec<ModPath>,
}

struct Crate {
    root: PathBuf,
    /// Module path → file.
    modules: BTreeMap<ModPath, PathBuf>,
    files: BTreeMap<PathBuf, FileInfo>,
    /// File → module path.
    paths: BTreeMap<PathBuf, ModPath>,
}

fn has_cfg_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg") && a.meta.require_list().is_ok_and(|l| l.tokens.to_string() == "test")
    })
}

impl Crate {
    /// Reads the crate rooted at `root_file` (`src/lib.rs` or a binary's `main.rs`); `skip` are
    /// directories below it that belong to other crates.
    fn read(root_file: &Path, skip: &[&Path]) -> Crate {
        let root = root_file.parent().unwrap().to_path_buf();
        let mut krate = Crate {
            root: root.clone(),
            modules: BTreeMap::new(),
            files: BTreeMap::new(),
            paths: BTreeMap::new(),
        };
        krate.load(root_file.to_path_buf(), vec!["crate".into()], skip);
        krate
    }

    fn load(&mut self, file: PathBuf, path: ModPath, skip: &[&Path]) {
        let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let ast = syn::parse_file(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        self.modules.insert(path.clone(), file.clone());
        self.paths.insert(file.clone(), path.clone());
        // Where this module's child files live.
        let dir = if file.file_name().is_some_and(|n| n == "mod.rs" || n == "lib.rs" || n == "main.rs") {
            file.parent().unwrap().to_path_buf()
        } else {
            file.with_extension("")
        };
        let mut info = FileInfo::default();
        for item in &ast.items {
            if let syn::Item::Mod(m) = item {
                let name = m.ident.to_string();
                info.defined.insert(name.clone());
                if m.content.is_none() && !has_cfg_test(&m.attrs) {
                    let mut child = path.clone();
                    child.push(name.clone());
                    let candidates = [dir.join(format!("{name}.rs")), dir.join(&name).join("mod.rs")];
                    let found = candidates
                        .iter()
                        .find(|c| c.exists())
                        .cloned()
                        .unwrap_or_else(|| panic!("{}: module {name} has no file", file.display()));
                    if !skip.iter().any(|s| found.starts_with(s)) {
                        self.load(found, child, skip);
                    }
                }
            }
        }
        let mut visitor = Collector { info: &mut info, scope: path.clone(), depth: 0 };
        visitor.visit_file(&ast);
        self.files.insert(file, info);
    }

    fn is_module(&self, path: &[String]) -> bool {
        self.modules.contains_key(path)
    }

    /// The file that defines what `path` names, following re-exports.
    fn resolve(&self, path: &[String], seen: &mut BTreeSet<ModPath>) -> Option<PathBuf> {
        if !seen.insert(path.to_vec()) {
            return None;
        }
        let split = (1..=path.len()).rev().find(|&n| self.is_module(&path[..n]))?;
        let module = &path[..split];
        let file = &self.modules[module];
        let Some(name) = path.get(split) else {
            return Some(file.clone()); // the module itself
        };
        let info = &self.files[file];
        if info.defined.contains(name) {
            return Some(file.clone());
        }
        if let Some(target) = info.imports.get(name) {
            let mut next = target.clone();
            next.extend_from_slice(&path[split + 1..]);
            return self.resolve(&next, seen);
        }
        for glob in &info.globs {
            let mut next = glob.clone();
            next.extend_from_slice(&path[split..]);
            if let Some(found) = self.resolve(&next, seen) {
                return Some(found);
            }
        }
        Some(file.clone()) // generated by a macro, or a method path: defined here
    }

    /// File → the files it imports (itself left out).
    fn edges(&self) -> BTreeMap<PathBuf, BTreeSet<PathBuf>> {
        let mut edges = BTreeMap::new();
        for (file, info) in &self.files {
            if file.file_name().is_some_and(|n| n == "tests.rs") {
                continue;
            }
            let targets: BTreeSet<PathBuf> = info
                .refs
                .iter()
                .filter_map(|r| self.resolve(r, &mut BTreeSet::new()))
                .filter(|t| t != file && t.file_name().is_none_or(|n| n != "tests.rs"))
                .collect();
            edges.insert(file.clone(), targets);
        }
        edges
    }

    fn name(&self, file: &Path) -> String {
        file.strip_prefix(&self.root).unwrap_or(file).display().to_string()
    }
}

/// Collects definitions, imports and absolute paths from one file.
struct Collector<'a> {
    info: &'a mut FileInfo,
    /// The module the visitor is in (inline modules push onto it).
    scope: ModPath,
    /// 0 at the file's top level.
    depth: usize,
}

impl Collector<'_> {
    /// Makes a path absolute, or `None` for paths into other crates and local names.
    fn absolute(&self, segments: &[String]) -> Option<ModPath> {
        let first = segments.first()?;
        let mut base = match first.as_str() {
            "crate" => return Some(segments.to_vec()),
            "self" => self.scope.clone(),
            "super" => {
                let mut base = self.scope.clone();
                let mut rest = segments;
                while rest.first().is_some_and(|s| s == "super") {
                    base.pop();
                    rest = &rest[1..];
                }
                base.extend_from_slice(rest);
                return Some(base);
            }
            _ => {
                // A name imported at the top level, or a child module of this one.
                if let Some(target) = self.info.imports.get(first) {
                    let mut path = target.clone();
                    path.extend_from_slice(&segments[1..]);
                    return Some(path);
                }
                if self.info.defined.contains(first) {
                    let mut path = self.scope.clone();
                    path.extend_from_slice(segments);
                    return Some(path);
                }
                return None;
            }
        };
        base.extend_from_slice(&segments[1..]);
        Some(base)
    }

    fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.use_tree(prefix, &p.tree);
                prefix.pop();
            }
            syn::UseTree::Name(n) => self.add_use(prefix, &n.ident.to_string(), &n.ident.to_string()),
            syn::UseTree::Rename(r) => self.add_use(prefix, &r.ident.to_string(), &r.rename.to_string()),
            syn::UseTree::Glob(_) => {
                if let Some(path) = self.absolute(prefix) {
                    if self.depth == 0 {
                        self.info.globs.push(path.clone());
                    }
                    self.info.refs.push(path);
                }
            }
            syn::UseTree::Group(g) => {
                for tree in &g.items {
                    self.use_tree(prefix, tree);
                }
            }
        }
    }

    fn add_use(&mut self, prefix: &[String], name: &str, alias: &str) {
        let mut full = prefix.to_vec();
        if name != "self" {
            full.push(name.to_string());
        }
        let alias =
            if name == "self" && alias == "self" { prefix.last().cloned() } else { Some(alias.to_string()) };
        if let Some(path) = self.absolute(&full) {
            if self.depth == 0
                && let Some(alias) = alias
            {
                self.info.imports.insert(alias, path.clone());
            }
            self.info.refs.push(path);
        }
    }
}

impl<'ast> Visit<'ast> for Collector<'_> {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        let attrs: &[syn::Attribute] = match item {
            syn::Item::Mod(m) => &m.attrs,
            syn::Item::Fn(f) => &f.attrs,
            syn::Item::Impl(i) => &i.attrs,
            syn::Item::Use(u) => &u.attrs,
            syn::Item::Struct(s) => &s.attrs,
            syn::Item::Enum(e) => &e.attrs,
            syn::Item::Const(c) => &c.attrs,
            _ => &[],
        };
        if has_cfg_test(attrs) {
            return;
        }
        if self.depth == 0 {
            let ident = match item {
                syn::Item::Const(i) => Some(&i.ident),
                syn::Item::Enum(i) => Some(&i.ident),
                syn::Item::Fn(i) => Some(&i.sig.ident),
                syn::Item::Macro(i) => i.ident.as_ref(),
                syn::Item::Mod(i) => Some(&i.ident),
                syn::Item::Static(i) => Some(&i.ident),
                syn::Item::Struct(i) => Some(&i.ident),
                syn::Item::Trait(i) => Some(&i.ident),
                syn::Item::Type(i) => Some(&i.ident),
                syn::Item::Union(i) => Some(&i.ident),
                _ => None,
            };
            if let Some(ident) = ident {
                self.info.defined.insert(ident.to_string());
            }
        }
        match item {
            syn::Item::Use(u) => self.use_tree(&mut Vec::new(), &u.tree),
            syn::Item::Mod(m) if m.content.is_some() => {
                self.scope.push(m.ident.to_string());
                self.depth += 1;
                syn::visit::visit_item_mod(self, m);
                self.depth -= 1;
                self.scope.pop();
            }
            syn::Item::Fn(_) | syn::Item::Impl(_) | syn::Item::Trait(_) => {
                self.depth += 1;
                syn::visit::visit_item(self, item);
                self.depth -= 1;
            }
            _ => syn::visit::visit_item(self, item),
        }
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        if path.leading_colon.is_none()
            && segments.len() > 1
            && let Some(abs) = self.absolute(&segments)
        {
            self.info.refs.push(abs);
        }
        syn::visit::visit_path(self, path);
    }
}

/// Every cycle's files (strongly connected components of more than one file).
fn cycles(edges: &BTreeMap<PathBuf, BTreeSet<PathBuf>>) -> Vec<Vec<PathBuf>> {
    // Tarjan's algorithm, recursive: the graph has tens of files.
    struct State<'a> {
        edges: &'a BTreeMap<PathBuf, BTreeSet<PathBuf>>,
        index: HashMap<&'a PathBuf, usize>,
        low: HashMap<&'a PathBuf, usize>,
        stack: Vec<&'a PathBuf>,
        on_stack: BTreeSet<&'a PathBuf>,
        found: Vec<Vec<PathBuf>>,
    }
    fn connect<'a>(s: &mut State<'a>, v: &'a PathBuf) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on_stack.insert(v);
        for w in s.edges.get(v).into_iter().flatten() {
            if !s.edges.contains_key(w) {
                continue;
            }
            if !s.index.contains_key(w) {
                connect(s, w);
                let low = s.low[v].min(s.low[w]);
                s.low.insert(v, low);
            } else if s.on_stack.contains(w) {
                let low = s.low[v].min(s.index[w]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            loop {
                let w = s.stack.pop().unwrap();
                s.on_stack.remove(w);
                component.push(w.clone());
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                s.found.push(component);
            }
        }
    }
    let mut s = State {
        edges,
        index: HashMap::new(),
        low: HashMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for v in edges.keys() {
        if !s.index.contains_key(v) {
            connect(&mut s, v);
        }
    }
    s.found
}

/// The layer of a library file, from its place in `src/`.
fn layer(krate: &Crate, file: &Path) -> usize {
    let rel = file.strip_prefix(&krate.root).unwrap();
    let first = rel.components().next().unwrap().as_os_str().to_string_lossy().into_owned();
    let name = match first.as_str() {
        "error.rs" | "files.rs" => "foundation",
        "lib.rs" => "lib",
        other => other.strip_suffix(".rs").unwrap_or(other),
    };
    LAYERS
        .iter()
        .position(|l| *l == name)
        .unwrap_or_else(|| panic!("{}: not in a layer folder ({LAYERS:?})", rel.display()))
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Each cycle's files, then the imports that tie them together.
fn describe_cycles(
    krate: &Crate,
    edges: &BTreeMap<PathBuf, BTreeSet<PathBuf>>,
    found: &[Vec<PathBuf>],
) -> String {
    let mut out = Vec::new();
    for component in found {
        out.push(component.iter().map(|f| krate.name(f)).collect::<Vec<_>>().join(" ↔ "));
        for from in component {
            for to in edges[from].iter().filter(|t| component.contains(t)) {
                out.push(format!("    {} → {}", krate.name(from), krate.name(to)));
            }
        }
    }
    out.join("\n")
}

#[test]
fn the_library_has_no_import_cycles_and_its_layers_only_look_down() {
    let krate = Crate::read(&src().join("lib.rs"), &[&src().join("bin")]);
    let edges = krate.edges();
    let found = cycles(&edges);
    println!(
        "{} files, {} imports between them, {} cycles",
        edges.len(),
        edges.values().map(BTreeSet::len).sum::<usize>(),
        found.len()
    );
    assert!(found.is_empty(), "import cycles between files:\n{}", describe_cycles(&krate, &edges, &found));

    let mut by_layer: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    let mut upward = Vec::new();
    for (file, targets) in &edges {
        let from = layer(&krate, file);
        let above: BTreeSet<&str> =
            targets.iter().map(|t| layer(&krate, t)).filter(|&to| to != from).map(|to| LAYERS[to]).collect();
        by_layer.entry(from).or_default().push(format!(
            "  {:<40} → {}",
            krate.name(file),
            if above.is_empty() { "-".to_string() } else { above.into_iter().collect::<Vec<_>>().join(", ") }
        ));
        for t in targets {
            let to = layer(&krate, t);
            if to > from && LAYERS[from] != "lib" {
                upward.push(format!(
                    "{} ({}) imports {} ({})",
                    krate.name(file),
                    LAYERS[from],
                    krate.name(t),
                    LAYERS[to]
                ));
            }
        }
    }
    for (layer, lines) in &by_layer {
        println!("{} — {} files, importing from other layers:", LAYERS[*layer], lines.len());
        for line in lines {
            println!("{line}");
        }
    }
    assert!(upward.is_empty(), "lower layers importing higher ones:\n{}", upward.join("\n"));
}

#[test]
fn the_cli_has_no_import_cycles() {
    let krate = Crate::read(&src().join("bin/ptplugin/main.rs"), &[]);
    let edges = krate.edges();
    let found = cycles(&edges);
    println!("ptplugin: {} files, {} cycles", edges.len(), found.len());
    assert!(found.is_empty(), "import cycles between files:\n{}", describe_cycles(&krate, &edges, &found));
}

/// The checker finds what it is for: a cycle through a re-export, and an import upward.
#[test]
fn the_check_sees_cycles_through_re_exports() {
    let dir = tempfile::tempdir().unwrap();
    let write = |rel: &str, text: &str| {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write("lib.rs", "mod a; mod b; pub use a::A;");
    write("a/mod.rs", "mod inner; pub use inner::A;");
    write("a/inner.rs", "pub struct A(crate::b::B);");
    write("b.rs", "pub struct B; fn f() -> Option<crate::A> { None }");
    let krate = Crate::read(&dir.path().join("lib.rs"), &[]);
    let edges = krate.edges();
    let found = cycles(&edges);
    assert_eq!(
        describe_cycles(&krate, &edges, &found),
        "a/inner.rs ↔ b.rs\n    a/inner.rs → b.rs\n    b.rs → a/inner.rs"
    );

    write("b.rs", "pub struct B; fn f() {}");
    let krate = Crate::read(&dir.path().join("lib.rs"), &[]);
    assert!(cycles(&krate.edges()).is_empty());
}
