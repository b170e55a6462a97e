//! Reading a log back: checking the chain record by record and the head beside it, and naming
//! the first record that fails and why. The writer uses the same reading to continue a chain
//! other processes appended to.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use serde_json::Value;

/// The `prev` of the first record.
pub(super) const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

pub(super) fn head_path(path: &Path) -> PathBuf {
    let mut head = path.as_os_str().to_owned();
    head.push(".head");
    head.into()
}

pub(super) fn not_a_regular_file() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a regular file (a device, FIFO or directory)")
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
    pub(super) end: Cursor,
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
pub(super) const MAX_RECORD_BYTES: u64 = 4 * 1024 * 1024;

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
pub(super) fn verify_file(path: &Path, file: &File) -> std::io::Result<VerifyReport> {
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
pub(super) struct Cursor {
    /// The next record's sequence number.
    pub(super) seq: u64,
    /// The hash of the last valid record (or [`GENESIS`]).
    pub(super) prev: String,
    /// Lines read so far.
    pub(super) line: u64,
    /// Bytes of valid records so far.
    pub(super) offset: u64,
    /// The last line read does not chain to the one before it and nothing came after: who was
    /// edited (it, or the one before it) is for the head file to settle.
    pub(super) suspect: Option<Suspect>,
}

impl Cursor {
    pub(super) fn start() -> Cursor {
        Cursor { prev: GENESIS.to_string(), ..Cursor::default() }
    }
}

/// A last record whose `prev` is not the hash of the record before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Suspect {
    line: u64,
    seq: u64,
    hash: String,
}

impl Suspect {
    /// Blame the suspect itself.
    pub(super) fn broken_link(&self) -> BadRecord {
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
pub(super) fn chain(mut reader: impl BufRead, mut at: Cursor) -> std::io::Result<VerifyReport> {
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
