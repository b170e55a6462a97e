//! Probe fixture for isolation between instances (pooled slots in particular).
//!
//! The first node's id says what to do. `write:SEED`: fills memory with a secret — a pseudo-random
//! word sequence derived from SEED — in a zero-initialised static area, on the heap (leaked, so it
//! stays) and in freshly grown pages. `scan:SEED`: grows its memory by twice as much, then
//! searches every byte of its linear memory for a run of the secret's words and reports what it
//! found, and how many nonzero words the freshly grown pages held. (The input, not the config,
//! carries the mode so that one instance can be told to write and then to scan.)
//!
//! The scan never holds the secret in memory itself: it generates the sequence one word at a time
//! (in registers) and only a run of [`RUN`] consecutive words counts as a trace, which no stray
//! local could produce.

use guest_sdk::{AnalysisResult, GraphNode, Guest};

/// Words in a row that make a trace.
const RUN: usize = 32;
/// Bytes written to each of the static area, the heap and the grown pages.
const AREA: usize = 1 << 20;
const PAGE: usize = 65536;

static mut STATIC_AREA: [u64; AREA / 8] = [0; AREA / 8];

/// The secret as a word sequence (xorshift64*), never all in memory at once when scanning.
struct Secret(u64);

impl Secret {
    fn new(seed: u64) -> Secret {
        Secret(seed ^ 0x9E37_79B9_7F4A_7C15 | 1)
    }
}

impl Iterator for Secret {
    type Item = u64;
    fn next(&mut self) -> Option<u64> {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        Some(x.wrapping_mul(0x2545_F491_4F6C_DD1D))
    }
}

fn fill(words: *mut u64, count: usize, seed: u64) {
    for (i, w) in Secret::new(seed).take(count).enumerate() {
        // SAFETY: callers pass a region of at least `count` words that they own.
        unsafe { words.add(i).write_volatile(w) };
    }
}

fn memory_bytes() -> usize {
    core::arch::wasm32::memory_size(0) * PAGE
}

fn grow(bytes: usize) -> Option<*mut u64> {
    let old = core::arch::wasm32::memory_grow(0, bytes / PAGE);
    (old != usize::MAX).then(|| (old * PAGE) as *mut u64)
}

fn write(seed: u64) -> Vec<String> {
    let mut done = Vec::new();
    // SAFETY: one call at a time; the area is ours.
    fill(&raw mut STATIC_AREA as *mut u64, AREA / 8, seed);
    done.push(format!("static area: {} KiB", AREA / 1024));
    let heap: &'static mut [u64] = Vec::leak(vec![0u64; AREA / 8]);
    fill(heap.as_mut_ptr(), heap.len(), seed);
    done.push(format!("heap: {} KiB", AREA / 1024));
    match grow(AREA) {
        Some(pages) => {
            fill(pages, AREA / 8, seed);
            done.push(format!("grown pages: {} KiB", AREA / 1024));
        }
        None => done.push("grown pages: memory.grow refused".into()),
    }
    done.push(format!("memory now {} KiB", memory_bytes() / 1024));
    done
}

fn scan(seed: u64) -> Vec<String> {
    let grown = grow(2 * AREA);
    let end = memory_bytes();
    let mut nonzero_grown = 0usize;
    if let Some(start) = grown {
        for i in 0..(2 * AREA / 8) {
            // SAFETY: the pages were just grown and are ours.
            if unsafe { start.add(i).read_volatile() } != 0 {
                nonzero_grown += 1;
            }
        }
    }
    let first = Secret::new(seed).next().unwrap_or(0);
    let mut traces = Vec::new();
    let mut addr = 8usize;
    while addr + RUN * 8 <= end {
        // SAFETY: every address below memory.size is readable in wasm.
        let word = unsafe { (addr as *const u64).read_volatile() };
        if word == first {
            let mut secret = Secret::new(seed);
            let run = (0..RUN)
                .take_while(|i| {
                    // SAFETY: as above, and bounded by the loop condition.
                    let w = unsafe { ((addr + i * 8) as *const u64).read_volatile() };
                    Some(w) == secret.next()
                })
                .count();
            if run == RUN {
                traces.push(addr);
            }
        }
        addr += 8;
    }
    let mut findings = vec![format!(
        "scanned {} KiB of linear memory; {} nonzero words in {} KiB of grown pages",
        end / 1024,
        nonzero_grown,
        if grown.is_some() { 2 * AREA / 1024 } else { 0 }
    )];
    findings.extend(traces.iter().take(8).map(|a| format!("secret found at {a:#x}")));
    if traces.len() > 8 {
        findings.push(format!("… {} places in all", traces.len()));
    }
    findings
}

struct Residue;

impl Guest for Residue {
    fn analyze_graph(nodes: Vec<GraphNode>) -> AnalysisResult {
        let order = nodes.first().map(|n| n.id.as_str()).unwrap_or_default();
        let (mode, seed) = order.split_once(':').unwrap_or((order, ""));
        let Ok(seed) = seed.parse::<u64>() else {
            return AnalysisResult::empty("name the first node `write:SEED` or `scan:SEED`");
        };
        let findings = match mode {
            "write" => write(seed),
            "scan" => scan(seed),
            _ => return AnalysisResult::empty("name the first node `write:SEED` or `scan:SEED`"),
        };
        AnalysisResult { findings, confidence: 1.0, recommendations: vec![] }
    }
}

guest_sdk::export_plugin!(Residue);
