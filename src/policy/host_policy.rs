//! The host policy: what the operator allows, globally and per plugin. A plugin gets what it
//! requested *and* the policy allows — nothing more — and every request that is cut is reported.
//!
//! ```toml
//! [defaults]                            # every plugin
//! read-dirs = ["/srv/project"]          # roots: a requested directory must lie under one
//! connect = ["127.0.0.1:9200"]          # exact host:port targets
//! env = ["LANG", "TZ"]
//! wall-clock = true
//! kv = true
//! kv-quota-kb = 1024                    # the most any plugin may store
//!
//! [defaults.limits]                     # caps on requested limits (units as in plugin.toml)
//! memory-mb = 256
//! timeout-ms = 5000
//!
//! [plugins.cycle-finder]                # adds to the defaults for this plugin
//! connect = ["127.0.0.1:9300"]
//! [plugins.cycle-finder.limits]
//! memory-mb = 512
//!
//! [trust]                               # who must sign plugins pulled from registries
//! keys = ["keys/release.pub"]           # relative to this file
//! ```
//!
//! **Architecture Invariant:** deciding is pure (no I/O); [`Decision`] says what to grant, and
//! only later is that resolved against the machine (directories opened, names looked up).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::policy::{Capabilities, RequestedLimits};
use crate::policy::{KIB, Limits, MIB};
use crate::policy::{parse_target, same_target};

/// Storage granted when the policy sets no `kv-quota-kb`: 1 MiB.
pub const DEFAULT_KV_QUOTA_KB: u64 = 1024;

/// What the operator allows one plugin, or all of them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Allowance {
    /// Directory roots; requested read-only directories must lie under one.
    #[serde(default)]
    pub read_dirs: Vec<PathBuf>,
    /// `host:port` targets that may be connected to.
    #[serde(default)]
    pub connect: Vec<String>,
    /// Environment variable names that may be passed through.
    #[serde(default)]
    pub env: Vec<String>,
    /// Whether the real wall clock may be granted.
    #[serde(default)]
    pub wall_clock: bool,
    /// Whether key-value storage may be granted.
    #[serde(default)]
    pub kv: bool,
    /// The most storage one plugin may have, KiB.
    pub kv_quota_kb: Option<u64>,
    /// Caps on requested limits. Without a cap a plugin may ask for less than the host's
    /// defaults, never for more.
    #[serde(default)]
    pub limits: RequestedLimits,
}

/// The operator's policy. The default allows nothing: complete isolation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Allowed to every plugin.
    #[serde(default)]
    pub defaults: Allowance,
    /// Allowed to one plugin, on top of the defaults; limit caps here replace the defaults'.
    #[serde(default)]
    pub plugins: BTreeMap<String, Allowance>,
    /// Who must have signed plugins pulled from registries (see
    /// [`crate::distribution::trust`]).
    #[serde(default)]
    pub trust: crate::policy::TrustPolicy,
}

/// One capability the plugin asked for and did not get.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Denied {
    /// What was asked, e.g. `connect 10.0.0.1:80` or `limits.memory-mb 512`.
    pub capability: String,
    /// The plugin's reason for asking.
    pub requested_because: String,
    /// Why it was not granted.
    pub why: String,
}

/// What a plugin is granted (before resolution against the machine).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Grants {
    /// Directories, read-only, at the same path inside the guest.
    pub read_dirs: Vec<PathBuf>,
    /// `host:port` targets.
    pub connect: Vec<String>,
    /// Environment variable names.
    pub env: Vec<String>,
    /// The real wall clock.
    pub wall_clock: bool,
    /// Key-value storage, bytes.
    pub kv_quota_bytes: Option<u64>,
}

impl Grants {
    /// Whether nothing is granted.
    pub fn is_empty(&self) -> bool {
        self == &Grants::default()
    }

    /// Everything granted by either.
    pub fn union(&self, other: &Grants) -> Grants {
        let mut out = self.clone();
        for d in &other.read_dirs {
            if !out.read_dirs.contains(d) {
                out.read_dirs.push(d.clone());
            }
        }
        for c in &other.connect {
            if !out.connect.contains(c) {
                out.connect.push(c.clone());
            }
        }
        for e in &other.env {
            if !out.env.contains(e) {
                out.env.push(e.clone());
            }
        }
        out.wall_clock |= other.wall_clock;
        out.kv_quota_bytes = out.kv_quota_bytes.max(other.kv_quota_bytes);
        out
    }

    /// One line per grant, for reports and the audit trail.
    pub fn describe(&self) -> Vec<String> {
        let mut out: Vec<String> =
            self.read_dirs.iter().map(|d| format!("read-dir {}", d.display())).collect();
        out.extend(self.connect.iter().map(|t| format!("connect {t}")));
        out.extend(self.env.iter().map(|e| format!("env {e}")));
        if self.wall_clock {
            out.push("wall-clock".into());
        }
        if let Some(q) = self.kv_quota_bytes {
            out.push(format!("kv {} KiB", q / 1024));
        }
        out
    }
}

/// The outcome of applying a policy to a plugin's requests.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Decision {
    /// What it gets.
    pub granted: Grants,
    /// What it asked for and does not get.
    pub denied: Vec<Denied>,
    /// The limits it runs under.
    pub limits: Limits,
}

impl Policy {
    /// Parses a policy file's text; `path` only names it in errors.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidPolicy`] naming the line of a syntax error or unknown key, or a bad
    /// connect target.
    pub fn parse(text: &str, path: &Path) -> Result<Policy> {
        let invalid = |message: String| Error::InvalidPolicy { path: path.display().to_string(), message };
        let policy: Policy =
            toml::from_str(text).map_err(|e| invalid(e.to_string().trim_end().to_string()))?;
        for (who, allowance) in std::iter::once(("defaults", &policy.defaults))
            .chain(policy.plugins.iter().map(|(name, a)| (name.as_str(), a)))
        {
            for target in &allowance.connect {
                parse_target(target).map_err(|e| invalid(format!("{who}: {e}")))?;
            }
            let section = if who == "defaults" {
                "[defaults.limits]".to_string()
            } else {
                format!("[plugins.{who}.limits]")
            };
            allowance.limits.validate().map_err(|e| invalid(format!("{section} {e}")))?;
            if let Some(dir) = allowance.read_dirs.iter().find(|d| !is_clean_absolute(d)) {
                return Err(invalid(format!(
                    "{who}: read-dirs `{}` must be absolute, without `..`",
                    dir.display()
                )));
            }
        }
        Ok(policy)
    }

    /// Reads and parses a policy file.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if it cannot be read, otherwise as [`Policy::parse`].
    pub fn from_path(path: &Path) -> Result<Policy> {
        let text = crate::files::read_text(path, "policy", crate::files::MAX_TEXT_BYTES)?;
        let mut policy = Policy::parse(&text, path)?;
        policy.trust.resolve_paths(path.parent().unwrap_or(Path::new(".")));
        Ok(policy)
    }

    /// Allows every plugin to read under `root`.
    pub fn allow_read_dir(mut self, root: impl Into<PathBuf>) -> Self {
        self.defaults.read_dirs.push(root.into());
        self
    }

    /// Allows every plugin to connect to `target` (`host:port`).
    pub fn allow_connect(mut self, target: impl Into<String>) -> Self {
        self.defaults.connect.push(target.into());
        self
    }

    /// Allows every plugin to see environment variable `name`.
    pub fn allow_env(mut self, name: impl Into<String>) -> Self {
        self.defaults.env.push(name.into());
        self
    }

    /// Allows every plugin the real wall clock.
    pub fn allow_wall_clock(mut self) -> Self {
        self.defaults.wall_clock = true;
        self
    }

    /// Allows every plugin key-value storage, up to `quota_kb` each.
    pub fn allow_kv(mut self, quota_kb: u64) -> Self {
        self.defaults.kv = true;
        self.defaults.kv_quota_kb = Some(quota_kb);
        self
    }

    /// Sets what `plugin` is allowed on top of the defaults.
    pub fn plugin(mut self, plugin: impl Into<String>, allowance: Allowance) -> Self {
        self.plugins.insert(plugin.into(), allowance);
        self
    }

    /// Whether any plugin may be granted key-value storage.
    pub fn allows_kv(&self) -> bool {
        self.defaults.kv || self.plugins.values().any(|a| a.kv)
    }

    /// Applies this policy to what `plugin` requested, starting from `base` limits.
    pub fn decide(
        &self,
        plugin: &str,
        requested: &Capabilities,
        limits: &RequestedLimits,
        base: &Limits,
    ) -> Decision {
        let own = self.plugins.get(plugin);
        let allowed = |pick: &dyn Fn(&Allowance) -> bool| pick(&self.defaults) || own.is_some_and(pick);
        let mut granted = Grants::default();
        let mut denied = Vec::new();
        let mut deny = |capability: String, requested_because: &str, why: &str| {
            denied.push(Denied { capability, requested_because: requested_because.into(), why: why.into() })
        };

        for d in &requested.read_dirs {
            if allowed(&|a: &Allowance| a.read_dirs.iter().any(|root| d.path.starts_with(root))) {
                granted.read_dirs.push(d.path.clone());
            } else {
                deny(
                    format!("read-dir {}", d.path.display()),
                    &d.reason,
                    "not under any directory the policy allows",
                );
            }
        }
        for c in &requested.connect {
            if allowed(&|a: &Allowance| a.connect.iter().any(|t| same_target(t, &c.target))) {
                granted.connect.push(c.target.clone());
            } else {
                deny(format!("connect {}", c.target), &c.reason, "not a target the policy allows");
            }
        }
        for e in &requested.env {
            if allowed(&|a: &Allowance| a.env.contains(&e.name)) {
                granted.env.push(e.name.clone());
            } else {
                deny(format!("env {}", e.name), &e.reason, "not a variable the policy allows");
            }
        }
        if let Some(r) = &requested.wall_clock {
            if allowed(&|a: &Allowance| a.wall_clock) {
                granted.wall_clock = true;
            } else {
                deny("wall-clock".into(), &r.reason, "the policy does not allow the wall clock");
            }
        }
        if let Some(kv) = &requested.kv {
            if allowed(&|a: &Allowance| a.kv) {
                let cap = own
                    .and_then(|a| a.kv_quota_kb)
                    .or(self.defaults.kv_quota_kb)
                    .unwrap_or(DEFAULT_KV_QUOTA_KB);
                let wanted = kv.quota_kb.unwrap_or(cap);
                if wanted > cap {
                    deny(format!("kv quota {wanted} KiB"), &kv.reason, &format!("capped at {cap} KiB"));
                }
                granted.kv_quota_bytes = Some(wanted.min(cap) * 1024);
            } else {
                deny("kv".into(), &kv.reason, "the policy does not allow key-value storage");
            }
        }

        let caps = |pick: fn(&RequestedLimits) -> Option<u64>| {
            own.and_then(|a| pick(&a.limits)).or(pick(&self.defaults.limits))
        };
        let mut limits_out = base.clone();
        let mut limit = |name: &str, wanted: Option<u64>, current: u64, cap: Option<u64>| -> u64 {
            let Some(wanted) = wanted else { return current };
            let ceiling = cap.unwrap_or(current).max(current);
            if wanted <= ceiling {
                wanted
            } else {
                deny(format!("limits.{name} {wanted}"), "", &format!("capped at {ceiling}"));
                ceiling
            }
        };
        limits_out.memory_bytes =
            limit("memory-mb", limits.memory_mb, base.memory_bytes / MIB, caps(|l| l.memory_mb)) * MIB;
        limits_out.cpu_time = Duration::from_millis(limit(
            "timeout-ms",
            limits.timeout_ms,
            base.cpu_time.as_millis() as u64,
            caps(|l| l.timeout_ms),
        ));
        if limits.fuel.is_some() || base.fuel.is_some() {
            let current = base.fuel.unwrap_or(u64::MAX);
            limits_out.fuel = Some(limit("fuel", limits.fuel, current, caps(|l| l.fuel)));
        }
        limits_out.max_wasm_stack =
            limit("stack-kb", limits.stack_kb, (base.max_wasm_stack / KIB) as u64, caps(|l| l.stack_kb))
                as usize
                * KIB;
        limits_out.max_result_bytes = limit(
            "max-output-kb",
            limits.max_output_kb,
            (base.max_result_bytes / KIB) as u64,
            caps(|l| l.max_output_kb),
        ) as usize
            * KIB;
        limits_out.max_findings =
            limit("max-findings", limits.max_findings, base.max_findings as u64, caps(|l| l.max_findings))
                as usize;

        Decision { granted, denied, limits: limits_out }
    }
}

fn is_clean_absolute(path: &Path) -> bool {
    path.is_absolute()
        && path
            .components()
            .all(|c| matches!(c, std::path::Component::RootDir | std::path::Component::Normal(_)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::manifest::{ConnectRequest, DirRequest, EnvRequest, KvRequest, Reason};

    fn wants() -> Capabilities {
        Capabilities {
            read_dirs: vec![
                DirRequest { path: "/srv/project/docs".into(), reason: "docs".into() },
                DirRequest { path: "/etc".into(), reason: "curious".into() },
            ],
            connect: vec![
                ConnectRequest { target: "127.0.0.1:9200".into(), reason: "index".into() },
                ConnectRequest { target: "10.0.0.1:80".into(), reason: "phone home".into() },
            ],
            env: vec![
                EnvRequest { name: "LANG".into(), reason: "locale".into() },
                EnvRequest { name: "AWS_SECRET_ACCESS_KEY".into(), reason: "nothing good".into() },
            ],
            wall_clock: Some(Reason { reason: "timestamps".into() }),
            kv: Some(KvRequest { reason: "cache".into(), quota_kb: Some(4096) }),
        }
    }

    #[test]
    fn limits_out_of_range_are_refused_not_ignored() {
        let refused = |text: &str| Policy::parse(text, Path::new("p.toml")).unwrap_err().to_string();
        let e = refused("[defaults.limits]\nmemory-mb = 0\n");
        assert!(e.contains("[defaults.limits] limits `memory-mb` = 0 must be from 1 to 65536"), "{e}");
        let e = refused("[plugins.x.limits]\nstack-kb = 1\n");
        assert!(e.contains("[plugins.x.limits]") && e.contains("stack-kb"), "{e}");
        let e = refused("[defaults.limits]\ntimeout-ms = 0\n");
        assert!(e.contains("timeout-ms") && e.contains("at least 1"), "{e}");
        assert!(Policy::parse("[defaults.limits]\nmemory-mb = 1\n", Path::new("p.toml")).is_ok());
        let e = crate::Manifest::parse(
            "name = \"a\"\nversion = \"1.0.0\"\n[limits]\nmax-findings = 0\n",
            Path::new("m"),
        )
        .unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::InvalidManifest, "{e}");
    }

    #[test]
    fn nothing_is_granted_by_default() {
        let d = Policy::default().decide("p", &wants(), &RequestedLimits::default(), &Limits::default());
        assert!(d.granted.is_empty(), "{:?}", d.granted);
        assert_eq!(d.denied.len(), 8);
        assert_eq!(d.limits, Limits::default());
    }

    #[test]
    fn grants_are_the_intersection_of_requested_and_allowed() {
        let policy = Policy::default()
            .allow_read_dir("/srv/project")
            .allow_connect("127.0.0.1:9200")
            .allow_connect("127.0.0.1:9999")
            .allow_env("LANG")
            .allow_env("TZ")
            .allow_kv(1024);
        let d = policy.decide("p", &wants(), &RequestedLimits::default(), &Limits::default());
        assert_eq!(d.granted.read_dirs, vec![PathBuf::from("/srv/project/docs")]);
        assert_eq!(
            d.granted.connect,
            vec!["127.0.0.1:9200"],
            "allowed but unrequested targets are not granted"
        );
        assert_eq!(d.granted.env, vec!["LANG"]);
        assert!(!d.granted.wall_clock);
        assert_eq!(d.granted.kv_quota_bytes, Some(1024 * 1024), "capped at the policy's quota");
        let denied: Vec<&str> = d.denied.iter().map(|x| x.capability.as_str()).collect();
        assert_eq!(
            denied,
            vec![
                "read-dir /etc",
                "connect 10.0.0.1:80",
                "env AWS_SECRET_ACCESS_KEY",
                "wall-clock",
                "kv quota 4096 KiB"
            ]
        );
        assert_eq!(d.denied[1].requested_because, "phone home");
    }

    #[test]
    fn per_plugin_allowances_add_to_the_defaults_for_that_plugin_only() {
        let policy =
            Policy::default().plugin("trusted", Allowance { wall_clock: true, ..Allowance::default() });
        let requested =
            Capabilities { wall_clock: Some(Reason { reason: "t".into() }), ..Capabilities::default() };
        let base = Limits::default();
        assert!(policy.decide("trusted", &requested, &RequestedLimits::default(), &base).granted.wall_clock);
        assert!(!policy.decide("other", &requested, &RequestedLimits::default(), &base).granted.wall_clock);
    }

    #[test]
    fn limits_may_shrink_freely_and_grow_only_to_the_cap() {
        let base = Limits::default();
        let asks =
            RequestedLimits { memory_mb: Some(512), timeout_ms: Some(100), ..RequestedLimits::default() };
        let d = Policy::default().decide("p", &Capabilities::default(), &asks, &base);
        assert_eq!(d.limits.memory_bytes, base.memory_bytes, "no cap: no more than the host default");
        assert_eq!(d.limits.cpu_time, Duration::from_millis(100), "less is always fine");
        assert_eq!(d.denied[0].capability, "limits.memory-mb 512");

        let mut policy = Policy::default();
        policy.defaults.limits.memory_mb = Some(256);
        policy.plugins.insert(
            "big".into(),
            Allowance {
                limits: RequestedLimits { memory_mb: Some(1024), ..Default::default() },
                ..Default::default()
            },
        );
        assert_eq!(policy.decide("p", &Capabilities::default(), &asks, &base).limits.memory_bytes, 256 * MIB);
        assert_eq!(
            policy.decide("big", &Capabilities::default(), &asks, &base).limits.memory_bytes,
            512 * MIB
        );
    }

    #[test]
    fn policy_files_are_checked_and_name_the_line() {
        let p = Path::new("policy.toml");
        let ok =
            Policy::parse("[defaults]\nconnect = [\"localhost:80\"]\n[plugins.x]\nwall-clock = true\n", p)
                .unwrap();
        assert!(ok.plugins["x"].wall_clock);
        let e = Policy::parse("[defaults]\nconect = []\n", p).unwrap_err();
        assert!(e.to_string().contains("line 2") && e.to_string().contains("unknown field `conect`"), "{e}");
        let e = Policy::parse("[defaults]\nconnect = [\"localhost\"]\n", p).unwrap_err();
        assert!(e.to_string().contains("host:port"), "{e}");
        let e = Policy::parse("[defaults]\nread-dirs = [\"relative\"]\n", p).unwrap_err();
        assert!(e.to_string().contains("must be absolute"), "{e}");
    }

    #[test]
    fn targets_compare_by_host_and_port() {
        assert_eq!(parse_target("[::1]:8080").unwrap(), ("::1", 8080));
        assert!(
            parse_target("host:0").is_err() && parse_target(":80").is_err() && parse_target("h:x").is_err()
        );
        assert!(same_target("LOCALHOST:80", "localhost:80"));
        assert!(!same_target("localhost:80", "localhost:81"));
    }
}
