//! Plugin references: `registry/repository` plus a tag, a digest or a semver requirement.
//!
//! `localhost:5000/plugins/census:1.2.0` (a tag), `…/census@sha256:<hex>` (a digest),
//! `…/census@^1.2` (the highest tag matching the requirement). An `oci://` prefix is accepted.

use std::fmt;

use oci_client::Reference;

use crate::distribution::digest;
use crate::error::{Error, Result};

/// Which version of a repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// A tag, e.g. `1.2.0` or `latest`.
    Tag(String),
    /// A manifest digest.
    Digest(String),
    /// The highest semver tag matching.
    Range(semver::VersionReq),
}

/// A parsed plugin reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginRef {
    /// Registry host\[:port\].
    pub registry: String,
    /// Repository path.
    pub repository: String,
    /// Which version.
    pub selector: Selector,
}

impl PluginRef {
    /// Parses a reference; a bare `registry/repo` means the tag `latest`.
    ///
    /// # Errors
    ///
    /// [`Error::Unresolved`] saying what is malformed.
    pub fn parse(text: &str) -> Result<PluginRef> {
        let bad = |reason: String| Error::Unresolved { what: format!("reference `{text}`"), reason };
        let body = text.strip_prefix("oci://").unwrap_or(text);
        let (base, selector) = match body.rsplit_once('@') {
            Some((base, sel)) if sel.starts_with("sha256:") => {
                digest::parse(sel).map_err(bad)?;
                (base.to_string(), Some(Selector::Digest(sel.to_string())))
            }
            Some((base, sel)) => {
                let req = semver::VersionReq::parse(sel).map_err(|e| {
                    bad(format!("`{sel}` is neither a digest nor a version requirement: {e}"))
                })?;
                (base.to_string(), Some(Selector::Range(req)))
            }
            None => (body.to_string(), None),
        };
        if !base.contains('/') {
            return Err(
                bad("expected registry/repository (e.g. localhost:5000/plugins/census:1.0.0)".into()),
            );
        }
        let parsed: Reference = base.parse().map_err(|e| bad(format!("{e}")))?;
        let selector = match (selector, parsed.tag()) {
            (Some(_), Some(_)) if base.rsplit('/').next().is_some_and(|last| last.contains(':')) => {
                return Err(bad("give a tag or an @selector, not both".into()));
            }
            (Some(s), _) => s,
            (None, Some(tag)) => Selector::Tag(tag.to_string()),
            (None, None) => Selector::Tag("latest".into()),
        };
        Ok(PluginRef {
            registry: parsed.registry().to_string(),
            repository: parsed.repository().to_string(),
            selector,
        })
    }

    /// `registry/repository`, without a version.
    pub fn repo(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// The OCI reference for a tag of this repository.
    pub fn with_tag(&self, tag: &str) -> Reference {
        Reference::with_tag(self.registry.clone(), self.repository.clone(), tag.to_string())
    }

    /// The OCI reference for a digest in this repository.
    pub fn with_digest(&self, digest: &str) -> Reference {
        Reference::with_digest(self.registry.clone(), self.repository.clone(), digest.to_string())
    }

    /// Whether the registry is on this machine, where plain HTTP is allowed.
    pub fn is_loopback(&self) -> bool {
        let host = match self.registry.rsplit_once(':') {
            Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
            _ => self.registry.as_str(),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
    }
}

impl fmt::Display for PluginRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.selector {
            Selector::Tag(tag) => write!(f, "{}:{tag}", self.repo()),
            Selector::Digest(d) => write!(f, "{}@{d}", self.repo()),
            Selector::Range(req) => write!(f, "{}@{req}", self.repo()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_digests_and_ranges_parse() {
        let r = PluginRef::parse("localhost:5000/plugins/census:1.2.0").unwrap();
        assert_eq!((r.registry.as_str(), r.repository.as_str()), ("localhost:5000", "plugins/census"));
        assert_eq!(r.selector, Selector::Tag("1.2.0".into()));
        assert!(r.is_loopback());
        let d = format!("sha256:{}", "a".repeat(64));
        let r = PluginRef::parse(&format!("oci://127.0.0.1:5000/census@{d}")).unwrap();
        assert_eq!(r.selector, Selector::Digest(d));
        let r = PluginRef::parse("registry.example.org/team/census@^1.2").unwrap();
        assert_eq!(r.selector, Selector::Range(semver::VersionReq::parse("^1.2").unwrap()));
        assert!(!r.is_loopback());
        assert_eq!(r.to_string(), "registry.example.org/team/census@^1.2");
        let r = PluginRef::parse("localhost:5000/census").unwrap();
        assert_eq!(r.selector, Selector::Tag("latest".into()));
    }

    #[test]
    fn malformed_references_are_refused_with_a_reason() {
        for bad in [
            "census",
            "localhost:5000/census@sha256:xyz",
            "localhost:5000/census@not a range",
            "localhost:5000/census:1.0@^1",
        ] {
            let err = PluginRef::parse(bad).unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::Unresolved, "{bad}");
        }
    }
}
