//! `plugin.toml`: who a plugin is and which contract it needs. Plain data; parsing does no I/O
//! beyond reading the one file, and refuses unknown keys so typos never pass silently.
//!
//! ```toml
//! name = "cycle-finder"
//! version = "1.2.0"
//! description = "Reports dependency cycles"
//! authors = ["Ada <ada@example.org>"]
//! api = "^0.1"                     # the parseltongue:plugin versions it was built for
//! component = "cycle_finder.wasm"  # relative to this file; default: <name>.wasm
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};

/// A parsed, validated manifest.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Manifest {
    /// Lowercase letters, digits and dashes; 1 to 64 characters.
    pub name: String,
    /// The plugin's own version.
    pub version: semver::Version,
    /// One line on what it finds.
    #[serde(default)]
    pub description: String,
    /// Who wrote it.
    #[serde(default)]
    pub authors: Vec<String>,
    /// The `parseltongue:plugin` versions it needs. By default `^0.1`.
    #[serde(default = "default_api")]
    pub api: semver::VersionReq,
    /// The component file, relative to the manifest. By default `<name>.wasm`.
    #[serde(default)]
    pub component: Option<PathBuf>,
}

fn default_api() -> semver::VersionReq {
    semver::VersionReq::parse("^0.1").expect("a valid requirement")
}

impl Manifest {
    /// Parses manifest text; `path` only names the file in errors.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidManifest`] naming the line of a syntax error or unknown key, or the bad
    /// name; [`Error::Incompatible`] if `api` excludes this host's contract version.
    pub fn parse(text: &str, path: &Path) -> Result<Manifest> {
        let invalid = |message: String| Error::InvalidManifest { path: path.display().to_string(), message };
        let manifest: Manifest =
            toml::from_str(text).map_err(|e| invalid(e.to_string().trim_end().to_string()))?;
        let name_ok = !manifest.name.is_empty()
            && manifest.name.len() <= 64
            && manifest.name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !name_ok {
            return Err(invalid(format!(
                "name `{}` must be 1 to 64 lowercase letters, digits or dashes",
                manifest.name
            )));
        }
        let host = semver::Version::parse(crate::bindings::CONTRACT_VERSION).expect("a valid version");
        if !manifest.api.matches(&host) {
            return Err(Error::Incompatible {
                message: format!(
                    "{} needs parseltongue:plugin {}, this host implements {host}",
                    manifest.name, manifest.api
                ),
            });
        }
        Ok(manifest)
    }

    /// Reads and parses `path`.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if it cannot be read, otherwise as [`Manifest::parse`].
    pub fn from_path(path: &Path) -> Result<Manifest> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::io(format!("cannot read manifest {}", path.display()), e))?;
        Manifest::parse(&text, path)
    }

    /// Where the component is, for a manifest at `manifest_path`.
    pub fn component_path(&self, manifest_path: &Path) -> PathBuf {
        let dir = manifest_path.parent().unwrap_or(Path::new("."));
        dir.join(self.component.clone().unwrap_or_else(|| PathBuf::from(format!("{}.wasm", self.name))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Manifest> {
        Manifest::parse(text, Path::new("plugins/x/plugin.toml"))
    }

    fn invalid(text: &str) -> String {
        match parse(text) {
            Err(Error::InvalidManifest { path, message }) => {
                assert_eq!(path, "plugins/x/plugin.toml");
                message
            }
            other => panic!("expected invalid-manifest, got {other:?}"),
        }
    }

    #[test]
    fn a_minimal_manifest_gets_defaults() {
        let m = parse("name = \"cycle-finder\"\nversion = \"1.2.0\"\n").unwrap();
        assert_eq!(m.version, semver::Version::new(1, 2, 0));
        assert_eq!(m.api, default_api());
        assert_eq!(
            m.component_path(Path::new("plugins/cf/plugin.toml")),
            Path::new("plugins/cf/cycle-finder.wasm")
        );
    }

    #[test]
    fn unknown_keys_and_bad_values_name_the_line() {
        let m = invalid("name = \"a\"\nversion = \"1.0.0\"\nmemroy = 3\n");
        assert!(m.contains("line 3") && m.contains("unknown field `memroy`"), "{m}");
        let m = invalid("name = \"a\"\nversion = \"one\"\n");
        assert!(m.contains("line 2"), "{m}");
        let m = invalid("name = \"Bad Name\"\nversion = \"1.0.0\"\n");
        assert!(m.contains("lowercase letters"), "{m}");
        let m = invalid("version = \"1.0.0\"\n");
        assert!(m.contains("missing field `name`"), "{m}");
    }

    #[test]
    fn an_api_the_host_does_not_implement_is_incompatible() {
        let e = parse("name = \"a\"\nversion = \"1.0.0\"\napi = \"^0.2\"\n").unwrap_err();
        assert!(matches!(e, Error::Incompatible { .. }), "{e}");
        assert!(e.to_string().contains("needs parseltongue:plugin ^0.2"), "{e}");
    }
}
