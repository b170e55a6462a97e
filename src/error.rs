//! The one error type of the library, and the stable kinds the CLI reports as `error.kind`.

use std::fmt;
use std::time::Duration;

/// What went wrong, as a stable machine-readable word.
///
/// These strings are part of the CLI's JSON output (`error.kind`), so they never change meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// The call used up its CPU time, or ran past its wall-clock backstop.
    Timeout,
    /// The call used up its fuel allowance.
    FuelExhausted,
    /// The plugin asked for more linear memory (or table space, or instances) than allowed.
    MemoryLimit,
    /// The plugin overflowed its wasm stack.
    StackOverflow,
    /// Any other trap: a guest panic, `unreachable`, an out-of-bounds access, a host call refused.
    Trap,
    /// The plugin's result broke the output limits or the contract's value ranges.
    OutputLimit,
    /// The plugin's result is malformed: a finding names a node the graph does not have, a
    /// string is not UTF-8 or lies outside the plugin's memory, a rule id is not one. The
    /// instance is dropped, as after a trap.
    InvalidOutput,
    /// The bytes are not a WebAssembly component this host can compile.
    InvalidComponent,
    /// A valid component, but not of the `analyzer` world (or of another contract version).
    Incompatible,
    /// The input graph is malformed.
    InvalidGraph,
    /// Reading or writing a file failed.
    Io,
    /// The caller asked for limits no plugin could run under.
    InvalidLimits,
    /// The plugin exceeded a rate or count limit on host calls and was stopped.
    Throttled,
    /// A plugin manifest (`plugin.toml`) is malformed or asks for what cannot be.
    InvalidManifest,
    /// The host policy file is malformed.
    InvalidPolicy,
    /// The plugin crashed too often and is held until an operator releases it.
    Quarantined,
    /// The plugin's queue is full; try again later.
    Overloaded,
    /// This input crashed the plugin repeatedly and is refused for it.
    PoisonInput,
    /// No plugin of that name is loaded, bundled or at that path.
    NotFound,
    /// The plugin is stopping or stopped (shutdown, unload, a request dropped unanswered).
    Unavailable,
    /// A registry could not be reached or refused a request.
    Registry,
    /// Content did not match its digest: a tampered blob, a corrupt cache entry.
    Integrity,
    /// Signature or trust verification failed: unsigned, wrong key or identity, bad bundle.
    Untrusted,
    /// No version satisfies a requirement, dependencies conflict, or offline content is missing.
    Unresolved,
    /// The caller asked for something that cannot be done as asked: a missing setting, a file
    /// that would be overwritten, a command that needs a terminal. Fix the invocation.
    Usage,
    /// The Parseltongue server a graph was to come from could not be reached, timed out, or
    /// answered something that is not its API (an error page, plain text, `success: false`).
    GraphServer,
    /// A baseline given to compare results with is not a previous result of this tool: not
    /// JSON, cut short, SARIF of another version, or another tool's output.
    InvalidBaseline,
}

impl ErrorKind {
    /// Every kind, in documentation order.
    pub const ALL: [ErrorKind; 27] = [
        ErrorKind::Timeout,
        ErrorKind::FuelExhausted,
        ErrorKind::MemoryLimit,
        ErrorKind::StackOverflow,
        ErrorKind::Trap,
        ErrorKind::OutputLimit,
        ErrorKind::InvalidOutput,
        ErrorKind::InvalidComponent,
        ErrorKind::Incompatible,
        ErrorKind::InvalidGraph,
        ErrorKind::Io,
        ErrorKind::InvalidLimits,
        ErrorKind::Throttled,
        ErrorKind::InvalidManifest,
        ErrorKind::InvalidPolicy,
        ErrorKind::Quarantined,
        ErrorKind::Overloaded,
        ErrorKind::PoisonInput,
        ErrorKind::NotFound,
        ErrorKind::Unavailable,
        ErrorKind::Registry,
        ErrorKind::Integrity,
        ErrorKind::Untrusted,
        ErrorKind::Unresolved,
        ErrorKind::Usage,
        ErrorKind::GraphServer,
        ErrorKind::InvalidBaseline,
    ];

    /// The kebab-case word used in JSON output and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Timeout => "timeout",
            ErrorKind::FuelExhausted => "fuel-exhausted",
            ErrorKind::MemoryLimit => "memory-limit",
            ErrorKind::StackOverflow => "stack-overflow",
            ErrorKind::Trap => "trap",
            ErrorKind::OutputLimit => "output-limit",
            ErrorKind::InvalidOutput => "invalid-output",
            ErrorKind::InvalidComponent => "invalid-component",
            ErrorKind::Incompatible => "incompatible",
            ErrorKind::InvalidGraph => "invalid-graph",
            ErrorKind::Io => "io",
            ErrorKind::InvalidLimits => "invalid-limits",
            ErrorKind::Throttled => "throttled",
            ErrorKind::InvalidManifest => "invalid-manifest",
            ErrorKind::InvalidPolicy => "invalid-policy",
            ErrorKind::Quarantined => "quarantined",
            ErrorKind::Overloaded => "overloaded",
            ErrorKind::PoisonInput => "poison-input",
            ErrorKind::NotFound => "not-found",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Registry => "registry",
            ErrorKind::Integrity => "integrity",
            ErrorKind::Untrusted => "untrusted",
            ErrorKind::Unresolved => "unresolved",
            ErrorKind::Usage => "usage",
            ErrorKind::GraphServer => "graph-server",
            ErrorKind::InvalidBaseline => "invalid-baseline",
        }
    }

    /// Whether the plugin (or its state in the host), not the caller's input or the machine,
    /// is at fault. The CLI exits 1 for these and 2 for the rest.
    pub fn is_plugin_fault(self) -> bool {
        !matches!(
            self,
            ErrorKind::InvalidGraph
                | ErrorKind::Io
                | ErrorKind::InvalidLimits
                | ErrorKind::NotFound
                | ErrorKind::InvalidPolicy
                | ErrorKind::Registry
                | ErrorKind::Unresolved
                | ErrorKind::Usage
                | ErrorKind::GraphServer
                | ErrorKind::InvalidBaseline
        )
    }

    /// Whether the instance that ran the call was lost: a crash, as supervisors count them.
    pub fn is_crash(self) -> bool {
        matches!(
            self,
            ErrorKind::Timeout
                | ErrorKind::FuelExhausted
                | ErrorKind::MemoryLimit
                | ErrorKind::StackOverflow
                | ErrorKind::Trap
                | ErrorKind::Throttled
                | ErrorKind::InvalidOutput
        )
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything that can go wrong loading a plugin, preparing its input or running it.
///
/// No guest behaviour can make the host panic; whatever a plugin does ends up here.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// See [`ErrorKind::Timeout`].
    #[error("{}", timeout_message(*clock, *limit))]
    Timeout {
        /// The limit that was reached.
        limit: Duration,
        /// Which clock it is on.
        clock: Clock,
    },
    /// See [`ErrorKind::FuelExhausted`].
    #[error("the plugin used up its fuel allowance of {fuel} units")]
    FuelExhausted {
        /// The configured fuel per call.
        fuel: u64,
    },
    /// See [`ErrorKind::MemoryLimit`].
    #[error("the plugin {what}")]
    MemoryLimit {
        /// What was refused, e.g. "tried to grow its memory to 70 MiB, over its limit of 64 MiB".
        what: String,
    },
    /// See [`ErrorKind::StackOverflow`].
    #[error("the plugin overflowed its wasm stack (limit {limit} bytes)")]
    StackOverflow {
        /// The configured wasm stack size.
        limit: usize,
    },
    /// See [`ErrorKind::Trap`].
    #[error("the plugin trapped: {message}")]
    Trap {
        /// The trap, and the guest's last stderr line when it explains it (a panic message).
        message: String,
    },
    /// See [`ErrorKind::OutputLimit`].
    #[error("the plugin's result breaks the output limits: {message}")]
    OutputLimit {
        /// Which limit, and by how much.
        message: String,
    },
    /// See [`ErrorKind::InvalidOutput`].
    #[error("the plugin's result is malformed: {message}")]
    InvalidOutput {
        /// What is wrong with it, and where.
        message: String,
    },
    /// See [`ErrorKind::InvalidComponent`].
    #[error("not a usable WebAssembly component: {message}")]
    InvalidComponent {
        /// Why the bytes were refused.
        message: String,
        /// What the compiler or parser said, when one refused them.
        #[source]
        source: Option<Cause>,
    },
    /// See [`ErrorKind::Incompatible`].
    #[error(
        "the component does not implement the parseltongue:plugin/analyzer contract (0.2 or 0.1): {message}"
    )]
    Incompatible {
        /// The missing export or unknown import.
        message: String,
        /// What the linker said, when it refused.
        #[source]
        source: Option<Cause>,
    },
    /// See [`ErrorKind::InvalidGraph`].
    #[error("invalid graph{}: {message}", position(*line, *column))]
    InvalidGraph {
        /// What is wrong, with the JSON path where known.
        message: String,
        /// 1-based line of the JSON input, where known.
        line: Option<usize>,
        /// 1-based column of the JSON input, where known.
        column: Option<usize>,
    },
    /// See [`ErrorKind::Io`].
    #[error("{context}: {source}")]
    Io {
        /// What was being done, with the path.
        context: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// See [`ErrorKind::InvalidLimits`].
    #[error(transparent)]
    InvalidLimits(#[from] InvalidLimit),
    /// See [`ErrorKind::Throttled`].
    #[error("the plugin was stopped: {what}")]
    Throttled {
        /// Which limit.
        what: String,
    },
    /// See [`ErrorKind::InvalidPolicy`].
    #[error("invalid host policy {path}: {message}")]
    InvalidPolicy {
        /// The policy file.
        path: String,
        /// What is wrong, with the line where known.
        message: String,
    },
    /// See [`ErrorKind::InvalidManifest`].
    #[error("invalid plugin manifest {path}: {message}")]
    InvalidManifest {
        /// The manifest file.
        path: String,
        /// What is wrong, with the line where known.
        message: String,
    },
    /// See [`ErrorKind::Quarantined`].
    #[error("plugin `{plugin}` is quarantined ({reason}); release it to run it again")]
    Quarantined {
        /// The plugin's name.
        plugin: String,
        /// Why it was quarantined.
        reason: String,
    },
    /// See [`ErrorKind::Overloaded`].
    #[error("plugin `{plugin}` is overloaded: {capacity} requests are already waiting or running")]
    Overloaded {
        /// The plugin's name.
        plugin: String,
        /// Requests it accepts at once (queue plus instances).
        capacity: usize,
    },
    /// See [`ErrorKind::PoisonInput`].
    #[error("this input crashed plugin `{plugin}` repeatedly and is refused for it")]
    PoisonInput {
        /// The plugin's name.
        plugin: String,
    },
    /// See [`ErrorKind::NotFound`].
    #[error("no plugin named `{plugin}` is loaded")]
    NotFound {
        /// The name asked for.
        plugin: String,
    },
    /// See [`ErrorKind::Unavailable`].
    #[error("plugin `{plugin}` is unavailable: {reason}")]
    Unavailable {
        /// The plugin's name.
        plugin: String,
        /// Why.
        reason: String,
    },
    /// See [`ErrorKind::Registry`].
    #[error("registry {reference}: {message}")]
    Registry {
        /// The reference or registry involved.
        reference: String,
        /// What went wrong.
        message: String,
        /// What the registry client or transport said.
        #[source]
        source: Option<Cause>,
    },
    /// See [`ErrorKind::Integrity`].
    #[error("{what} does not match its digest: expected {expected}, got {actual}")]
    Integrity {
        /// Which content (blob, manifest, cache entry).
        what: String,
        /// The digest it should have.
        expected: String,
        /// The digest it has.
        actual: String,
    },
    /// See [`ErrorKind::Untrusted`].
    #[error("{subject} is not trusted: {reason}")]
    Untrusted {
        /// What was verified (a reference, a digest, a file).
        subject: String,
        /// Every reason it failed.
        reason: String,
        /// What the signature library said, when one check failed inside it.
        #[source]
        source: Option<Cause>,
    },
    /// A plugin asked for by a name or path that names none: a `bundled:` name that is not
    /// bundled, a project directory or plugin file that does not exist.
    #[error("{what}")]
    NoSuchPlugin {
        /// What was asked for and not found, with what there is.
        what: String,
    },
    /// A plugin that cannot start under its limits: instantiating it (running its start-up
    /// code) already failed. The kind is the cause's (`memory-limit`, `fuel-exhausted`, …).
    #[error("plugin `{plugin}` cannot start under its limits: {source}")]
    CannotStart {
        /// The plugin's name.
        plugin: String,
        /// What stopped it.
        #[source]
        source: Box<Error>,
    },
    /// A plugin's key-value store failed: its file is damaged, unreadable, or the storage
    /// engine refused. Kind `io`: it is the machine's state, not the plugin's doing.
    #[error("key-value store {path}: {what}")]
    KeyValue {
        /// The database file.
        path: String,
        /// What failed.
        what: String,
        /// What the storage engine said.
        #[source]
        source: Option<Box<redb::Error>>,
    },
    /// An actor of the runtime could not be started (kind `unavailable`).
    #[error("cannot start the {actor}")]
    CannotSpawn {
        /// Which actor (the registry, the resource monitor, a supervisor).
        actor: String,
        /// What the actor system said.
        #[source]
        source: Cause,
    },
    /// See [`ErrorKind::Usage`].
    #[error("{message}")]
    Usage {
        /// What is wrong with the invocation, and how to fix it.
        message: String,
    },
    /// See [`ErrorKind::GraphServer`].
    #[error("Parseltongue server {url}: {message}")]
    GraphServer {
        /// The URL asked.
        url: String,
        /// What happened, and what to do about it.
        message: String,
        /// What the HTTP client said, when it failed.
        #[source]
        source: Option<Cause>,
    },
    /// See [`ErrorKind::InvalidBaseline`].
    #[error("invalid baseline {path}{}: {message}", position(*line, *column))]
    InvalidBaseline {
        /// The file.
        path: String,
        /// What is wrong, and what a baseline must be.
        message: String,
        /// 1-based line, when the problem has one.
        line: Option<usize>,
        /// 1-based column, when known.
        column: Option<usize>,
    },
    /// See [`ErrorKind::Unresolved`].
    #[error("cannot resolve {what}: {reason}")]
    Unresolved {
        /// The reference, requirement or dependency.
        what: String,
        /// Why, with what is available.
        reason: String,
    },
}

/// The clock a time limit is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Clock {
    /// CPU time spent running the plugin's code ([`crate::Limits::cpu_time`]).
    Cpu,
    /// Wall-clock time, the backstop ([`crate::Limits::wall_limit`]).
    Wall,
}

fn timeout_message(clock: Clock, limit: Duration) -> String {
    match clock {
        Clock::Cpu => format!("the plugin used up its {} ms of CPU time", limit.as_millis()),
        Clock::Wall => format!(
            "the plugin was still running after {} ms of wall-clock time (the backstop; it had CPU time \
             left, so it was waiting, or the host was starved)",
            limit.as_millis()
        ),
    }
}

fn position(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(" at line {l}, column {c}"),
        (Some(l), None) => format!(" at line {l}"),
        _ => String::new(),
    }
}

impl Error {
    /// The stable kind of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Timeout { .. } => ErrorKind::Timeout,
            Error::FuelExhausted { .. } => ErrorKind::FuelExhausted,
            Error::MemoryLimit { .. } => ErrorKind::MemoryLimit,
            Error::StackOverflow { .. } => ErrorKind::StackOverflow,
            Error::Trap { .. } => ErrorKind::Trap,
            Error::OutputLimit { .. } => ErrorKind::OutputLimit,
            Error::InvalidOutput { .. } => ErrorKind::InvalidOutput,
            Error::InvalidComponent { .. } => ErrorKind::InvalidComponent,
            Error::Incompatible { .. } => ErrorKind::Incompatible,
            Error::InvalidGraph { .. } => ErrorKind::InvalidGraph,
            Error::Io { .. } => ErrorKind::Io,
            Error::InvalidLimits(_) => ErrorKind::InvalidLimits,
            Error::Throttled { .. } => ErrorKind::Throttled,
            Error::InvalidPolicy { .. } => ErrorKind::InvalidPolicy,
            Error::InvalidManifest { .. } => ErrorKind::InvalidManifest,
            Error::Quarantined { .. } => ErrorKind::Quarantined,
            Error::Overloaded { .. } => ErrorKind::Overloaded,
            Error::PoisonInput { .. } => ErrorKind::PoisonInput,
            Error::NotFound { .. } => ErrorKind::NotFound,
            Error::Unavailable { .. } => ErrorKind::Unavailable,
            Error::Registry { .. } => ErrorKind::Registry,
            Error::Integrity { .. } => ErrorKind::Integrity,
            Error::Untrusted { .. } => ErrorKind::Untrusted,
            Error::Unresolved { .. } => ErrorKind::Unresolved,
            Error::CannotStart { source, .. } => source.kind(),
            Error::NoSuchPlugin { .. } => ErrorKind::NotFound,
            Error::KeyValue { .. } => ErrorKind::Io,
            Error::CannotSpawn { .. } => ErrorKind::Unavailable,
            Error::Usage { .. } => ErrorKind::Usage,
            Error::GraphServer { .. } => ErrorKind::GraphServer,
            Error::InvalidBaseline { .. } => ErrorKind::InvalidBaseline,
        }
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Error {
        Error::Io { context: context.into(), source }
    }
}

/// A cause kept under an [`Error`] (its [`std::error::Error::source`]): what a library below said,
/// with its own chain. Printing the chain is the caller's choice (the CLI prints every link).
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Shorthand for results of this library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A limit value that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("limit `{name}` {problem}")]
pub struct InvalidLimit {
    /// The field name.
    pub name: &'static str,
    /// What is wrong with its value.
    pub problem: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_faults_are_exactly_the_caller_side_kinds() {
        let input: Vec<ErrorKind> = ErrorKind::ALL.into_iter().filter(|k| !k.is_plugin_fault()).collect();
        assert_eq!(
            input,
            vec![
                ErrorKind::InvalidGraph,
                ErrorKind::Io,
                ErrorKind::InvalidLimits,
                ErrorKind::InvalidPolicy,
                ErrorKind::NotFound,
                ErrorKind::Registry,
                ErrorKind::Unresolved,
                ErrorKind::Usage,
                ErrorKind::GraphServer,
                ErrorKind::InvalidBaseline
            ]
        );
    }

    #[test]
    fn every_kind_has_a_distinct_word() {
        let mut words: Vec<&str> = ErrorKind::ALL.iter().map(|k| k.as_str()).collect();
        words.sort();
        words.dedup();
        assert_eq!(words.len(), ErrorKind::ALL.len());
        for k in ErrorKind::ALL {
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
    }
}
