//! Reading the files a user points the tool at: only regular files, never more than a limit, and
//! a component's header checked before the rest is read. Writing reports whole or not at all.
//!
//! `/dev/zero` as a graph, a FIFO as a policy or a 200 MB file of zeros as a plugin must end in
//! a clear error, not in a process that grows until the machine kills it. Every file the library
//! or the CLI reads on a user's say-so goes through [`read`] with the limit of its kind.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};

const MIB: u64 = 1024 * 1024;

/// Largest graph file read by default (a 1,000,000-node Parseltongue export is about 700 MB);
/// `ptplugin … --max-graph-mb` and [`crate::graph::import::load_bounded`] take another.
pub const MAX_GRAPH_BYTES: u64 = 1024 * MIB;
/// Largest component file (JavaScript and Python components are 12–18 MB).
pub const MAX_COMPONENT_BYTES: u64 = 256 * MIB;
/// Largest small text file: `plugin.toml`, a host policy, a key, a store index.
pub const MAX_TEXT_BYTES: u64 = 16 * MIB;
/// Largest result file read back (a baseline): a report of 10^6 findings is about 500 MB.
pub const MAX_RESULTS_BYTES: u64 = 1024 * MIB;

/// Checks that `path` can be written later — its directory exists and is a directory — so a
/// command fails before it spends minutes on work whose output has nowhere to go.
///
/// # Errors
///
/// [`Error::Io`] naming the directory.
pub fn check_writable(path: &Path, what: &str) -> Result<()> {
    let dir = parent_dir(path);
    match std::fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => Ok(()),
        Ok(_) => Err(Error::Io {
            context: format!("cannot write {what} {}: {} is not a directory", path.display(), dir.display()),
            source: std::io::Error::from(std::io::ErrorKind::NotADirectory),
        }),
        Err(e) => Err(Error::Io {
            context: format!("cannot write {what} {}: no directory {}", path.display(), dir.display()),
            source: e,
        }),
    }
}

/// Writes `bytes` to `path` atomically: into a temporary file beside it, flushed to disk, then
/// renamed over `path`. A reader (or a CI step after a killed run) sees the old file or the
/// new one, never half of one.
///
/// # Errors
///
/// [`Error::Io`] if the temporary file cannot be made, written or renamed.
pub fn write_atomic(path: &Path, bytes: &[u8], what: &str) -> Result<()> {
    use std::io::Write;
    let dir = parent_dir(path);
    use std::os::unix::fs::PermissionsExt;
    // As a plain create would make it (the umask still applies), not tempfile's private 0600.
    let mut tmp = tempfile::Builder::new()
        .permissions(std::fs::Permissions::from_mode(0o644))
        .prefix(".ptplugin-")
        .suffix(".partial")
        .tempfile_in(dir)
        .map_err(|e| cannot_write(what, path, e))?;
    tmp.write_all(bytes).and_then(|()| tmp.as_file().sync_all()).map_err(|e| cannot_write(what, path, e))?;
    tmp.persist(path).map_err(|e| cannot_write(what, path, e.error))?;
    Ok(())
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

fn cannot_write(what: &str, path: &Path, e: std::io::Error) -> Error {
    Error::Io { context: format!("cannot write {what} {}", path.display()), source: e }
}

/// Reads the regular file at `path`, at most `max` bytes; `what` names it in errors
/// (`graph file`, `plugin`, `policy`).
///
/// # Errors
///
/// [`Error::Io`] if it cannot be read, is not a regular file (a device, a FIFO, a directory) or
/// is larger than `max`.
pub fn read(path: &Path, what: &str, max: u64) -> Result<Vec<u8>> {
    let (mut file, size) = open(path, what, max)?;
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    // A file that grows while it is read stops at the limit all the same.
    (&mut file).take(max + 1).read_to_end(&mut bytes).map_err(|e| cannot(what, path, e))?;
    if bytes.len() as u64 > max {
        return Err(too_large(what, path, bytes.len() as u64, max));
    }
    Ok(bytes)
}

/// As [`read`], as UTF-8 text.
///
/// # Errors
///
/// As [`read`], or [`Error::Io`] (invalid data) naming the first byte that is not UTF-8.
pub fn read_text(path: &Path, what: &str, max: u64) -> Result<String> {
    String::from_utf8(read(path, what, max)?).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        cannot(
            what,
            path,
            std::io::Error::new(std::io::ErrorKind::InvalidData, format!("not UTF-8 text (byte {at})")),
        )
    })
}

/// As [`read`], but first reads `header` bytes and lets `check` refuse the file by them before
/// anything else is read (a component's magic number, say).
///
/// # Errors
///
/// As [`read`], or what `check` returns.
pub fn read_checked(
    path: &Path,
    what: &str,
    max: u64,
    header: usize,
    check: impl FnOnce(&[u8]) -> Result<()>,
) -> Result<Vec<u8>> {
    let (mut file, size) = open(path, what, u64::MAX)?;
    let mut bytes = Vec::new();
    (&mut file).take(header as u64).read_to_end(&mut bytes).map_err(|e| cannot(what, path, e))?;
    check(&bytes)?;
    if size > max {
        return Err(too_large(what, path, size, max));
    }
    bytes.reserve(usize::try_from(size).unwrap_or(0).saturating_sub(bytes.len()));
    (&mut file)
        .take(max + 1 - bytes.len() as u64)
        .read_to_end(&mut bytes)
        .map_err(|e| cannot(what, path, e))?;
    if bytes.len() as u64 > max {
        return Err(too_large(what, path, bytes.len() as u64, max));
    }
    Ok(bytes)
}

/// Reads a component file: its header is checked before the rest is read.
///
/// # Errors
///
/// As [`read`] (with [`MAX_COMPONENT_BYTES`]), or [`Error::InvalidComponent`] for bytes that do
/// not start like a component.
pub fn read_component(path: &Path) -> Result<Vec<u8>> {
    read_checked(path, "plugin", MAX_COMPONENT_BYTES, 8, check_header)
}

/// Opens a regular file no larger than `max`: its size is checked before a byte is read, and the
/// open does not block (a FIFO would wait for a writer forever).
fn open(path: &Path, what: &str, max: u64) -> Result<(File, u64)> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
        .open(path)
        .map_err(|e| cannot(what, path, e))?;
    let meta = file.metadata().map_err(|e| cannot(what, path, e))?;
    if !meta.is_file() {
        let kind = if meta.is_dir() { "a directory" } else { "not a regular file (a device or a FIFO)" };
        return Err(cannot(what, path, std::io::Error::new(std::io::ErrorKind::InvalidInput, kind)));
    }
    if meta.len() > max {
        return Err(too_large(what, path, meta.len(), max));
    }
    Ok((file, meta.len()))
}

fn cannot(what: &str, path: &Path, e: std::io::Error) -> Error {
    Error::io(format!("cannot read {what} {}", path.display()), e)
}

fn too_large(what: &str, path: &Path, size: u64, max: u64) -> Error {
    cannot(
        what,
        path,
        std::io::Error::new(
            std::io::ErrorKind::FileTooLarge,
            format!("it is {size} bytes, over the limit of {max} bytes ({} MiB)", max / MIB),
        ),
    )
}

/// Refuses bytes that are not a component before the compiler sees them, with a useful reason.
pub(crate) fn check_header(bytes: &[u8]) -> Result<()> {
    if wasmparser::Parser::is_component(bytes) {
        return Ok(());
    }
    let message = if wasmparser::Parser::is_core_wasm(bytes) {
        "this is a core WebAssembly module, not a component; build for wasm32-wasip2 or wrap it \
         with `wasm-tools component new`"
            .to_string()
    } else if bytes.len() < 8 {
        format!("{} bytes is too short to be WebAssembly", bytes.len())
    } else {
        "no WebAssembly header (expected the bytes \\0asm)".to_string()
    };
    Err(Error::InvalidComponent { message, source: None })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_are_written_whole_and_a_missing_directory_is_said_first() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.sarif");
        check_writable(&path, "report").unwrap();
        write_atomic(&path, b"old", "report").unwrap();
        write_atomic(&path, b"new", "report").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        // Nothing but the report is left beside it.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        let missing = dir.path().join("no/such/dir/report.html");
        let e = check_writable(&missing, "report").unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Io);
        assert!(e.to_string().contains("no directory"), "{e}");
        assert!(write_atomic(&missing, b"x", "report").is_err());
    }

    #[test]
    fn regular_files_within_the_limit_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"hello").unwrap();
        assert_eq!(read(&path, "file", 5).unwrap(), b"hello");
        let err = read(&path, "file", 4).unwrap_err();
        assert!(err.to_string().contains("5 bytes, over the limit of 4 bytes"), "{err}");
        assert_eq!(err.kind(), crate::ErrorKind::Io);
    }

    #[test]
    fn devices_fifos_and_directories_are_refused_without_reading() {
        let err = read(Path::new("/dev/zero"), "graph file", MAX_GRAPH_BYTES).unwrap_err();
        assert!(err.to_string().contains("not a regular file"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        let err = read(&fifo, "policy", MAX_TEXT_BYTES).unwrap_err();
        assert!(err.to_string().contains("not a regular file"), "{err}");
        let err = read(dir.path(), "policy", MAX_TEXT_BYTES).unwrap_err();
        assert!(err.to_string().contains("a directory"), "{err}");
    }

    #[test]
    fn the_header_is_checked_before_the_rest_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("zeros.wasm");
        // Larger than the limit: only the header check can answer, and it answers first.
        File::create(&path).unwrap().set_len(64 * MIB).unwrap();
        let refused = |h: &[u8]| -> Result<()> {
            assert_eq!(h.len(), 8);
            Err(Error::InvalidComponent { message: "no header".into(), source: None })
        };
        let err = read_checked(&path, "plugin", MIB, 8, refused).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::InvalidComponent);
        let err = read_checked(&path, "plugin", MIB, 8, |_| Ok(())).unwrap_err();
        assert!(err.to_string().contains("over the limit"), "{err}");
        std::fs::write(&path, b"0123456789").unwrap();
        assert_eq!(read_checked(&path, "plugin", MIB, 8, |_| Ok(())).unwrap(), b"0123456789");
    }
}
