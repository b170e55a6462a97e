//! Distribution against a real registry (Debian's docker-registry on loopback): push and pull,
//! interop with `oras`, digests, signatures (ours, and cosign's layout made by OpenSSL), the
//! trust policy, the offline store, semver, `api` checks, updates and rollback.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use oci_client::manifest::{OciDescriptor, OciImageManifest};
use parseltongue_plugins::audit::AuditLog;
use parseltongue_plugins::distribution::reference::PluginRef;
use parseltongue_plugins::distribution::registry::RegistryClient;
use parseltongue_plugins::distribution::store::Store;
use parseltongue_plugins::distribution::trust::TrustPolicy;
use parseltongue_plugins::distribution::{
    Distribution, artifact, digest, media, progress::Progress, signing,
};
use parseltongue_plugins::{
    Backoff, ErrorKind, EventKind, Manifest, PluginHost, PluginSpec, RestartPolicy, bundled,
};

use crate::registry::TestRegistry;
use crate::support::{output, ptplugin, sample_graph, sandbox, small_graph};

fn wasm(name: &str) -> Vec<u8> {
    bundled::get(name).expect("bundled").wasm.to_vec()
}

fn toml(name: &str, version: &str, extra: &str) -> String {
    format!("name = \"{name}\"\nversion = \"{version}\"\n{extra}")
}

/// A distribution over a fresh store with `trust`.
fn dist(trust: TrustPolicy) -> (tempfile::TempDir, Distribution) {
    let dir = tempfile::tempdir().unwrap();
    let d = Distribution::new(Store::open(dir.path().join("store")).unwrap()).trust(trust);
    (dir, d)
}

fn open() -> TrustPolicy {
    TrustPolicy { allow_unsigned: true, ..Default::default() }
}

struct Keys {
    dir: tempfile::TempDir,
}

impl Keys {
    fn new() -> Keys {
        let dir = tempfile::tempdir().unwrap();
        for name in ["a", "b"] {
            let (private, public) = signing::generate_key_pair(b"pw").unwrap();
            std::fs::write(dir.path().join(format!("{name}.key")), private).unwrap();
            std::fs::write(dir.path().join(format!("{name}.pub")), public).unwrap();
        }
        Keys { dir }
    }
    fn private(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.dir.path().join(format!("{name}.key"))).unwrap()
    }
    fn public(&self, name: &str) -> PathBuf {
        self.dir.path().join(format!("{name}.pub"))
    }
    fn trusting(&self, name: &str) -> TrustPolicy {
        TrustPolicy { keys: vec![self.public(name)], ..Default::default() }
    }
}

fn client(reference: &str) -> (PluginRef, RegistryClient) {
    let r = PluginRef::parse(reference).unwrap();
    let c = RegistryClient::new(&r, false, Progress::Quiet);
    (r, c)
}

/// The manifest digest part of a pinned reference `…@sha256:…`.
fn digest_of(pinned: &str) -> String {
    pinned.rsplit_once('@').unwrap().1.to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn push_pull_round_trip_in_the_wasm_layout_and_run() {
    let registry = TestRegistry::start();
    let (_dir, d) = dist(open());
    let reference = registry.reference("census", "1.0.0");
    let text = toml("census", "1.0.0", "description = \"counts nodes\"\n");
    let pinned = d.push(wasm("node-census"), &text, &reference).await.unwrap();
    assert!(pinned.starts_with(&format!("{}/plugins/census:1.0.0@sha256:", registry.addr)), "{pinned}");

    // What other clients see: the Wasm OCI layout, plugin.toml as an annotation.
    let (r, c) = client(&reference);
    let (bytes, manifest_digest) = c.manifest(&r.with_tag("1.0.0")).await.unwrap().unwrap();
    assert_eq!(manifest_digest, digest_of(&pinned));
    let manifest = artifact::parse_manifest("m", &bytes).unwrap();
    assert_eq!(manifest.config.media_type, media::WASM_CONFIG);
    assert_eq!(manifest.layers.len(), 1);
    assert_eq!(manifest.layers[0].media_type, media::WASM_LAYER);
    assert_eq!(manifest.annotations.as_ref().unwrap()[media::PLUGIN_MANIFEST], text);

    let pulled = d.pull(&reference).await.unwrap();
    assert_eq!(pulled.component(), wasm("node-census").as_slice());
    assert_eq!(pulled.manifest().name, "census");
    assert_eq!(pulled.manifest().description, "counts nodes");
    assert!(!pulled.verdict().signed);

    let host = PluginHost::builder().sandbox(sandbox().clone()).start().await.unwrap();
    let key = host.load(PluginSpec::artifact(pulled)).await.unwrap();
    assert_eq!((&*key.name, key.version.to_string().as_str()), ("census", "1.0.0"));
    let analysis = host.analyze("census", Arc::new(sample_graph())).await.unwrap();
    assert!(!analysis.result.findings.is_empty());
    host.shutdown().await;
}

/// Runs a Python snippet with the `oras` package (installed by .ci/run).
fn python(script: &str, args: &[&str]) -> String {
    let (code, out, err) = output(Command::new("python3").arg("-c").arg(script).args(args));
    assert_eq!(code, Some(0), "python oras script failed (is `pip install oras` done?):\n{err}");
    out
}

const ORAS_PUSH: &str = r#"
import json, sys, os, oras.client
target, path, config = sys.argv[1], sys.argv[2], sys.argv[3]
c = oras.client.OrasClient(insecure=True)
os.chdir(os.path.dirname(path))
c.push(target=target, files=[os.path.basename(path) + ":application/wasm"],
       manifest_config=config + ":application/vnd.wasm.config.v0+json", disable_path_validation=True)
"#;

const ORAS_PULL: &str = r#"
import sys, oras.client
target, outdir = sys.argv[1], sys.argv[2]
c = oras.client.OrasClient(insecure=True)
for f in c.pull(target=target, outdir=outdir):
    print(f)
"#;

#[tokio::test(flavor = "multi_thread")]
async fn artifacts_interoperate_with_oras_both_ways() {
    let registry = TestRegistry::start();
    let work = tempfile::tempdir().unwrap();
    // oras pushes, we pull and run.
    let component = work.path().join("node_census.wasm");
    std::fs::write(&component, wasm("node-census")).unwrap();
    let config = work.path().join("config.json");
    std::fs::write(&config, r#"{"architecture":"wasm","os":"wasip2","layerDigests":[]}"#).unwrap();
    let theirs = registry.reference("node-census", "2.1.0");
    python(ORAS_PUSH, &[&theirs, &component.display().to_string(), &config.display().to_string()]);
    let (_dir, d) = dist(open());
    let pulled = d.pull(&theirs).await.unwrap();
    assert_eq!(pulled.manifest().name, "node-census");
    assert_eq!(pulled.manifest().version.to_string(), "2.1.0");
    assert_eq!(pulled.component(), wasm("node-census").as_slice());
    // Installed and verified again by digest, it keeps the version its tag gave it.
    d.install(&theirs).await.unwrap();
    assert_eq!(d.load_installed("node-census").unwrap().manifest().version.to_string(), "2.1.0");

    // We push, oras pulls the same bytes under the layer's title.
    let ours = registry.reference("cycle-finder", "1.0.0");
    d.push(wasm("cycle-finder"), &toml("cycle-finder", "1.0.0", ""), &ours).await.unwrap();
    let out_dir = work.path().join("out");
    let files = python(ORAS_PULL, &[&ours, &out_dir.display().to_string()]);
    let file = files.lines().find(|l| l.ends_with(".wasm")).unwrap_or_else(|| panic!("oras pulled: {files}"));
    assert_eq!(std::fs::read(file).unwrap(), wasm("cycle-finder"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tampered_blob_is_rejected_and_never_stored() {
    let registry = TestRegistry::start();
    let (_dir, d) = dist(open());
    let reference = registry.reference("census", "1.0.0");
    d.push(wasm("node-census"), &toml("census", "1.0.0", ""), &reference).await.unwrap();
    let layer_digest = digest::sha256(&wasm("node-census"));
    let blob = registry.blob_file(&layer_digest);
    let mut bytes = std::fs::read(&blob).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&blob, bytes).unwrap();
    let err = d.pull(&reference).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Integrity, "{err}");
    assert!(!d.store().has(&layer_digest));
}

#[tokio::test(flavor = "multi_thread")]
async fn only_trusted_signatures_let_a_plugin_load() {
    let registry = TestRegistry::start();
    let keys = Keys::new();
    let log_dir = tempfile::tempdir().unwrap();
    let audit = AuditLog::open(log_dir.path().join("audit.jsonl")).unwrap();
    let (_dir, d) = dist(keys.trusting("a"));
    let d = d.audit(audit.clone());
    let a_ref = registry.reference("census", "1.0.0");
    let b_ref = registry.reference("census", "1.1.0");
    let a = d.push(wasm("node-census"), &toml("census", "1.0.0", ""), &a_ref).await.unwrap();
    d.push(wasm("node-census"), &toml("census", "1.1.0", ""), &b_ref).await.unwrap();

    // Unsigned: refused by default.
    let err = d.pull(&a_ref).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Untrusted);
    assert!(err.to_string().contains("unsigned"), "{err}");

    // Signed with another key: refused.
    d.sign(&a_ref, &keys.private("b"), b"pw").await.unwrap();
    let err = d.pull(&a_ref).await.unwrap_err();
    assert!(err.to_string().contains("does not verify"), "{err}");

    // Signed with the trusted key too: accepted (any-of).
    d.sign(&a_ref, &keys.private("a"), b"pw").await.unwrap();
    let pulled = d.pull(&a_ref).await.unwrap();
    assert!(pulled.verdict().accepted && pulled.verdict().checks[0].ok);

    // All-of both keys: also accepted now; all-of with a third, absent signer: refused.
    let both = TrustPolicy {
        keys: vec![keys.public("a"), keys.public("b")],
        require: parseltongue_plugins::distribution::trust::Require::AllOf,
        ..Default::default()
    };
    let (_dir2, d2) = dist(both);
    d2.pull(&a_ref).await.unwrap();

    // A signature for another digest: a's signature manifest copied to b's signature tag.
    let (r, c) = client(&a_ref);
    let (sig_bytes, _) =
        c.manifest(&r.with_tag(&media::signature_tag(&digest_of(&a)))).await.unwrap().unwrap();
    let (b_bytes, b_digest) = c.manifest(&r.with_tag("1.1.0")).await.unwrap().unwrap();
    assert!(!b_bytes.is_empty());
    let sig_manifest: OciImageManifest = serde_json::from_slice(&sig_bytes).unwrap();
    c.push_manifest(&r.with_tag(&media::signature_tag(&b_digest)), &sig_manifest).await.unwrap();
    let err = d.pull(&b_ref).await.unwrap_err();
    assert!(err.to_string().contains("the signature is for"), "{err}");

    // Every verdict, accepted or not, is in the audit trail.
    audit.close();
    let log = std::fs::read_to_string(log_dir.path().join("audit.jsonl")).unwrap();
    let verdicts: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|r| r["record"]["kind"] == "verification" || r.to_string().contains("\"verification\""))
        .collect();
    assert_eq!(verdicts.len(), 4, "{log}");
    assert_eq!(log.matches("\"accepted\":true").count(), 1, "{log}");
}

/// Runs openssl; panics with its stderr on failure.
fn openssl(args: &[&str]) -> String {
    let (code, out, err) = output(Command::new("openssl").args(args));
    assert_eq!(code, Some(0), "openssl {args:?}: {err}");
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn cosign_layout_signatures_interoperate_with_an_independent_signer() {
    let registry = TestRegistry::start();
    let work = tempfile::tempdir().unwrap();
    let p = |name: &str| work.path().join(name).display().to_string();
    openssl(&["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", &p("ec.pem")]);
    openssl(&["pkcs8", "-topk8", "-nocrypt", "-in", &p("ec.pem"), "-out", &p("key.pem")]);
    openssl(&["ec", "-in", &p("ec.pem"), "-pubout", "-out", &p("pub.pem")]);
    let reference = registry.reference("census", "1.0.0");
    let (_dir, d) = dist(TrustPolicy { keys: vec![PathBuf::from(p("pub.pem"))], ..Default::default() });
    let pinned = d.push(wasm("node-census"), &toml("census", "1.0.0", ""), &reference).await.unwrap();
    let manifest_digest = digest_of(&pinned);

    // Cosign's documented layout, written by hand and signed by OpenSSL.
    let repo = format!("{}/plugins/census", registry.addr);
    let payload = format!(
        r#"{{"critical":{{"identity":{{"docker-reference":"{repo}"}},"image":{{"docker-manifest-digest":"{manifest_digest}"}},"type":"cosign container image signature"}},"optional":null}}"#
    );
    std::fs::write(p("payload.json"), &payload).unwrap();
    openssl(&["dgst", "-sha256", "-sign", &p("key.pem"), "-out", &p("sig.der"), &p("payload.json")]);
    use base64::Engine;
    let signature = base64::engine::general_purpose::STANDARD.encode(std::fs::read(p("sig.der")).unwrap());
    let (r, c) = client(&reference);
    let sig_ref = r.with_tag(&format!("sha256-{}.sig", manifest_digest.trim_start_matches("sha256:")));
    let config = br#"{"architecture":"","os":"","rootfs":{"type":"layers","diff_ids":[]},"config":{}}"#;
    let mut annotations = BTreeMap::new();
    annotations.insert("dev.cosignproject.cosign/signature".to_string(), signature);
    let manifest = OciImageManifest {
        schema_version: 2,
        media_type: Some("application/vnd.oci.image.manifest.v1+json".into()),
        config: OciDescriptor {
            media_type: "application/vnd.oci.image.config.v1+json".into(),
            digest: digest::sha256(config),
            size: config.len() as i64,
            ..Default::default()
        },
        layers: vec![OciDescriptor {
            media_type: "application/vnd.dev.cosign.simplesigning.v1+json".into(),
            digest: digest::sha256(payload.as_bytes()),
            size: payload.len() as i64,
            annotations: Some(annotations),
            ..Default::default()
        }],
        ..Default::default()
    };
    c.push_blob(&sig_ref, payload.as_bytes(), &digest::sha256(payload.as_bytes()), "payload").await.unwrap();
    c.push_blob(&sig_ref, config, &digest::sha256(config), "config").await.unwrap();
    c.push_manifest(&sig_ref, &manifest).await.unwrap();
    let pulled = d.pull(&reference).await.unwrap();
    assert!(pulled.verdict().accepted, "{:?}", pulled.verdict());

    // The other way: our signature, read raw from the registry, checks out with OpenSSL and
    // has cosign's layout.
    let (_kdir, ours) = dist(open());
    let (private, public) = signing::generate_key_pair(b"").unwrap();
    std::fs::write(p("ours.pub"), &public).unwrap();
    let reference2 = registry.reference("census", "2.0.0");
    let pinned2 = ours.push(wasm("node-census"), &toml("census", "2.0.0", ""), &reference2).await.unwrap();
    let tag = ours.sign(&reference2, private.as_bytes(), b"").await.unwrap();
    let d2 = digest_of(&pinned2);
    assert!(tag.ends_with(&format!("sha256-{}.sig", d2.trim_start_matches("sha256:"))), "{tag}");
    let (bytes, _) = c.manifest(&r.with_tag(&media::signature_tag(&d2))).await.unwrap().unwrap();
    let sig_manifest: OciImageManifest = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(sig_manifest.config.media_type, "application/vnd.oci.image.config.v1+json");
    let layer = &sig_manifest.layers[0];
    assert_eq!(layer.media_type, "application/vnd.dev.cosign.simplesigning.v1+json");
    let payload = c.blob(&r.with_tag("x"), layer, "payload").await.unwrap();
    let json: serde_json::Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(json["critical"]["image"]["docker-manifest-digest"], d2.as_str());
    assert_eq!(json["critical"]["identity"]["docker-reference"], repo.as_str());
    assert_eq!(json["critical"]["type"], "cosign container image signature");
    let sig = base64::engine::general_purpose::STANDARD
        .decode(&layer.annotations.as_ref().unwrap()["dev.cosignproject.cosign/signature"])
        .unwrap();
    std::fs::write(p("our-payload.json"), &payload).unwrap();
    std::fs::write(p("our-sig.der"), sig).unwrap();
    let verified = openssl(&[
        "dgst",
        "-sha256",
        "-verify",
        &p("ours.pub"),
        "-signature",
        &p("our-sig.der"),
        &p("our-payload.json"),
    ]);
    assert!(verified.contains("Verified OK"), "{verified}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_store_serves_offline_and_catches_corruption() {
    let registry = TestRegistry::start();
    let (_dir, d) = dist(open());
    let reference = registry.reference("census", "1.0.0");
    d.push(wasm("node-census"), &toml("census", "1.0.0", ""), &reference).await.unwrap();
    d.pull(&reference).await.unwrap();
    d.pull(&format!("{}/plugins/census@^1", registry.addr)).await.unwrap();
    drop(registry);

    let offline = d.clone().offline(true);
    let pulled = offline.pull(&reference).await.unwrap();
    assert_eq!(pulled.component(), wasm("node-census").as_slice());
    // Ranges resolve from the tags seen at the last listing.
    offline.pull(&reference.replace(":1.0.0", "@^1")).await.unwrap();
    // Online, with the registry gone: a registry error, not a hang.
    assert_eq!(d.pull(&reference).await.unwrap_err().kind(), ErrorKind::Registry);
    let missing = offline.pull(&reference.replace("1.0.0", "9.9.9")).await.unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::Unresolved);
    assert!(missing.to_string().contains("never pulled"), "{missing}");

    let blob = d.store().blob_path(&digest::sha256(&wasm("node-census"))).unwrap();
    let mut bytes = std::fs::read(&blob).unwrap();
    bytes[100] ^= 1;
    std::fs::write(&blob, bytes).unwrap();
    let err = offline.pull(&reference).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Integrity);
    assert!(err.to_string().contains("cached at"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn semver_ranges_pick_the_highest_match_and_incompatible_apis_are_refused() {
    let registry = TestRegistry::start();
    let (_dir, d) = dist(open());
    for v in ["1.0.0", "1.2.0", "1.3.0", "2.0.0"] {
        d.push(wasm("node-census"), &toml("census", v, ""), &registry.reference("census", v)).await.unwrap();
    }
    let base = format!("{}/plugins/census", registry.addr);
    assert_eq!(d.pull(&format!("{base}@^1.2")).await.unwrap().manifest().version.to_string(), "1.3.0");
    assert_eq!(d.pull(&format!("{base}@~1.2")).await.unwrap().manifest().version.to_string(), "1.2.0");
    assert_eq!(d.pull(&format!("{base}@*")).await.unwrap().manifest().version.to_string(), "2.0.0");
    let err = d.pull(&format!("{base}@^3")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unresolved);
    assert!(err.to_string().contains("available: 1.0.0, 1.2.0, 1.3.0, 2.0.0"), "{err}");

    // An artifact whose plugin.toml needs another contract (pushed by hand: `push` refuses it).
    let future = toml("census", "3.0.0", "api = \"^9\"\n");
    let ok = Manifest::parse(&toml("census", "3.0.0", ""), Path::new("p")).unwrap();
    let packed = artifact::pack(wasm("node-census"), &future, &ok).unwrap();
    let reference = registry.reference("census", "3.0.0");
    let (r, c) = client(&reference);
    c.push(&r.with_tag("3.0.0"), &packed).await.unwrap();
    let err = d.pull(&reference).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Incompatible);
    assert!(
        err.to_string().contains("^9") && err.to_string().contains(parseltongue_plugins::CONTRACT_VERSION),
        "{err}"
    );
    assert_eq!(
        d.push(wasm("node-census"), &future, &reference).await.unwrap_err().kind(),
        ErrorKind::Incompatible
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn requirements_are_checked_at_install() {
    let registry = TestRegistry::start();
    let (_dir, d) = dist(open());
    let needs = toml("report", "1.0.0", "[requires]\ncensus = \"^2\"\n");
    d.push(wasm("node-census"), &needs, &registry.reference("report", "1.0.0")).await.unwrap();
    d.push(wasm("node-census"), &toml("census", "1.5.0", ""), &registry.reference("census", "1.5.0"))
        .await
        .unwrap();
    let err = d.install(&registry.reference("report", "1.0.0")).await.unwrap_err();
    assert!(err.to_string().contains("requires census ^2, which is not present"), "{err}");
    d.install(&registry.reference("census", "1.5.0")).await.unwrap();
    let err = d.install(&registry.reference("report", "1.0.0")).await.unwrap_err();
    assert!(err.to_string().contains("but census 1.5.0 is present"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_update_that_crash_loops_is_rolled_back_automatically() {
    let registry = TestRegistry::start();
    let keys = Keys::new();
    let (_dir, d) = dist(keys.trusting("a"));
    let v1 = registry.reference("census", "1.0.0");
    let v2 = registry.reference("census", "2.0.0");
    d.push(wasm("node-census"), &toml("census", "1.0.0", ""), &v1).await.unwrap();
    let asks = "[capabilities]\nwall-clock = { reason = \"timestamps\" }\n";
    d.push(wasm("fault-panic"), &toml("census", "2.0.0", asks), &v2).await.unwrap();
    d.sign(&v1, &keys.private("a"), b"pw").await.unwrap();
    d.install(&v1).await.unwrap();

    // 2.0.0 is not signed yet: update finds nothing it may install.
    let outcomes = d.update(None).await.unwrap();
    assert_eq!(outcomes.len(), 1);
    assert_eq!(outcomes[0].as_ref().unwrap_err().kind(), ErrorKind::Untrusted);
    d.sign(&v2, &keys.private("a"), b"pw").await.unwrap();
    let outcomes = d.update(Some("census")).await.unwrap();
    let update = outcomes[0].as_ref().unwrap();
    assert_eq!((update.from.to_string(), update.to.to_string()), ("1.0.0".into(), "2.0.0".into()));
    assert_eq!(update.capability_diff, vec!["+ wall-clock"]);

    let log_dir = tempfile::tempdir().unwrap();
    let policy = RestartPolicy {
        backoff: Backoff {
            initial: Duration::from_millis(1),
            max: Duration::from_millis(1),
            multiplier: 1.0,
            jitter: 0.0,
        },
        max_restarts: 1,
        period: Duration::from_secs(60),
        poison_threshold: 100,
        ..RestartPolicy::default()
    };
    let host = PluginHost::builder()
        .sandbox(sandbox().clone())
        .restart_policy(policy)
        .audit_log(log_dir.path().join("audit.jsonl"))
        .start()
        .await
        .unwrap();
    let old = d.clone().offline(true);
    // Run the version before the update, then hot-swap to the installed (new) one on probation.
    let installed = d.installed().unwrap()["census"].clone();
    let previous = installed.history.last().unwrap().clone();
    let v1_artifact = old.pull(&previous.reference).await.unwrap();
    host.load(PluginSpec::artifact(v1_artifact)).await.unwrap();
    let mut events = host.subscribe();
    let key = host
        .update(PluginSpec::artifact(d.load_installed("census").unwrap()), Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(key.version.to_string(), "2.0.0");
    let graph = Arc::new(small_graph());
    for _ in 0..3 {
        let _ = host.analyze("census", graph.clone()).await;
    }
    let rolled = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let e = events.recv().await.unwrap();
            if let EventKind::RolledBack { to, reason } = e.kind {
                return (e.version, to, reason);
            }
        }
    })
    .await
    .expect("a rollback within 20 s");
    assert_eq!((rolled.0.as_str(), rolled.1.as_str()), ("2.0.0", "1.0.0"));
    assert!(rolled.2.contains("quarantined during probation"), "{}", rolled.2);
    let status = host.status().await;
    assert_eq!(status.plugin("census").unwrap().version, "1.0.0");
    host.analyze("census", Arc::new(sample_graph())).await.expect("1.0.0 serves again");
    host.shutdown().await;
    let log = std::fs::read_to_string(log_dir.path().join("audit.jsonl")).unwrap();
    assert!(log.contains("\"rollback\"") && log.contains("quarantined during probation"), "{log}");

    // The operator's rollback of the installed version.
    let back = d.rollback("census").unwrap();
    assert_eq!(back.version.to_string(), "1.0.0");
    assert_eq!(d.installed().unwrap()["census"].current.as_ref().unwrap().version.to_string(), "1.0.0");
    assert_eq!(d.rollback("census").unwrap_err().kind(), ErrorKind::Unresolved);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cli_pushes_signs_pulls_runs_updates_and_rolls_back() {
    let registry = TestRegistry::start();
    let work = tempfile::tempdir().unwrap();
    let store = work.path().join("store").display().to_string();
    let prefix = work.path().join("release").display().to_string();
    let run = |args: &[&str]| output(ptplugin().env("COSIGN_PASSWORD", "hunter2").args(args));
    let (code, _, err) = run(&["keygen", "--output-key-prefix", &prefix]);
    assert_eq!(code, Some(0), "{err}");
    let (key, public) = (format!("{prefix}.key"), format!("{prefix}.pub"));
    assert!(std::fs::read_to_string(&key).unwrap().contains("ENCRYPTED SIGSTORE PRIVATE KEY"));
    let v1 = registry.reference("census", "1.0.0");
    let v2 = registry.reference("census", "1.1.0");
    let (code, out, err) =
        run(&["push", "bundled:node-census", &v1, "--version", "1.0.0", "--store", &store]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("pushed"), "{out}");
    // 1.1.0 from a plugin directory, asking for two capabilities more.
    let plugin_dir = work.path().join("census-1.1.0");
    std::fs::create_dir(&plugin_dir).unwrap();
    std::fs::write(plugin_dir.join("node-census.wasm"), wasm("node-census")).unwrap();
    std::fs::write(
        plugin_dir.join("plugin.toml"),
        toml(
            "node-census",
            "1.1.0",
            "[capabilities]\nwall-clock = { reason = \"dates\" }\nenv = [{ name = \"LANG\", reason = \"locale\" }]\n",
        ),
    )
    .unwrap();
    let (code, _, err) = run(&["push", &plugin_dir.display().to_string(), &v2, "--store", &store]);
    assert_eq!(code, Some(0), "{err}");
    let policy = work.path().join("policy.toml");
    std::fs::write(&policy, "[defaults]\nwall-clock = true\n").unwrap();
    let policy = policy.display().to_string();
    // Unsigned: exit 1, untrusted.
    let (code, _, err) = run(&["pull", &v1, "--store", &store, "--key", &public]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("error[untrusted]"), "{err}");
    // Not a terminal: transfers are reported as plain lines (fetched before the verdict).
    assert!(err.contains("pulling component") && err.contains(": done"), "{err}");
    for r in [&v1, &v2] {
        let (code, _, err) = run(&["sign", r, "--key", &key, "--store", &store]);
        assert_eq!(code, Some(0), "{err}");
    }
    let (code, out, err) = run(&["pull", &v1, "--store", &store, "--key", &public, "--format", "json"]);
    assert_eq!(code, Some(0), "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["version"], "1.0.0");
    assert_eq!(json["verdict"]["accepted"], true);
    let graph = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/sample-graph.json").display().to_string();
    let (code, out, err) = run(&[
        "run",
        "--plugin",
        "installed:node-census",
        "--store",
        &store,
        "--key",
        &public,
        "--graph",
        &graph,
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("node-census:"), "{out}");
    let (code, out, err) = run(&["update", "--store", &store, "--key", &public, "--policy", &policy]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.contains("updated node-census 1.0.0 -> 1.1.0")
            && out.contains("capability + env LANG (NOT granted by the policy")
            && out.contains("capability + wall-clock (granted by the policy)"),
        "{out}"
    );
    let (code, out, _) = run(&["update", "--store", &store, "--key", &public]);
    assert_eq!(code, Some(0));
    assert!(out.contains("up to date"), "{out}");
    let (code, out, err) = run(&["rollback", "node-census", "--store", &store]);
    let (missing, _, why) = run(&["rollback", "census", "--store", &store]);
    assert_eq!(missing, Some(2));
    assert!(why.contains("installed: node-census"), "{why}");
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("node-census is back at 1.0.0"), "{out}");
    drop(registry);
    // Offline, from the store: runs; a reference never pulled names what is missing.
    let (code, _, err) = run(&[
        "run",
        "--plugin",
        &format!("oci://{v1}"),
        "--offline",
        "--store",
        &store,
        "--key",
        &public,
        "--graph",
        &graph,
    ]);
    assert_eq!(code, Some(0), "{err}");
    let (code, _, err) = run(&["pull", &v1.replace("1.0.0", "7.0.0"), "--offline", "--store", &store]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("never pulled"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn sigstore_identities_are_checked_through_attached_bundles_before_any_compile() {
    // A real public bundle signs `cosign-v3-blob.txt`; published here as the "component" of an
    // artifact (it is not wasm), so verification must pass on the identity and the load must
    // then fail at compile: trust is decided before anything runs.
    let data = crate::bundles::data();
    let blob = std::fs::read(data.join("bundles/cosign-v3-blob.txt")).unwrap();
    let bundle = std::fs::read_to_string(data.join("bundles/cosign-v3-blob.sigstore.json")).unwrap();
    let registry = TestRegistry::start();
    let reference = registry.reference("blob", "1.0.0");
    let text = toml("blob", "1.0.0", "");
    let manifest = Manifest::parse(&text, Path::new("p")).unwrap();
    let (r, c) = client(&reference);
    c.push(&r.with_tag("1.0.0"), &artifact::pack(blob, &text, &manifest).unwrap()).await.unwrap();
    let (_dir, d) = dist(open());
    d.attach_bundle(&reference, &bundle).await.unwrap();

    let identity = |id: &str| parseltongue_plugins::distribution::trust::TrustedIdentity {
        identity: id.into(),
        issuer: "https://github.com/login/oauth".into(),
    };
    let trusted = TrustPolicy { identities: vec![identity("w.vollprecht@gmail.com")], ..Default::default() };
    let (_dir, good) = dist(trusted);
    let pulled = good.pull(&reference).await.unwrap();
    assert!(pulled.verdict().checks[0].ok, "{:?}", pulled.verdict());
    let host = PluginHost::builder().sandbox(sandbox().clone()).start().await.unwrap();
    let err = host.load(PluginSpec::artifact(pulled)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidComponent);
    host.shutdown().await;

    let other = TrustPolicy { identities: vec![identity("mallory@example.com")], ..Default::default() };
    let (_dir, bad) = dist(other);
    let err = bad.pull(&reference).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Untrusted);
    assert!(err.to_string().contains("identity mallory@example.com"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn keys_generated_by_real_cosign_sign_plugins() {
    // Private keys made by cosign itself, shipped with the sigstore crate's tests: one in the
    // older `ENCRYPTED COSIGN PRIVATE KEY` format (password "123"), one in the current
    // `ENCRYPTED SIGSTORE PRIVATE KEY` format (empty password).
    let keys = crate::support::crate_source("sigstore").join("tests/data/keys");
    let registry = TestRegistry::start();
    let work = tempfile::tempdir().unwrap();
    let store = work.path().join("store").display().to_string();
    for (file, password, version) in [
        ("ecdsa_encrypted_private.key", "123", "1.0.0"),
        ("cosign_generated_encrypted_empty_private.key", "", "2.0.0"),
    ] {
        let key = keys.join(file);
        let pem = std::fs::read(&key).unwrap();
        let public =
            sigstore::crypto::signing_key::SigStoreKeyPair::from_encrypted_pem(&pem, password.as_bytes())
                .unwrap()
                .public_key_to_pem()
                .unwrap();
        let public_path = work.path().join(format!("{version}.pub"));
        std::fs::write(&public_path, public).unwrap();
        let reference = registry.reference("census", version);
        let run = |args: &[&str]| output(ptplugin().env("COSIGN_PASSWORD", password).args(args));
        let (code, _, err) = run(&["push", "bundled:node-census", &reference, "--store", &store]);
        assert_eq!(code, Some(0), "{err}");
        let (code, _, err) =
            run(&["sign", &reference, "--key", &key.display().to_string(), "--store", &store]);
        assert_eq!(code, Some(0), "{file}: {err}");
        let public_path = public_path.display().to_string();
        let (code, _, err) = run(&["verify", &reference, "--key", &public_path, "--store", &store]);
        assert_eq!(code, Some(0), "{file}: {err}");
        // The wrong password is refused with a clear error.
        let (code, _, err) = output(ptplugin().env("COSIGN_PASSWORD", "wrong").args([
            "sign",
            &reference,
            "--key",
            &key.display().to_string(),
            "--store",
            &store,
        ]));
        assert_eq!(code, Some(1), "{err}");
        assert!(err.contains("error[untrusted]") && err.contains("signing key"), "{err}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn twenty_processes_pulling_into_one_store_all_get_the_true_verdict() {
    // Before the store's index was locked across processes, 5 of 51 such pulls failed with a
    // false `untrusted … unsigned`: another process's index write lost their signature entry.
    let registry = TestRegistry::start();
    let keys = Keys::new();
    let (_dir, d) = dist(keys.trusting("a"));
    let mut references = Vec::new();
    for minor in 0..5 {
        let version = format!("1.{minor}.0");
        let reference = registry.reference("census", &version);
        d.push(wasm("node-census"), &toml("census", &version, ""), &reference).await.unwrap();
        d.sign(&reference, &keys.private("a"), b"pw").await.unwrap();
        references.push(reference);
    }
    let store = tempfile::tempdir().unwrap();
    let store = store.path().join("store").display().to_string();
    let public = keys.public("a").display().to_string();
    let children: Vec<_> = (0..20)
        .map(|i| {
            let reference = &references[i % references.len()];
            ptplugin()
                .args([
                    "pull",
                    reference,
                    "--store",
                    &store,
                    "--key",
                    &public,
                    "--no-progress",
                    "--format",
                    "json",
                ])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("ptplugin starts")
        })
        .collect();
    for (i, child) in children.into_iter().enumerate() {
        let out = child.wait_with_output().unwrap();
        let (stdout, err) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert_eq!(out.status.code(), Some(0), "pull {i}: {stdout}{err}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["verdict"]["accepted"], true, "pull {i}: {v}");
    }
    // Every signature the pulls found is in the index, and `list` (read-only) reads it.
    let index = Store::open_read_only(&store).unwrap().index().unwrap();
    assert_eq!(index.signatures.len(), references.len(), "{index:?}");
    assert_eq!(index.installed["census"].current.as_ref().map(|c| c.version.major), Some(1));
    let (code, out, err) = output(ptplugin().args(["list", "--store", &store]));
    assert_eq!(code, Some(0), "{err}");
    assert!(out.starts_with("census 1."), "{out}");
}
