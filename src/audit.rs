//! The audit trail: an append-only JSON Lines file, one record per event, each carrying the
//! SHA-256 of the record before it, so that any edited, removed or reordered line breaks the chain.
//!
//! ```json
//! {"seq":0,"time":"2026-11-26T22:00:00.123Z","prev":"000…000","record":{"record":"opened",…}}
//! {"seq":1,"time":"2026-11-26T22:00:00.125Z","prev":"<sha-256 of line 1>","record":{"record":"load",…}}
//! ```
//!
//! A sidecar `<file>.head` holds the last record's sequence number and hash (rewritten atomically
//! after each write), so removing or editing the *last* records is detected too. A crash can leave
//! a torn last line: [`verify`] reports it apart from tampering, and [`AuditLog::open`] moves it to
//! `<file>.torn` and records that before appending.
//!
//! Writing happens on one thread fed by a bounded channel: callers never block on the disk unless
//! thousands of records are pending, and no record is ever dropped.
//!
//! Many writers, one chain: hosts in any number of processes may append to one log. Each batch
//! of records is written under an exclusive `flock` of the log file; under it, the writer first
//! reads and checks whatever other writers appended since its own last batch, continues the chain
//! after it, and rewrites the head. [`verify`] reads under a shared lock.
//!
//! Trust: the chain and head detect changes made by anyone who cannot rewrite both the log and its
//! head consistently. An attacker with the host's own write access can forge a consistent history;
//! ship records off the machine when that matters.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::SystemTime;

use crossbeam_channel::{Receiver, Sender, bounded};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::instance::Usage;
use crate::policy::Denied;
use crate::runtime::events::HostEvent;

/// Records waiting to be written before `record` blocks.
const PENDING: usize = 8192;
/// The `prev` of the first record.
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What one audit record says.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "kebab-case", tag = "record")]
#[non_exhaustive]
pub enum AuditRecord {
    /// The log was opened by a host.
    Opened {
        /// This crate's version.
        host_version: String,
    },
    /// A torn last line from a crash was moved aside.
    TornTailRecovered {
        /// Bytes moved to `<file>.torn`.
        bytes: u64,
    },
    /// A host policy took effect.
    PolicyChange {
        /// Where it came from (a file path, or `builder`).
        source: String,
        /// The policy, as data.
        policy: Value,
    },
    /// A plugin was loaded.
    Load {
        /// Plugin name.
        plugin: String,
        /// Version.
        version: String,
        /// SHA-256 of its component.
        sha256: String,
    },
    /// A capability was granted at load.
    Grant {
        /// Plugin name.
        plugin: String,
        /// What was granted.
        capability: String,
    },
    /// A capability was refused, at load (policy) or at run time (an attempt).
    Denial {
        /// Plugin name.
        plugin: String,
        /// What was refused.
        capability: String,
        /// Why.
        why: String,
        /// `load` or `run`.
        when: String,
    },
    /// A call began.
    CallStart {
        /// Plugin name.
        plugin: String,
        /// Version.
        version: String,
        /// Instance index.
        instance: usize,
        /// The input's fingerprint.
        input: String,
    },
    /// A call ended.
    CallEnd {
        /// Plugin name.
        plugin: String,
        /// Version.
        version: String,
        /// Instance index.
        instance: usize,
        /// `ok` or the error kind.
        outcome: String,
        /// What it used.
        usage: Usage,
    },
    /// A plugin artifact's signatures were checked against the trust policy (accepted or not).
    Verification(crate::distribution::trust::Verdict),
    /// A plugin went back to an earlier version.
    Rollback {
        /// Plugin name.
        plugin: String,
        /// The version now in use.
        to: String,
        /// `operator`, or why it was automatic.
        reason: String,
    },
    /// Anything the runtime reports as an event: crashes (traps), restarts, quarantines,
    /// releases, poison inputs, quota levels, swaps, unloads, failed loads.
    Event(HostEvent),
}

impl AuditRecord {
    /// A denial record from a policy [`Denied`].
    pub fn denial(plugin: &str, denied: &Denied, when: &str) -> AuditRecord {
        AuditRecord::Denial {
            plugin: plugin.to_string(),
            capability: denied.capability.clone(),
            why: denied.why.clone(),
            when: when.to_string(),
        }
    }
}

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

fn head_path(path: &Path) -> PathBuf {
    let mut head = path.as_os_str().to_owned();
    head.push(".head");
    head.into()
}

fn not_a_regular_file() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a regular file (a device, FIFO or directory)")
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

/// The first record that fails verification.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BadRecord {
    /// 1-based line number (for records missing from the end: the line where the first one
    /// should be).
    pub line: u64,
    /// What is wrong with it.
    pub reason: String,
}

/// A torn (incomplete) last line.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TornTail {
    /// 1-based line number.
    pub line: u64,
    /// Byte offset where it starts.
    pub offset: u64,
}

/// What the head file (`<log>.head`) said about the end of the log.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case", tag = "status", content = "reason")]
pub enum HeadCheck {
    /// There is no head file: removing the last records cannot be detected.
    Missing,
    /// The log ends where its head file says.
    Agrees,
    /// The log and its head file disagree; `first_bad` names the record.
    Disagrees,
    /// The head file exists but is not one this host wrote (unreadable or malformed).
    Unreadable(String),
    /// Not compared: a record before the end is already bad.
    NotReached,
}

/// What [`verify`] found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct VerifyReport {
    /// Records that verify (before the first bad one, if any).
    pub valid_records: u64,
    /// The first record that does not verify: tampering.
    pub first_bad: Option<BadRecord>,
    /// An incomplete last line: a crash mid-write, not tampering; earlier records stand.
    pub torn_tail: Option<TornTail>,
    /// Whether a head file was there (and readable) to check the end of the log against.
    pub head_checked: bool,
    /// What comparing with the head file found.
    pub head: HeadCheck,
    /// Where the chain of valid records ends.
    #[serde(skip)]
    end: Cursor,
}

impl VerifyReport {
    /// Whether the whole log verifies (no tampering, no torn line, a readable head file if any).
    pub fn is_intact(&self) -> bool {
        self.problem().is_none() && self.torn_tail.is_none()
    }

    /// The first thing that makes the log not verify, in words (a torn tail is not tampering
    /// and is not one).
    pub fn problem(&self) -> Option<String> {
        match (&self.first_bad, &self.head) {
            (Some(bad), _) => Some(format!("line {}: {}", bad.line, bad.reason)),
            (None, HeadCheck::Unreadable(why)) => Some(format!("the head file: {why}")),
            _ => None,
        }
    }
}

/// Longest line read as one record; a longer one is not a record this host wrote.
const MAX_RECORD_BYTES: u64 = 4 * 1024 * 1024;

/// Checks the chain of the log at `path` and its head file. Safe while hosts append to it: it
/// reads under a shared lock, so it never sees a line half-written.
///
/// # Errors
///
/// [`Error::Io`] if the file cannot be read or is not a regular file (a device, a FIFO).
pub fn verify(path: &Path) -> Result<VerifyReport> {
    let io = |e| Error::io(format!("cannot read audit log {}", path.display()), e);
    let meta = std::fs::metadata(path).map_err(io)?;
    if !meta.is_file() {
        return Err(io(not_a_regular_file()));
    }
    let file = File::open(path).map_err(io)?;
    file.lock_shared().map_err(io)?;
    let report = verify_file(path, &file).map_err(io);
    let _ = file.unlock();
    report
}

/// The chain and head checks of an open log (its lock held by the caller).
fn verify_file(path: &Path, file: &File) -> std::io::Result<VerifyReport> {
    let mut reader = BufReader::new(file.try_clone()?);
    reader.seek(SeekFrom::Start(0))?;
    let mut report = chain(reader, Cursor::start())?;
    check_head(&head_path(path), &mut report);
    Ok(report)
}

/// Checks the hash chain of a log's bytes (no head file): what [`verify`] does first, for logs
/// that are not files (and for the fuzzer: no input may make it panic).
///
/// # Errors
///
/// What reading fails with.
pub fn verify_chain(log: impl BufRead) -> std::io::Result<VerifyReport> {
    let mut report = chain(log, Cursor::start())?;
    // Without a head file, a suspect last link cannot be settled: name the record that breaks it.
    if let Some(suspect) = report.end.suspect.take() {
        report.first_bad = Some(suspect.broken_link());
    }
    Ok(report)
}

/// A position in the chain: what the next record must carry, and what came before.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Cursor {
    /// The next record's sequence number.
    seq: u64,
    /// The hash of the last valid record (or [`GENESIS`]).
    prev: String,
    /// Lines read so far.
    line: u64,
    /// Bytes of valid records so far.
    offset: u64,
    /// The last line read does not chain to the one before it and nothing came after: who was
    /// edited (it, or the one before it) is for the head file to settle.
    suspect: Option<Suspect>,
}

impl Cursor {
    fn start() -> Cursor {
        Cursor { prev: GENESIS.to_string(), ..Cursor::default() }
    }
}

/// A last record whose `prev` is not the hash of the record before it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Suspect {
    line: u64,
    seq: u64,
    hash: String,
}

impl Suspect {
    /// Blame the suspect itself.
    fn broken_link(&self) -> BadRecord {
        BadRecord { line: self.line, reason: BROKEN_LINK.into() }
    }

    /// Blame the record before it: the suspect is intact (the head file names it), so the one
    /// it chains to was changed.
    fn edited_before(&self) -> BadRecord {
        BadRecord { line: self.line - 1, reason: EDITED.into() }
    }
}

const BROKEN_LINK: &str =
    "does not chain to the record before it (its `prev` was changed, or records were inserted)";
const EDITED: &str = "edited: the record after it chains to a different version of this one";

/// One line of a log, at most [`MAX_RECORD_BYTES`] long.
enum Line {
    /// A whole line, without its newline.
    Complete(Vec<u8>),
    /// The file ends without a newline: a torn write.
    Torn,
    /// Longer than any record.
    TooLong,
}

/// Reads up to and including the next newline, never holding more than a record's worth.
fn read_line(reader: &mut impl BufRead) -> std::io::Result<Option<(Line, u64)>> {
    let mut buf = Vec::new();
    let mut read = 0u64;
    loop {
        let available = reader.fill_buf()?;
        if available.is_empty() {
            return Ok((read > 0).then_some((Line::Torn, read)));
        }
        let (chunk, done) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (&available[..i], Some(i + 1)),
            None => (available, None),
        };
        if buf.len() as u64 + (chunk.len() as u64) <= MAX_RECORD_BYTES {
            buf.extend_from_slice(chunk);
        } else {
            buf.clear();
            buf.shrink_to_fit();
            // Skip to the newline without keeping anything.
            let used = done.unwrap_or(available.len());
            reader.consume(used);
            read += used as u64;
            if done.is_some() {
                return Ok(Some((Line::TooLong, read)));
            }
            loop {
                let available = reader.fill_buf()?;
                if available.is_empty() {
                    return Ok(Some((Line::TooLong, read)));
                }
                let (used, end) = match available.iter().position(|&b| b == b'\n') {
                    Some(i) => (i + 1, true),
                    None => (available.len(), false),
                };
                reader.consume(used);
                read += used as u64;
                if end {
                    return Ok(Some((Line::TooLong, read)));
                }
            }
        }
        let used = done.unwrap_or(available.len());
        reader.consume(used);
        read += used as u64;
        if done.is_some() {
            return Ok(Some((Line::Complete(buf), read)));
        }
    }
}

/// A parsed record's sequence number and `prev`.
fn link(body: &[u8]) -> std::result::Result<(Option<u64>, Option<String>), String> {
    let record: Value = serde_json::from_slice(body).map_err(|e| format!("not a JSON record: {e}"))?;
    Ok((record["seq"].as_u64(), record["prev"].as_str().map(String::from)))
}

/// The chain check from `at` onwards. Every check names the first record that fails:
/// a record whose `prev` is not the hash of the one before it is either itself changed, or the
/// one before it was edited (which leaves that one's own fields consistent): the record after
/// settles which — if it chains to this one, this one is intact and the edit was before.
fn chain(mut reader: impl BufRead, mut at: Cursor) -> std::io::Result<VerifyReport> {
    let mut report = VerifyReport {
        valid_records: 0,
        first_bad: None,
        torn_tail: None,
        head_checked: false,
        head: HeadCheck::NotReached,
        end: Cursor::default(),
    };
    while let Some((line, n)) = read_line(&mut reader)? {
        let line_no = at.line + 1;
        let bad = |reason: String| BadRecord { line: line_no, reason };
        if let Line::Torn = line {
            // A crash mid-write leaves no newline; anything before a newline is a full record.
            report.torn_tail = Some(TornTail { line: line_no, offset: at.offset });
            break;
        }
        if let Some(suspect) = at.suspect.take() {
            // The record after a broken link: does it chain to the suspect?
            let chains = match &line {
                Line::Complete(body) => matches!(
                    link(body),
                    Ok((Some(seq), Some(prev))) if seq == suspect.seq + 1 && prev == suspect.hash
                ),
                _ => false,
            };
            if chains {
                report.valid_records -= 1;
                report.first_bad = Some(suspect.edited_before());
            } else {
                report.first_bad = Some(suspect.broken_link());
            }
            break;
        }
        let body = match line {
            Line::Complete(body) => body,
            _ => {
                report.first_bad = Some(bad(format!("longer than {MAX_RECORD_BYTES} bytes: not a record")));
                break;
            }
        };
        let hash = hex::encode(Sha256::digest(&body));
        let (seq, prev) = match link(&body) {
            Ok(link) => link,
            Err(reason) => {
                report.first_bad = Some(bad(reason));
                break;
            }
        };
        if seq != Some(at.seq) {
            let found = seq.map_or_else(|| "no sequence number".to_string(), |s| format!("sequence {s}"));
            report.first_bad =
                Some(bad(format!("{found} where {} was expected (records removed or reordered)", at.seq)));
            break;
        }
        if prev.as_deref() != Some(at.prev.as_str()) {
            if at.seq == 0 {
                report.first_bad = Some(bad("the first record does not start the chain".into()));
                break;
            }
            at.suspect = Some(Suspect { line: line_no, seq: at.seq, hash });
            at.line += 1;
            continue;
        }
        at.prev = hash;
        at.seq += 1;
        at.line += 1;
        at.offset += n;
        report.valid_records += 1;
    }
    report.end = at;
    Ok(report)
}

/// Compares the log's end with its head file: a shorter log, or a last record with another hash,
/// means the tail was removed or edited. Settles a suspect last link.
fn check_head(head_path: &Path, report: &mut VerifyReport) {
    if report.first_bad.is_some() {
        return;
    }
    let suspect = report.end.suspect.take();
    let head = match read_head(head_path) {
        Ok(Some(head)) => head,
        Ok(None) => {
            report.head = HeadCheck::Missing;
            report.first_bad = suspect.map(|s| s.broken_link());
            return;
        }
        Err(why) => {
            report.head = HeadCheck::Unreadable(why);
            return;
        }
    };
    report.head_checked = true;
    let (seq, hash) = head;
    // `end.seq` is the next record's number: the last one is `end.seq - 1`.
    let end = &report.end;
    let last = end.seq.checked_sub(1);
    let bad = match (suspect, seq, last) {
        // Is the suspect the record the head file names? Then the one before it was edited.
        (Some(suspect), Some(s), _) if s == suspect.seq && hash == suspect.hash => {
            report.valid_records -= 1;
            Some(suspect.edited_before())
        }
        (Some(suspect), _, _) => Some(suspect.broken_link()),
        (None, None, None) => None,
        (None, Some(s), Some(l)) if s == l && hash == end.prev => None,
        (None, Some(s), Some(l)) if s == l => {
            report.valid_records -= 1;
            Some(BadRecord {
                line: end.line,
                reason: format!("edited: record {l} is not the one the head file says the log ends with"),
            })
        }
        (None, Some(s), last) if last.is_none_or(|l| s > l) => Some(BadRecord {
            line: end.line + 1,
            reason: format!(
                "missing: the head file says the log ends at record {s}, it ends {} (records removed from the end)",
                last.map_or_else(|| "before record 0".to_string(), |l| format!("at record {l}"))
            ),
        }),
        (None, s, _) => {
            // More records than the head file knows of: appended by something other than a
            // host (or the head file was replaced by an older one).
            let first_unknown = s.map_or(0, |s| s + 1);
            Some(BadRecord {
                line: first_unknown + 1,
                reason: format!(
                    "record {first_unknown} and after are not covered by the head file (it says the log ends {})",
                    s.map_or_else(|| "empty".to_string(), |s| format!("at record {s}"))
                ),
            })
        }
    };
    // A torn line after the head's record is a crash after the head was written: fine.
    report.head = if bad.is_some() { HeadCheck::Disagrees } else { HeadCheck::Agrees };
    report.first_bad = bad;
}

/// The head file's last sequence number (`None`: an empty log) and hash; `Ok(None)` if there
/// is no head file.
fn read_head(path: &Path) -> std::result::Result<Option<(Option<u64>, String)>, String> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    let mut text = Vec::new();
    file.take(4096).read_to_end(&mut text).map_err(|e| e.to_string())?;
    let head: Value =
        serde_json::from_slice(&text).map_err(|e| format!("not the JSON this host writes ({e})"))?;
    let hash = head["hash"].as_str().filter(|h| h.len() == 64).map(String::from);
    match (&head["seq"], hash) {
        (Value::Null, Some(hash)) => Ok(Some((None, hash))),
        (Value::Number(n), Some(hash)) if n.as_u64().is_some() => Ok(Some((n.as_u64(), hash))),
        _ => Err("its `seq` or `hash` is missing or malformed".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log_with(records: usize) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let log = AuditLog::open(&path).unwrap();
        for i in 0..records {
            log.record(AuditRecord::Load {
                plugin: format!("p{i}"),
                version: "1.0.0".into(),
                sha256: "x".into(),
            });
        }
        log.close();
        (dir, path)
    }

    fn lines(path: &Path) -> Vec<String> {
        std::fs::read_to_string(path).unwrap().lines().map(String::from).collect()
    }

    fn write_lines(path: &Path, lines: &[String]) {
        std::fs::write(path, lines.iter().map(|l| format!("{l}\n")).collect::<String>()).unwrap();
    }

    #[test]
    fn the_chain_check_works_on_bytes_too() {
        let (_dir, path) = log_with(3);
        let bytes = std::fs::read(&path).unwrap();
        let lines = bytes.iter().filter(|&&b| b == b'\n').count() as u64;
        let report = verify_chain(&bytes[..]).unwrap();
        assert_eq!((report.valid_records, report.head_checked), (lines, false));
        assert!(report.is_intact());
        // Edit the record of plugin p0: it still reads, the record after it no longer chains to
        // it, and the one after that chains to that one: the edited record is named.
        let at = bytes.windows(4).position(|w| w == b"\"p0\"").unwrap();
        let line_of_p0 = bytes[..at].iter().filter(|&&b| b == b'\n').count() as u64 + 1;
        let mut edited = bytes.clone();
        edited[at + 2] = b'9';
        let report = verify_chain(&edited[..]).unwrap();
        assert_eq!(report.first_bad.as_ref().unwrap().line, line_of_p0, "{report:?}");
        assert!(report.first_bad.unwrap().reason.starts_with("edited"));
        assert_eq!(report.valid_records, line_of_p0 - 1);
        let torn = verify_chain(&bytes[..bytes.len() - 5]).unwrap();
        assert_eq!((torn.valid_records, torn.torn_tail.unwrap().line), (lines - 1, lines));
    }

    #[test]
    fn a_written_log_verifies_and_reopening_continues_the_chain() {
        let (_dir, path) = log_with(3);
        let report = verify(&path).unwrap();
        assert!(report.is_intact() && report.head_checked, "{report:?}");
        assert_eq!(report.valid_records, 4, "opened + 3 loads");
        let log = AuditLog::open(&path).unwrap();
        log.record(AuditRecord::Grant { plugin: "p".into(), capability: "wall-clock".into() });
        log.close();
        assert_eq!(verify(&path).unwrap().valid_records, 6);
    }

    #[test]
    fn an_edited_line_is_named_itself() {
        for edited in 1..5 {
            let (_dir, path) = log_with(5);
            let mut l = lines(&path);
            l[edited] = l[edited].replace("\"1.0.0\"", "\"6.6.6\"");
            write_lines(&path, &l);
            let report = verify(&path).unwrap();
            let bad = report.first_bad.as_ref().unwrap();
            assert_eq!(bad.line, edited as u64 + 1, "{report:?}");
            assert!(bad.reason.starts_with("edited"), "{bad:?}");
            assert_eq!(report.valid_records, edited as u64, "the records before it verify");
        }
        // The last record, edited: the head file settles it.
        let (_dir, path) = log_with(3);
        let mut l = lines(&path);
        l[3] = l[3].replace("\"p2\"", "\"px\"");
        write_lines(&path, &l);
        let report = verify(&path).unwrap();
        assert_eq!(report.first_bad.as_ref().unwrap().line, 4, "{report:?}");
        assert_eq!(report.valid_records, 3);
    }

    #[test]
    fn a_changed_link_names_its_own_record() {
        let (_dir, path) = log_with(4);
        let mut l = lines(&path);
        let prev = serde_json::from_str::<Value>(&l[2]).unwrap()["prev"].as_str().unwrap().to_string();
        l[2] = l[2].replace(&prev, &"f".repeat(64));
        write_lines(&path, &l);
        let report = verify(&path).unwrap();
        let bad = report.first_bad.as_ref().unwrap();
        assert_eq!(bad.line, 3, "{report:?}");
        assert!(bad.reason.contains("does not chain"), "{bad:?}");
        assert_eq!(report.valid_records, 2);
    }

    #[test]
    fn the_head_file_is_checked_and_named_when_missing_or_unreadable() {
        let (_dir, path) = log_with(2);
        let report = verify(&path).unwrap();
        assert_eq!((report.head.clone(), report.head_checked), (HeadCheck::Agrees, true));
        let head = head_path(&path);
        std::fs::write(&head, b"garbage").unwrap();
        let report = verify(&path).unwrap();
        assert!(matches!(report.head, HeadCheck::Unreadable(_)), "{report:?}");
        assert!(!report.is_intact() && report.first_bad.is_none());
        assert!(AuditLog::open(&path).is_err(), "no appending to a log whose head was tampered with");
        std::fs::remove_file(&head).unwrap();
        let report = verify(&path).unwrap();
        assert_eq!((report.head.clone(), report.head_checked), (HeadCheck::Missing, false));
        assert!(report.is_intact());
    }

    #[test]
    fn overlong_lines_and_special_files_are_refused_without_reading_them_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("long.jsonl");
        let mut text = vec![b'x'; (MAX_RECORD_BYTES + 10) as usize];
        text.push(b'\n');
        std::fs::write(&path, &text).unwrap();
        let bad = verify(&path).unwrap().first_bad.unwrap();
        assert_eq!(bad.line, 1);
        assert!(bad.reason.contains("longer than"), "{bad:?}");
        // Endless input without a newline: bounded memory, a verdict.
        let endless = std::io::BufReader::new(std::io::repeat(b'{').take(64 * MAX_RECORD_BYTES));
        assert!(verify_chain(endless).unwrap().first_bad.is_some());
        let err = verify(Path::new("/dev/zero")).unwrap_err();
        assert!(err.to_string().contains("not a regular file"), "{err}");
        assert!(AuditLog::open("/dev/null").unwrap_err().to_string().contains("not a regular file"));
    }

    #[test]
    fn many_writers_in_one_process_keep_one_chain() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let threads: Vec<_> = (0..8)
            .map(|w| {
                let path = path.clone();
                std::thread::spawn(move || {
                    let log = AuditLog::open(&path).unwrap();
                    for i in 0..25 {
                        log.record(AuditRecord::Load {
                            plugin: format!("w{w}-{i}"),
                            version: "1.0.0".into(),
                            sha256: "x".into(),
                        });
                        if i % 5 == 0 {
                            log.flush();
                        }
                    }
                    log.close();
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let report = verify(&path).unwrap();
        assert!(report.is_intact(), "{report:?}");
        assert_eq!(report.valid_records, 8 * 26, "every writer's opened record and its 25 loads");
    }

    #[test]
    fn a_removed_line_is_named() {
        let (_dir, path) = log_with(3);
        let mut l = lines(&path);
        l.remove(1);
        write_lines(&path, &l);
        let bad = verify(&path).unwrap().first_bad.unwrap();
        assert_eq!(bad.line, 2);
        assert!(bad.reason.contains("sequence"), "{bad:?}");
    }

    #[test]
    fn reordered_lines_are_named() {
        let (_dir, path) = log_with(3);
        let mut l = lines(&path);
        l.swap(1, 2);
        write_lines(&path, &l);
        assert_eq!(verify(&path).unwrap().first_bad.unwrap().line, 2);
    }

    #[test]
    fn a_removed_or_edited_tail_is_caught_by_the_head() {
        let (_dir, path) = log_with(3);
        let mut l = lines(&path);
        l.pop();
        write_lines(&path, &l);
        let bad = verify(&path).unwrap().first_bad.unwrap();
        assert!(bad.reason.contains("head file"), "{bad:?}");

        let (_dir, path) = log_with(3);
        let mut l = lines(&path);
        let last = l.len() - 1;
        l[last] = l[last].replace("\"p2\"", "\"px\"");
        write_lines(&path, &l);
        assert!(verify(&path).unwrap().first_bad.unwrap().reason.contains("head file"));
    }

    #[test]
    fn a_torn_last_line_is_reported_apart_and_recovered_on_open() {
        let (_dir, path) = log_with(2);
        let mut text = std::fs::read(&path).unwrap();
        text.extend_from_slice(br#"{"seq":3,"time":"2026-"#);
        std::fs::write(&path, &text).unwrap();
        let report = verify(&path).unwrap();
        assert_eq!(report.first_bad, None, "a torn line is not tampering");
        assert_eq!(report.torn_tail.as_ref().unwrap().line, 4);
        assert_eq!(report.valid_records, 3, "earlier records stay valid");

        let log = AuditLog::open(&path).unwrap();
        log.close();
        let report = verify(&path).unwrap();
        assert!(report.is_intact(), "{report:?}");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("torn-tail-recovered"));
        let mut torn = path.as_os_str().to_owned();
        torn.push(".torn");
        assert_eq!(std::fs::read(PathBuf::from(torn)).unwrap(), br#"{"seq":3,"time":"2026-"#);
    }

    #[test]
    fn a_tampered_log_is_not_appended_to() {
        let (_dir, path) = log_with(2);
        let mut l = lines(&path);
        l[1] = l[1].replace("p0", "pX");
        write_lines(&path, &l);
        assert!(AuditLog::open(&path).is_err());
    }
}
