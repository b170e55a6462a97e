//! The local content-addressed store: every blob by digest, an index from references to
//! manifest digests, which signatures belong to which manifest, and which version of each
//! plugin is installed (with the ones before it, for rollback).
//!
//! Layout under the root: `blobs/sha256/<hex>` (written to a temporary file and renamed, so a
//! crash never leaves a half blob under its digest) and `index.json`. Every read re-checks the
//! blob against its digest: a corrupted entry is reported, never used.
//!
//! Any number of processes may use one store at once (`pull`, `update`, `rollback`, `list`,
//! `run installed:`): blobs are written under their digest by rename, so a reader sees a whole
//! blob or none; the index is replaced by rename too, and every change to it (read, change,
//! write) holds an exclusive `flock` on `index.lock`, so no process's entry is lost to another's.
//! A store opened with [`Store::open_read_only`] never writes, not even its directories.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::distribution::digest;
use crate::error::{Error, Result};

/// One installed plugin version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Release {
    /// Where it came from, pinned: `registry/repo@sha256:…`.
    pub reference: String,
    /// The plugin's version.
    pub version: semver::Version,
    /// Its manifest digest.
    pub digest: String,
}

/// What is installed under one plugin name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Installed {
    /// The version in use.
    pub current: Option<Release>,
    /// Earlier versions, newest last: what `rollback` returns to.
    #[serde(default)]
    pub history: Vec<Release>,
}

/// The store's index file.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Index {
    /// `registry/repo:tag` → manifest digest.
    #[serde(default)]
    pub refs: BTreeMap<String, String>,
    /// `registry/repo` → tags seen at the last listing.
    #[serde(default)]
    pub tags: BTreeMap<String, BTreeSet<String>>,
    /// Manifest digest → digest of its cosign signature manifest.
    #[serde(default)]
    pub signatures: BTreeMap<String, String>,
    /// Plugin name → installed versions.
    #[serde(default)]
    pub installed: BTreeMap<String, Installed>,
}

/// A store rooted at a directory.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
    /// Opened for reading only: nothing is created or changed.
    read_only: bool,
}

impl Store {
    /// Opens (creating, private to the user) a store.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if the directories cannot be made.
    pub fn open(root: impl Into<PathBuf>) -> Result<Store> {
        let root = root.into();
        let blobs = root.join("blobs").join("sha256");
        std::fs::create_dir_all(&blobs)
            .map_err(|e| Error::io(format!("cannot create plugin store {}", blobs.display()), e))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o700));
        }
        Ok(Store { root, read_only: false })
    }

    /// Opens a store for reading only: a store that does not exist reads as empty, and nothing
    /// is ever created or written ([`Store::put`] and [`Store::update_index`] refuse).
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if `root` exists but is not a directory.
    pub fn open_read_only(root: impl Into<PathBuf>) -> Result<Store> {
        let root = root.into();
        if root.exists() && !root.is_dir() {
            return Err(Error::io(
                format!("plugin store {}", root.display()),
                std::io::Error::new(std::io::ErrorKind::NotADirectory, "not a directory"),
            ));
        }
        Ok(Store { root, read_only: true })
    }

    /// Whether the store exists on disk (a read-only store may not).
    pub fn exists(&self) -> bool {
        self.root.is_dir()
    }

    fn writable(&self, what: &str) -> Result<()> {
        if self.read_only {
            return Err(Error::io(
                format!("cannot {what} in plugin store {}", self.root.display()),
                std::io::Error::new(std::io::ErrorKind::PermissionDenied, "the store was opened read-only"),
            ));
        }
        Ok(())
    }

    /// The default store: `<user cache dir>/ptplugin/oci`.
    pub fn default_root() -> Option<PathBuf> {
        directories::ProjectDirs::from("", "", "ptplugin").map(|d| d.cache_dir().join("oci"))
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the blob with `digest` lives (whether or not it is there).
    ///
    /// # Errors
    ///
    /// [`Error::Untrusted`] for a malformed digest (never turned into a path).
    pub fn blob_path(&self, digest: &str) -> Result<PathBuf> {
        let hex = digest::parse(digest).map_err(|reason| Error::Untrusted {
            subject: "blob".into(),
            reason,
            source: None,
        })?;
        Ok(self.root.join("blobs").join("sha256").join(hex))
    }

    /// Whether a blob is present (not checked).
    pub fn has(&self, digest: &str) -> bool {
        self.blob_path(digest).is_ok_and(|p| p.is_file())
    }

    /// Stores `bytes`, which must have `digest`.
    ///
    /// # Errors
    ///
    /// [`Error::Integrity`] if they do not; [`Error::Io`] if writing fails.
    pub fn put(&self, what: &str, bytes: &[u8], digest: &str) -> Result<()> {
        self.writable(&format!("store {what}"))?;
        digest::check(what, bytes, digest)?;
        let path = self.blob_path(digest)?;
        let dir = path.parent().expect("blob paths have a parent");
        let io = |e| Error::io(format!("cannot write {}", path.display()), e);
        let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
        tmp.write_all(bytes).map_err(io)?;
        tmp.as_file().sync_all().map_err(io)?;
        tmp.persist(&path).map_err(|e| io(e.error))?;
        Ok(())
    }

    /// Reads a blob and checks it against its digest.
    ///
    /// # Errors
    ///
    /// [`Error::Unresolved`] if it is missing (e.g. offline and never fetched);
    /// [`Error::Integrity`] if it is corrupt.
    pub fn get(&self, what: &str, digest: &str) -> Result<Vec<u8>> {
        let path = self.blob_path(digest)?;
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::Unresolved {
                    what: what.into(),
                    reason: format!("blob {digest} is not in the local store {}", self.root.display()),
                });
            }
            Err(e) => return Err(Error::io(format!("cannot read {}", path.display()), e)),
        };
        digest::check(&format!("{what} (cached at {})", path.display()), &bytes, digest)?;
        Ok(bytes)
    }

    /// Reads the index (empty if there is none yet).
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if it cannot be read, or is not the index this tool writes (with the line
    /// and column where it stops being one).
    pub fn index(&self) -> Result<Index> {
        let path = self.root.join("index.json");
        if !path.exists() {
            return Ok(Index::default());
        }
        let bytes = crate::files::read(&path, "store index", crate::files::MAX_TEXT_BYTES)?;
        serde_json::from_slice(&bytes).map_err(|e| {
            Error::io(
                format!("the store index {} is corrupt (fix or remove it)", path.display()),
                std::io::Error::new(std::io::ErrorKind::InvalidData, e),
            )
        })
    }

    /// Changes the index: read, apply `f`, write atomically — holding the store's lock, so that
    /// changes by other processes are never lost.
    ///
    /// # Errors
    ///
    /// As [`Store::index`], or [`Error::Io`] if the store is read-only or writing fails.
    pub fn update_index<T>(&self, f: impl FnOnce(&mut Index) -> T) -> Result<T> {
        self.writable("update the index")?;
        let lock_path = self.root.join("index.lock");
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| Error::io(format!("cannot open {}", lock_path.display()), e))?;
        // Held until `lock` is dropped (closing the file releases it), on every path out.
        lock.lock().map_err(|e| Error::io(format!("cannot lock {}", lock_path.display()), e))?;
        let mut index = self.index()?;
        let out = f(&mut index);
        let path = self.root.join("index.json");
        let io = |e| Error::io(format!("cannot write {}", path.display()), e);
        let mut tmp = tempfile::NamedTempFile::new_in(&self.root).map_err(io)?;
        serde_json::to_writer_pretty(&mut tmp, &index).expect("plain data serializes");
        tmp.as_file().sync_all().map_err(io)?;
        tmp.persist(&path).map_err(|e| io(e.error))?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blobs_round_trip_and_corruption_is_detected() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let d = digest::sha256(b"component");
        store.put("layer", b"component", &d).unwrap();
        assert_eq!(store.get("layer", &d).unwrap(), b"component");
        std::fs::write(store.blob_path(&d).unwrap(), b"componenX").unwrap();
        let err = store.get("layer", &d).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Integrity);
        assert!(err.to_string().contains("cached at"), "{err}");
    }

    #[test]
    fn wrong_content_is_never_stored_and_missing_blobs_say_so() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let d = digest::sha256(b"a");
        assert_eq!(store.put("layer", b"b", &d).unwrap_err().kind(), crate::ErrorKind::Integrity);
        assert!(!store.has(&d));
        let err = store.get("layer", &d).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Unresolved);
        assert!(err.to_string().contains("not in the local store"));
    }

    #[test]
    fn concurrent_index_updates_lose_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let threads: Vec<_> = (0..16)
            .map(|t| {
                let store = Store::open(dir.path()).unwrap();
                std::thread::spawn(move || {
                    for i in 0..20 {
                        store
                            .update_index(|ix| ix.refs.insert(format!("r/x:{t}-{i}"), "sha256:1".into()))
                            .unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(Store::open(dir.path()).unwrap().index().unwrap().refs.len(), 16 * 20);
    }

    #[test]
    fn a_read_only_store_never_writes() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nowhere");
        let store = Store::open_read_only(&missing).unwrap();
        assert!(!store.exists());
        assert!(store.index().unwrap().installed.is_empty());
        let d = digest::sha256(b"x");
        assert!(store.put("layer", b"x", &d).unwrap_err().to_string().contains("read-only"));
        assert!(store.update_index(|_| ()).is_err());
        assert!(!missing.exists(), "nothing was created");
        std::fs::write(&missing, b"").unwrap();
        assert!(Store::open_read_only(&missing).is_err(), "a file is not a store");
    }

    #[test]
    fn a_corrupt_index_is_a_parse_error_that_says_where() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        std::fs::write(dir.path().join("index.json"), "{\n  \"refs\": {\n    \"a\": 3\n}").unwrap();
        let err = store.index().unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Io);
        let message = err.to_string();
        assert!(message.contains("corrupt") && message.contains("line 3"), "{message}");
        assert!(!message.contains("digest"), "{message}");
    }

    #[test]
    fn the_index_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store.update_index(|i| i.refs.insert("r/x:1".into(), "sha256:1".into())).unwrap();
        let again = Store::open(dir.path()).unwrap();
        assert_eq!(again.index().unwrap().refs["r/x:1"], "sha256:1");
    }
}
