//! Talking to an OCI registry (oci-client): push and pull plugin artifacts and cosign signature
//! manifests, list tags. Every manifest and blob that comes back is checked against its digest
//! here, whatever the client library already did.
//!
//! Plain HTTP is used only for loopback registries or when the caller says `insecure`.

use futures::StreamExt;
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::{DigestError, OciDistributionError, OciErrorCode};
use oci_client::manifest::{OciDescriptor, OciImageManifest};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};

use crate::distribution::artifact::{self, Packed};
use crate::distribution::digest;
use crate::distribution::media;
use crate::distribution::progress::Progress;
use crate::distribution::reference::PluginRef;
use crate::error::{Error, Result};

/// The largest manifest accepted (a plugin manifest is a few KiB).
pub const MAX_MANIFEST_BYTES: usize = 4 * 1024 * 1024;
/// The largest blob accepted (components are far smaller; this stops a hostile registry).
pub const MAX_BLOB_BYTES: u64 = 512 * 1024 * 1024;

/// A client for one registry.
pub struct RegistryClient {
    client: Client,
    auth: RegistryAuth,
    registry: String,
    progress: Progress,
}

impl std::fmt::Debug for RegistryClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryClient").field("registry", &self.registry).finish_non_exhaustive()
    }
}

impl RegistryClient {
    /// A client for the registry of `reference`. Credentials come from
    /// `PTPLUGIN_REGISTRY_USER` / `PTPLUGIN_REGISTRY_PASSWORD` when set.
    pub fn new(reference: &PluginRef, insecure: bool, progress: Progress) -> RegistryClient {
        let protocol = if plain_http_allowed(reference, insecure) {
            ClientProtocol::HttpsExcept(vec![reference.registry.clone()])
        } else {
            ClientProtocol::Https
        };
        let config = ClientConfig {
            protocol,
            connect_timeout: Some(std::time::Duration::from_secs(10)),
            read_timeout: Some(std::time::Duration::from_secs(60)),
            ..Default::default()
        };
        let auth =
            match (std::env::var("PTPLUGIN_REGISTRY_USER"), std::env::var("PTPLUGIN_REGISTRY_PASSWORD")) {
                (Ok(user), Ok(password)) => RegistryAuth::Basic(user, password),
                _ => RegistryAuth::Anonymous,
            };
        RegistryClient { client: Client::new(config), auth, registry: reference.registry.clone(), progress }
    }

    fn failed(&self, reference: &Reference, e: OciDistributionError) -> Error {
        match e {
            OciDistributionError::DigestError(DigestError::VerificationError { expected, actual }) => {
                Error::Integrity { what: format!("content of {}", reference.whole()), expected, actual }
            }
            e => Error::Registry {
                reference: reference.whole(),
                message: "the registry request failed".into(),
                source: Some(e.into()),
            },
        }
    }

    /// Pushes a packed plugin under `reference` (a tag); returns the manifest digest.
    ///
    /// # Errors
    ///
    /// [`Error::Registry`] if the registry refuses or cannot be reached.
    pub async fn push(&self, reference: &Reference, packed: &Packed) -> Result<String> {
        self.push_blob(reference, &packed.config, &packed.manifest.config.digest, "config").await?;
        let layer = artifact::wasm_layer(&reference.whole(), &packed.manifest)?;
        self.push_blob(reference, &packed.component, &layer.digest, "component").await?;
        self.push_manifest(reference, &packed.manifest).await
    }

    /// Pushes one blob unless the registry has it already.
    ///
    /// # Errors
    ///
    /// [`Error::Registry`].
    pub async fn push_blob(
        &self,
        reference: &Reference,
        bytes: &[u8],
        digest: &str,
        what: &str,
    ) -> Result<()> {
        let exists = self.client.blob_exists(reference, digest).await.unwrap_or(false);
        if exists {
            return Ok(());
        }
        let transfer =
            self.progress.start("pushing", &format!("{what} {}", short(digest)), bytes.len() as u64);
        let result = self.client.push_blob(reference, bytes.to_vec(), digest).await;
        transfer.advance(bytes.len() as u64);
        transfer.finish(result.is_ok());
        result.map(|_| ()).map_err(|e| self.failed(reference, e))
    }

    /// Pushes a manifest; returns its digest.
    ///
    /// # Errors
    ///
    /// [`Error::Registry`].
    pub async fn push_manifest(&self, reference: &Reference, manifest: &OciImageManifest) -> Result<String> {
        let bytes = serde_json::to_vec(manifest).expect("plain data serializes");
        let content_type = http::HeaderValue::from_static(media::OCI_MANIFEST);
        self.client
            .push_manifest_raw(reference, bytes.clone(), content_type)
            .await
            .map_err(|e| self.failed(reference, e))?;
        Ok(digest::sha256(&bytes))
    }

    /// Fetches a manifest's bytes and digest, checked: the digest is computed from the bytes and
    /// must equal the one asked for (a digest reference) and the one the registry announced.
    /// `Ok(None)` if the registry says it does not exist.
    ///
    /// # Errors
    ///
    /// [`Error::Registry`], [`Error::Integrity`].
    pub async fn manifest(&self, reference: &Reference) -> Result<Option<(Vec<u8>, String)>> {
        let accepted = [media::OCI_MANIFEST, media::DOCKER_MANIFEST];
        let (bytes, announced) = match self.client.pull_manifest_raw(reference, &self.auth, &accepted).await {
            Ok(found) => found,
            Err(e) if is_not_found(&e) => return Ok(None),
            Err(e) => return Err(self.failed(reference, e)),
        };
        if bytes.len() > MAX_MANIFEST_BYTES {
            return Err(Error::Registry {
                reference: reference.whole(),
                message: format!(
                    "manifest of {} bytes is over the {MAX_MANIFEST_BYTES}-byte limit",
                    bytes.len()
                ),
                source: None,
            });
        }
        let actual = digest::sha256(&bytes);
        let expected = reference.digest().unwrap_or(&announced).to_string();
        if actual != expected || (announced.starts_with("sha256:") && announced != actual) {
            return Err(Error::Integrity {
                what: format!("manifest {}", reference.whole()),
                expected,
                actual,
            });
        }
        Ok(Some((bytes.to_vec(), actual)))
    }

    /// Fetches a blob, checking its size and digest.
    ///
    /// # Errors
    ///
    /// [`Error::Registry`], [`Error::Integrity`].
    pub async fn blob(
        &self,
        reference: &Reference,
        descriptor: &OciDescriptor,
        what: &str,
    ) -> Result<Vec<u8>> {
        digest::parse(&descriptor.digest).map_err(|reason| Error::Untrusted {
            subject: what.into(),
            reason,
            source: None,
        })?;
        let size = u64::try_from(descriptor.size).unwrap_or(u64::MAX);
        if size > MAX_BLOB_BYTES {
            return Err(Error::Registry {
                reference: reference.whole(),
                message: format!("{what} of {size} bytes is over the {MAX_BLOB_BYTES}-byte limit"),
                source: None,
            });
        }
        let transfer = self.progress.start("pulling", &format!("{what} {}", short(&descriptor.digest)), size);
        let result = self.read_blob(reference, descriptor, size, &transfer).await;
        transfer.finish(result.is_ok());
        let bytes = result?;
        digest::check(&format!("{what} from {}", reference.whole()), &bytes, &descriptor.digest)?;
        Ok(bytes)
    }

    async fn read_blob(
        &self,
        reference: &Reference,
        descriptor: &OciDescriptor,
        size: u64,
        transfer: &crate::distribution::progress::Transfer,
    ) -> Result<Vec<u8>> {
        // Digest checking is ours (below), so the client's own check is not relied upon.
        let plain = OciDescriptor { digest: descriptor.digest.clone(), ..Default::default() };
        let mut stream =
            self.client.pull_blob_stream(reference, &plain).await.map_err(|e| self.failed(reference, e))?;
        let mut bytes = Vec::with_capacity(size.min(64 * 1024 * 1024) as usize);
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| {
                match e.get_ref().and_then(|inner| inner.downcast_ref::<DigestError>()) {
                    Some(DigestError::VerificationError { expected, actual }) => Error::Integrity {
                        what: format!("blob from {}", reference.whole()),
                        expected: expected.clone(),
                        actual: actual.clone(),
                    },
                    _ => Error::Registry {
                        reference: reference.whole(),
                        message: "reading a blob failed".into(),
                        source: Some(e.into()),
                    },
                }
            })?;
            if (bytes.len() + chunk.len()) as u64 > size {
                return Err(Error::Integrity {
                    what: format!("blob {} from {}", descriptor.digest, reference.whole()),
                    expected: format!("{size} bytes"),
                    actual: "more".into(),
                });
            }
            transfer.advance(chunk.len() as u64);
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes)
    }

    /// Every tag of the repository `reference` names.
    ///
    /// # Errors
    ///
    /// [`Error::Registry`].
    pub async fn tags(&self, reference: &Reference) -> Result<Vec<String>> {
        match self.client.list_tags(reference, &self.auth, None, None).await {
            Ok(response) => Ok(response.tags),
            Err(e) if is_not_found(&e) => Ok(Vec::new()),
            Err(e) => Err(self.failed(reference, e)),
        }
    }
}

/// Plain HTTP only to this machine, or when the operator said `insecure`.
pub fn plain_http_allowed(reference: &PluginRef, insecure: bool) -> bool {
    insecure || reference.is_loopback()
}

fn is_not_found(e: &OciDistributionError) -> bool {
    match e {
        OciDistributionError::ImageManifestNotFoundError(_) => true,
        OciDistributionError::RegistryError { envelope, .. } => envelope.errors.iter().any(|e| {
            matches!(
                e.code,
                OciErrorCode::ManifestUnknown | OciErrorCode::NameUnknown | OciErrorCode::NotFound
            )
        }),
        OciDistributionError::ServerError { code, .. } => *code == 404,
        _ => false,
    }
}

fn short(digest: &str) -> &str {
    &digest[..digest.len().min(19)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_is_only_for_loopback_unless_insecure() {
        let r = |s: &str| PluginRef::parse(s).unwrap();
        for local in ["localhost:5000/p/x:1", "127.0.0.1:5000/p/x:1", "127.8.9.1/p/x:1"] {
            assert!(plain_http_allowed(&r(local), false), "{local}");
        }
        for remote in
            ["ghcr.io/p/x:1", "10.0.0.5:5000/p/x:1", "localhost.example.org/p/x:1", "127.0.0.1.nip.io/p/x:1"]
        {
            assert!(!plain_http_allowed(&r(remote), false), "{remote}");
            assert!(plain_http_allowed(&r(remote), true), "{remote}");
        }
    }
}
