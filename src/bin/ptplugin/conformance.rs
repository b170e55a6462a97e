//! `ptplugin conformance`: one line per threat, contained or not, under the given policy.
//! Exit 1 if any threat was not contained.

use std::io::Write as _;
use std::process::ExitCode;

use parseltongue_plugins::conformance::{Check, Conformance, Outcome};
use parseltongue_plugins::{Policy, Sandbox};

use crate::args::{ConformanceArgs, Format};
use crate::output::{self, ConformanceOutput, Output};
use crate::report::{Failure, PLUGIN_FAILED};

pub async fn conformance(sandbox: &Sandbox, args: ConformanceArgs) -> Result<ExitCode, Failure> {
    let policy = match &args.policy {
        Some(path) => Policy::from_path(path)?,
        None => Policy::default(),
    };
    let source =
        args.policy.as_ref().map_or("none (nothing allowed)".to_string(), |p| p.display().to_string());
    let check = Conformance::new(sandbox.clone()).policy(policy).give_up_after(args.give_up_after);
    let text = args.format == Format::Text;
    if text {
        println!("isolation conformance — policy: {source}");
        println!("{:<12} {:<24} {:<18} detail", "threat", "plugin", "result");
    }
    let report = check
        .run(|c| {
            if text {
                // Lines as checks finish: a loop check can take its whole time limit.
                println!("{}", line(c));
                let _ = std::io::stdout().flush();
            }
        })
        .await;
    let out =
        ConformanceOutput { policy: &source, all_contained: report.all_contained(), checks: &report.checks };
    output::print(args.format, &out)?;
    Ok(if report.all_contained() { ExitCode::SUCCESS } else { ExitCode::from(PLUGIN_FAILED) })
}

fn line(c: &Check) -> String {
    format!("{:<12} {:<24} {:<18} {}", c.threat.name(), c.plugin, c.outcome.label(), c.detail)
}

/// The text form is the summary: each check's line was printed as it finished.
impl Output for ConformanceOutput<'_> {
    fn text(&self) -> String {
        format!("{}\n", summary(self.checks))
    }
}

fn summary(checks: &[Check]) -> String {
    let count = |o: Outcome| checks.iter().filter(|c| c.outcome == o).count();
    let failed: Vec<&str> =
        checks.iter().filter(|c| c.outcome == Outcome::NotContained).map(|c| c.threat.name()).collect();
    let mut out = format!(
        "{} threats: {} contained, {} allowed by policy, {} not contained",
        checks.len(),
        count(Outcome::Contained),
        count(Outcome::AllowedByPolicy),
        failed.len()
    );
    if !failed.is_empty() {
        out.push_str(&format!("\nNOT CONTAINED: {}", failed.join(", ")));
    }
    out
}
