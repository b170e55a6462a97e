//! `ptplugin audit verify`: is the audit trail intact?

use std::fmt::Write as _;
use std::process::ExitCode;

use parseltongue_plugins::audit::{HeadCheck, VerifyReport, verify as verify_log};

use crate::args::AuditVerifyArgs;
use crate::output::{self, AuditVerifyOutput, Output};
use crate::report::{Failure, PLUGIN_FAILED};

/// Exit 0 when every record verifies; 1 when a record is bad (named) or the last line is torn.
pub fn verify(args: AuditVerifyArgs) -> Result<ExitCode, Failure> {
    let report = verify_log(&args.file)?;
    let out = AuditVerifyOutput {
        file: args.file.display().to_string(),
        report: &report,
        intact: report.is_intact(),
    };
    output::print(args.format, &out)?;
    Ok(if report.is_intact() { ExitCode::SUCCESS } else { ExitCode::from(PLUGIN_FAILED) })
}

impl Output for AuditVerifyOutput<'_> {
    fn text(&self) -> String {
        text(&self.file, self.report)
    }
}

fn text(file: &str, r: &VerifyReport) -> String {
    let mut out = String::new();
    match (&r.first_bad, &r.head) {
        (Some(bad), _) => {
            let _ = writeln!(out, "{file}: TAMPERED at line {}: {}", bad.line, bad.reason);
            let _ = writeln!(out, "the {} records before it verify", r.valid_records);
        }
        (None, HeadCheck::Unreadable(why)) => {
            let _ = writeln!(
                out,
                "{file}: TAMPERED head file: {why}; the {} records verify, but their end cannot be checked",
                r.valid_records
            );
        }
        (None, _) if r.torn_tail.is_none() => {
            let _ = writeln!(out, "{file}: intact, {} records", r.valid_records);
        }
        (None, _) => {}
    }
    if let Some(torn) = &r.torn_tail {
        let _ = writeln!(
            out,
            "{file}: line {} is torn (an incomplete write, e.g. a crash); the {} records before it verify; \
             the next host to open the log moves it to {file}.torn",
            torn.line, r.valid_records
        );
    }
    if r.head == HeadCheck::Missing {
        let _ =
            writeln!(out, "note: no head file beside it, so removal of the last records cannot be detected");
    }
    out
}
