//! Appending to a log: one writer thread per open log fed by a bounded channel, each batch
//! written under an exclusive lock on the file, continuing the chain after whatever other
//! writers appended.

use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::SystemTime;

use crossbeam_channel::{Receiver, Sender, bounded};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::record::AuditRecord;
use super::verify::{Cursor, MAX_RECORD_BYTES, chain, head_path, not_a_regular_file, verify_file};
use crate::error::{Error, Result};

/// Records waiting to be written before `record` blocks.
const PENDING: usize = 8192;
enum Command {
    Record(AuditRecord),
    Flush(Sender<()>),
    Stop,
}

/// An open audit log. Cheap to clone; the writer thread ends when the last clone is dropped
/// (after writing everything sent).
#[derive(Clone)]
pub struct AuditLog {
    tx: Sender<Command>,
    path: Arc<PathBuf>,
    writer: Arc<Mutex<Option<JoinHandle<()>>>>,
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog").field("path", &self.path).finish_non_exhaustive()
    }
}

/// The one writer of a log in this host. Between batches other processes may append: every
/// batch takes the log's exclusive lock, reads and checks what they appended, and continues the
/// chain after it.
struct Writer {
    file: File,
    path: PathBuf,
    head_path: PathBuf,
    /// Where the chain stands: the next record's sequence number, the last record's hash, the
    /// lines and bytes of the log known to verify.
    at: Cursor,
}

impl AuditLog {
    /// Opens `path` for appending (creating it, mode 0600), continuing its chain; a torn last line
    /// is moved to `<path>.torn` and recorded. Any number of hosts, in any processes, may hold
    /// the same log open: appends are serialised by an exclusive lock on the file (`flock`), and
    /// each continues the chain where the last writer left it.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if the file cannot be opened or is not a regular file, or its existing
    /// records are not a valid chain (appending to a tampered log would hide the tampering).
    pub fn open(path: impl Into<PathBuf>) -> Result<AuditLog> {
        use std::os::unix::fs::OpenOptionsExt;
        let path = path.into();
        let io =
            |what: &str, e: std::io::Error| Error::io(format!("audit log {}: {what}", path.display()), e);
        if let Ok(meta) = std::fs::metadata(&path)
            && !meta.is_file()
        {
            return Err(io("cannot open", not_a_regular_file()));
        }
        let file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .mode(0o600)
            .open(&path)
            .map_err(|e| io("cannot open", e))?;
        let mut writer =
            Writer { file, head_path: head_path(&path), path: path.clone(), at: Cursor::start() };
        writer.file.lock().map_err(|e| io("cannot lock", e))?;
        let opened = writer.open();
        let _ = writer.file.unlock();
        opened.map_err(|e| io("refusing to append", e))?;

        let (tx, rx) = bounded(PENDING);
        let handle = std::thread::Builder::new()
            .name("ptplugin-audit".into())
            .spawn(move || writer.run(rx))
            .map_err(|e| io("cannot start the writer thread", e))?;
        Ok(AuditLog { tx, path: Arc::new(path), writer: Arc::new(Mutex::new(Some(handle))) })
    }

    /// Where the log is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `record` (asynchronously; [`AuditLog::flush`] waits for it).
    pub fn record(&self, record: AuditRecord) {
        let _ = self.tx.send(Command::Record(record));
    }

    /// Waits until everything recorded so far is written.
    pub fn flush(&self) {
        let (done, wait) = bounded(1);
        if self.tx.send(Command::Flush(done)).is_ok() {
            let _ = wait.recv();
        }
    }

    /// Writes everything pending, syncs the file and stops the writer thread; records sent
    /// afterwards (by any clone) are not written. Idempotent.
    pub fn close(&self) {
        let _ = self.tx.send(Command::Stop);
        if let Some(handle) = self.writer.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = handle.join();
        }
    }
}

impl Writer {
    /// Under the lock: checks the whole log, recovers a torn tail, records the opening.
    fn open(&mut self) -> std::io::Result<()> {
        let report = verify_file(&self.path, &self.file)?;
        if let Some(problem) = report.problem() {
            return Err(std::io::Error::other(format!("the log does not verify: {problem}")));
        }
        let mut pending = vec![AuditRecord::Opened { host_version: env!("CARGO_PKG_VERSION").into() }];
        if let Some(torn) = &report.torn_tail {
            let bytes = move_torn_tail(&mut self.file, &self.path, torn.offset)?;
            pending.push(AuditRecord::TornTailRecovered { bytes });
        }
        self.at = report.end;
        for record in &pending {
            self.write(record)?;
        }
        self.sync_head()
    }

    fn run(mut self, rx: Receiver<Command>) {
        let mut stop = false;
        while !stop && let Ok(cmd) = rx.recv() {
            let mut records = Vec::new();
            let mut waiting = Vec::new();
            // What is queued is one batch: one lock, one head update.
            for cmd in std::iter::once(cmd).chain(rx.try_iter()) {
                match cmd {
                    Command::Record(record) => records.push(record),
                    Command::Flush(done) => waiting.push(done),
                    Command::Stop => {
                        stop = true;
                        break;
                    }
                }
            }
            if !records.is_empty()
                && let Err(e) = self.batch(&records)
            {
                tracing::error!(
                    "audit log {}: {} records not written: {e}",
                    self.path.display(),
                    records.len()
                );
            }
            for done in waiting {
                let _ = done.send(());
            }
        }
        let _ = self.file.sync_all();
    }

    /// Appends `records` under the log's exclusive lock, after whatever other writers appended.
    fn batch(&mut self, records: &[AuditRecord]) -> std::io::Result<()> {
        self.file.lock()?;
        let result = self.catch_up().and_then(|()| {
            for record in records {
                self.write(record)?;
            }
            self.sync_head()
        });
        let _ = self.file.unlock();
        result
    }

    /// Reads and checks what other writers appended since this one last wrote.
    fn catch_up(&mut self) -> std::io::Result<()> {
        let len = self.file.metadata()?.len();
        if len == self.at.offset {
            return Ok(());
        }
        if len < self.at.offset {
            return Err(std::io::Error::other(format!(
                "the log shrank from {} to {len} bytes under this host (truncated by someone else)",
                self.at.offset
            )));
        }
        let mut reader = BufReader::new(File::open(&self.path)?);
        reader.seek(SeekFrom::Start(self.at.offset))?;
        let mut report = chain(reader, self.at.clone())?;
        if let Some(suspect) = report.end.suspect.take() {
            report.first_bad = Some(suspect.broken_link());
        }
        if let Some(bad) = &report.first_bad {
            return Err(std::io::Error::other(format!(
                "another writer left a record that does not verify: line {}: {}",
                bad.line, bad.reason
            )));
        }
        self.at = report.end;
        if let Some(torn) = report.torn_tail {
            // Another writer crashed mid-line.
            let bytes = move_torn_tail(&mut self.file, &self.path, torn.offset)?;
            self.write(&AuditRecord::TornTailRecovered { bytes })?;
        }
        Ok(())
    }

    fn write(&mut self, record: &AuditRecord) -> std::io::Result<()> {
        let time = humantime::format_rfc3339_millis(SystemTime::now()).to_string();
        let line = serde_json::to_string(
            &json!({ "seq": self.at.seq, "time": time, "prev": self.at.prev, "record": record }),
        )
        .map_err(std::io::Error::other)?;
        let mut bytes = line.into_bytes();
        let hash = hex::encode(Sha256::digest(&bytes));
        bytes.push(b'\n');
        self.file.write_all(&bytes)?;
        self.at.prev = hash;
        self.at.seq += 1;
        self.at.line += 1;
        self.at.offset += bytes.len() as u64;
        Ok(())
    }

    /// Records the last sequence number and hash in the head file (write then rename).
    fn sync_head(&mut self) -> std::io::Result<()> {
        let head = json!({ "seq": self.at.seq.checked_sub(1), "hash": self.at.prev });
        let tmp = self.head_path.with_extension("head.tmp");
        std::fs::write(&tmp, serde_json::to_vec(&head).map_err(std::io::Error::other)?)?;
        std::fs::rename(&tmp, &self.head_path)
    }
}

/// Moves the bytes from `offset` to the end into `<path>.torn` and truncates the log there.
fn move_torn_tail(file: &mut File, path: &Path, offset: u64) -> std::io::Result<u64> {
    let mut tail = Vec::new();
    file.seek(SeekFrom::Start(offset))?;
    file.take(MAX_RECORD_BYTES).read_to_end(&mut tail)?;
    let mut torn = path.as_os_str().to_owned();
    torn.push(".torn");
    OpenOptions::new().create(true).append(true).open(PathBuf::from(torn))?.write_all(&tail)?;
    file.set_len(offset)?;
    Ok(tail.len() as u64)
}
