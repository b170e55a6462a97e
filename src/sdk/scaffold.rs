//! `ptplugin new`: a plugin project in Rust, C, JavaScript or Python — the census examples of
//! `examples/plugins/` with the name changed, so that what authors start from is what the
//! tests build and run in every language.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::contract::Contract;
use crate::error::{Error, Result};

/// The languages a plugin project can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// `wasm32-wasip2` + wit-bindgen.
    Rust,
    /// clang-19 + wasi-libc, bindings and componentize by `ptplugin sdk`.
    C,
    /// componentize-qjs (QuickJS).
    Js,
    /// componentize-py.
    Python,
}

impl Language {
    /// Every language, in the order docs list them.
    pub const ALL: [Language; 4] = [Language::Rust, Language::C, Language::Js, Language::Python];

    /// The word used on the command line and in the example directory names.
    pub fn as_str(self) -> &'static str {
        match self {
            Language::Rust => "rust",
            Language::C => "c",
            Language::Js => "js",
            Language::Python => "python",
        }
    }

    /// The command that builds the project, run from its directory.
    pub fn build_command(self) -> &'static str {
        "./build.sh"
    }

    /// The example's files for `contract`: path in the project, contents (with `census-<lang>`
    /// as the name). 0.2's are in `examples/plugins/`, 0.1's in `examples/plugins/contract-0.1/`.
    fn template(self, contract: Contract) -> &'static [(&'static str, &'static str)] {
        macro_rules! files {
            ($dir:literal: $($path:literal),+) => {
                &[$(($path, include_str!(concat!("../../examples/plugins/", $dir, "/", $path)))),+]
            };
        }
        match (contract, self) {
            (Contract::V0_2, Language::Rust) => {
                files!("census-rust": "Cargo.toml", "src/lib.rs", "build.sh", "plugin.toml", ".gitignore")
            }
            (Contract::V0_2, Language::C) => {
                files!("census-c": "src/plugin.c", "build.sh", "plugin.toml", ".gitignore")
            }
            (Contract::V0_2, Language::Js) => {
                files!("census-js": "plugin.js", "build.sh", "plugin.toml", ".gitignore")
            }
            (Contract::V0_2, Language::Python) => {
                files!("census-python": "app.py", "build.sh", "plugin.toml", ".gitignore")
            }
            (Contract::V0_1, Language::Rust) => files!(
                "contract-0.1/census-rust": "Cargo.toml",
                "src/lib.rs",
                "build.sh",
                "plugin.toml",
                ".gitignore"
            ),
            (Contract::V0_1, Language::C) => {
                files!("contract-0.1/census-c": "src/plugin.c", "build.sh", "plugin.toml", ".gitignore")
            }
            (Contract::V0_1, Language::Js) => {
                files!("contract-0.1/census-js": "plugin.js", "build.sh", "plugin.toml", ".gitignore")
            }
            (Contract::V0_1, Language::Python) => {
                files!("contract-0.1/census-python": "app.py", "build.sh", "plugin.toml", ".gitignore")
            }
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Language {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        Language::ALL
            .into_iter()
            .find(|l| l.as_str() == s.to_ascii_lowercase() || (s == "javascript" && *l == Language::Js))
            .ok_or_else(|| format!("unknown language `{s}` (rust, c, js, python)"))
    }
}

/// What [`create`] wrote.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Project {
    /// The project directory.
    pub dir: PathBuf,
    /// The plugin's name (as in its `plugin.toml`).
    pub name: String,
    /// Its language.
    pub language: Language,
    /// The contract it is written for.
    pub contract: Contract,
    /// Files written, relative to `dir`.
    pub files: Vec<String>,
}

/// Writes a new plugin project called `name` into `dir` (which must not exist or be empty),
/// for `contract`.
///
/// # Errors
///
/// [`Error::InvalidManifest`] if `name` is not a valid plugin name; [`Error::Io`] if `dir` is
/// a non-empty directory or cannot be written.
pub fn create(dir: &Path, name: &str, language: Language, contract: Contract) -> Result<Project> {
    crate::policy::check_name(name)?;
    if dir.read_dir().is_ok_and(|mut entries| entries.next().is_some()) {
        return Err(Error::Usage { message: format!("{} already exists and is not empty", dir.display()) });
    }
    let example = format!("census-{}", language.as_str());
    let crate_name = name.replace('-', "_");
    let mut files: Vec<(String, Vec<u8>)> = language
        .template(contract)
        .iter()
        .map(|(path, text)| {
            let text = text.replace(&example, name).replace(&example.replace('-', "_"), &crate_name);
            (path.to_string(), text.into_bytes())
        })
        .collect();
    files.push(("wit/plugin.wit".into(), super::contract_wit(contract).as_bytes().to_vec()));
    if language == Language::C {
        files.extend(super::c_bindings(contract)?.into_iter().map(|(n, b)| (format!("gen/{n}"), b)));
    }
    super::write_files(dir, &files)?;
    make_executable(&dir.join("build.sh"))?;
    Ok(Project {
        dir: dir.to_path_buf(),
        name: name.to_string(),
        language,
        contract,
        files: files.into_iter().map(|(n, _)| n).collect(),
    })
}

#[cfg(unix)]
fn make_executable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| Error::io(format!("cannot make {} executable", path.display()), e))
}

#[cfg(not(unix))]
fn make_executable(_: &Path) -> Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_scaffolds_a_named_project_with_the_contract() {
        for (language, contract) in
            Language::ALL.into_iter().flat_map(|l| [(l, Contract::V0_2), (l, Contract::V0_1)])
        {
            let dir = tempfile::tempdir().unwrap();
            let project = dir.path().join("my-plugin");
            let p = create(&project, "my-plugin", language, contract).unwrap();
            let api = if contract == Contract::V0_2 { "^0.2" } else { "^0.1" };
            let manifest_text = std::fs::read_to_string(project.join("plugin.toml")).unwrap();
            assert!(
                manifest_text.contains(&format!("api = \"{api}\"")),
                "{language} {contract}: {manifest_text}"
            );
            let manifest = crate::Manifest::from_path(&project.join("plugin.toml")).unwrap();
            assert_eq!(manifest.name, "my-plugin");
            assert_eq!(manifest.component.as_deref(), Some(Path::new("my-plugin.wasm")));
            let build = std::fs::read_to_string(project.join("build.sh")).unwrap();
            assert!(build.contains("my-plugin.wasm") && !build.contains("census"), "{language}: {build}");
            assert_eq!(
                std::fs::read_to_string(project.join("wit/plugin.wit")).unwrap(),
                crate::sdk::contract_wit(contract)
            );
            assert!(p.files.iter().any(|f| f == ".gitignore"));
            if language == Language::Rust {
                let cargo = std::fs::read_to_string(project.join("Cargo.toml")).unwrap();
                assert!(cargo.contains("name = \"my-plugin\""), "{cargo}");
                assert!(build.contains("my_plugin.wasm"), "{build}");
            }
            if language == Language::C {
                assert!(project.join("gen/analyzer.h").exists());
            }
        }
    }

    #[test]
    fn refuses_bad_names_and_non_empty_directories() {
        let dir = tempfile::tempdir().unwrap();
        let err = create(&dir.path().join("x"), "Bad Name", Language::Rust, Contract::V0_2).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::InvalidManifest);
        std::fs::write(dir.path().join("file"), "x").unwrap();
        let err = create(dir.path(), "fine", Language::C, Contract::V0_2).unwrap_err();
        assert!(err.to_string().contains("not empty"), "{err}");
        assert_eq!("JS".parse::<Language>(), Ok(Language::Js));
        assert!("cobol".parse::<Language>().unwrap_err().contains("rust, c, js, python"));
    }
}
