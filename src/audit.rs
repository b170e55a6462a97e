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

struct Writer {
    file: File,
    head_path: PathBuf,
    seq: u64,
    prev: String,
}

impl AuditLog {
    /// Opens `path` for appending (creating it, mode 0600), continuing its chain; a torn last line
    /// is moved to `<path>.torn` and recorded.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if the file cannot be opened, or its existing records are not a valid chain
    /// (appending to a tampered log would hide the tampering).
    pub fn open(path: impl Into<PathBuf>) -> Result<AuditLog> {
        use std::os::unix::fs::OpenOptionsExt;
        let path = path.into();
        let io =
            |what: &str, e: std::io::Error| Error::io(format!("audit log {}: {what}", path.display()), e);
        let report = if path.exists() { Some(verify(&path)?) } else { None };
        if let Some(r) = &report
            && let Some(bad) = &r.first_bad
        {
            return Err(io(
                "refusing to append to a log that does not verify",
                std::io::Error::other(format!("line {}: {}", bad.line, bad.reason)),
            ));
        }
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .mode(0o600)
            .open(&path)
            .map_err(|e| io("cannot open", e))?;
        let mut pending = Vec::new();
        let (mut seq, mut prev) = (0, GENESIS.to_string());
        if let Some(r) = report {
            if let Some(torn) = r.torn_tail {
                let torn_bytes =
                    move_torn_tail(&mut file, &path, torn.offset).map_err(|e| io("cannot recover", e))?;
                pending.push(AuditRecord::TornTailRecovered { bytes: torn_bytes });
            }
            if let Some((last_seq, last_hash)) = r.last {
                seq = last_seq + 1;
                prev = last_hash;
            }
        }
        pending.insert(0, AuditRecord::Opened { host_version: env!("CARGO_PKG_VERSION").into() });
        let mut head_path = path.clone().into_os_string();
        head_path.push(".head");
        let mut writer = Writer { file, head_path: head_path.into(), seq, prev };
        for record in pending {
            writer.write(&record).map_err(|e| io("cannot write", e))?;
        }
        writer.sync_head().map_err(|e| io("cannot write the head", e))?;

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
    fn run(mut self, rx: Receiver<Command>) {
        let mut stop = false;
        while !stop && let Ok(cmd) = rx.recv() {
            let mut wrote = false;
            let mut waiting = Vec::new();
            // Write what is queued as one batch, then update the head once.
            for cmd in std::iter::once(cmd).chain(rx.try_iter()) {
                match cmd {
                    Command::Record(record) => {
                        if let Err(e) = self.write(&record) {
                            tracing::error!("audit log write failed: {e}");
                        }
                        wrote = true;
                    }
                    Command::Flush(done) => waiting.push(done),
                    Command::Stop => {
                        stop = true;
                        break;
                    }
                }
            }
            if wrote && let Err(e) = self.sync_head() {
                tracing::error!("audit head write failed: {e}");
            }
            for done in waiting {
                let _ = done.send(());
            }
        }
        let _ = self.file.sync_all();
    }

    fn write(&mut self, record: &AuditRecord) -> std::io::Result<()> {
        let time = humantime::format_rfc3339_millis(SystemTime::now()).to_string();
        let line = serde_json::to_string(
            &json!({ "seq": self.seq, "time": time, "prev": self.prev, "record": record }),
        )
        .map_err(std::io::Error::other)?;
        let mut bytes = line.into_bytes();
        let hash = hex::encode(Sha256::digest(&bytes));
        bytes.push(b'\n');
        self.file.write_all(&bytes)?;
        self.prev = hash;
        self.seq += 1;
        Ok(())
    }

    /// Records the last sequence number and hash in the head file (write then rename).
    fn sync_head(&mut self) -> std::io::Result<()> {
        let head = json!({ "seq": self.seq.checked_sub(1), "hash": self.prev });
        let tmp = self.head_path.with_extension("head.tmp");
        std::fs::write(&tmp, serde_json::to_vec(&head).map_err(std::io::Error::other)?)?;
        std::fs::rename(&tmp, &self.head_path)
    }
}

/// Moves the bytes from `offset` to the end into `<path>.torn` and truncates the log there.
fn move_torn_tail(file: &mut File, path: &Path, offset: u64) -> std::io::Result<u64> {
    let mut tail = Vec::new();
    file.seek(SeekFrom::Start(offset))?;
    file.read_to_end(&mut tail)?;
    let mut torn = path.as_os_str().to_owned();
    torn.push(".torn");
    OpenOptions::new().create(true).append(true).open(PathBuf::from(torn))?.write_all(&tail)?;
    file.set_len(offset)?;
    Ok(tail.len() as u64)
}

/// The first record that breaks the chain.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BadRecord {
    /// 1-based line number.
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

/// What [`verify`] found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct VerifyReport {
    /// Records that verify (before the first bad one, if any).
    pub valid_records: u64,
    /// The first record that does not verify: tampering.
    pub first_bad: Option<BadRecord>,
    /// An incomplete last line: a crash mid-write, not tampering; earlier records stand.
    pub torn_tail: Option<TornTail>,
    /// Whether a head file was there to check the end of the log against.
    pub head_checked: bool,
    /// The last valid record's sequence number and hash.
    #[serde(skip)]
    pub last: Option<(u64, String)>,
}

impl VerifyReport {
    /// Whether the whole log verifies (no tampering, no torn line).
    pub fn is_intact(&self) -> bool {
        self.first_bad.is_none() && self.torn_tail.is_none()
    }
}

/// Checks the chain of the log at `path` and its head file.
///
/// # Errors
///
/// [`Error::Io`] if the file cannot be read.
pub fn verify(path: &Path) -> Result<VerifyReport> {
    let file =
        File::open(path).map_err(|e| Error::io(format!("cannot read audit log {}", path.display()), e))?;
    let (mut report, lines) = chain(BufReader::new(file))
        .map_err(|e| Error::io(format!("cannot read audit log {}", path.display()), e))?;
    if report.first_bad.is_none() {
        check_head(path, &mut report, lines);
    }
    Ok(report)
}

/// Checks the hash chain of a log's bytes (no head file): what [`verify`] does first, for logs
/// that are not files (and for the fuzzer: no input may make it panic).
///
/// # Errors
///
/// What reading fails with.
pub fn verify_chain(log: impl BufRead) -> std::io::Result<VerifyReport> {
    chain(log).map(|(report, _)| report)
}

/// The chain check; also the number of lines read.
fn chain(mut reader: impl BufRead) -> std::io::Result<(VerifyReport, u64)> {
    let mut report =
        VerifyReport { valid_records: 0, first_bad: None, torn_tail: None, head_checked: false, last: None };
    let (mut prev, mut offset, mut line_no) = (GENESIS.to_string(), 0u64, 0u64);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let n = reader.read_until(b'\n', &mut buf)?;
        if n == 0 {
            break;
        }
        line_no += 1;
        let complete = buf.last() == Some(&b'\n');
        let body = if complete { &buf[..buf.len() - 1] } else { &buf[..] };
        let bad = |reason: String| BadRecord { line: line_no, reason };
        let parsed: std::result::Result<Value, _> = serde_json::from_slice(body);
        if !complete {
            // A crash mid-write leaves no newline; anything after a newline is a full record.
            report.torn_tail = Some(TornTail { line: line_no, offset });
            break;
        }
        let record = match parsed {
            Ok(v) => v,
            Err(e) => {
                report.first_bad = Some(bad(format!("not a JSON record: {e}")));
                break;
            }
        };
        let expected_seq = report.valid_records;
        if record["seq"].as_u64() != Some(expected_seq) {
            report.first_bad = Some(bad(format!(
                "sequence {} where {expected_seq} was expected (removed or reordered)",
                record["seq"]
            )));
            break;
        }
        if record["prev"].as_str() != Some(prev.as_str()) {
            report.first_bad =
                Some(bad("does not chain to the record before it (edited, removed or reordered)".into()));
            break;
        }
        prev = hex::encode(Sha256::digest(body));
        report.valid_records += 1;
        report.last = Some((expected_seq, prev.clone()));
        offset += n as u64;
    }
    Ok((report, line_no))
}

/// Compares the log's end with its head file: a shorter log or a different last hash means the
/// tail was removed or its last record edited.
fn check_head(path: &Path, report: &mut VerifyReport, lines: u64) {
    let mut head_path = path.as_os_str().to_owned();
    head_path.push(".head");
    let Ok(text) = std::fs::read(PathBuf::from(head_path)) else { return };
    report.head_checked = true;
    let head: Value = serde_json::from_slice(&text).unwrap_or(Value::Null);
    let (seq, hash) = (head["seq"].as_u64(), head["hash"].as_str());
    let last = report.last.as_ref().map(|(s, h)| (*s, h.as_str()));
    let consistent = match (seq, last) {
        (None, None) => true,
        (Some(seq), Some((last_seq, last_hash))) => seq == last_seq && hash == Some(last_hash),
        _ => false,
    };
    // A torn line after the head's record is a crash after the head was written: fine.
    if !consistent {
        report.first_bad = Some(BadRecord {
            line: lines.max(1),
            reason: format!(
                "the log ends at record {} but its head file says record {} (records removed, or the last one edited)",
                last.map(|(s, _)| s.to_string()).unwrap_or_else(|| "none".into()),
                seq.map(|s| s.to_string()).unwrap_or_else(|| "none".into())
            ),
        });
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
        // Edit the record of plugin p1: it still reads, the record after it no longer chains.
        let at = bytes.windows(4).position(|w| w == b"\"p1\"").unwrap();
        let line_of_p1 = bytes[..at].iter().filter(|&&b| b == b'\n').count() as u64 + 1;
        let mut edited = bytes.clone();
        edited[at + 2] = b'9';
        let report = verify_chain(&edited[..]).unwrap();
        assert_eq!(report.valid_records, line_of_p1);
        assert_eq!(report.first_bad.unwrap().line, line_of_p1 + 1);
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
    fn an_edited_line_is_named() {
        let (_dir, path) = log_with(3);
        let mut l = lines(&path);
        l[2] = l[2].replace("\"p1\"", "\"evil\"");
        write_lines(&path, &l);
        let bad = verify(&path).unwrap().first_bad.unwrap();
        assert_eq!(bad.line, 4, "the record after the edit no longer chains: {bad:?}");
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
