//! Isolation conformance: the bundled fault and escape plugins run against a deployment's own
//! limits and policy, one per threat, and each outcome is judged contained or not.
//!
//! Every plugin plays a hostile author: it asks for the most of every limit and every capability
//! it could use, so what it gets is exactly what the policy lets *any* plugin get. A threat is
//! **contained** when the sandbox stopped or bounded it; **allowed by policy** when it reached
//! something only through an explicit grant (a warning: the operator chose it); **not contained**
//! otherwise — including a plugin still running when the check gives up on it.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::{Error, ErrorKind};
use crate::graph::Graph;
use crate::harness::bundled;
use crate::policy::manifest::{ConnectRequest, DirRequest, EnvRequest};
use crate::policy::{Capabilities, RequestedLimits};
use crate::policy::{Decision, Grants, Policy};
use crate::policy::{KIB, Limits, MIB};
use crate::sandbox::Analysis;
use crate::sandbox::PluginOptions;
use crate::sandbox::Pooling;
use crate::sandbox::Sandbox;

/// What a plugin may try against the host, one check each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Threat {
    /// Spinning forever.
    Loop,
    /// Allocating without bound.
    MemoryBomb,
    /// Recursing without bound.
    Stack,
    /// Returning megabytes of text.
    OutputSize,
    /// Returning millions of (empty) entries.
    HugeList,
    /// Flooding `host.log`, stdout and stderr.
    LogFlood,
    /// Reading, listing and writing the host's files.
    FsEscape,
    /// Connecting to a host port and resolving names.
    NetEscape,
    /// Reading the host's environment, arguments, stdin.
    Env,
    /// Reading what an earlier instance left in a reused (pooled) memory slot.
    SlotLeak,
}

impl Threat {
    /// Every threat, in the order checked.
    pub const ALL: [Threat; 10] = [
        Threat::Loop,
        Threat::MemoryBomb,
        Threat::Stack,
        Threat::OutputSize,
        Threat::HugeList,
        Threat::LogFlood,
        Threat::FsEscape,
        Threat::NetEscape,
        Threat::Env,
        Threat::SlotLeak,
    ];

    /// The bundled plugin that plays it.
    pub fn plugin(self) -> &'static str {
        match self {
            Threat::Loop => "fault-loop",
            Threat::MemoryBomb => "fault-memory-bomb",
            Threat::Stack => "fault-deep-recursion",
            Threat::OutputSize => "fault-oversized-output",
            Threat::HugeList => "fault-huge-list",
            Threat::LogFlood => "fault-log-flood",
            Threat::FsEscape => "escape-read-passwd",
            Threat::NetEscape => "escape-tcp-connect",
            Threat::Env => "escape-read-env",
            Threat::SlotLeak => "probe-memory-residue",
        }
    }

    /// Its name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Threat::Loop => "loop",
            Threat::MemoryBomb => "memory bomb",
            Threat::Stack => "stack",
            Threat::OutputSize => "output size",
            Threat::HugeList => "huge list",
            Threat::LogFlood => "log flood",
            Threat::FsEscape => "fs escape",
            Threat::NetEscape => "net escape",
            Threat::Env => "env",
            Threat::SlotLeak => "slot leak",
        }
    }
}

/// How a threat ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Stopped or bounded by the sandbox.
    Contained,
    /// Reached something, but only through what the policy explicitly grants.
    AllowedByPolicy,
    /// Not stopped, or reached something nothing granted.
    NotContained,
}

impl Outcome {
    /// The word used in reports.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Contained => "contained",
            Outcome::AllowedByPolicy => "allowed by policy",
            Outcome::NotContained => "NOT CONTAINED",
        }
    }
}

/// One threat's result.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Check {
    /// The threat.
    pub threat: Threat,
    /// The plugin that played it.
    pub plugin: &'static str,
    /// How it ended.
    pub outcome: Outcome,
    /// What happened, in one line, with the limit or grant that decided it.
    pub detail: String,
    /// How long the check took.
    #[serde(serialize_with = "crate::sandbox::as_millis", rename = "elapsed_ms")]
    pub elapsed: Duration,
}

/// Every check of a run.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ConformanceReport {
    /// One per threat, in [`Threat::ALL`] order.
    pub checks: Vec<Check>,
}

impl ConformanceReport {
    /// Whether nothing ended [`Outcome::NotContained`].
    pub fn all_contained(&self) -> bool {
        self.checks.iter().all(|c| c.outcome != Outcome::NotContained)
    }
}

/// A conformance run: the sandbox and base limits of a deployment, its policy, and how long a
/// misbehaving plugin may run before the check gives up on it.
#[derive(Clone)]
pub struct Conformance {
    sandbox: Sandbox,
    limits: Limits,
    policy: Policy,
    give_up_after: Duration,
    memory_ceiling: u64,
}

impl Conformance {
    /// Checks `sandbox` with the default limits and a policy that allows nothing.
    pub fn new(sandbox: Sandbox) -> Conformance {
        Conformance {
            sandbox,
            limits: Limits::default(),
            policy: Policy::default(),
            give_up_after: Duration::from_secs(10),
            memory_ceiling: physical_memory().map_or(4096 * MIB, |m| m / 2),
        }
    }

    /// The limits plugins start from (the host's defaults).
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The operator's policy: what a plugin that asks for everything gets.
    pub fn policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// How much CPU time a plugin may use before it counts as not contained (still running), when
    /// the policy lets it use more. By default 10 s.
    pub fn give_up_after(mut self, after: Duration) -> Self {
        self.give_up_after = after;
        self
    }

    /// The most memory one plugin may be allowed before the memory bomb counts as not contained
    /// without being run (it would take that much of this machine). By default half the RAM.
    pub fn memory_ceiling(mut self, bytes: u64) -> Self {
        self.memory_ceiling = bytes;
        self
    }

    /// Runs every check, calling `progress` as each ends.
    pub async fn run(&self, mut progress: impl FnMut(&Check)) -> ConformanceReport {
        let mut checks = Vec::new();
        for threat in Threat::ALL {
            let started = Instant::now();
            let (outcome, detail) = self.check(threat).await;
            let check =
                Check { threat, plugin: threat.plugin(), outcome, detail, elapsed: started.elapsed() };
            progress(&check);
            checks.push(check);
        }
        ConformanceReport { checks }
    }

    /// What a hostile plugin `name` asking for everything is granted under the policy.
    fn decision(&self, name: &str, capabilities: &Capabilities) -> Decision {
        let most = RequestedLimits {
            memory_mb: Some(1 << 30),
            timeout_ms: Some(1 << 40),
            // Fuel is a limit only where the host meters it; asking would turn metering on.
            fuel: None,
            stack_kb: Some((Limits::MAX_WASM_STACK / KIB) as u64),
            max_output_kb: Some(1 << 30),
            max_findings: Some(1 << 40),
        };
        self.policy.decide(name, capabilities, &most, &self.limits)
    }

    async fn check(&self, threat: Threat) -> (Outcome, String) {
        let name = threat.plugin();
        let capabilities = hostile_requests(threat);
        let decision = self.decision(name, &capabilities);
        let limits = &decision.limits;
        // Giving up is judged on the plugin's CPU time, as every time limit is: a loaded machine
        // slows a plugin down without making it run longer. A plugin the policy lets run for
        // longer than that runs with the give-up time as its CPU limit (and the wall-clock
        // backstop derived from it), and reaching it means it was not contained.
        let gives_up = limits.cpu_time > self.give_up_after;
        let mut run_limits = limits.clone();
        if gives_up {
            run_limits.cpu_time = self.give_up_after;
            run_limits.wall_time = None;
        }
        let mut options = PluginOptions::new().limits(run_limits).grants(decision.granted.clone());
        // The net escape aims at a real listener on this machine, kept open until the check ends.
        let listener = (threat == Threat::NetEscape).then(|| TcpListener::bind("127.0.0.1:0").ok()).flatten();
        if let Some(addr) = listener.as_ref().and_then(|l| l.local_addr().ok()) {
            options = options.config("port", addr.port().to_string());
        }
        if threat == Threat::MemoryBomb && limits.memory_bytes > self.memory_ceiling {
            return (
                Outcome::NotContained,
                format!(
                    "not run: a plugin may take {} MiB, over the ceiling of {} MiB (memory-mb in the policy)",
                    limits.memory_bytes / MIB,
                    self.memory_ceiling / MIB
                ),
            );
        }
        if threat == Threat::SlotLeak {
            return slot_leak().await;
        }
        let wasm = bundled::get(name).map(|p| p.wasm).unwrap_or_default();
        let plugin = match self.sandbox.load(name, wasm, options) {
            Ok(p) => p,
            Err(e) => return (Outcome::NotContained, format!("could not run the check: {}: {e}", e.kind())),
        };
        let graph = one_node();
        let outcome = plugin.analyze(&graph).await;
        if gives_up && matches!(outcome, Err(Error::Timeout { .. })) {
            return (
                Outcome::NotContained,
                format!("still running after {} s: {}", self.give_up_after.as_secs_f64(), cpu_limits(limits)),
            );
        }
        judge(threat, outcome, limits, &decision.granted)
    }
}

/// A one-node graph: every fault fixture misbehaves on any non-empty input.
fn one_node() -> Graph {
    Graph::from_json(r#"{"nodes":[{"id":"conformance","node_type":"fn"}]}"#).unwrap_or_default()
}

/// Everything each escape plugin would ask for: the policy decides what it gets.
fn hostile_requests(threat: Threat) -> Capabilities {
    let reason = || "conformance: a hostile plugin asks for everything".to_string();
    let mut caps = Capabilities::default();
    match threat {
        Threat::FsEscape => {
            caps.read_dirs = ["/", "/etc", "/tmp"]
                .into_iter()
                .map(|p| DirRequest { path: PathBuf::from(p), reason: reason() })
                .collect();
        }
        Threat::Env => {
            caps.env = std::env::vars_os()
                .filter_map(|(k, _)| k.into_string().ok())
                .map(|name| EnvRequest { name, reason: reason() })
                .collect();
        }
        Threat::NetEscape => {
            caps.connect = vec![ConnectRequest { target: "localhost:80".into(), reason: reason() }];
        }
        _ => {}
    }
    caps
}

fn cpu_limits(limits: &Limits) -> String {
    let fuel = limits.fuel.map(|f| format!(", fuel {f}")).unwrap_or_default();
    format!(
        "a plugin may use {} ms of CPU time per call{fuel} (timeout-ms in the policy)",
        limits.cpu_time.as_millis()
    )
}

fn judge(
    threat: Threat,
    outcome: crate::Result<Analysis>,
    limits: &Limits,
    granted: &Grants,
) -> (Outcome, String) {
    let stopped = |e: &Error, expected: &[ErrorKind], limit: String| {
        if expected.contains(&e.kind()) {
            (Outcome::Contained, format!("stopped: {}: {limit}", e.kind()))
        } else {
            (Outcome::NotContained, format!("stopped, but not by its limit: {}: {e}", e.kind()))
        }
    };
    let output_limits = || {
        format!(
            "limits {} KiB of text, {} entries (max-output-kb, max-findings in the policy)",
            limits.max_result_bytes / KIB,
            limits.max_findings
        )
    };
    match (threat, outcome) {
        (Threat::Loop, Err(e)) => {
            stopped(&e, &[ErrorKind::Timeout, ErrorKind::FuelExhausted], cpu_limits(limits))
        }
        (Threat::MemoryBomb, Err(e)) => {
            stopped(&e, &[ErrorKind::MemoryLimit], format!("limit {} MiB", limits.memory_bytes / MIB))
        }
        (Threat::Stack, Err(e)) => stopped(
            &e,
            &[ErrorKind::StackOverflow],
            format!("wasm stack {} KiB", limits.max_wasm_stack / KIB),
        ),
        (Threat::OutputSize | Threat::HugeList, Err(e)) => {
            stopped(&e, &[ErrorKind::OutputLimit], output_limits())
        }
        (Threat::OutputSize | Threat::HugeList, Ok(a)) => {
            let bytes: usize = a.result.findings.iter().map(|f| f.message.len()).sum();
            (
                Outcome::NotContained,
                format!(
                    "returned {} entries, {:.1} MB of text to the host: {}",
                    a.result.findings.len(),
                    bytes as f64 / 1e6,
                    output_limits()
                ),
            )
        }
        (Threat::LogFlood, Ok(a)) => {
            let u = &a.usage;
            let kept_log: usize = a.logs.iter().map(|r| r.message.len()).sum();
            let bounded = (u.log_bytes_dropped > 0 || u.stdio_bytes_dropped > 0)
                && kept_log <= limits.max_log_bytes
                && a.stdout.len() <= limits.max_stdio_bytes
                && a.stderr.len() <= limits.max_stdio_bytes;
            let what = format!(
                "kept {} KiB of log and {} KiB of stdout/stderr, dropped {:.1} MB",
                kept_log / KIB,
                (a.stdout.len() + a.stderr.len()) / KIB,
                (u.log_bytes_dropped + u.stdio_bytes_dropped) as f64 / 1e6
            );
            (if bounded { Outcome::Contained } else { Outcome::NotContained }, what)
        }
        // Stopped by any limit (a slow machine may time a flood out): still bounded.
        (Threat::LogFlood, Err(e)) => (Outcome::Contained, format!("stopped: {}", e.kind())),
        (Threat::FsEscape | Threat::NetEscape | Threat::Env, Ok(a)) => {
            escapes(&bundled::messages(&a.result.findings), granted)
        }
        (Threat::FsEscape | Threat::NetEscape | Threat::Env, Err(e)) => (
            Outcome::NotContained,
            format!("the escape plugin failed, so nothing was checked: {}: {e}", e.kind()),
        ),
        (Threat::Loop | Threat::MemoryBomb | Threat::Stack, Ok(_)) => {
            (Outcome::NotContained, "the call returned: nothing stopped it".into())
        }
        (Threat::SlotLeak, _) => (Outcome::NotContained, "checked separately".into()),
    }
}

/// Sorts an escape plugin's reported attempts: denied, reached through a grant, or escaped.
fn escapes<S: AsRef<str>>(findings: &[S], granted: &Grants) -> (Outcome, String) {
    let mut escaped = Vec::new();
    let mut through_grants = Vec::new();
    let mut denied = 0;
    for f in findings {
        let f = f.as_ref();
        if f.contains(": denied: ") {
            denied += 1;
        } else if covered_by(f, granted) {
            through_grants.push(first_words(f));
        } else {
            escaped.push(first_words(f));
        }
    }
    if !escaped.is_empty() {
        (Outcome::NotContained, format!("reached {}", escaped.join("; ")))
    } else if !through_grants.is_empty() {
        let grants = granted.describe().join(", ");
        (Outcome::AllowedByPolicy, format!("reached {} — granted: {grants}", through_grants.join("; ")))
    } else if denied == 0 {
        (Outcome::Contained, "saw nothing of the host".into())
    } else {
        (Outcome::Contained, format!("{denied} attempts, all denied"))
    }
}

/// An attempt's target without what it read (values of variables, file contents).
fn first_words(finding: &str) -> String {
    let cut = finding.find(": ok").or_else(|| finding.find('=')).unwrap_or(finding.len());
    finding[..cut].to_string()
}

/// Whether a successful attempt went only where a grant lets it.
fn covered_by(finding: &str, granted: &Grants) -> bool {
    let under = |path: &str| granted.read_dirs.iter().any(|d| Path::new(path).starts_with(d));
    if let Some(rest) = finding.strip_prefix("read ").or_else(|| finding.strip_prefix("list ")) {
        return rest.split(": ").next().is_some_and(under);
    }
    if let Some(var) = finding.strip_prefix("env ") {
        return var.split('=').next().is_some_and(|name| granted.env.iter().any(|e| e == name));
    }
    if let Some(target) = finding.strip_prefix("connect ") {
        return target.split(": ").next().is_some_and(|t| granted.connect.iter().any(|c| c == t));
    }
    if finding.starts_with("resolve ") {
        return !granted.connect.is_empty();
    }
    false
}

/// Instance A writes a secret and is dropped; instance B, in the only slot of a pooled sandbox,
/// scans its memory. A control (write then scan in one instance) proves the scan sees secrets.
async fn slot_leak() -> (Outcome, String) {
    let probe = |sandbox: &Sandbox| {
        let wasm = bundled::get(Threat::SlotLeak.plugin()).map(|p| p.wasm).unwrap_or_default();
        sandbox.load(Threat::SlotLeak.plugin(), wasm, PluginOptions::new())
    };
    let order = |mode: &str| {
        Graph::from_json(&format!(r#"{{"nodes":[{{"id":"{mode}:4242","node_type":"order"}}]}}"#))
            .unwrap_or_default()
    };
    let run = async {
        let plain = Sandbox::builder().no_cache().build()?;
        let mut control = probe(&plain)?.instance();
        control.analyze(&order("write")).await?;
        let seen =
            ResidueScan::read(&bundled::messages(&control.analyze(&order("scan")).await?.result.findings))
                .traces;
        if seen == 0 {
            return Ok((
                Outcome::NotContained,
                "inconclusive: the probe missed a secret in its own memory".into(),
            ));
        }
        let pooled =
            Sandbox::builder().no_cache().pooling(Pooling { instances: 1, memory_mb: 64 }).build()?;
        let plugin = probe(&pooled)?;
        let mut leaks = 0;
        let mut grown_nonzero = 0;
        let rounds = 3;
        for _ in 0..rounds {
            let mut writer = plugin.instance();
            writer.analyze(&order("write")).await?;
            drop(writer);
            let scan = plugin.analyze(&order("scan")).await?;
            let scan = ResidueScan::read(&bundled::messages(&scan.result.findings));
            leaks += scan.traces;
            grown_nonzero += scan.nonzero_grown_words;
        }
        Ok::<_, Error>(if leaks == 0 && grown_nonzero == 0 {
            (
                Outcome::Contained,
                format!("{rounds} write/scan rounds in one pooled slot: no trace (the control found {seen})"),
            )
        } else {
            (
                Outcome::NotContained,
                format!("{leaks} traces of the secret, {grown_nonzero} nonzero grown words"),
            )
        })
    };
    run.await
        .unwrap_or_else(|e| (Outcome::NotContained, format!("could not run the check: {}: {e}", e.kind())))
}

/// What a `probe-memory-residue` scan reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResidueScan {
    /// Places where a run of the secret was found.
    pub traces: usize,
    /// Nonzero words in the pages the scanner grew itself (fresh pages must be zero).
    pub nonzero_grown_words: usize,
}

impl ResidueScan {
    /// Reads a scan's findings; an unreadable summary counts as a nonzero word (never as clean).
    pub fn read<S: AsRef<str>>(findings: &[S]) -> ResidueScan {
        let traces = findings.iter().filter(|f| f.as_ref().starts_with("secret found at")).count();
        let nonzero_grown_words = findings
            .first()
            .map(|f| f.as_ref())
            .and_then(|s| s.split("; ").nth(1))
            .and_then(|s| s.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(1);
        ResidueScan { traces, nonzero_grown_words }
    }
}

/// `MemTotal` from `/proc/meminfo`, bytes.
fn physical_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kb = info.lines().find_map(|l| l.strip_prefix("MemTotal:"))?.trim().trim_end_matches("kB").trim();
    kb.parse::<u64>().ok().map(|kb| kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_through_grants_are_told_apart_from_escapes() {
        let none = Grants::default();
        assert_eq!(escapes(&["read /etc/passwd: denied: no"], &none).0, Outcome::Contained);
        let read = vec!["read /etc/passwd: ok: root:x:0:0".to_string()];
        let (outcome, detail) = escapes(&read, &none);
        assert_eq!(outcome, Outcome::NotContained);
        assert_eq!(detail, "reached read /etc/passwd", "no file contents in the report");
        let etc = Grants { read_dirs: vec!["/etc".into()], ..Grants::default() };
        assert_eq!(escapes(&read, &etc).0, Outcome::AllowedByPolicy);
        let env = vec!["env HOME=/root".to_string()];
        assert_eq!(escapes(&env, &none), (Outcome::NotContained, "reached env HOME".into()));
        let home = Grants { env: vec!["HOME".into()], ..Grants::default() };
        assert_eq!(escapes(&env, &home).0, Outcome::AllowedByPolicy);
        assert_eq!(escapes(&["write /tmp/x: ok"], &etc).0, Outcome::NotContained);
    }

    #[test]
    fn a_residue_scan_is_never_read_as_clean_by_accident() {
        let clean =
            ["scanned 5120 KiB of linear memory; 0 nonzero words in 2048 KiB of grown pages".to_string()];
        assert_eq!(ResidueScan::read(&clean), ResidueScan { traces: 0, nonzero_grown_words: 0 });
        let leaked = [
            "scanned 5120 KiB of linear memory; 7 nonzero words in 2048 KiB of grown pages".to_string(),
            "secret found at 0x1000".to_string(),
            "secret found at 0x9000".to_string(),
        ];
        assert_eq!(ResidueScan::read(&leaked), ResidueScan { traces: 2, nonzero_grown_words: 7 });
        assert_eq!(ResidueScan::read(&["garbled".to_string()]).nonzero_grown_words, 1);
        assert_eq!(ResidueScan::read::<&str>(&[]).nonzero_grown_words, 1);
    }

    #[test]
    fn a_hostile_plugin_gets_the_policy_caps_and_no_more() {
        let c = Conformance::new(Sandbox::builder().no_cache().build().unwrap());
        let d = c.decision("fault-loop", &Capabilities::default());
        assert_eq!(d.limits, Limits::default(), "no caps: the defaults");
        let policy = Policy::parse("[defaults.limits]\ntimeout-ms = 60000\n", Path::new("p.toml")).unwrap();
        let d = c.policy(policy).decision("fault-loop", &Capabilities::default());
        assert_eq!(d.limits.cpu_time, Duration::from_secs(60));
    }
}
