//! `ptplugin verify-bundle` against real public Sigstore bundles: the ones the
//! `sigstore-verify` crate ships with its sources (public-good production and staging
//! instances, GitHub Actions, cosign v3, conda and npm attestations, a managed key, RFC 3161
//! timestamps), each verified offline, and the must-fail cases: wrong identity, issuer,
//! artifact, root or key, and tampered signatures, proofs and certificates.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::Value;

use crate::support::{output, ptplugin};

/// The `test_data` directory of the `sigstore-verify` crate this project builds with.
pub fn data() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| crate::support::crate_source("sigstore-verify").join("test_data"))
}

fn file(rel: &str) -> String {
    data().join(rel).display().to_string()
}

const GITHUB: &str = "https://token.actions.githubusercontent.com";
const GITHUB_OAUTH: &str = "https://github.com/login/oauth";
const COSIGN_BLOB_DIGEST: &str = "sha256:e194b99df6639501325c5f44da79fe3a8efae6f239bd79443a19787e06fb1764";
const WHL_IDENTITY: &str =
    "https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2";
const WHL_DIGEST: &str = "sha256:c4e92e9ecc828bef2aa7dba1de8ac983511f7532a0df11c770d39099a25cf201";
const BEACON: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const BEACON_DIGEST: &str = "sha256:a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf";

/// `verify-bundle` with `args`: the exit code and stderr.
fn verify(args: &[&str]) -> (Option<i32>, String) {
    let (code, _, err) = output(ptplugin().arg("verify-bundle").args(args));
    (code, err)
}

fn identity<'a>(bundle: &'a str, id: &'a str, issuer: &'a str, subject: &'a str) -> Vec<String> {
    vec![
        "--bundle".into(),
        bundle.into(),
        "--certificate-identity".into(),
        id.into(),
        "--certificate-oidc-issuer".into(),
        issuer.into(),
        subject.into(),
    ]
}

fn accepted(args: &[String]) {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, err) = verify(&args);
    assert_eq!(code, Some(0), "expected verified: {args:?}\n{err}");
}

fn rejected(args: &[String], why: &str) {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, err) = verify(&args);
    assert_eq!(code, Some(1), "expected rejected: {args:?}\n{err}");
    assert!(err.contains("error[untrusted]") && err.contains(why), "expected `{why}` in: {err}");
}

/// Malformed input (a bundle or key that does not parse): unusable, exit 2, not a verdict.
fn unusable(args: &[String], why: &str) {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, err) = verify(&args);
    assert_eq!(code, Some(2), "expected unusable input: {args:?}\n{err}");
    assert!(
        err.contains("error[io]") && err.contains("malformed") && err.contains(why),
        "expected `{why}` in: {err}"
    );
}

/// A copy of a bundle with `edit` applied to its JSON.
fn edited(rel: &str, edit: impl FnOnce(&mut Value)) -> (tempfile::TempDir, String) {
    let mut bundle: Value = serde_json::from_str(&std::fs::read_to_string(file(rel)).unwrap()).unwrap();
    edit(&mut bundle);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("edited.sigstore.json");
    std::fs::write(&path, serde_json::to_vec(&bundle).unwrap()).unwrap();
    let path = path.display().to_string();
    (dir, path)
}

/// Flips the last character of a base64 string (so it stays base64 but means other bytes).
fn flip(v: &mut Value) {
    let s = v.as_str().unwrap().to_string();
    let pos = s.trim_end_matches('=').len() - 2;
    let mut bytes = s.into_bytes();
    bytes[pos] = if bytes[pos] == b'A' { b'B' } else { b'A' };
    *v = Value::String(String::from_utf8(bytes).unwrap());
}

#[test]
fn production_bundles_verify_offline_for_file_and_digest() {
    let bundle = file("bundles/cosign-v3-blob.sigstore.json");
    accepted(&identity(&bundle, "w.vollprecht@gmail.com", GITHUB_OAUTH, &file("bundles/cosign-v3-blob.txt")));
    accepted(&identity(&bundle, "w.vollprecht@gmail.com", GITHUB_OAUTH, COSIGN_BLOB_DIGEST));
    accepted(&identity(&file("bundles/bundle_v3_github.whl.sigstore"), WHL_IDENTITY, GITHUB, WHL_DIGEST));
}

#[test]
fn dsse_attestations_verify_against_their_subject() {
    let conda = file("bundles/conda-attestation.sigstore.json");
    let id = "https://github.com/prefix-dev/sigstore-example/.github/workflows/action.yaml@refs/heads/main";
    accepted(&identity(&conda, id, GITHUB, &file("bundles/signed-package-2.1.0-hb0f4dca_0.conda")));
    rejected(
        &identity(&conda, id, GITHUB, &file("bundles/cosign-v3-blob.txt")),
        "does not match any subject",
    );
}

#[test]
fn a_dsse_attestation_verifies_by_subject_digest() {
    // A SLSA provenance bundle from kubewarden's release workflow (shipped in the sigstore crate).
    let bundle =
        crate::support::crate_source("sigstore").join("tests/data/bundle_v03.json").display().to_string();
    let id =
        "https://github.com/kubewarden/kubewarden-controller/.github/workflows/release.yml@refs/tags/v1.34.0";
    let subject = "sha256:c811d58de79c92f03214e63aa339484e488d694ae8a6283b5f3f17a9faf50172";
    accepted(&identity(&bundle, id, GITHUB, subject));
    rejected(&identity(&bundle, id, GITHUB, COSIGN_BLOB_DIGEST), "does not match any subject");
    rejected(
        &identity(
            &bundle,
            "https://github.com/kubewarden/kubewarden-controller/.github/workflows/release.yml@refs/tags/v1.35.0",
            GITHUB,
            subject,
        ),
        "",
    );
}

#[test]
fn staging_bundles_need_the_staging_root() {
    let bundle = file("sct-multi-intermediate/staging_bundle.sigstore.json");
    let id =
        "https://github.com/sigstore/root-signing-staging/.github/workflows/custom-test.yml@refs/heads/main";
    let digest = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    let mut staging = vec!["--staging".to_string()];
    staging.extend(identity(&bundle, id, GITHUB, digest));
    accepted(&staging);
    rejected(&identity(&bundle, id, GITHUB, digest), "");
    // Rekor v2 (staging), verified against the file.
    let mut v2 = vec!["--staging".to_string()];
    v2.extend(identity(
        &file("upstream/sigstore-python/staging-rekor-v2.txt.sigstore.json"),
        "jku@goto.fi",
        GITHUB_OAUTH,
        &file("upstream/sigstore-python/staging-rekor-v2.txt"),
    ));
    accepted(&v2);
    // And a production bundle under the staging root is refused.
    let mut prod_on_staging = vec!["--staging".to_string()];
    prod_on_staging.extend(identity(
        &file("bundles/cosign-v3-blob.sigstore.json"),
        "w.vollprecht@gmail.com",
        GITHUB_OAUTH,
        COSIGN_BLOB_DIGEST,
    ));
    rejected(&prod_on_staging, "");
}

#[test]
fn a_trusted_root_file_and_rfc3161_timestamps() {
    let mut args = vec!["--trusted-root".to_string(), file("timestamps/valid_trusted_root.json")];
    args.extend(identity(&file("timestamps/valid_bundle.json"), BEACON, GITHUB, BEACON_DIGEST));
    accepted(&args);
    // The same bundle against the production root: its CA is not trusted there.
    rejected(&identity(&file("timestamps/valid_bundle.json"), BEACON, GITHUB, BEACON_DIGEST), "");
}

#[test]
fn a_managed_key_bundle_verifies_with_its_key_only() {
    let bundle = file("managed-key/bundle.sigstore.json");
    let artifact = file("managed-key/artifact.txt");
    accepted(&[
        "--bundle".into(),
        bundle.clone(),
        "--key".into(),
        file("managed-key/key.pub"),
        artifact.clone(),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("other");
    let (code, _, err) =
        output(ptplugin().env("COSIGN_PASSWORD", "").args(["keygen", "--output-key-prefix"]).arg(&prefix));
    assert_eq!(code, Some(0), "{err}");
    let other = format!("{}.pub", prefix.display());
    rejected(&["--bundle".into(), bundle, "--key".into(), other, artifact], "invalid signature");
}

#[test]
fn wrong_identity_issuer_or_artifact_is_rejected() {
    let bundle = file("bundles/cosign-v3-blob.sigstore.json");
    rejected(
        &identity(&bundle, "someone.else@example.com", GITHUB_OAUTH, COSIGN_BLOB_DIGEST),
        "identity mismatch",
    );
    rejected(
        &identity(&bundle, "w.vollprecht@gmail.com", "https://accounts.google.com", COSIGN_BLOB_DIGEST),
        "issuer mismatch",
    );
    let other = format!("sha256:{}", "0".repeat(64));
    rejected(&identity(&bundle, "w.vollprecht@gmail.com", GITHUB_OAUTH, &other), "does not match artifact");
    rejected(
        &identity(&bundle, "w.vollprecht@gmail.com", GITHUB_OAUTH, &file("managed-key/artifact.txt")),
        "",
    );
}

#[test]
fn tampered_signatures_proofs_and_certificates_are_rejected() {
    let rel = "bundles/cosign-v3-blob.sigstore.json";
    let check = |why: &str, edit: fn(&mut Value)| {
        let (_dir, path) = edited(rel, edit);
        rejected(&identity(&path, "w.vollprecht@gmail.com", GITHUB_OAUTH, COSIGN_BLOB_DIGEST), why);
    };
    // The untouched copy verifies, so each failure below is the edit's doing.
    let (_dir, same) = edited(rel, |_| {});
    accepted(&identity(&same, "w.vollprecht@gmail.com", GITHUB_OAUTH, COSIGN_BLOB_DIGEST));
    check("timestamp", |b| flip(&mut b["messageSignature"]["signature"]));
    check("invalid inclusion proof", |b| {
        flip(&mut b["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["hashes"][0])
    });
    check("checkpoint root hash", |b| {
        flip(&mut b["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["rootHash"])
    });
    check("invalid inclusion proof", |b| {
        let size: u64 = b["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["logIndex"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        b["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["logIndex"] =
            Value::String((size + 1).to_string());
    });
    check("inclusion promise", |b| {
        flip(&mut b["verificationMaterial"]["tlogEntries"][0]["inclusionPromise"]["signedEntryTimestamp"])
    });
    check("inclusion promise", |b| {
        flip(&mut b["verificationMaterial"]["tlogEntries"][0]["canonicalizedBody"])
    });
    check("No log key valid at integrated time", |b| {
        b["verificationMaterial"]["tlogEntries"][0]["integratedTime"] = Value::String("1500000000".into());
    });
    check("certificate chain", |b| {
        let cert = &mut b["verificationMaterial"]["certificate"]["rawBytes"];
        flip(cert);
    });
    check("must have an inclusion proof", |b| {
        b["verificationMaterial"]["tlogEntries"] = Value::Array(vec![]);
    });
    check("message digest", |b| flip(&mut b["messageSignature"]["messageDigest"]["digest"]));
}

#[test]
fn malformed_input_is_unusable_and_known_bad_bundles_are_rejected() {
    let any = |rel: &str, digest: &str, why: &str| {
        rejected(&identity(&file(rel), "william@yossarian.net", GITHUB_OAUTH, digest), why);
    };
    let d = |hex: &str| format!("sha256:{hex}");
    unusable(
        &identity(
            &file("bundles/bundle_invalid_version.txt.sigstore"),
            "william@yossarian.net",
            GITHUB_OAUTH,
            &d("7a1f2b23ec9add163c6d0bbb454af45e1483b9bec7b72aea1b4fdf0e2f5644f0"),
        ),
        "the bundle",
    );
    any(
        "bundles/bundle_cve_2022_36056.txt.sigstore",
        &d("c87b5b213ab08b32970c106d0c7e4423e67f5449c2fd2d1e9b4ea6cc43b6ee7c"),
        "",
    );
    any(
        "bundles/bundle_no_log_entry.txt.sigstore",
        &d("9b469fc9761e8b933073b62725fbc98b549c3314199ded71cc8b286ef2c6fb9b"),
        "",
    );
    any(
        "bundles/bundle_no_cert_v1.txt.sigstore",
        &d("9b469fc9761e8b933073b62725fbc98b549c3314199ded71cc8b286ef2c6fb9b"),
        "",
    );
    any(
        "bundles/bundle_no_checkpoint.txt.sigstore",
        &d("802dd60ff88333802f2585e73043bd21c341285e1992fe5b31755e1cadeae30e"),
        "",
    );
    unusable(
        &identity(
            &file("bundles/dsse-2sigs.sigstore.json"),
            "william@yossarian.net",
            GITHUB_OAUTH,
            &d(&"1".repeat(64)),
        ),
        "exactly one signature",
    );
    let mut ct = vec!["--trusted-root".to_string(), file("invalid-ct-key_fail/trusted_root.json")];
    ct.extend(identity(&file("invalid-ct-key_fail/bundle.sigstore.json"), BEACON, GITHUB, BEACON_DIGEST));
    rejected(&ct, "certificate timestamp");
    let (dir, _) = edited("bundles/cosign-v3-blob.sigstore.json", |_| {});
    for garbage in
        ["", "{}", "[1,2]", "not json", "{\"mediaType\": \"application/vnd.dev.sigstore.bundle.v0.3+json\"}"]
    {
        let path = dir.path().join("garbage.json");
        std::fs::write(&path, garbage).unwrap();
        unusable(
            &identity(&path.display().to_string(), "a@b", GITHUB_OAUTH, COSIGN_BLOB_DIGEST),
            "the bundle",
        );
    }
    let key = dir.path().join("not-a-key.pem");
    std::fs::write(&key, "not a key at all\n").unwrap();
    let with_key = |key: &str| {
        vec![
            "--bundle".to_string(),
            file("bundles/cosign-v3-blob.sigstore.json"),
            "--key".into(),
            key.into(),
            COSIGN_BLOB_DIGEST.into(),
        ]
    };
    unusable(&with_key(&key.display().to_string()), "the key");
    let bad_digest = identity(
        &file("bundles/cosign-v3-blob.sigstore.json"),
        "w.vollprecht@gmail.com",
        GITHUB_OAUTH,
        "sha256:XYZ",
    );
    rejected(&bad_digest, "");
}

#[test]
fn unusable_input_exits_2() {
    let (code, err) = verify(&[
        "--bundle",
        "/nonexistent.json",
        "--certificate-identity",
        "a",
        "--certificate-oidc-issuer",
        "b",
        COSIGN_BLOB_DIGEST,
    ]);
    assert_eq!(code, Some(2), "{err}");
    // Neither an identity nor a key: a usage error.
    let (code, _) = verify(&["--bundle", &file("bundles/cosign-v3-blob.sigstore.json"), COSIGN_BLOB_DIGEST]);
    assert_eq!(code, Some(2));
}
