//! Media types and annotation keys: the wire format other OCI clients see.
//!
//! A plugin is an artifact in the common Wasm OCI layout (CNCF TAG Runtime's "Wasm OCI
//! Artifact"): a config of type [`WASM_CONFIG`] and exactly one [`WASM_LAYER`] holding the
//! component. Its `plugin.toml` travels as the manifest annotation [`PLUGIN_MANIFEST`] rather
//! than as a second layer, so tools that expect one wasm layer still work, and a cosign
//! signature (which covers the manifest digest) covers the plugin's requested capabilities.

/// Config blob media type of Wasm artifacts.
pub const WASM_CONFIG: &str = "application/vnd.wasm.config.v0+json";
/// The component layer.
pub const WASM_LAYER: &str = "application/wasm";
/// OCI image manifest.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// Docker v2 schema 2 manifest (some clients push signatures with it).
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Config of cosign signature manifests.
pub const OCI_IMAGE_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
/// A cosign simple-signing payload layer.
pub const COSIGN_SIMPLE_SIGNING: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// Layer annotation holding the base64 signature of a simple-signing payload.
pub const COSIGN_SIGNATURE: &str = "dev.cosignproject.cosign/signature";
/// The `type` of a cosign simple-signing payload.
pub const COSIGN_PAYLOAD_TYPE: &str = "cosign container image signature";
/// Manifest annotation carrying the plugin's `plugin.toml`.
pub const PLUGIN_MANIFEST: &str = "dev.parseltongue.plugin.manifest";
/// Standard annotations we set as well.
pub const TITLE: &str = "org.opencontainers.image.title";
/// The plugin version.
pub const VERSION: &str = "org.opencontainers.image.version";
/// One line on what it does.
pub const DESCRIPTION: &str = "org.opencontainers.image.description";
/// When it was pushed (RFC 3339).
pub const CREATED: &str = "org.opencontainers.image.created";

/// The tag cosign stores signatures under for a manifest digest (`sha256:ab…` →
/// `sha256-ab….sig`), used where the registry has no referrers API.
pub fn signature_tag(digest: &str) -> String {
    format!("{}.sig", digest.replacen(':', "-", 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_tag_follows_cosign() {
        assert_eq!(signature_tag("sha256:abc"), "sha256-abc.sig");
    }
}
