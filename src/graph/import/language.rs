//! Where a source file sits in its language's units, and what counts as test code there.
//!
//! Parseltongue v1.7 indexes twelve languages; the analyses group by `module` (module cycles,
//! API surface) and name resolution prefers the caller's `package` (a Rust crate, a Go or Java
//! package, a Python top-level package, a JavaScript directory). Each language spells those
//! differently, so each gets its rule here; none assumes Rust.

/// A language's family for name resolution: a JavaScript file may call a TypeScript function
/// and a C file a C++ one; a Python call never means a Rust function.
pub fn family(language: &str) -> &str {
    match language {
        "javascript" | "typescript" | "js" | "ts" => "javascript",
        "c" | "cpp" | "c++" => "c",
        other => other,
    }
}

/// The language of a file by its extension, for inputs that do not say (old exports).
pub fn of_file(file: &str) -> Option<&'static str> {
    let ext = file.rsplit_once('.').map(|(_, e)| e)?;
    Some(match ext {
        "rs" => "rust",
        "py" => "python",
        "js" | "jsx" | "mjs" | "cjs" => "javascript",
        "ts" | "tsx" => "typescript",
        "go" => "go",
        "java" => "java",
        "c" | "h" => "c",
        "cpp" | "cc" | "hpp" | "hh" | "cxx" => "cpp",
        "rb" => "ruby",
        "php" => "php",
        "cs" => "csharp",
        "swift" => "swift",
        _ => return None,
    })
}

/// The package and module of a source file in `language` (by extension when `None`):
///
/// | language | package | module |
/// |---|---|---|
/// | Rust | the crate (directory above `src/`) | `crate::path::to::file` |
/// | Python | the top-level package | `pkg.sub.file` (`__init__` names its package) |
/// | Go | the directory | the directory |
/// | Java | the package (directories under `src/main/java/` etc.) | the package |
/// | JavaScript / TypeScript, C / C++, others | the directory | the file without extension (`index` names its directory) |
pub fn place(file: &str, language: Option<&str>) -> (String, String) {
    let path = file.trim_start_matches("./").replace('\\', "/");
    // Unknown languages come from old exports, which are Rust.
    match language.or_else(|| of_file(&path)).map_or("rust", family) {
        "rust" => rust_place(&path),
        "python" => python_place(&path),
        "go" => {
            let dir = directory(&path);
            (dir.clone(), dir)
        }
        "java" => {
            let package = java_package(&path);
            (package.clone(), package)
        }
        _ => {
            let stem = path.rsplit_once('.').map_or(path.as_str(), |(stem, _)| stem);
            let stem = stem.strip_suffix("/index").unwrap_or(stem);
            (directory(&path), stem.to_string())
        }
    }
}

/// Test code: by the language's naming conventions for files and functions, or a `tests/`
/// (`test/`, `__tests__/`) directory.
pub fn is_test(file: &str, name: &str, language: Option<&str>) -> bool {
    let path = file.replace('\\', "/");
    let base = path.rsplit('/').next().unwrap_or(&path);
    let in_test_dir = ["tests", "test", "__tests__", "spec"]
        .iter()
        .any(|d| path.contains(&format!("/{d}/")) || path.starts_with(&format!("{d}/")));
    if in_test_dir {
        return true;
    }
    match language.or_else(|| of_file(&path)).map(family) {
        Some("rust") => {
            base == "tests.rs"
                || base.ends_with("_test.rs")
                || base.ends_with("_tests.rs")
                || name.starts_with("test_")
        }
        Some("python") => {
            base.starts_with("test_")
                || base.ends_with("_test.py")
                || base == "conftest.py"
                || name.starts_with("test_")
        }
        Some("go") => base.ends_with("_test.go"),
        Some("java") => base.ends_with("Test.java") || base.ends_with("Tests.java"),
        Some("javascript") => base.contains(".test.") || base.contains(".spec."),
        _ => name.starts_with("test_"),
    }
}

/// The directory of a path, `.` for a file at the top.
fn directory(path: &str) -> String {
    path.rsplit_once('/').map_or(".", |(dir, _)| dir).to_string()
}

/// The crate and Rust module path of a source file: `./crates/pt01-x/src/cli/args.rs` →
/// (`pt01_x`, `pt01_x::cli::args`); `lib.rs`, `main.rs` and `mod.rs` name their directory.
fn rust_place(path: &str) -> (String, String) {
    let (crate_dir, rest) = match path.rfind("/src/") {
        Some(i) => (&path[..i], &path[i + 5..]),
        None if path.starts_with("src/") => ("", &path[4..]),
        None => match path.rfind("/tests/") {
            Some(i) => (&path[..i], &path[i + 1..]),
            None => ("", path),
        },
    };
    let krate = crate_dir.rsplit('/').next().filter(|c| !c.is_empty()).unwrap_or("crate").replace('-', "_");
    let rest = rest.strip_suffix(".rs").unwrap_or(rest);
    let rest = rest.strip_suffix("/mod").unwrap_or(rest);
    let rest = if matches!(rest, "lib" | "main" | "mod") { "" } else { rest };
    let module =
        if rest.is_empty() { krate.clone() } else { format!("{krate}::{}", rest.replace('/', "::")) };
    (krate, module)
}

/// `src/pkg/sub/mod.py` → (`pkg`, `pkg.sub.mod`); `pkg/__init__.py` → (`pkg`, `pkg`).
fn python_place(path: &str) -> (String, String) {
    let path = path.strip_prefix("src/").unwrap_or(path);
    let stem = path.strip_suffix(".py").unwrap_or(path);
    let stem = stem.strip_suffix("/__init__").unwrap_or(stem);
    let module = stem.replace('/', ".");
    let package = module.split('.').next().unwrap_or(&module).to_string();
    (package, module)
}

/// `src/main/java/com/acme/App.java` → `com.acme`; without a source root, the directory.
fn java_package(path: &str) -> String {
    let dir = format!("/{}", directory(path));
    let under = ["/src/main/java", "/src/test/java", "/src"]
        .iter()
        .find_map(|root| dir.find(root).map(|i| &dir[i + root.len()..]))
        .unwrap_or(&dir);
    under.trim_start_matches('/').replace('/', ".")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placed(file: &str, lang: &str) -> (String, String) {
        place(file, Some(lang))
    }

    #[test]
    fn each_language_names_its_package_and_module() {
        assert_eq!(
            place("./crates/pt01-x/src/cli/args.rs", None),
            ("pt01_x".into(), "pt01_x::cli::args".into())
        );
        assert_eq!(
            placed("./crates/core/src/storage/mod.rs", "rust"),
            ("core".into(), "core::storage".into())
        );
        assert_eq!(placed("./src/main.rs", "rust"), ("crate".into(), "crate".into()));
        assert_eq!(placed("./crates/core/tests/it.rs", "rust"), ("core".into(), "core::tests::it".into()));
        assert_eq!(placed("./src/shop/cart/model.py", "python"), ("shop".into(), "shop.cart.model".into()));
        assert_eq!(placed("./shop/__init__.py", "python"), ("shop".into(), "shop".into()));
        assert_eq!(placed("./cmd/server/main.go", "go"), ("cmd/server".into(), "cmd/server".into()));
        assert_eq!(
            placed("./svc/src/main/java/com/acme/App.java", "java"),
            ("com.acme".into(), "com.acme".into())
        );
        assert_eq!(
            placed("./web/components/index.ts", "typescript"),
            ("web/components".into(), "web/components".into())
        );
        assert_eq!(placed("./web/app.js", "javascript"), ("web".into(), "web/app".into()));
        assert_eq!(placed("./lib/x.h", "c"), ("lib".into(), "lib/x".into()));
        assert_eq!(
            placed("./lib/x.c", "c").1,
            placed("./lib/x.h", "c").1,
            "a header and its source are one module"
        );
    }

    #[test]
    fn test_code_by_each_languages_convention() {
        assert!(is_test("./crates/a/tests/it.rs", "x", Some("rust")));
        assert!(is_test("./src/parser_tests.rs", "x", Some("rust")));
        assert!(is_test("./pkg/test_cart.py", "x", Some("python")));
        assert!(is_test("./pkg/cart.py", "test_total", Some("python")));
        assert!(is_test("./cart/cart_test.go", "TestTotal", Some("go")));
        assert!(is_test("./src/test/java/com/acme/AppTest.java", "x", Some("java")));
        assert!(is_test("./web/cart.spec.ts", "x", Some("typescript")));
        assert!(is_test("./web/__tests__/cart.js", "x", Some("javascript")));
        assert!(!is_test("./web/cart.ts", "total", Some("typescript")));
        assert!(!is_test("./cart/cart.go", "Total", Some("go")));
        assert!(!is_test("./pkg/contest.py", "x", Some("python")));
    }

    #[test]
    fn javascript_and_typescript_resolve_together() {
        assert_eq!(family("typescript"), family("javascript"));
        assert_ne!(family("python"), family("rust"));
    }
}
