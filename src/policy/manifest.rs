//! `plugin.toml`: who a plugin is and which contract it needs. Plain data; parsing does no I/O
//! beyond reading the one file, and refuses unknown keys so typos never pass silently.
//!
//! ```toml
//! name = "cycle-finder"
//! version = "1.2.0"
//! description = "Reports dependency cycles"
//! authors = ["Ada <ada@example.org>"]
//! api = "^0.2"                     # the contract it was built for; default: whichever the component implements
//! component = "cycle_finder.wasm"  # relative to this file; default: <name>.wasm
//!
//! [limits]                         # requested; the host policy caps them
//! memory-mb = 128
//! timeout-ms = 2000
//!
//! [capabilities]                   # requested, each with a reason; the host policy decides
//! read-dirs = [{ path = "/srv/project/docs", reason = "links findings to design notes" }]
//! connect = [{ target = "127.0.0.1:9200", reason = "looks up ownership in the local index" }]
//! env = [{ name = "LANG", reason = "formats numbers for the user's locale" }]
//! wall-clock = { reason = "timestamps its findings" }
//! kv = { reason = "remembers results between runs", quota-kb = 256 }
//!
//! [requires]                       # other plugins it needs, with version ranges
//! node-census = "^1.0"
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::contract::Contract;
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
    /// The `parseltongue:plugin` contract versions it was built for (`^0.2`, `^0.1`). By default
    /// any: the component says which contract it implements.
    #[serde(default = "default_api")]
    pub api: semver::VersionReq,
    /// The component file, relative to the manifest and inside its directory (symlinks
    /// included). By default `<name>.wasm`.
    #[serde(default)]
    pub component: Option<PathBuf>,
    /// Limits it asks for; the host policy caps them.
    #[serde(default)]
    pub limits: RequestedLimits,
    /// What it asks to reach beyond the sandbox; the host policy decides.
    #[serde(default)]
    pub capabilities: Capabilities,
    /// Other plugins it needs, by name, with version ranges.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub requires: std::collections::BTreeMap<String, semver::VersionReq>,
}

/// Limits a plugin asks for, each optional. Units match the CLI flags.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RequestedLimits {
    /// Linear memory, MiB.
    pub memory_mb: Option<u64>,
    /// Time per call, milliseconds.
    pub timeout_ms: Option<u64>,
    /// Fuel per call.
    pub fuel: Option<u64>,
    /// Wasm stack, KiB.
    pub stack_kb: Option<u64>,
    /// Result text, KiB.
    pub max_output_kb: Option<u64>,
    /// Findings (and recommendations) per result.
    pub max_findings: Option<u64>,
}

impl RequestedLimits {
    /// Checks each value against the range the CLI's flags accept (a limit of 0 would make a
    /// plugin unusable, and is refused rather than ignored).
    ///
    /// # Errors
    ///
    /// A message naming the key, its value and the range.
    pub fn validate(&self) -> std::result::Result<(), String> {
        let stack_min = (crate::Limits::MIN_WASM_STACK / crate::KIB) as u64;
        let stack_max = (crate::Limits::MAX_WASM_STACK / crate::KIB) as u64;
        let checks: [(&str, Option<u64>, u64, u64); 6] = [
            ("memory-mb", self.memory_mb, 1, 65_536),
            ("timeout-ms", self.timeout_ms, 1, u64::MAX),
            ("fuel", self.fuel, 1, u64::MAX),
            ("stack-kb", self.stack_kb, stack_min, stack_max),
            ("max-output-kb", self.max_output_kb, 1, u64::MAX),
            ("max-findings", self.max_findings, 1, u64::MAX),
        ];
        for (key, value, min, max) in checks {
            if let Some(v) = value
                && !(min..=max).contains(&v)
            {
                let range =
                    if max == u64::MAX { format!("at least {min}") } else { format!("from {min} to {max}") };
                return Err(format!("limits `{key}` = {v} must be {range}"));
            }
        }
        Ok(())
    }
}

/// Everything a plugin can ask to reach. Empty by default: complete isolation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Capabilities {
    /// Directories to read (never write), seen by the guest at the same absolute path.
    #[serde(default)]
    pub read_dirs: Vec<DirRequest>,
    /// TCP connect targets, `host:port`.
    #[serde(default)]
    pub connect: Vec<ConnectRequest>,
    /// Environment variables to see (their values come from the host's environment).
    #[serde(default)]
    pub env: Vec<EnvRequest>,
    /// The real wall clock (without it the guest's wall clock reads 1970-01-01).
    pub wall_clock: Option<Reason>,
    /// A private key-value store that survives restarts.
    pub kv: Option<KvRequest>,
}

/// A directory request.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct DirRequest {
    /// An absolute path without `..`.
    pub path: PathBuf,
    /// Why the plugin needs it, for the operator.
    pub reason: String,
}

/// A network request.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectRequest {
    /// `host:port`; the host may be a name (then name lookup is granted too).
    pub target: String,
    /// Why.
    pub reason: String,
}

/// An environment variable request.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct EnvRequest {
    /// The variable's name.
    pub name: String,
    /// Why.
    pub reason: String,
}

/// A reason alone, for capabilities without parameters.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Reason {
    /// Why.
    pub reason: String,
}

/// A key-value storage request.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct KvRequest {
    /// Why.
    pub reason: String,
    /// Space wanted, KiB (keys and values together). By default the policy's quota.
    pub quota_kb: Option<u64>,
}

impl Capabilities {
    /// Adds `other`'s requests to these.
    pub fn merge(&mut self, other: &Capabilities) {
        self.read_dirs.extend(other.read_dirs.iter().cloned());
        self.connect.extend(other.connect.iter().cloned());
        self.env.extend(other.env.iter().cloned());
        if other.wall_clock.is_some() {
            self.wall_clock = other.wall_clock.clone();
        }
        if other.kv.is_some() {
            self.kv = other.kv.clone();
        }
    }

    /// Each request in one short line (`read-dir /x`, `connect host:port`, `env NAME`,
    /// `wall-clock`, `kv [N KiB]`), for diffs and reports.
    pub fn requested(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        out.extend(self.read_dirs.iter().map(|d| format!("read-dir {}", d.path.display())));
        out.extend(self.connect.iter().map(|t| format!("connect {}", t.target)));
        out.extend(self.env.iter().map(|e| format!("env {}", e.name)));
        if self.wall_clock.is_some() {
            out.push("wall-clock".into());
        }
        if let Some(kv) = &self.kv {
            out.push(match kv.quota_kb {
                Some(q) => format!("kv {q} KiB"),
                None => "kv".into(),
            });
        }
        out
    }

    /// Whether nothing is requested.
    pub fn is_empty(&self) -> bool {
        self == &Capabilities::default()
    }

    /// Checks every request's shape: absolute clean paths, `host:port` targets, sane names,
    /// non-empty reasons.
    ///
    /// # Errors
    ///
    /// A message naming the bad request.
    pub fn validate(&self) -> std::result::Result<(), String> {
        let reason = |what: &str, r: &str| {
            if r.trim().is_empty() { Err(format!("{what} needs a reason")) } else { Ok(()) }
        };
        for d in &self.read_dirs {
            reason(&format!("read-dirs `{}`", d.path.display()), &d.reason)?;
            let clean = d.path.is_absolute()
                && d.path
                    .components()
                    .all(|c| matches!(c, std::path::Component::RootDir | std::path::Component::Normal(_)));
            if !clean {
                return Err(format!(
                    "read-dirs `{}` must be an absolute path without `.` or `..`",
                    d.path.display()
                ));
            }
        }
        for c in &self.connect {
            reason(&format!("connect `{}`", c.target), &c.reason)?;
            crate::policy::parse_target(&c.target)?;
        }
        for e in &self.env {
            reason(&format!("env `{}`", e.name), &e.reason)?;
            if e.name.is_empty() || e.name.contains('=') || e.name.contains('\0') {
                return Err(format!("env name `{}` is not a variable name", e.name));
            }
        }
        if let Some(r) = &self.wall_clock {
            reason("wall-clock", &r.reason)?;
        }
        if let Some(kv) = &self.kv {
            reason("kv", &kv.reason)?;
        }
        Ok(())
    }
}

fn default_api() -> semver::VersionReq {
    semver::VersionReq::STAR
}

/// Checks a plugin name: 1 to 64 lowercase letters, digits or dashes (it becomes file,
/// repository and crate names).
///
/// # Errors
///
/// [`Error::InvalidManifest`] saying what a name must be.
pub fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidManifest {
            path: "plugin.toml".into(),
            message: format!("name `{name}` must be 1 to 64 lowercase letters, digits or dashes"),
        })
    }
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
        check_name(&manifest.name).map_err(|e| match e {
            Error::InvalidManifest { message, .. } => invalid(message),
            other => other,
        })?;
        manifest.capabilities.validate().map_err(invalid)?;
        manifest.limits.validate().map_err(invalid)?;
        if let Some(component) = &manifest.component {
            let inside = component
                .components()
                .all(|c| matches!(c, std::path::Component::Normal(_) | std::path::Component::CurDir))
                && component.file_name().is_some();
            if !inside {
                return Err(invalid(format!(
                    "component `{}` must name a file inside the plugin's directory (a relative path without `..`)",
                    component.display()
                )));
            }
        }
        if !Contract::ALL.into_iter().any(|c| manifest.accepts(c)) {
            return Err(Error::Incompatible {
                message: format!(
                    "{} needs parseltongue:plugin {}, this host implements {}",
                    manifest.name,
                    manifest.api,
                    Contract::ALL.map(|c| c.version()).join(" and ")
                ),
                source: None,
            });
        }
        Ok(manifest)
    }

    /// Whether `api` accepts `contract`'s version.
    pub fn accepts(&self, contract: Contract) -> bool {
        self.api.matches(&semver::Version::parse(contract.version()).expect("a valid version"))
    }

    /// Checks that the component this manifest describes, which implements `contract`, is what
    /// `api` asks for (a `plugin.toml` saying `^0.1` beside a 0.2 component is a packaging
    /// mistake, caught at load).
    ///
    /// # Errors
    ///
    /// [`Error::Incompatible`] naming both.
    pub fn check_contract(&self, contract: Contract) -> Result<()> {
        if self.accepts(contract) {
            return Ok(());
        }
        Err(Error::Incompatible {
            message: format!(
                "{}'s plugin.toml asks for parseltongue:plugin {}, but its component implements contract {contract}",
                self.name, self.api
            ),
            source: None,
        })
    }

    /// Reads and parses `path`.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if it cannot be read, otherwise as [`Manifest::parse`].
    pub fn from_path(path: &Path) -> Result<Manifest> {
        let bytes = crate::files::read(path, "manifest", crate::files::MAX_TEXT_BYTES)?;
        let text = String::from_utf8(bytes).map_err(|e| Error::InvalidManifest {
            path: path.display().to_string(),
            message: format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()),
        })?;
        Manifest::parse(&text, path)
    }

    /// Where the component is, for a manifest at `manifest_path`: a file inside the manifest's
    /// directory, after following symlinks (a plugin directory never makes the host read
    /// anything else).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidManifest`] if the component (or a symlink on the way) leads outside the
    /// directory.
    pub fn component_path(&self, manifest_path: &Path) -> Result<PathBuf> {
        let dir = manifest_path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let relative = self.component.clone().unwrap_or_else(|| PathBuf::from(format!("{}.wasm", self.name)));
        let outside = || Error::InvalidManifest {
            path: manifest_path.display().to_string(),
            message: format!(
                "component `{}` leads outside the plugin's directory {}",
                relative.display(),
                dir.display()
            ),
        };
        if relative.is_absolute() || relative.components().any(|c| c == std::path::Component::ParentDir) {
            return Err(outside());
        }
        let path = dir.join(&relative);
        // A missing file is for the reader to report; an existing one must resolve inside.
        let (Ok(real_dir), Ok(real)) = (dir.canonicalize(), path.canonicalize()) else {
            return Ok(path);
        };
        if !real.starts_with(&real_dir) {
            return Err(outside());
        }
        Ok(real)
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
            m.component_path(Path::new("plugins/cf/plugin.toml")).unwrap(),
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
    fn capabilities_and_limits_are_parsed_and_checked() {
        let m = parse(
            r#"name = "a"
version = "1.0.0"
[limits]
memory-mb = 128
[capabilities]
read-dirs = [{ path = "/data/in", reason = "reads inputs" }]
connect = [{ target = "127.0.0.1:8080", reason = "asks a local index" }]
env = [{ name = "LANG", reason = "locale" }]
wall-clock = { reason = "timestamps" }
kv = { reason = "cache", quota-kb = 64 }
"#,
        )
        .unwrap();
        assert_eq!(m.limits.memory_mb, Some(128));
        assert_eq!(m.capabilities.read_dirs[0].path, Path::new("/data/in"));
        assert_eq!(m.capabilities.kv.as_ref().unwrap().quota_kb, Some(64));
        assert!(!m.capabilities.is_empty());

        let m = invalid("name = \"a\"\nversion = \"1.0.0\"\n[capabilities]\nenv = [{ name = \"HOME\" }]\n");
        assert!(m.contains("line 4") && m.contains("missing field `reason`"), "{m}");
        let m = invalid(
            "name = \"a\"\nversion = \"1.0.0\"\n[capabilities]\nread-dirs = [{ path = \"/data/../etc\", reason = \"x\" }]\n",
        );
        assert!(m.contains("without `.` or `..`"), "{m}");
        let m = invalid(
            "name = \"a\"\nversion = \"1.0.0\"\n[capabilities]\nconnect = [{ target = \"nowhere\", reason = \"x\" }]\n",
        );
        assert!(m.contains("host:port"), "{m}");
        let m =
            invalid("name = \"a\"\nversion = \"1.0.0\"\n[capabilities]\nwall-clock = { reason = \" \" }\n");
        assert!(m.contains("wall-clock needs a reason"), "{m}");
        let m = invalid("name = \"a\"\nversion = \"1.0.0\"\n[limits]\nmemory = 3\n");
        assert!(m.contains("unknown field `memory`"), "{m}");
    }

    #[test]
    fn an_api_the_host_does_not_implement_is_incompatible() {
        let e = parse("name = \"a\"\nversion = \"1.0.0\"\napi = \"^0.3\"\n").unwrap_err();
        assert!(matches!(e, Error::Incompatible { .. }), "{e}");
        assert!(
            e.to_string().contains("needs parseltongue:plugin ^0.3, this host implements 0.2.0 and 0.1.0"),
            "{e}"
        );
        for api in ["^0.2", "^0.1", "0.2.0"] {
            parse(&format!("name = \"a\"\nversion = \"1.0.0\"\napi = \"{api}\"\n")).unwrap();
        }
    }

    #[test]
    fn the_component_must_implement_the_contract_the_manifest_names() {
        let old = parse("name = \"a\"\nversion = \"1.0.0\"\napi = \"^0.1\"\n").unwrap();
        old.check_contract(Contract::V0_1).unwrap();
        let e = old.check_contract(Contract::V0_2).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Incompatible);
        assert!(
            e.to_string().contains(
                "a's plugin.toml asks for parseltongue:plugin ^0.1, but its component implements contract 0.2"
            ),
            "{e}"
        );
        // Without `api`, whichever the component implements.
        let any = parse("name = \"a\"\nversion = \"1.0.0\"\n").unwrap();
        any.check_contract(Contract::V0_1).unwrap();
        any.check_contract(Contract::V0_2).unwrap();
    }
}
