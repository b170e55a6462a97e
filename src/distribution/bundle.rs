//! Keyless (and managed-key) Sigstore bundle verification, fully offline, with
//! `sigstore-verify`: certificate chain to the trusted root's Fulcio CAs, signed certificate
//! timestamps, identity (SAN) and OIDC issuer, transparency-log inclusion proof, checkpoint and
//! inclusion promise, and timestamps within the certificate's validity.
//!
//! `sigstore-verify` was chosen over the `sigstore` crate's bundle verifier because the latter
//! does not check the Rekor inclusion proof (a corrupted proof still verified there).

use std::path::{Path, PathBuf};

use sigstore_verify::trust_root::{
    SIGSTORE_PRODUCTION_TRUSTED_ROOT, SIGSTORE_STAGING_TRUSTED_ROOT, TrustedRoot,
};
use sigstore_verify::types::{Bundle, DerPublicKey, Sha256Hash};
use sigstore_verify::{PublicKeyVerificationPolicy, VerificationPolicy, Verifier};

use crate::distribution::digest;
use crate::error::{Error, Result};

/// Which trusted root to verify against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootSource {
    /// The Sigstore public-good production root shipped inside this binary.
    Production,
    /// The Sigstore staging root shipped inside this binary.
    Staging,
    /// A `trusted_root.json` file (private Sigstore instances, tests).
    File(PathBuf),
}

/// Who must have signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signer {
    /// A Fulcio certificate for exactly this identity (SAN) from exactly this OIDC issuer.
    Identity {
        /// Certificate SAN: an email, a URI (e.g. a GitHub workflow ref).
        identity: String,
        /// OIDC issuer URL.
        issuer: String,
    },
    /// A managed key (PKIX PEM); the bundle carries a key hint instead of a certificate.
    Key(String),
}

/// What was signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// A `sha256:<hex>` digest.
    Digest(String),
    /// A file, read (streamed where the signature scheme allows).
    File(PathBuf),
}

impl Subject {
    /// `sha256:<64 hex>` is a digest, anything else a path (the conformance CLI's rule).
    pub fn parse(text: &str) -> Subject {
        if text.starts_with("sha256:") { Subject::Digest(text.into()) } else { Subject::File(text.into()) }
    }
}

/// What a successful verification established.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Verified {
    /// The certificate identity, for keyless bundles.
    pub identity: Option<String>,
    /// The OIDC issuer, for keyless bundles.
    pub issuer: Option<String>,
    /// When the log integrated the entry (RFC 3339), if known.
    pub integrated_time: Option<String>,
    /// Whether transparency-log inclusion was verified.
    pub tlog_verified: bool,
}

/// Loads a trusted root.
///
/// # Errors
///
/// [`Error::Io`] if the file cannot be read; [`Error::Untrusted`] if it is not a trusted root.
pub fn trusted_root(source: &RootSource) -> Result<TrustedRoot> {
    let (json, name) = match source {
        RootSource::Production => {
            (SIGSTORE_PRODUCTION_TRUSTED_ROOT.to_string(), "the production trusted root".into())
        }
        RootSource::Staging => (SIGSTORE_STAGING_TRUSTED_ROOT.to_string(), "the staging trusted root".into()),
        RootSource::File(path) => (
            crate::files::read_text(path, "trusted root", crate::files::MAX_TEXT_BYTES)?,
            path.display().to_string(),
        ),
    };
    TrustedRoot::from_json(&json).map_err(|e| Error::Untrusted {
        subject: name,
        reason: "not a usable trusted root".into(),
        source: Some(e.into()),
    })
}

/// Checks that a bundle and a signer are well-formed, before verifying anything: malformed input
/// is the caller's mistake (the CLI exits 2), not a rejected signature.
///
/// # Errors
///
/// [`Error::Io`] (invalid data) saying which input is malformed.
pub fn check_inputs(bundle_json: &str, signer: &Signer) -> Result<()> {
    let malformed = |what: &str, e: String| {
        Error::io(format!("{what} is malformed"), std::io::Error::new(std::io::ErrorKind::InvalidData, e))
    };
    Bundle::from_json(bundle_json).map_err(|e| malformed("the bundle", e.to_string()))?;
    if let Signer::Key(pem) = signer {
        DerPublicKey::from_pem(pem).map_err(|e| malformed("the key (a PEM public key)", e.to_string()))?;
    }
    Ok(())
}

/// Verifies a bundle (JSON text) for `subject`, signed by `signer`, against `root`.
///
/// # Errors
///
/// [`Error::Untrusted`] for every malformed, mismatched, expired or untrusted bundle;
/// [`Error::Io`] if the artifact file cannot be read.
pub fn verify(bundle_json: &str, subject: &Subject, signer: &Signer, root: &TrustedRoot) -> Result<Verified> {
    let untrusted =
        |reason: String| Error::Untrusted { subject: subject_name(subject), reason, source: None };
    let bundle = Bundle::from_json(bundle_json).map_err(|e| untrusted(format!("malformed bundle: {e}")))?;
    let verifier = Verifier::new(root).map_err(|e| untrusted(format!("trusted root refused: {e}")))?;
    let policy: Box<dyn sigstore_verify::Policy> = match signer {
        Signer::Identity { identity, issuer } => {
            Box::new(VerificationPolicy::new(identity.as_str(), issuer.as_str()))
        }
        Signer::Key(pem) => Box::new(PublicKeyVerificationPolicy::new(
            DerPublicKey::from_pem(pem)
                .map_err(|e| untrusted(format!("the key is not a PEM public key: {e}")))?,
        )),
    };
    let result = match subject {
        Subject::Digest(text) => {
            let hex = digest::parse(text).map_err(&untrusted)?;
            let hash = Sha256Hash::from_hex(hex).map_err(|e| untrusted(e.to_string()))?;
            verifier.verify(hash, &bundle, policy.as_ref())
        }
        Subject::File(path) => {
            let bytes = crate::files::read(path, "artifact", crate::files::MAX_COMPONENT_BYTES)?;
            verifier.verify(&bytes, &bundle, policy.as_ref())
        }
    }
    .map_err(|e| untrusted(e.to_string()))?;
    Ok(Verified {
        identity: result.identity().map(|i| i.to_string()),
        issuer: result.issuer().map(str::to_string),
        integrated_time: result.integrated_time().map(|t| t.to_string()),
        tlog_verified: result.tlog_verified(),
    })
}

fn subject_name(subject: &Subject) -> String {
    match subject {
        Subject::Digest(d) => d.clone(),
        Subject::File(p) => p.display().to_string(),
    }
}

/// Reads a bundle file.
///
/// # Errors
///
/// [`Error::Io`].
pub fn read(path: &Path) -> Result<String> {
    crate::files::read_text(path, "bundle", crate::files::MAX_TEXT_BYTES)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_shipped_roots_load() {
        trusted_root(&RootSource::Production).unwrap();
        trusted_root(&RootSource::Staging).unwrap();
    }

    #[test]
    fn garbage_is_refused_not_panicked_on() {
        let root = trusted_root(&RootSource::Production).unwrap();
        let signer = Signer::Identity { identity: "a@b".into(), issuer: "https://x".into() };
        let subject = Subject::Digest(format!("sha256:{}", "0".repeat(64)));
        for bundle in ["", "{}", "[]", "{\"mediaType\": 3}", "\u{0}\u{1}"] {
            assert_eq!(
                verify(bundle, &subject, &signer, &root).unwrap_err().kind(),
                crate::ErrorKind::Untrusted
            );
        }
        let bad_digest = Subject::Digest("sha256:xyz".into());
        assert_eq!(
            verify("{}", &bad_digest, &signer, &root).unwrap_err().kind(),
            crate::ErrorKind::Untrusted
        );
    }

    #[test]
    fn a_digest_or_a_path() {
        assert_eq!(Subject::parse("sha256:ab"), Subject::Digest("sha256:ab".into()));
        assert_eq!(Subject::parse("a.txt"), Subject::File("a.txt".into()));
    }
}
