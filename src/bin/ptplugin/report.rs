//! Printing results and failures, as text or JSON, and the exit codes.
//!
//! Exit codes: 0 success; 1 the plugin failed (any plugin-fault kind, or a component that does
//! not fit); 2 bad usage or input (invalid graph, unreadable file, impossible limits).

use std::io::Write;
use std::process::ExitCode;

use parseltongue_plugins::{Error, Usage};

use crate::args::Format;
use crate::output::{ErrorJson, ErrorOutput, Position, print_json};

/// Exit code for a plugin that failed.
pub const PLUGIN_FAILED: u8 = 1;
/// Exit code for bad usage or input.
pub const BAD_INPUT: u8 = 2;

/// An error on its way to the user, with the usage of the call that ended in it, if any.
/// Boxed: it only travels on the error path.
pub struct Failure {
    pub error: Box<Error>,
    pub usage: Option<Box<Usage>>,
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Failure { error: Box::new(error), usage: None }
    }
}

impl Failure {
    pub fn exit_code(&self) -> u8 {
        if self.error.kind().is_plugin_fault() { PLUGIN_FAILED } else { BAD_INPUT }
    }

    /// Prints the failure (JSON on stdout, text on stderr) and returns the exit code.
    pub fn report(self, format: Format) -> ExitCode {
        let code = self.exit_code();
        match format {
            Format::Json => {
                let _ =
                    print_json(&ErrorOutput { error: error_json(&self.error), usage: self.usage.as_deref() });
            }
            Format::Text => {
                let mut err = std::io::stderr().lock();
                let _ = writeln!(err, "error[{}]: {}", self.error.kind(), self.error);
                for cause in causes(&self.error) {
                    let _ = writeln!(err, "  caused by: {cause}");
                }
                if let Some(usage) = &self.usage {
                    let _ = writeln!(err, "usage: {}", usage_line(usage));
                }
            }
        }
        ExitCode::from(code)
    }
}

/// What an error says under its own message: each source in its chain, leaving out a source
/// whose text its parent already shows (an I/O error's message includes the OS error).
pub fn causes(error: &Error) -> Vec<String> {
    let mut out = Vec::new();
    let mut above = error.to_string();
    let mut next = std::error::Error::source(error);
    while let Some(cause) = next {
        let text = cause.to_string();
        if !above.contains(&text) {
            out.push(text.clone());
        }
        above = text;
        next = cause.source();
    }
    out
}

/// `{"kind": …, "message": …}`, `causes` when the error has any, plus line and column for graph
/// errors.
pub fn error_json(error: &Error) -> ErrorJson {
    let position = match error {
        Error::InvalidGraph { line: Some(line), column, .. }
        | Error::InvalidBaseline { line: Some(line), column, .. } => {
            Some(Position { line: *line, column: *column })
        }
        _ => None,
    };
    ErrorJson { kind: error.kind(), message: error.to_string(), causes: causes(error), position }
}

/// One line: wall and CPU time, fuel, memory, host calls, dropped output.
pub fn usage_line(u: &Usage) -> String {
    let mut parts = vec![format!(
        "{:.2} ms ({:.2} ms CPU)",
        u.wall_time.as_secs_f64() * 1000.0,
        u.cpu_time.as_secs_f64() * 1000.0
    )];
    if let Some(fuel) = u.fuel_consumed {
        parts.push(format!("fuel {fuel}"));
    }
    parts.push(format!("peak memory {}", bytes(u.peak_memory_bytes)));
    parts.push(format!("{} host calls", u.host_calls));
    if u.log_bytes_dropped > 0 {
        parts.push(format!("{} of log dropped", bytes(u.log_bytes_dropped)));
    }
    if u.stdio_bytes_dropped > 0 {
        parts.push(format!("{} of stdout/stderr dropped", bytes(u.stdio_bytes_dropped)));
    }
    if u.fresh_instance {
        parts.push("fresh instance".into());
    }
    parts.join(", ")
}

/// Bytes in the largest unit that keeps a number ≥ 1.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{n} B") } else { format!("{value:.1} {}", UNITS[unit]) }
}
