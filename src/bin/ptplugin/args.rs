//! Command-line arguments.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use parseltongue_plugins::{KIB, Limits, MIB};

/// Run Parseltongue analysis plugins (WebAssembly components) in a sandbox.
#[derive(Debug, Parser)]
#[command(name = "ptplugin", version, about, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// Keep compiled plugins here (default: the user cache dir, e.g. ~/.cache/parseltongue-plugins).
    #[arg(long, global = true, value_name = "DIR", conflicts_with = "no_cache")]
    pub cache_dir: Option<PathBuf>,

    /// Compile plugins on every run; use no cache.
    #[arg(long, global = true)]
    pub no_cache: bool,

    /// More log output (-v: debug, -vv: trace). Plugin log messages are shown from info up.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Only errors on stderr.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run one plugin on a graph.
    Run(RunArgs),
    /// Describe a component: world, imports, exports, size, SHA-256, whether it fits the contract.
    Inspect(InspectArgs),
    /// Run the bundled plugins on the bundled sample graph, faults and escapes included.
    Demo(DemoArgs),
    /// Crash and restart a plugin thousands of times; report memory, descriptors and restart latency.
    Soak(SoakArgs),
    /// Host policy tools.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Audit trail tools.
    #[command(subcommand)]
    Audit(AuditCommand),
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Show what a plugin requests, what the policy grants it, and what it denies (exit 1 if anything).
    Check(PolicyCheckArgs),
}

#[derive(Debug, Args)]
pub struct PolicyCheckArgs {
    /// The plugin: its plugin.toml, a directory holding one, a .wasm file, or `bundled:NAME`.
    pub plugin: String,

    /// The host policy (TOML). Without it nothing is allowed.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check an audit log's hash chain; name the first bad record (exit 1 if any, or a torn line).
    Verify(AuditVerifyArgs),
}

#[derive(Debug, Args)]
pub struct AuditVerifyArgs {
    /// The audit log (JSON Lines).
    pub file: PathBuf,

    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    /// Readable text.
    #[default]
    Text,
    /// One JSON object on stdout.
    Json,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The plugin: a .wasm component, a plugin.toml (or a directory holding one), or `bundled:NAME`.
    #[arg(long, value_name = "FILE")]
    pub plugin: String,

    /// The host policy (TOML) deciding what the plugin's manifest may be granted. Without it,
    /// nothing beyond the sandbox is granted.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,

    /// Append a tamper-evident audit trail to this file.
    #[arg(long, value_name = "FILE")]
    pub audit: Option<PathBuf>,

    /// Key-value store for plugins granted `kv` (default: the user data dir).
    #[arg(long, value_name = "FILE")]
    pub kv: Option<PathBuf>,

    /// The graph, as JSON (see the README for the format).
    #[arg(long, value_name = "FILE")]
    pub graph: PathBuf,

    /// A value the plugin reads with host.config(KEY). Repeatable.
    #[arg(long = "config", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub config: Vec<(String, String)>,

    #[command(flatten)]
    pub limits: LimitArgs,

    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// Per-plugin limits; the defaults are the library's.
#[derive(Debug, Args)]
pub struct LimitArgs {
    /// Linear memory limit in MiB.
    #[arg(long, value_name = "N", default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=65536))]
    pub memory_mb: u64,

    /// Wall-clock limit per call in milliseconds.
    #[arg(long, value_name = "N", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout_ms: u64,

    /// Meter fuel and allow this much per call (roughly one unit per wasm instruction).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub fuel: Option<u64>,

    /// Wasm stack size in KiB.
    #[arg(long, value_name = "N", default_value_t = 512, value_parser = clap::value_parser!(u64).range(16..=65536))]
    pub stack_kb: u64,

    /// Limit on the total text in a result, in KiB.
    #[arg(long, value_name = "N", default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_output_kb: u64,

    /// Limit on the number of findings (and of recommendations).
    #[arg(long, value_name = "N", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_findings: u64,
}

impl LimitArgs {
    pub fn to_limits(&self) -> Limits {
        Limits {
            memory_bytes: self.memory_mb * MIB,
            timeout: Duration::from_millis(self.timeout_ms),
            fuel: self.fuel,
            max_wasm_stack: self.stack_kb as usize * KIB,
            max_result_bytes: self.max_output_kb as usize * KIB,
            max_findings: self.max_findings as usize,
            ..Limits::default()
        }
    }
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The component: a .wasm file, or `bundled:NAME`.
    pub file: String,

    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct SoakArgs {
    /// Crash/restart cycles to run.
    #[arg(long, value_name = "N", default_value_t = 2000, value_parser = clap::value_parser!(u64).range(10..))]
    pub cycles: u64,

    /// Process samples to take after the warm-up.
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub samples: u64,

    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

fn parse_key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_string(), value.to_string())),
        _ => Err(format!("expected KEY=VALUE, got `{s}`")),
    }
}
