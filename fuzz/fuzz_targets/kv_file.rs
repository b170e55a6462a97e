//! A key-value database file, damaged: opening and reading it give a store or an error, never a
//! panic (redb panics on some damage; the store must not let one escape).
//!
//! Input: a mode byte, then either the whole file (even mode) or, to get past redb's header
//! checks, a 4-byte offset and bytes written over a freshly made database (odd mode).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use parseltongue_plugins::KvStore;

/// A valid database as the host makes one.
fn fresh() -> &'static [u8] {
    static BASE: OnceLock<Vec<u8>> = OnceLock::new();
    BASE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("kv.redb");
        drop(KvStore::open(&path).expect("a new store"));
        std::fs::read(&path).expect("read it back")
    })
}

fuzz_target!(|input: &[u8]| {
    // redb panics on some damage, and the store catches it (a typed error, storage off); but
    // libfuzzer-sys's panic hook aborts on every panic, caught or not. Without it, a panic that
    // escapes the store still reaches libfuzzer-sys's own catch_unwind, which aborts: found.
    static QUIET: OnceLock<()> = OnceLock::new();
    QUIET.get_or_init(|| std::panic::set_hook(Box::new(|_| {})));
    let Some((&mode, rest)) = input.split_first() else { return };
    let bytes = if mode % 2 == 0 || rest.len() < 4 {
        rest.to_vec()
    } else {
        let mut base = fresh().to_vec();
        let offset = u32::from_le_bytes(rest[..4].try_into().unwrap()) as usize % base.len().max(1);
        let patch = &rest[4..];
        let end = (offset + patch.len()).min(base.len());
        base[offset..end].copy_from_slice(&patch[..end - offset]);
        base
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("kv.redb");
    std::fs::write(&path, bytes).expect("write the input");
    if let Ok(store) = KvStore::open(&path)
        && let Ok(usage) = store.usage()
    {
        for plugin in usage.keys() {
            let _ = store.keys(plugin);
        }
    }
});
