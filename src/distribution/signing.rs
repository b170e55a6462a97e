//! Keyed, cosign-compatible signing: key pairs in cosign's formats, the simple-signing payload,
//! and signature manifests stored under the `sha256-<digest>.sig` tag. Cryptography is the
//! `sigstore` crate's; this module only arranges the documented cosign layout around it.
//!
//! A signature manifest is an OCI image manifest whose layers are simple-signing payloads
//! (`application/vnd.dev.cosign.simplesigning.v1+json`), each with its base64 ECDSA P-256
//! signature in the `dev.cosignproject.cosign/signature` annotation. The payload:
//!
//! ```json
//! {"critical":{"identity":{"docker-reference":"REGISTRY/REPO"},
//!              "image":{"docker-manifest-digest":"sha256:…"},
//!              "type":"cosign container image signature"},"optional":null}
//! ```

use std::collections::BTreeMap;

use oci_client::manifest::{OciDescriptor, OciImageManifest};
use sigstore::cosign::payload::simple_signing::{Critical, Identity, Image, SimpleSigning};
use sigstore::crypto::signing_key::SigStoreKeyPair;
use sigstore::crypto::{CosignVerificationKey, SigStoreSigner, Signature, SigningScheme};

use crate::distribution::digest;
use crate::distribution::media;
use crate::error::{Error, Result};

/// A new ECDSA P-256 key pair: the private key encrypted with `password` in cosign's format
/// (`ENCRYPTED SIGSTORE PRIVATE KEY`, scrypt + secretbox) and the public key as PKIX PEM.
///
/// # Errors
///
/// [`Error::Untrusted`] if key generation or encryption fails.
pub fn generate_key_pair(password: &[u8]) -> Result<(String, String)> {
    let failed = |e: sigstore::errors::SigstoreError| Error::Untrusted {
        subject: "new key pair".into(),
        reason: "generating or encrypting it failed".into(),
        source: Some(e.into()),
    };
    let signer = SigningScheme::ECDSA_P256_SHA256_ASN1.create_signer().map_err(failed)?;
    let pair = signer.to_sigstore_keypair().map_err(failed)?;
    let private = pair.private_key_to_encrypted_pem(password).map_err(failed)?;
    Ok((private.to_string(), pair.public_key_to_pem().map_err(failed)?))
}

/// A signing key from PEM: cosign's encrypted format (with `password`) or plain PKCS#8.
///
/// # Errors
///
/// [`Error::Untrusted`] if it cannot be read or decrypted (wrong password).
pub fn signing_key(pem: &[u8], password: &[u8]) -> Result<SigStoreSigner> {
    let failed = |e: sigstore::errors::SigstoreError| Error::Untrusted {
        subject: "signing key".into(),
        reason: "it cannot be read as a signing key".into(),
        source: Some(e.into()),
    };
    let text = String::from_utf8_lossy(pem);
    let pair = if text.contains("ENCRYPTED") {
        // sigstore tries every key type and reports a failed decryption as an unsupported key
        // type: decrypt first, so a wrong password is called one.
        if let Some(sealed) = pem_body(&text)
            && sigstore::crypto::signing_key::kdf::decrypt(&sealed, password).is_err()
        {
            return Err(Error::Untrusted {
                subject: "signing key".into(),
                reason: "the password is wrong (it cannot decrypt this key; set COSIGN_PASSWORD to the \
                         one the key was made with)"
                    .into(),
                source: None,
            });
        }
        SigStoreKeyPair::from_encrypted_pem(pem, password)
    } else {
        SigStoreKeyPair::from_pem(pem)
    }
    .map_err(failed)?;
    pair.to_sigstore_signer(&SigningScheme::ECDSA_P256_SHA256_ASN1).map_err(failed)
}

/// The bytes inside a PEM block (between its BEGIN and END lines).
fn pem_body(text: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    let body: String = text
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .map(str::trim)
        .collect();
    base64::engine::general_purpose::STANDARD.decode(body).ok()
}

/// A verification key from PKIX PEM (ECDSA P-256, as cosign writes them; other cosign key
/// types are accepted too).
///
/// # Errors
///
/// [`Error::Untrusted`] naming `what` if it is not a public key.
pub fn verification_key(what: &str, pem: &[u8]) -> Result<CosignVerificationKey> {
    CosignVerificationKey::try_from_pem(pem).map_err(|e| Error::Untrusted {
        subject: what.into(),
        reason: "not a public key".into(),
        source: Some(e.into()),
    })
}

/// The simple-signing payload for a manifest digest in `repo` (`registry/repository`).
pub fn payload(repo: &str, manifest_digest: &str) -> Vec<u8> {
    let payload = SimpleSigning {
        critical: Critical {
            identity: Identity { docker_reference: repo.to_string() },
            image: Image { docker_manifest_digest: manifest_digest.to_string() },
            type_name: media::COSIGN_PAYLOAD_TYPE.to_string(),
        },
        optional: None,
    };
    serde_json::to_vec(&payload).expect("plain data serializes")
}

/// Signs a payload; the signature base64-encoded, as the annotation carries it.
///
/// # Errors
///
/// [`Error::Untrusted`] if signing fails.
pub fn sign(signer: &SigStoreSigner, payload: &[u8]) -> Result<String> {
    use base64::Engine;
    let signature = signer.sign(payload).map_err(|e| Error::Untrusted {
        subject: "payload".into(),
        reason: e.to_string(),
        source: None,
    })?;
    Ok(base64::engine::general_purpose::STANDARD.encode(signature))
}

/// One signature found in a signature manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyedSignature {
    /// The simple-signing payload, as signed.
    pub payload: Vec<u8>,
    /// Base64 signature from the layer annotation.
    pub signature: String,
}

/// Checks one signature: the payload must be a cosign payload for `manifest_digest`, and the
/// signature must verify with `key`.
///
/// # Errors
///
/// A reason, for the trust report.
pub fn verify(
    sig: &KeyedSignature,
    key: &CosignVerificationKey,
    manifest_digest: &str,
) -> std::result::Result<(), String> {
    let payload: SimpleSigning =
        serde_json::from_slice(&sig.payload).map_err(|e| format!("payload is not simple signing: {e}"))?;
    if payload.critical.type_name != media::COSIGN_PAYLOAD_TYPE {
        return Err(format!("payload type is `{}`", payload.critical.type_name));
    }
    if payload.critical.image.docker_manifest_digest != manifest_digest {
        return Err(format!(
            "the signature is for {}, not {manifest_digest}",
            payload.critical.image.docker_manifest_digest
        ));
    }
    key.verify_signature(Signature::Base64Encoded(sig.signature.as_bytes()), &sig.payload)
        .map_err(|e| format!("signature does not verify with the key: {e}"))
}

/// The signatures in a signature manifest; `blob` fetches a layer's bytes (already checked
/// against its digest). Layers of other media types (e.g. bundles) are left to their own
/// readers; layers without a signature annotation are skipped.
///
/// # Errors
///
/// Whatever `blob` returns.
pub fn signatures(
    manifest: &OciImageManifest,
    mut blob: impl FnMut(&OciDescriptor) -> Result<Vec<u8>>,
) -> Result<Vec<KeyedSignature>> {
    let mut found = Vec::new();
    for layer in manifest.layers.iter().filter(|l| l.media_type == media::COSIGN_SIMPLE_SIGNING) {
        let Some(signature) = layer.annotations.as_ref().and_then(|a| a.get(media::COSIGN_SIGNATURE)) else {
            continue;
        };
        found.push(KeyedSignature { payload: blob(layer)?, signature: signature.clone() });
    }
    Ok(found)
}

/// The signature manifest after adding one more payload layer to `existing` (or a new one),
/// plus the config blob it references. A layer already present is not added twice.
pub fn add_signature(
    existing: Option<OciImageManifest>,
    payload: &[u8],
    signature: &str,
) -> (OciImageManifest, Vec<u8>) {
    let mut manifest = existing.unwrap_or_else(|| OciImageManifest {
        schema_version: 2,
        media_type: Some(media::OCI_MANIFEST.into()),
        ..Default::default()
    });
    let payload_digest = digest::sha256(payload);
    let duplicate = manifest.layers.iter().any(|l| {
        l.digest == payload_digest
            && l.annotations.as_ref().and_then(|a| a.get(media::COSIGN_SIGNATURE)).map(String::as_str)
                == Some(signature)
    });
    if !duplicate {
        let mut annotations = BTreeMap::new();
        annotations.insert(media::COSIGN_SIGNATURE.to_string(), signature.to_string());
        manifest.layers.push(OciDescriptor {
            media_type: media::COSIGN_SIMPLE_SIGNING.into(),
            digest: payload_digest,
            size: payload.len() as i64,
            annotations: Some(annotations),
            ..Default::default()
        });
    }
    // The config cosign writes: an image config whose rootfs lists the payload layers.
    let diff_ids: Vec<&str> = manifest.layers.iter().map(|l| l.digest.as_str()).collect();
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "",
        "created": "0001-01-01T00:00:00Z",
        "history": [{ "created": "0001-01-01T00:00:00Z" }],
        "os": "",
        "rootfs": { "type": "layers", "diff_ids": diff_ids },
        "config": {},
    }))
    .expect("plain data serializes");
    manifest.config = OciDescriptor {
        media_type: media::OCI_IMAGE_CONFIG.into(),
        digest: digest::sha256(&config),
        size: config.len() as i64,
        ..Default::default()
    };
    (manifest, config)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest_of(s: &str) -> String {
        digest::sha256(s.as_bytes())
    }

    #[test]
    fn a_signature_verifies_only_for_its_digest_and_key() {
        let (private, public) = generate_key_pair(b"pw").unwrap();
        assert!(private.contains("ENCRYPTED SIGSTORE PRIVATE KEY"));
        let signer = signing_key(private.as_bytes(), b"pw").unwrap();
        let key = verification_key("key", public.as_bytes()).unwrap();
        let d = digest_of("manifest");
        let payload = payload("localhost:5000/plugins/x", &d);
        let sig = KeyedSignature { signature: sign(&signer, &payload).unwrap(), payload };
        verify(&sig, &key, &d).unwrap();
        assert!(verify(&sig, &key, &digest_of("other")).unwrap_err().contains("not sha256:"));
        let (_, other_public) = generate_key_pair(b"pw").unwrap();
        let other = verification_key("other", other_public.as_bytes()).unwrap();
        assert!(verify(&sig, &other, &d).unwrap_err().contains("does not verify"));
        let mut forged = sig.clone();
        forged.payload = super::payload("localhost:5000/plugins/x", &digest_of("other"));
        assert!(verify(&forged, &key, &digest_of("other")).is_err());
    }

    #[test]
    fn a_wrong_password_is_refused() {
        let (private, _) = generate_key_pair(b"right").unwrap();
        let err = signing_key(private.as_bytes(), b"wrong").unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Untrusted);
        assert!(err.to_string().contains("password is wrong"), "{err}");
        assert!(signing_key(private.as_bytes(), b"right").is_ok());
    }

    #[test]
    fn the_payload_has_cosigns_documented_shape() {
        let d = digest_of("m");
        let v: serde_json::Value = serde_json::from_slice(&payload("r.example/a/b", &d)).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"critical": {"identity": {"docker-reference": "r.example/a/b"},
                "image": {"docker-manifest-digest": d}, "type": "cosign container image signature"},
                "optional": null})
        );
    }

    #[test]
    fn signatures_accumulate_without_duplicates() {
        let (m, _) = add_signature(None, b"p1", "s1");
        let (m, _) = add_signature(Some(m), b"p1", "s1");
        let (m, config) = add_signature(Some(m), b"p2", "s2");
        assert_eq!(m.layers.len(), 2);
        assert_eq!(m.config.digest, digest::sha256(&config));
        let sigs = signatures(&m, |l| {
            Ok(if l.digest == digest::sha256(b"p1") { b"p1".to_vec() } else { b"p2".to_vec() })
        })
        .unwrap();
        assert_eq!(sigs[1], KeyedSignature { payload: b"p2".to_vec(), signature: "s2".into() });
    }
}
