//! Verifying signatures against the host's trust policy ([`TrustPolicy`], defined with the rest of
//! the policy and re-exported here): which keys and which Sigstore identities a plugin must be
//! signed by before it may load, and whether unsigned plugins may load at all (by default they
//! may not).
//!
//! ```toml
//! [trust]                               # in the host policy file
//! allow-unsigned = false                # the default
//! require = "any-of"                    # or "all-of": every key and identity below
//! keys = ["keys/release.pub"]           # cosign public keys, relative to the policy file
//! identities = [{ identity = "https://github.com/acme/census/.github/workflows/release.yml@refs/heads/main",
//!                 issuer = "https://token.actions.githubusercontent.com" }]
//! trusted-root = "sigstore/trusted_root.json"   # default: Sigstore public good, shipped inside
//! ```
//!
//! Keys are checked against cosign signatures of the artifact's manifest digest; identities
//! against Sigstore bundles attached to it, which sign the component's digest.

use crate::distribution::bundle::{self, RootSource, Signer, Subject};
use crate::distribution::signing::{self, KeyedSignature};
use crate::error::Result;
pub use crate::policy::{Check, Require, TrustPolicy, TrustedIdentity, Verdict};

/// Signatures found for one artifact.
#[derive(Debug, Clone, Default)]
pub struct Evidence {
    /// Cosign simple-signing signatures of the manifest digest.
    pub signatures: Vec<KeyedSignature>,
    /// Sigstore bundles (JSON) over the component digest.
    pub bundles: Vec<String>,
}

impl Evidence {
    /// Whether there is no signature of any kind.
    pub fn is_empty(&self) -> bool {
        self.signatures.is_empty() && self.bundles.is_empty()
    }
}

impl TrustPolicy {
    /// Decides whether an artifact may load. Reads the key files and trusted root; verifies
    /// offline.
    ///
    /// # Errors
    ///
    /// [`Error::Io`](crate::Error::Io) / [`Error::Untrusted`](crate::Error::Untrusted) if a configured key or root cannot be used (a
    /// misconfigured policy fails closed).
    pub fn evaluate(
        &self,
        subject: &str,
        manifest_digest: &str,
        component_digest: &str,
        evidence: &Evidence,
    ) -> Result<Verdict> {
        let mut checks = Vec::new();
        for path in &self.keys {
            let pem = crate::files::read(path, "trusted key", crate::files::MAX_TEXT_BYTES)?;
            let key = signing::verification_key(&path.display().to_string(), &pem)?;
            let (ok, detail) = any_verifies(&evidence.signatures, "cosign signature", |sig| {
                signing::verify(sig, &key, manifest_digest)
            });
            checks.push(Check { anchor: format!("key {}", path.display()), ok, detail });
        }
        if !self.identities.is_empty() {
            let source = self.trusted_root.clone().map(RootSource::File).unwrap_or(RootSource::Production);
            let root = bundle::trusted_root(&source)?;
            let target = Subject::Digest(component_digest.to_string());
            for id in &self.identities {
                let signer = Signer::Identity { identity: id.identity.clone(), issuer: id.issuer.clone() };
                let (ok, detail) = any_verifies(&evidence.bundles, "Sigstore bundle", |b| {
                    bundle::verify(b, &target, &signer, &root).map(drop).map_err(|e| e.to_string())
                });
                checks.push(Check {
                    anchor: format!("identity {} ({})", id.identity, id.issuer),
                    ok,
                    detail,
                });
            }
        }
        let signed = !evidence.is_empty();
        let satisfied = match self.require {
            _ if checks.is_empty() => false,
            Require::AnyOf => checks.iter().any(|c| c.ok),
            Require::AllOf => checks.iter().all(|c| c.ok),
        };
        let (accepted, summary) = match (satisfied, signed, self.allow_unsigned) {
            (true, _, _) => (true, "signed by a trusted signer".to_string()),
            (false, false, true) => (true, "unsigned, allowed by the policy (allow-unsigned)".to_string()),
            (false, false, false) => {
                (false, "unsigned, and the policy does not allow unsigned plugins".to_string())
            }
            (false, true, true) if checks.is_empty() => (
                true,
                "signatures not checked: the policy trusts no signer; allowed by allow-unsigned".to_string(),
            ),
            (false, true, false) if checks.is_empty() => {
                (false, "signed, but the policy trusts no key or identity".to_string())
            }
            (false, true, _) => (
                false,
                match self.require {
                    Require::AnyOf => "no trusted signer's signature verifies".to_string(),
                    Require::AllOf => "not every required signer's signature verifies".to_string(),
                },
            ),
        };
        Ok(Verdict {
            subject: subject.to_string(),
            digest: manifest_digest.to_string(),
            signed,
            checks,
            accepted,
            summary,
        })
    }

    /// Makes relative key and root paths relative to `dir` (the policy file's directory).
    pub fn resolve_paths(&mut self, dir: &std::path::Path) {
        for key in &mut self.keys {
            if key.is_relative() {
                *key = dir.join(&*key);
            }
        }
        if let Some(root) = &mut self.trusted_root
            && root.is_relative()
        {
            *root = dir.join(&*root);
        }
    }
}

/// Whether any of `items` verifies; what verified, or every reason none did.
fn any_verifies<T>(
    items: &[T],
    what: &str,
    verify: impl Fn(&T) -> std::result::Result<(), String>,
) -> (bool, String) {
    if items.is_empty() {
        return (false, format!("no {what}"));
    }
    let mut failures = Vec::new();
    for item in items {
        match verify(item) {
            Ok(()) => return (true, format!("a {what} verifies")),
            Err(why) => failures.push(why),
        }
    }
    (false, failures.join("; "))
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::distribution::digest;

    struct Keys {
        _dir: tempfile::TempDir,
        paths: Vec<PathBuf>,
        signers: Vec<sigstore::crypto::SigStoreSigner>,
    }

    fn keys(n: usize) -> Keys {
        let dir = tempfile::tempdir().unwrap();
        let (mut paths, mut signers) = (Vec::new(), Vec::new());
        for i in 0..n {
            let (private, public) = signing::generate_key_pair(b"").unwrap();
            let path = dir.path().join(format!("k{i}.pub"));
            std::fs::write(&path, public).unwrap();
            paths.push(path);
            signers.push(signing::signing_key(private.as_bytes(), b"").unwrap());
        }
        Keys { _dir: dir, paths, signers }
    }

    fn signed_by(signers: &[&sigstore::crypto::SigStoreSigner], digest: &str) -> Evidence {
        let payload = signing::payload("r/x", digest);
        let signatures = signers
            .iter()
            .map(|s| KeyedSignature {
                payload: payload.clone(),
                signature: signing::sign(s, &payload).unwrap(),
            })
            .collect();
        Evidence { signatures, bundles: vec![] }
    }

    #[test]
    fn unsigned_plugins_are_refused_unless_allowed() {
        let d = digest::sha256(b"m");
        let policy = TrustPolicy::default();
        let v = policy.evaluate("r/x:1", &d, &d, &Evidence::default()).unwrap();
        assert!(!v.accepted && !v.signed);
        assert!(v.into_result().unwrap_err().to_string().contains("unsigned"));
        let open = TrustPolicy { allow_unsigned: true, ..Default::default() };
        assert!(open.evaluate("r/x:1", &d, &d, &Evidence::default()).unwrap().accepted);
    }

    #[test]
    fn any_of_and_all_of() {
        let k = keys(2);
        let d = digest::sha256(b"m");
        let any = TrustPolicy { keys: k.paths.clone(), ..Default::default() };
        let all = TrustPolicy { require: Require::AllOf, ..any.clone() };
        let one = signed_by(&[&k.signers[0]], &d);
        let both = signed_by(&[&k.signers[0], &k.signers[1]], &d);
        assert!(any.evaluate("x", &d, &d, &one).unwrap().accepted);
        let v = all.evaluate("x", &d, &d, &one).unwrap();
        assert!(!v.accepted);
        assert_eq!(v.checks.iter().filter(|c| c.ok).count(), 1);
        assert!(all.evaluate("x", &d, &d, &both).unwrap().accepted);
    }

    #[test]
    fn a_signature_for_another_digest_or_by_another_key_is_refused() {
        let k = keys(2);
        let d = digest::sha256(b"m");
        let policy = TrustPolicy { keys: vec![k.paths[0].clone()], ..Default::default() };
        let other_digest = signed_by(&[&k.signers[0]], &digest::sha256(b"other"));
        let err = policy.evaluate("x", &d, &d, &other_digest).unwrap().into_result().unwrap_err();
        assert!(err.to_string().contains("the signature is for"), "{err}");
        let other_key = signed_by(&[&k.signers[1]], &d);
        let err = policy.evaluate("x", &d, &d, &other_key).unwrap().into_result().unwrap_err();
        assert!(err.to_string().contains("does not verify"), "{err}");
        // A bad signature is not rescued by allow-unsigned when anchors are configured.
        let lax = TrustPolicy { allow_unsigned: true, ..policy.clone() };
        assert!(!lax.evaluate("x", &d, &d, &other_key).unwrap().accepted);
        // Signed, but nobody is trusted: refused, unless unsigned plugins are allowed anyway.
        let nobody = TrustPolicy::default();
        assert!(!nobody.evaluate("x", &d, &d, &other_key).unwrap().accepted);
        let open = TrustPolicy { allow_unsigned: true, ..Default::default() };
        assert!(open.evaluate("x", &d, &d, &other_key).unwrap().accepted);
    }

    #[test]
    fn a_missing_key_file_fails_closed() {
        let d = digest::sha256(b"m");
        let policy = TrustPolicy { keys: vec!["/nonexistent/k.pub".into()], ..Default::default() };
        assert_eq!(
            policy.evaluate("x", &d, &d, &Evidence::default()).unwrap_err().kind(),
            crate::ErrorKind::Io
        );
    }
}
