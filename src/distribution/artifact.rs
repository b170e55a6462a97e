//! A plugin as an OCI artifact: building the manifest we push, and reading any manifest we
//! pull (ours, or one pushed by `oras` or another client) back into a plugin.

use std::collections::BTreeMap;

use oci_client::manifest::{OciDescriptor, OciImageManifest};
use serde::{Deserialize, Serialize};

use crate::distribution::digest;
use crate::distribution::media;
use crate::error::{Error, Result};
use crate::policy::Manifest;

/// The config blob of a Wasm artifact (the fields of the Wasm OCI layout we fill in).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct WasmConfig {
    /// Always `wasm`.
    pub architecture: String,
    /// `wasip2`: the component targets WASI preview 2.
    pub os: String,
    /// Digests of the wasm layers.
    #[serde(default)]
    pub layer_digests: Vec<String>,
    /// The component's world.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component: Option<ComponentInfo>,
}

/// What the component implements.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ComponentInfo {
    /// The world it targets, e.g. `parseltongue:plugin/analyzer@0.1.0`.
    pub target: String,
}

/// Everything pushed for one plugin version: blobs and the manifest that ties them.
#[derive(Debug, Clone)]
pub struct Packed {
    /// The config blob.
    pub config: Vec<u8>,
    /// The component.
    pub component: Vec<u8>,
    /// The image manifest.
    pub manifest: OciImageManifest,
}

/// Packs a component and its `plugin.toml` text.
pub fn pack(component: Vec<u8>, plugin_toml: &str, manifest: &Manifest) -> Result<Packed> {
    let layer_digest = digest::sha256(&component);
    let config = WasmConfig {
        architecture: "wasm".into(),
        os: "wasip2".into(),
        layer_digests: vec![layer_digest.clone()],
        component: crate::contract::Contract::declared_by(&component)
            .map(|contract| ComponentInfo { target: contract.world() }),
    };
    let config = serde_json::to_vec(&config).expect("plain data serializes");
    let mut layer_annotations = BTreeMap::new();
    layer_annotations.insert(media::TITLE.to_string(), format!("{}.wasm", manifest.name));
    let mut annotations = BTreeMap::new();
    annotations.insert(media::PLUGIN_MANIFEST.to_string(), plugin_toml.to_string());
    annotations.insert(media::TITLE.to_string(), manifest.name.clone());
    annotations.insert(media::VERSION.to_string(), manifest.version.to_string());
    if !manifest.description.is_empty() {
        annotations.insert(media::DESCRIPTION.to_string(), manifest.description.clone());
    }
    let oci = OciImageManifest {
        schema_version: 2,
        media_type: Some(media::OCI_MANIFEST.into()),
        config: OciDescriptor {
            media_type: media::WASM_CONFIG.into(),
            digest: digest::sha256(&config),
            size: config.len() as i64,
            ..Default::default()
        },
        layers: vec![OciDescriptor {
            media_type: media::WASM_LAYER.into(),
            digest: layer_digest,
            size: component.len() as i64,
            annotations: Some(layer_annotations),
            ..Default::default()
        }],
        annotations: Some(annotations),
        ..Default::default()
    };
    Ok(Packed { config, component, manifest: oci })
}

/// Parses pulled manifest bytes; `what` names them in errors.
///
/// # Errors
///
/// [`Error::Registry`] if they are not an OCI/Docker image manifest.
pub fn parse_manifest(what: &str, bytes: &[u8]) -> Result<OciImageManifest> {
    serde_json::from_slice(bytes).map_err(|e| Error::Registry {
        reference: what.into(),
        message: "not an OCI image manifest".into(),
        source: Some(e.into()),
    })
}

/// The one wasm layer of a plugin artifact.
///
/// # Errors
///
/// [`Error::InvalidComponent`] if there is none or more than one, or a size is out of range.
pub fn wasm_layer<'m>(what: &str, manifest: &'m OciImageManifest) -> Result<&'m OciDescriptor> {
    let mut wasm = manifest.layers.iter().filter(|l| l.media_type == media::WASM_LAYER);
    match (wasm.next(), wasm.next()) {
        (Some(layer), None) if layer.size >= 0 => Ok(layer),
        (Some(_), None) => {
            Err(Error::InvalidComponent { message: format!("{what}: negative layer size"), source: None })
        }
        (None, _) => Err(Error::InvalidComponent {
            message: format!(
                "{what} has no `{}` layer (layers: {})",
                media::WASM_LAYER,
                manifest.layers.iter().map(|l| l.media_type.as_str()).collect::<Vec<_>>().join(", ")
            ),
            source: None,
        }),
        (Some(_), Some(_)) => Err(Error::InvalidComponent {
            message: format!("{what} has more than one `{}` layer", media::WASM_LAYER),
            source: None,
        }),
    }
}

/// The plugin manifest an artifact carries, or one made up from the reference for artifacts
/// pushed by other tools: named after the repository's last segment, versioned by a semver
/// tag, asking for nothing.
///
/// # Errors
///
/// [`Error::InvalidManifest`] if the annotation is present but invalid;
/// [`Error::Incompatible`] if it needs another contract version.
pub fn plugin_manifest(
    what: &str,
    manifest: &OciImageManifest,
    repository: &str,
    tag: Option<&str>,
) -> Result<(Manifest, String)> {
    let annotation = manifest.annotations.as_ref().and_then(|a| a.get(media::PLUGIN_MANIFEST));
    let text = match annotation {
        Some(text) => text.clone(),
        None => {
            let name: String = repository
                .rsplit('/')
                .next()
                .unwrap_or(repository)
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' })
                .collect();
            let version = tag
                .and_then(|t| semver::Version::parse(t.trim_start_matches('v')).ok())
                .unwrap_or_else(|| semver::Version::new(0, 0, 0));
            format!("name = \"{name}\"\nversion = \"{version}\"\n")
        }
    };
    let parsed =
        Manifest::parse(&text, std::path::Path::new(&format!("{what} ({})", media::PLUGIN_MANIFEST)))?;
    Ok((parsed, text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> (Manifest, &'static str) {
        let text = "name = \"census\"\nversion = \"1.2.3\"\ndescription = \"counts\"\n";
        (Manifest::parse(text, std::path::Path::new("plugin.toml")).unwrap(), text)
    }

    #[test]
    fn a_packed_plugin_uses_the_wasm_layout_and_carries_its_manifest() {
        let (m, text) = manifest();
        let packed = pack(b"\0asm component".to_vec(), text, &m).unwrap();
        assert_eq!(packed.manifest.config.media_type, media::WASM_CONFIG);
        assert_eq!(packed.manifest.config.digest, digest::sha256(&packed.config));
        let layer = wasm_layer("x", &packed.manifest).unwrap();
        assert_eq!(layer.digest, digest::sha256(b"\0asm component"));
        let config: WasmConfig = serde_json::from_slice(&packed.config).unwrap();
        assert_eq!(config.layer_digests, vec![layer.digest.clone()]);
        let (back, back_text) =
            plugin_manifest("x", &packed.manifest, "plugins/census", Some("1.2.3")).unwrap();
        assert_eq!(back, m);
        assert_eq!(back_text, text);
    }

    #[test]
    fn foreign_artifacts_get_a_manifest_from_their_reference() {
        let (m, text) = manifest();
        let mut packed = pack(b"x".to_vec(), text, &m).unwrap();
        packed.manifest.annotations = None;
        let (made, _) = plugin_manifest("x", &packed.manifest, "team/Node_Census", Some("v2.0.1")).unwrap();
        assert_eq!(made.name, "node-census");
        assert_eq!(made.version, semver::Version::new(2, 0, 1));
        assert!(made.capabilities.is_empty());
    }

    #[test]
    fn an_artifact_needs_exactly_one_wasm_layer() {
        let (m, text) = manifest();
        let mut packed = pack(b"x".to_vec(), text, &m).unwrap();
        let layer = packed.manifest.layers[0].clone();
        packed.manifest.layers.push(layer);
        assert_eq!(wasm_layer("x", &packed.manifest).unwrap_err().kind(), crate::ErrorKind::InvalidComponent);
        packed.manifest.layers.clear();
        assert!(wasm_layer("x", &packed.manifest).unwrap_err().to_string().contains("no `application/wasm`"));
    }
}
