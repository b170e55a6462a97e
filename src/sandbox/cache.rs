//! The on-disk compile cache: a plugin is compiled once per engine configuration, and later loads
//! deserialize the stored machine code in about a millisecond instead of compiling again.
//!
//! Deserializing machine code is only sound for bytes wasmtime itself produced, so a cache file is
//! trusted only when all of these hold; otherwise it is ignored, recompiled and overwritten:
//! - the cache directory is ours (owned by the effective user) and private (mode 0700);
//! - the file is a regular file owned by us and not writable by group or others;
//! - its header carries our magic, format version, the SHA-256 of the component bytes and the
//!   engine's compatibility hash, and the SHA-256 of its payload matches.
//!
//! **Architecture Invariant:** no code path hands bytes to `Component::deserialize` without these
//! checks, and every write goes through a private temporary file renamed into place.

use std::fs;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

use crate::error::{Error, Result};

const MAGIC: &[u8; 8] = b"PTPLUGC\0";
const FORMAT_VERSION: u32 = 1;
const HEADER_LEN: usize = 8 + 4 + 32 + 32 + 8 + 32;

/// How a load used the cache, reported to callers and in `ptplugin run --format json`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case", tag = "status", content = "reason")]
pub enum CacheStatus {
    /// A valid artifact was deserialized; nothing was compiled.
    Hit,
    /// No artifact existed; the component was compiled (and stored if possible).
    Miss,
    /// An artifact existed but was refused (the reason says why); the component was recompiled.
    Recompiled(String),
    /// No cache is configured; the component was compiled.
    Disabled,
    /// The same bytes were already compiled in this sandbox; their machine code is shared.
    Shared,
}

/// A private directory of compiled plugin artifacts.
#[derive(Debug, Clone)]
pub struct CompileCache {
    dir: PathBuf,
}

impl CompileCache {
    /// `$XDG_CACHE_HOME/parseltongue-plugins/compiled` (or the platform's equivalent).
    pub fn default_dir() -> Option<PathBuf> {
        directories::ProjectDirs::from("", "", "parseltongue-plugins").map(|d| d.cache_dir().join("compiled"))
    }

    /// Opens (creating with mode 0700 if needed) a cache in `dir`. A symlink is followed, and the
    /// checks apply to the directory it leads to (which the cache then uses).
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if the directory cannot be created, is not a directory, or belongs to
    /// another user: a cache someone else can write is never used.
    pub fn open(dir: impl Into<PathBuf>) -> Result<CompileCache> {
        let dir = dir.into();
        let fail =
            |what: &str, e: std::io::Error| Error::io(format!("compile cache {}: {what}", dir.display()), e);
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .map_err(|e| fail("cannot create it", e))?;
        // A symlink is followed: what must be ours, private and a directory is its target.
        let dir = fs::canonicalize(&dir).map_err(|e| fail("cannot resolve it", e))?;
        let meta = fs::metadata(&dir).map_err(|e| fail("cannot inspect it", e))?;
        if !meta.is_dir() {
            return Err(fail("is not a directory", std::io::ErrorKind::NotADirectory.into()));
        }
        if meta.uid() != rustix::process::geteuid().as_raw() {
            return Err(fail(
                "belongs to another user",
                std::io::Error::new(std::io::ErrorKind::PermissionDenied, "refusing to trust it"),
            ));
        }
        if meta.mode() & 0o077 != 0 {
            fs::set_permissions(&dir, fs::Permissions::from_mode(0o700))
                .map_err(|e| fail("cannot make it private", e))?;
        }
        Ok(CompileCache { dir })
    }

    /// The directory this cache lives in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the artifact for `component_sha` on `engine` is stored.
    pub fn path_for(&self, engine: &Engine, component_sha: &[u8; 32]) -> PathBuf {
        let engine_hash = engine_hash(engine);
        self.dir.join(format!("{}-{}.cwasm", hex::encode(component_sha), &hex::encode(engine_hash)[..16]))
    }

    /// The component for `bytes`, deserialized from the cache when a trustworthy artifact exists,
    /// compiled (and stored) otherwise.
    #[expect(unsafe_code, reason = "deserializing our own cache entries, checked as the module docs say")]
    pub(crate) fn load_or_compile(
        &self,
        engine: &Engine,
        bytes: &[u8],
        component_sha: &[u8; 32],
    ) -> Result<(Component, CacheStatus)> {
        let path = self.path_for(engine, component_sha);
        let engine_hash = engine_hash(engine);
        let status = match self.read_trusted(&path, component_sha, &engine_hash) {
            Ok(Some(payload)) => {
                // SAFETY: `payload` passed every check in the module docs: it was written by this
                // library (checksum, private dir and file owned by us) for exactly this component
                // and engine configuration, so it is wasmtime's own serialized output.
                match unsafe { Component::deserialize(engine, &payload) } {
                    Ok(component) => return Ok((component, CacheStatus::Hit)),
                    Err(e) => CacheStatus::Recompiled(format!("wasmtime refused the artifact: {e}")),
                }
            }
            Ok(None) => CacheStatus::Miss,
            Err(reason) => CacheStatus::Recompiled(reason),
        };
        if let CacheStatus::Recompiled(reason) = &status {
            tracing::warn!(path = %path.display(), "ignoring compile cache entry: {reason}");
        }
        let component = compile(engine, bytes)?;
        match component.serialize() {
            Ok(payload) => {
                if let Err(e) = self.write(&path, component_sha, &engine_hash, &payload) {
                    tracing::warn!(path = %path.display(), "cannot store compiled plugin: {e}");
                }
            }
            Err(e) => tracing::warn!("cannot serialize compiled plugin: {e}"),
        }
        Ok((component, status))
    }

    /// The payload at `path` if every trust check passes; `Ok(None)` if there is no file;
    /// `Err(reason)` if there is one that must not be trusted.
    fn read_trusted(
        &self,
        path: &Path,
        component_sha: &[u8; 32],
        engine_hash: &[u8; 32],
    ) -> Result<Option<Vec<u8>>, String> {
        let meta = match fs::symlink_metadata(path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("cannot inspect it: {e}")),
        };
        if !meta.is_file() {
            return Err("not a regular file".into());
        }
        if meta.uid() != rustix::process::geteuid().as_raw() {
            return Err(format!("owned by uid {}, not by us", meta.uid()));
        }
        if meta.mode() & 0o022 != 0 {
            return Err(format!("writable by others (mode {:o})", meta.mode() & 0o777));
        }
        let data = fs::read(path).map_err(|e| format!("cannot read it: {e}"))?;
        let payload = parse(&data, component_sha, engine_hash)?;
        Ok(Some(payload.to_vec()))
    }

    fn write(
        &self,
        path: &Path,
        component_sha: &[u8; 32],
        engine_hash: &[u8; 32],
        payload: &[u8],
    ) -> std::io::Result<()> {
        let mut file = tempfile::Builder::new().prefix(".tmp-").tempfile_in(&self.dir)?;
        file.write_all(&header(component_sha, engine_hash, payload))?;
        file.write_all(payload)?;
        file.as_file().sync_all()?;
        file.persist(path).map_err(|e| e.error)?;
        Ok(())
    }
}

/// Compiles without any cache.
pub(crate) fn compile(engine: &Engine, bytes: &[u8]) -> Result<Component> {
    Component::new(engine, bytes).map_err(|e| Error::InvalidComponent {
        message: "the compiler refused it".into(),
        source: Some(e.into()),
    })
}

fn header(component_sha: &[u8; 32], engine_hash: &[u8; 32], payload: &[u8]) -> Vec<u8> {
    let mut h = Vec::with_capacity(HEADER_LEN);
    h.extend_from_slice(MAGIC);
    h.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    h.extend_from_slice(component_sha);
    h.extend_from_slice(engine_hash);
    h.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    h.extend_from_slice(&Sha256::digest(payload));
    h
}

/// The payload of a cache file, if its header matches and its checksum holds.
fn parse<'a>(data: &'a [u8], component_sha: &[u8; 32], engine_hash: &[u8; 32]) -> Result<&'a [u8], String> {
    if data.len() < HEADER_LEN || &data[..8] != MAGIC {
        return Err("not a ptplugin cache file".into());
    }
    let (header, payload) = data.split_at(HEADER_LEN);
    let field = |range: std::ops::Range<usize>| &header[range];
    if field(8..12) != FORMAT_VERSION.to_le_bytes() {
        return Err("written by another cache format version".into());
    }
    if field(12..44) != component_sha {
        return Err("made for another component".into());
    }
    if field(44..76) != engine_hash {
        return Err("made for another engine configuration".into());
    }
    if field(76..84) != (payload.len() as u64).to_le_bytes() {
        return Err("truncated or extended".into());
    }
    if field(84..116) != Sha256::digest(payload).as_slice() {
        return Err("checksum mismatch (corrupt)".into());
    }
    Ok(payload)
}

/// SHA-256 of the engine's compilation settings and this wasmtime's version.
fn engine_hash(engine: &Engine) -> [u8; 32] {
    struct ShaHasher(Sha256);
    impl Hasher for ShaHasher {
        fn finish(&self) -> u64 {
            0 // never called by `Hash` impls; only the digest is read
        }
        fn write(&mut self, bytes: &[u8]) {
            self.0.update(bytes);
        }
    }
    let mut hasher = ShaHasher(Sha256::new());
    engine.precompile_compatibility_hash().hash(&mut hasher);
    hasher.0.update(env!("CARGO_PKG_VERSION").as_bytes());
    hasher.0.finalize().into()
}

/// SHA-256 of component bytes: the cache key and the identity shown by `inspect`.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_accepts_only_a_matching_intact_file() {
        let (sha, engine, payload) = ([1u8; 32], [2u8; 32], b"machine code".to_vec());
        let mut file = header(&sha, &engine, &payload);
        file.extend_from_slice(&payload);
        assert_eq!(parse(&file, &sha, &engine).unwrap(), payload.as_slice());
        assert_eq!(parse(&file, &[9; 32], &engine).unwrap_err(), "made for another component");
        assert_eq!(parse(&file, &sha, &[9; 32]).unwrap_err(), "made for another engine configuration");
        let mut flipped = file.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert_eq!(parse(&flipped, &sha, &engine).unwrap_err(), "checksum mismatch (corrupt)");
        assert_eq!(parse(&file[..file.len() - 1], &sha, &engine).unwrap_err(), "truncated or extended");
        assert_eq!(parse(b"\0asm", &sha, &engine).unwrap_err(), "not a ptplugin cache file");
    }

    #[test]
    fn open_creates_a_private_directory_and_tightens_a_loose_one() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b");
        CompileCache::open(&dir).unwrap();
        assert_eq!(fs::metadata(&dir).unwrap().mode() & 0o777, 0o700);
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o777)).unwrap();
        CompileCache::open(&dir).unwrap();
        assert_eq!(fs::metadata(&dir).unwrap().mode() & 0o777, 0o700);
        let file = tmp.path().join("file");
        fs::write(&file, b"").unwrap();
        assert!(CompileCache::open(&file).is_err());
    }

    #[test]
    fn a_symlink_is_followed_and_its_target_checked() {
        let tmp = tempfile::tempdir().unwrap();
        let real = tmp.path().join("real");
        fs::create_dir(&real).unwrap();
        fs::set_permissions(&real, fs::Permissions::from_mode(0o777)).unwrap();
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let cache = CompileCache::open(&link).unwrap();
        assert_eq!(cache.dir(), fs::canonicalize(&real).unwrap());
        assert_eq!(fs::metadata(&real).unwrap().mode() & 0o777, 0o700, "the target was made private");
        let file = tmp.path().join("file");
        fs::write(&file, b"").unwrap();
        let to_file = tmp.path().join("to-file");
        std::os::unix::fs::symlink(&file, &to_file).unwrap();
        assert!(CompileCache::open(&to_file).is_err(), "a link to a file is not a cache");
    }
}
