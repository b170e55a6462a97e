//! The host's trust policy as data: the `[trust]` section of the policy file, and the verdict
//! for one artifact that the audit trail records. Verification is `distribution`'s job.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Whether one or every trust anchor must be satisfied.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Require {
    /// At least one key or identity.
    #[default]
    AnyOf,
    /// Every key and identity.
    AllOf,
}

/// A Sigstore identity trusted to sign plugins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustedIdentity {
    /// Certificate SAN (exact).
    pub identity: String,
    /// OIDC issuer (exact).
    pub issuer: String,
}

/// The `[trust]` section of the host policy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct TrustPolicy {
    /// Let plugins without any signature load. Off by default.
    #[serde(default)]
    pub allow_unsigned: bool,
    /// Any-of (default) or all-of the anchors below.
    #[serde(default)]
    pub require: Require,
    /// Cosign public keys (PEM files).
    #[serde(default)]
    pub keys: Vec<PathBuf>,
    /// Sigstore identities.
    #[serde(default)]
    pub identities: Vec<TrustedIdentity>,
    /// Trusted root for identities; the shipped public-good root when unset.
    #[serde(default)]
    pub trusted_root: Option<PathBuf>,
}

/// The outcome for one trust anchor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// `key FILE` or `identity ID (ISSUER)`.
    pub anchor: String,
    /// Whether a signature satisfied it.
    pub ok: bool,
    /// What verified, or why nothing did.
    pub detail: String,
}

/// The trust decision for one artifact, recorded in the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// What was verified.
    pub subject: String,
    /// Its manifest digest.
    pub digest: String,
    /// Whether any signature was present.
    pub signed: bool,
    /// Each anchor's outcome.
    pub checks: Vec<Check>,
    /// Whether it may load.
    pub accepted: bool,
    /// One line saying why.
    pub summary: String,
}

impl Verdict {
    /// `Ok` if accepted, else [`Error::Untrusted`] with every reason.
    ///
    /// # Errors
    ///
    /// [`Error::Untrusted`].
    pub fn into_result(self) -> Result<Verdict> {
        if self.accepted {
            return Ok(self);
        }
        let mut reason = self.summary.clone();
        for check in self.checks.iter().filter(|c| !c.ok) {
            reason.push_str(&format!("; {}: {}", check.anchor, check.detail));
        }
        Err(Error::Untrusted { subject: format!("{} ({})", self.subject, self.digest), reason, source: None })
    }
}
