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
    /// Run a set of plugins (default: every bundled analysis) on a graph: text, JSON, SARIF or an
    /// HTML report, compared with a baseline and gated for CI.
    Analyze(AnalyzeArgs),
    /// Describe a component: world, imports, exports, size, SHA-256, whether it fits the contract.
    Inspect(InspectArgs),
    /// Run the bundled plugins on the bundled sample graph, faults and escapes included.
    Demo(DemoArgs),
    /// Start a plugin project (Rust, C, JavaScript or Python): contract, manifest, build script.
    New(NewArgs),
    /// Check a built plugin project: contract, sample graphs, repeatability, no grants needed.
    Test(TestArgs),
    /// What build scripts use: the contract's WIT, C bindings, core module → component.
    #[command(subcommand)]
    Sdk(SdkCommand),
    /// Follow a Parseltongue server: re-analyse when its graph changes, print findings that appeared or went.
    Watch(WatchArgs),
    /// Serve plugin analyses over HTTP in Parseltongue's style (/plugin-analysis-run-now?plugin=NAME).
    Serve(ServeArgs),
    /// Import a graph (our JSON or a Parseltongue export) and report what was read, made and resolved.
    #[command(alias = "import-stats")]
    Import(ImportArgs),
    /// Crash and restart a plugin thousands of times; report memory, descriptors and restart latency.
    Soak(SoakArgs),
    /// A live view of a host: plugin states, restarts, latency, CPU and memory against quota, errors.
    Top(TopArgs),
    /// Run the bundled fault and escape plugins against these limits and policy: is each threat contained?
    Conformance(ConformanceArgs),
    /// Host policy tools.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Audit trail tools.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Push a plugin to an OCI registry (Wasm artifact layout, plugin.toml as an annotation).
    Push(PushArgs),
    /// Pull a plugin, verify it against the trust policy, and install it (current version).
    Pull(PullArgs),
    /// Verify a plugin in a registry (or the local store) against the trust policy, without installing.
    Verify(PullArgs),
    /// Make a cosign-compatible key pair (cosign.key encrypted with $COSIGN_PASSWORD, cosign.pub).
    Keygen(KeygenArgs),
    /// Sign a plugin in a registry with a cosign key, or attach a Sigstore bundle to it.
    Sign(SignArgs),
    /// Verify a Sigstore bundle for a file or digest, fully offline (Sigstore conformance CLI).
    VerifyBundle(VerifyBundleArgs),
    /// Install newer compatible, trusted versions of installed plugins; show capability changes.
    Update(UpdateArgs),
    /// Make the previous installed version of a plugin current again.
    Rollback(RollbackArgs),
    /// List installed plugins and their earlier versions.
    List(ListArgs),
}

/// Where plugins are stored and how registries are reached.
#[derive(Debug, Args)]
pub struct StoreArgs {
    /// The local plugin store (default: the user cache dir, e.g. ~/.cache/ptplugin/oci).
    #[arg(long, value_name = "DIR")]
    pub store: Option<PathBuf>,

    /// Allow plain HTTP to registries that are not on this machine (loopback always may).
    #[arg(long)]
    pub insecure: bool,

    /// Show no progress bars (transfers; `analyze`'s plugins).
    #[arg(long)]
    pub no_progress: bool,
}

/// Who must have signed, and where verdicts are recorded.
#[derive(Debug, Args)]
pub struct TrustArgs {
    /// The host policy whose [trust] section decides which signatures count (default: unsigned
    /// and unverifiable plugins are refused); for `update`, also what new capabilities it grants.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,

    /// Trust this cosign public key (repeatable; added to the policy's keys).
    #[arg(long, value_name = "PUBKEY.pem")]
    pub key: Vec<PathBuf>,

    /// Append verification verdicts to this audit trail.
    #[arg(long, value_name = "FILE")]
    pub audit: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct PushArgs {
    /// The plugin: a plugin.toml (or a directory holding one), a .wasm component, or `bundled:NAME`.
    pub plugin: String,

    /// Where to: REGISTRY/REPOSITORY[:TAG]; without a tag, the plugin's version.
    pub reference: String,

    /// Version for a plugin given without a plugin.toml (default: the tag, if it is semver).
    #[arg(long, value_name = "SEMVER")]
    pub version: Option<semver::Version>,

    #[command(flatten)]
    pub store: StoreArgs,

    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct PullArgs {
    /// REGISTRY/REPOSITORY followed by :TAG, @sha256:DIGEST or @RANGE (e.g. @^1.2).
    pub reference: String,

    #[command(flatten)]
    pub trust: TrustArgs,

    /// Resolve from the local store only; say what is missing.
    #[arg(long)]
    pub offline: bool,

    #[command(flatten)]
    pub store: StoreArgs,

    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Write PREFIX.key and PREFIX.pub.
    #[arg(long, value_name = "PREFIX", default_value = "cosign")]
    pub output_key_prefix: PathBuf,

    /// Overwrite existing files.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct SignArgs {
    /// REGISTRY/REPOSITORY:TAG or @sha256:DIGEST.
    pub reference: String,

    /// A cosign private key (encrypted with $COSIGN_PASSWORD) or an unencrypted PKCS#8 PEM key.
    #[arg(long, value_name = "FILE", required_unless_present = "bundle")]
    pub key: Option<PathBuf>,

    /// Attach this Sigstore bundle (made over the .wasm file) instead of signing with a key.
    #[arg(long, value_name = "FILE", conflicts_with = "key")]
    pub bundle: Option<PathBuf>,

    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Args)]
pub struct VerifyBundleArgs {
    /// Use the Sigstore staging trusted root (shipped inside).
    #[arg(long)]
    pub staging: bool,

    /// The Sigstore bundle (JSON).
    #[arg(long, value_name = "FILE")]
    pub bundle: PathBuf,

    /// Required certificate identity (SAN), exact.
    #[arg(long, value_name = "ID", requires = "certificate_oidc_issuer", conflicts_with = "key")]
    pub certificate_identity: Option<String>,

    /// Required OIDC issuer, exact.
    #[arg(long, value_name = "URL", requires = "certificate_identity")]
    pub certificate_oidc_issuer: Option<String>,

    /// Verify a managed-key bundle with this public key instead.
    #[arg(long, value_name = "PUBKEY.pem", required_unless_present = "certificate_identity")]
    pub key: Option<PathBuf>,

    /// A trusted root JSON file (default: the Sigstore public-good root shipped inside).
    #[arg(long, value_name = "FILE")]
    pub trusted_root: Option<PathBuf>,

    /// `sha256:<64 hex>` (a digest) or a path to the signed file.
    pub file_or_digest: String,
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// Only this plugin (default: every installed plugin).
    pub name: Option<String>,

    #[command(flatten)]
    pub trust: TrustArgs,

    #[command(flatten)]
    pub store: StoreArgs,

    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// The plugin.
    pub name: String,

    /// Append the rollback to this audit trail.
    #[arg(long, value_name = "FILE")]
    pub audit: Option<PathBuf>,

    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub store: StoreArgs,

    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
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

/// Where `run`'s and `analyze`'s `oci://` and `installed:` plugins come from.
#[derive(Debug, Args)]
pub struct RegistryArgs {
    /// For `--plugin oci://…` or `installed:NAME`: resolve from the local store only.
    #[arg(long)]
    pub offline: bool,

    /// Trust this cosign public key for `oci://` plugins (repeatable).
    #[arg(long, value_name = "PUBKEY.pem")]
    pub key: Vec<PathBuf>,

    #[command(flatten)]
    pub store: StoreArgs,
}

/// The graph `run` and `analyze` read.
#[derive(Debug, Args)]
pub struct GraphArgs {
    /// The graph: a running Parseltongue v1.7 server (http://HOST:PORT), a directory of its saved
    /// answers, our JSON, a Parseltongue entities or edges export, or a v0.1.0 ISG snapshot (told
    /// apart by their shape; see the README).
    #[arg(long, value_name = "FILE|DIR|URL")]
    pub graph: String,

    /// With a server as --graph: only this folder scope (`L1` or `L1||L2`, as Parseltongue's `scope`).
    #[arg(long, value_name = "SCOPE")]
    pub scope: Option<String>,

    /// Parseltongue's edges export (pt02-level00) to go with an entities export as --graph.
    #[arg(long, value_name = "FILE")]
    pub edges: Option<PathBuf>,

    /// Refuse graph files larger than this, in MiB (a 1,000,000-node export is about 700 MB).
    #[arg(long, value_name = "N", default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..=1_048_576))]
    pub max_graph_mb: u64,
}

/// What a result is written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ReportFormat {
    /// Readable text.
    #[default]
    Text,
    /// One JSON object (for `analyze`: the results a later `--baseline` reads).
    Json,
    /// SARIF 2.1.0, for GitHub code scanning and IDEs.
    Sarif,
    /// One self-contained HTML page: summary, findings table, pictures.
    Html,
}

impl ReportFormat {
    /// How errors are printed under this format (JSON for the machine-readable ones).
    pub fn errors(self) -> Format {
        match self {
            ReportFormat::Text | ReportFormat::Html => Format::Text,
            ReportFormat::Json | ReportFormat::Sarif => Format::Json,
        }
    }
}

/// Where a report goes and how it is judged.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Write the result to this file (atomically: whole or not at all) instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// SARIF: the directory the graph's file paths are relative to (where Parseltongue indexed);
    /// locations are written relative to it, as `SRCROOT` (default: the current directory).
    #[arg(long, value_name = "DIR")]
    pub source_root: Option<PathBuf>,

    /// A previous result (`--format sarif` or `--format json` of `analyze`): each finding is
    /// marked new, unchanged or absent by its fingerprint.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,

    /// Which findings fail the run (exit 3): `new` (not in the baseline; default with
    /// --baseline), `any`, or `never` (default without one).
    #[arg(long, value_enum, value_name = "WHICH")]
    pub fail_on: Option<FailOnArg>,

    /// The least severity that counts for --fail-on.
    #[arg(long, value_enum, value_name = "SEVERITY", default_value_t = SeverityArg::Warning)]
    pub min_severity: SeverityArg,
}

/// `--fail-on`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOnArg {
    /// Never fail on findings.
    Never,
    /// Fail on findings not in the baseline.
    New,
    /// Fail on any finding.
    Any,
}

/// `--min-severity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SeverityArg {
    /// Notes and worse.
    Note,
    /// Warnings and errors.
    Warning,
    /// Errors only.
    Error,
}

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    #[command(flatten)]
    pub input: GraphArgs,

    /// Every plugin in this directory (each `*.wasm`, or a subdirectory with a plugin.toml).
    #[arg(long, value_name = "DIR")]
    pub plugins: Option<PathBuf>,

    /// A plugin, as `run --plugin` takes it (repeatable). Without --plugin and --plugins: every
    /// bundled analysis of contract 0.2.
    #[arg(long, value_name = "PLUGIN")]
    pub plugin: Vec<String>,

    /// The host policy (TOML) deciding what each plugin's manifest may be granted.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,

    #[command(flatten)]
    pub registry: RegistryArgs,

    /// A value every plugin reads with host.config(KEY). Repeatable.
    #[arg(long = "config", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub config: Vec<(String, String)>,

    #[command(flatten)]
    pub limits: LimitArgs,

    #[command(flatten)]
    pub report: ReportArgs,

    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: ReportFormat,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The plugin: a .wasm component, a plugin.toml (or a directory holding one), `bundled:NAME`,
    /// `oci://REGISTRY/REPO:TAG` (pulled and verified) or `installed:NAME`.
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

    #[command(flatten)]
    pub registry: RegistryArgs,

    #[command(flatten)]
    pub input: GraphArgs,

    /// A value the plugin reads with host.config(KEY). Repeatable.
    #[arg(long = "config", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub config: Vec<(String, String)>,

    #[command(flatten)]
    pub limits: LimitArgs,

    #[command(flatten)]
    pub report: ReportArgs,

    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: ReportFormat,
}

/// Per-plugin limits; the defaults are the library's.
#[derive(Debug, Args)]
pub struct LimitArgs {
    /// Linear memory limit in MiB.
    #[arg(long, value_name = "N", default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=65536))]
    pub memory_mb: u64,

    /// CPU time per call in milliseconds, counted only while the plugin's code runs (a busy
    /// machine slows a plugin down; it does not make it time out).
    #[arg(long, value_name = "N", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout_ms: u64,

    /// Wall-clock backstop per call in milliseconds, for plugins that wait instead of computing
    /// (default: ten times --timeout-ms, at least 10 s).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub wall_timeout_ms: Option<u64>,

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
        Limits::default()
            .with_memory_bytes(self.memory_mb * MIB)
            .with_cpu_time(Duration::from_millis(self.timeout_ms))
            .with_wall_time(self.wall_timeout_ms.map(Duration::from_millis))
            .with_fuel(self.fuel)
            .with_max_wasm_stack(self.stack_kb as usize * KIB)
            .with_max_result_bytes(self.max_output_kb as usize * KIB)
            .with_max_findings(self.max_findings as usize)
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
pub struct NewArgs {
    /// The plugin's name: 1 to 64 lowercase letters, digits and dashes.
    #[arg(value_parser = parse_plugin_name)]
    pub name: String,

    /// The language to write it in.
    #[arg(long, short, value_parser = ["rust", "c", "js", "python"], default_value = "rust")]
    pub lang: String,

    /// Where to create the project (default: ./NAME).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,

    /// The contract to write it for: 0.2 (the graph as columns, findings with rules) or 0.1
    /// (the seed's contract, which this host keeps running).
    #[arg(long, value_enum, default_value_t = ContractArg::V0_2)]
    pub contract: ContractArg,
}

/// A contract version on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ContractArg {
    /// Contract 0.2.
    #[value(name = "0.2")]
    V0_2,
    /// Contract 0.1.
    #[value(name = "0.1")]
    V0_1,
}

impl ContractArg {
    pub fn contract(self) -> parseltongue_plugins::Contract {
        match self {
            ContractArg::V0_2 => parseltongue_plugins::Contract::V0_2,
            ContractArg::V0_1 => parseltongue_plugins::Contract::V0_1,
        }
    }
}

#[derive(Debug, Args)]
pub struct TestArgs {
    /// The plugin project directory (or its plugin.toml).
    #[arg(default_value = ".")]
    pub project: PathBuf,

    /// Also run it on this graph (a file, a directory of saved server answers, or a Parseltongue
    /// server's http://HOST:PORT). Repeatable.
    #[arg(long, value_name = "FILE|DIR|URL")]
    pub graph: Vec<String>,

    /// Refuse graph files larger than this, in MiB (a 1,000,000-node export is about 700 MB).
    #[arg(long, value_name = "N", default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..=1_048_576))]
    pub max_graph_mb: u64,

    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Debug, Subcommand)]
pub enum SdkCommand {
    /// Write the plugin contract (plugin.wit) into DIR.
    Wit {
        /// The directory to write plugin.wit into.
        dir: PathBuf,
        /// Which contract.
        #[arg(long, value_enum, default_value_t = ContractArg::V0_2)]
        contract: ContractArg,
    },
    /// Write C bindings for the contract (analyzer.h, analyzer.c, analyzer_component_type.o) into DIR.
    CBindings {
        /// The directory to write the bindings into.
        dir: PathBuf,
        /// Which contract.
        #[arg(long, value_enum, default_value_t = ContractArg::V0_2)]
        contract: ContractArg,
    },
    /// Wrap a core wasm module into a component (WASI preview 1 adapted to preview 2).
    Componentize {
        /// The core module (e.g. from clang --target=wasm32-wasi).
        core: PathBuf,
        /// Where to write the component.
        #[arg(long, short, value_name = "FILE")]
        output: PathBuf,
    },
}

/// The plugins and graph `watch` and `serve` run.
#[derive(Debug, Args)]
pub struct LiveArgs {
    /// The graph: a running Parseltongue v1.7 server (http://HOST:PORT); `serve` also takes a file.
    #[arg(long, value_name = "URL")]
    pub graph: String,

    /// Only this folder scope of the server's graph (`L1` or `L1||L2`).
    #[arg(long, value_name = "SCOPE")]
    pub scope: Option<String>,

    /// A plugin to run (`bundled:NAME`, a .wasm file, a plugin.toml or its directory). Repeatable;
    /// default: every bundled analysis.
    #[arg(long, value_name = "PLUGIN")]
    pub plugin: Vec<String>,

    /// The host policy (TOML) that grants capabilities and caps limits.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,

    /// Refuse graphs larger than this, in MiB.
    #[arg(long, value_name = "N", default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..=1_048_576))]
    pub max_graph_mb: u64,
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    #[command(flatten)]
    pub live: LiveArgs,

    /// How often to read the server's change counters.
    #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = parse_duration)]
    pub interval: Duration,

    /// Also pull the whole graph this often and compare, to catch edits that leave the counts
    /// unchanged (0: never).
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration_or_zero)]
    pub recheck: Duration,

    /// Output: text, or one JSON object per line (an event each).
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub live: LiveArgs,

    /// Where to listen.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:7780")]
    pub listen: std::net::SocketAddr,

    /// Allow listening on an address other than loopback (anyone who reaches it can run the plugins).
    #[arg(long)]
    pub allow_remote: bool,

    /// Analysis requests served at once; more are refused with `overloaded` (429).
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub max_concurrent: u64,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The graph: a running Parseltongue v1.7 server (http://HOST:PORT), a directory of its saved
    /// answers, our JSON, a Parseltongue entities or edges export, or a v0.1.0 ISG snapshot.
    #[arg(value_name = "FILE|DIR|URL")]
    pub graph: String,

    /// With a server as the graph: only this folder scope (`L1` or `L1||L2`).
    #[arg(long, value_name = "SCOPE")]
    pub scope: Option<String>,

    /// Parseltongue's edges export (pt02-level00) to go with an entities export.
    #[arg(long, value_name = "FILE")]
    pub edges: Option<PathBuf>,

    /// Refuse graph files larger than this, in MiB (a 1,000,000-node export is about 700 MB).
    #[arg(long, value_name = "N", default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..=1_048_576))]
    pub max_graph_mb: u64,

    /// Also write the imported graph, in our JSON, to this file.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Output format of the report.
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

    /// Instead of crash cycles alone: keep analyses running on many plugins for this long, with a
    /// faulty plugin crashing and restarting beside them, sampling memory and descriptors every second.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub load: Option<Duration>,

    /// With --load: analysis plugins to load (copies of the bundled analyses).
    #[arg(long, value_name = "N", default_value_t = 50, requires = "load", value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub plugins: u64,

    /// With --load: analyses in flight at once.
    #[arg(long, value_name = "N", default_value_t = 8, requires = "load", value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub concurrency: u64,

    /// With --load: serve metrics on this loopback address while it runs (watch with `ptplugin top --connect`).
    #[arg(long, value_name = "ADDR", requires = "load")]
    pub metrics: Option<std::net::SocketAddr>,

    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct TopArgs {
    /// Watch the host whose metrics endpoint listens here (e.g. `ptplugin soak --load 10m --metrics
    /// 127.0.0.1:9464`, or a program that set `PluginHostBuilder::metrics_endpoint`). Without it,
    /// a demo host runs in this process.
    #[arg(long, value_name = "ADDR")]
    pub connect: Option<String>,

    /// Time between refreshes.
    #[arg(long, value_name = "DURATION", default_value = "500ms", value_parser = parse_duration)]
    pub interval: Duration,
}

#[derive(Debug, Args)]
pub struct ConformanceArgs {
    /// The host policy to check (default: one that allows nothing). Each plugin asks for every
    /// capability and the highest limits; it gets what this policy lets any plugin get.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,

    /// Count a plugin still running after this much CPU time as not contained (when the policy lets it run longer).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub give_up_after: Duration,

    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

fn parse_duration_or_zero(s: &str) -> Result<Duration, String> {
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    humantime::parse_duration(s).map_err(|e| format!("{e} (e.g. 30s, 2m, or 0)"))
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s).map_err(|e| format!("{e} (e.g. 10s, 500ms, 2m)"))?;
    if d.is_zero() { Err("must be longer than zero".into()) } else { Ok(d) }
}

fn parse_plugin_name(s: &str) -> Result<String, String> {
    parseltongue_plugins::manifest::check_name(s).map(|()| s.to_string()).map_err(|_| {
        "a plugin name is 1 to 64 lowercase letters (a-z), digits and dashes, e.g. `my-analysis`".to_string()
    })
}

fn parse_key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_string(), value.to_string())),
        _ => Err(format!("expected KEY=VALUE, got `{s}`")),
    }
}
