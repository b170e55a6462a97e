//! Tooling for plugin authors, so that writing a plugin needs no tools beyond a compiler:
//! the contract's WIT, C bindings for it, wrapping a core module into a component, and project
//! scaffolds in four languages ([`scaffold`]).

#[cfg(feature = "bundled-plugins")]
pub mod harness;
pub mod scaffold;

use std::path::Path;

use crate::contract::Contract;
use crate::error::{Error, Result};

/// Contract 0.1, exactly as `wit/plugin.wit` (the seed's contract).
pub const CONTRACT_WIT: &str = include_str!("../../wit/plugin.wit");

/// Contract 0.2's `analyzer` world, exactly as `wit/v0.2/plugin.wit`.
pub const CONTRACT_WIT_0_2: &str = include_str!("../../wit/v0.2/plugin.wit");

/// The WIT text of `contract`'s `analyzer` world.
pub fn contract_wit(contract: Contract) -> &'static str {
    match contract {
        Contract::V0_1 => CONTRACT_WIT,
        Contract::V0_2 => CONTRACT_WIT_0_2,
    }
}

/// Writes `contract` to `dir/plugin.wit`, creating `dir`.
///
/// # Errors
///
/// [`Error::Io`] if the directory or file cannot be written.
pub fn write_wit(dir: &Path, contract: Contract) -> Result<()> {
    write_files(dir, &[("plugin.wit".to_string(), contract_wit(contract).as_bytes().to_vec())])
}

/// C bindings for `contract`'s `analyzer` world, as wit-bindgen's C generator writes them:
/// `analyzer.h`, `analyzer.c` and `analyzer_component_type.o` (the component type, linked in).
///
/// # Errors
///
/// [`Error::InvalidComponent`] if the generator fails (it does not for the shipped contracts).
pub fn c_bindings(contract: Contract) -> Result<Vec<(String, Vec<u8>)>> {
    use wit_bindgen_core::wit_parser::Resolve;
    let fail = |what: &str, e: anyhow::Error| Error::InvalidComponent {
        message: what.into(),
        source: Some(e.into()),
    };
    let mut resolve = Resolve::default();
    let package = resolve
        .push_str("plugin.wit", contract_wit(contract))
        .map_err(|e| fail("parsing the contract", e))?;
    let world =
        resolve.select_world(&[package], Some("analyzer")).map_err(|e| fail("selecting the world", e))?;
    let mut files = wit_bindgen_core::Files::default();
    wit_bindgen_c::Opts::default()
        .build()
        .generate(&mut resolve, world, &mut files)
        .map_err(|e| fail("generating C bindings", e))?;
    Ok(files.iter().map(|(name, bytes)| (name.to_string(), bytes.to_vec())).collect())
}

/// Writes [`c_bindings`] into `dir`.
///
/// # Errors
///
/// As [`c_bindings`], and [`Error::Io`] if a file cannot be written.
pub fn write_c_bindings(dir: &Path, contract: Contract) -> Result<()> {
    write_files(dir, &c_bindings(contract)?)
}

/// Wraps a core wasm module (built with the contract's component type linked in, as the C
/// bindings do) into a component. WASI preview 1 imports, if any, are adapted to preview 2 with
/// the reactor adapter that matches this host's wasmtime.
///
/// # Errors
///
/// [`Error::InvalidComponent`] naming what wit-component refused.
pub fn componentize(core: &[u8]) -> Result<Vec<u8>> {
    use wasi_preview1_component_adapter_provider as adapter;
    let fail = |e: anyhow::Error| Error::InvalidComponent {
        message: "cannot make a component of this module".into(),
        source: Some(e.into()),
    };
    wit_component::ComponentEncoder::default()
        .validate(true)
        .module(core)
        .map_err(fail)?
        .adapter(
            adapter::WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME,
            adapter::WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
        )
        .map_err(fail)?
        .encode()
        .map_err(fail)
}

pub(crate) fn write_files(dir: &Path, files: &[(String, Vec<u8>)]) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))?;
    for (name, bytes) in files {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| Error::io(format!("cannot create {}", parent.display()), e))?;
        }
        std::fs::write(&path, bytes).map_err(|e| Error::io(format!("cannot write {}", path.display()), e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_bindings_declare_the_export_and_the_host_imports() {
        let files = c_bindings(Contract::V0_2).unwrap();
        let header =
            String::from_utf8_lossy(&files.iter().find(|(n, _)| n == "analyzer.h").unwrap().1).into_owned();
        assert!(header.contains("exports_parseltongue_plugin_analysis_analyze"), "{header}");
        assert!(header.contains("exports_parseltongue_plugin_analysis_rules"), "{header}");
        assert!(
            header.contains("parseltongue_plugin_host_config") && !header.contains("host_edges"),
            "{header}"
        );
        let files = c_bindings(Contract::V0_1).unwrap();
        let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
        assert!(names.contains(&"analyzer.h") && names.contains(&"analyzer.c"), "{names:?}");
        assert!(names.contains(&"analyzer_component_type.o"), "{names:?}");
        let header =
            String::from_utf8_lossy(&files.iter().find(|(n, _)| n == "analyzer.h").unwrap().1).into_owned();
        assert!(header.contains("exports_parseltongue_plugin_parseltongue_plugin_analyze_graph"), "{header}");
        assert!(header.contains("parseltongue_plugin_host_edges"), "{header}");
    }

    #[test]
    fn componentize_refuses_what_is_not_a_module() {
        let err = componentize(b"not wasm").unwrap_err();
        assert!(err.to_string().contains("cannot make a component"), "{err}");
    }
}
