//! Finding plugins in a directory: each subdirectory with a `plugin.toml` is a plugin (its
//! manifest names the component), and each loose `*.wasm` file is a plugin named after the file.

use std::path::Path;

use crate::error::{Error, Result};
use crate::runtime::spec::PluginSpec;

/// The plugins in `dir`, sorted by path.
///
/// # Errors
///
/// [`Error::Io`] if `dir` cannot be listed. Problems with one plugin surface when it is loaded,
/// so they never hide the others.
pub fn discover(dir: &Path) -> Result<Vec<PluginSpec>> {
    let listing = std::fs::read_dir(dir)
        .map_err(|e| Error::io(format!("cannot list plugin directory {}", dir.display()), e))?;
    let mut paths: Vec<_> = listing.filter_map(|entry| entry.ok().map(|e| e.path())).collect();
    paths.sort();
    let mut specs = Vec::new();
    for path in paths {
        let manifest = path.join("plugin.toml");
        if path.is_dir() && manifest.is_file() {
            specs.push(PluginSpec::manifest(manifest));
        } else if path.is_file() && path.extension().is_some_and(|e| e == "wasm") {
            specs.push(PluginSpec::file(path));
        }
    }
    Ok(specs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_manifests_and_loose_components_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        std::fs::create_dir(p.join("with-manifest")).unwrap();
        std::fs::write(p.join("with-manifest/plugin.toml"), "name = \"x\"\nversion = \"1.0.0\"\n").unwrap();
        std::fs::create_dir(p.join("no-manifest")).unwrap();
        std::fs::write(p.join("loose.wasm"), b"").unwrap();
        std::fs::write(p.join("notes.txt"), b"").unwrap();
        let specs = discover(p).unwrap();
        let sources: Vec<String> = specs.iter().map(|s| s.source_name()).collect();
        assert_eq!(sources.len(), 2, "{sources:?}");
        assert!(sources[0].ends_with("loose.wasm"), "{sources:?}");
        assert!(sources[1].ends_with("with-manifest/plugin.toml"), "{sources:?}");
        assert_eq!(discover(&p.join("missing")).unwrap_err().kind(), crate::ErrorKind::Io);
    }
}
