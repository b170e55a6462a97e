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

mod log;
mod record;
#[cfg(test)]
mod tests;
mod verify;

pub use log::AuditLog;
pub use record::AuditRecord;
pub use verify::{BadRecord, HeadCheck, TornTail, VerifyReport, verify, verify_chain};
