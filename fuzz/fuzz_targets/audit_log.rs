//! An audit log file, damaged, opened for appending as a host does: refused (it does not verify),
//! or continued so that the result verifies — never a panic, and never an append to a log that
//! did not verify.
//!
//! Input: a mode byte, then either the whole file without a head file (even mode) or a 2-byte
//! offset and bytes written over a real log of a few records, its head file beside it (odd mode).
#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use parseltongue_plugins::audit::{self, AuditLog, AuditRecord};

/// A real log and its head file.
fn real() -> &'static (Vec<u8>, Vec<u8>) {
    static BASE: OnceLock<(Vec<u8>, Vec<u8>)> = OnceLock::new();
    BASE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("audit.jsonl");
        let log = AuditLog::open(&path).expect("a new log");
        for i in 0..4 {
            log.record(AuditRecord::Load {
                plugin: format!("p{i}"),
                version: "1.0.0".into(),
                sha256: "x".into(),
            });
        }
        log.close();
        let head = dir.path().join("audit.jsonl.head");
        (std::fs::read(&path).expect("log"), std::fs::read(head).expect("head"))
    })
}

fn check(path: &Path) {
    let before = audit::verify(path).expect("a regular file can be read");
    match AuditLog::open(path) {
        Ok(log) => {
            assert!(before.problem().is_none(), "appended to a log that did not verify: {before:?}");
            log.record(AuditRecord::Grant { plugin: "p".into(), capability: "kv".into() });
            log.close();
            let after = audit::verify(path).expect("readable");
            assert!(after.is_intact(), "the continued log does not verify: {after:?}");
        }
        Err(_) => assert!(before.problem().is_some(), "refused a log that verifies: {before:?}"),
    }
}

fuzz_target!(|input: &[u8]| {
    let Some((&mode, rest)) = input.split_first() else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("audit.jsonl");
    if mode % 2 == 0 || rest.len() < 2 {
        std::fs::write(&path, rest).expect("write the input");
    } else {
        let (log, head) = real();
        let mut log = log.clone();
        let offset = u16::from_le_bytes([rest[0], rest[1]]) as usize % log.len();
        let patch = &rest[2..];
        let end = (offset + patch.len()).min(log.len());
        log[offset..end].copy_from_slice(&patch[..end - offset]);
        std::fs::write(&path, log).expect("write the log");
        std::fs::write(dir.path().join("audit.jsonl.head"), head).expect("write the head");
    }
    check(&path);
});
