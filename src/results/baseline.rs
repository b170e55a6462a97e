//! A previous result read back to compare with: SARIF 2.1.0 that ptplugin wrote, or our JSON
//! results. Anything else — another tool's SARIF, another SARIF version, a cut-off file, a
//! `ptplugin run` output — is refused with what it is and where, never half-read.

use std::path::Path;

use crate::contract::Severity;
use crate::error::{Error, Result};
use crate::files;
use crate::results::fingerprint::FINGERPRINT_KEY;
use crate::results::model::{RESULTS_FORMAT, Results};
use crate::results::sarif::RUN_MARKER;

/// The findings of a previous run, each with its fingerprint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Baseline {
    /// Where it was read from.
    pub path: String,
    /// Its findings.
    pub findings: Vec<BaselineFinding>,
    /// Plugins that produced results in it (a plugin that failed then has no findings to
    /// compare with).
    pub plugins: Vec<String>,
}

/// One finding of a baseline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaselineFinding {
    /// The plugin that reported it.
    pub plugin: String,
    /// Its rule.
    pub rule: String,
    /// Its severity.
    pub severity: Severity,
    /// Its message.
    pub message: String,
    /// Its fingerprint.
    pub fingerprint: String,
}

impl Baseline {
    /// Reads a baseline file (at most [`files::MAX_RESULTS_BYTES`]).
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if it cannot be read; [`Error::InvalidBaseline`] with a line and column
    /// (or a JSON path) if it is not one of ours.
    pub fn read(path: &Path) -> Result<Baseline> {
        let text = files::read_text(path, "baseline", files::MAX_RESULTS_BYTES)?;
        Baseline::parse(&path.display().to_string(), &text)
    }

    /// Reads a baseline from its text; `path` names it in errors.
    ///
    /// # Errors
    ///
    /// As [`Baseline::read`].
    pub fn parse(path: &str, text: &str) -> Result<Baseline> {
        let bad = |message: String, line: Option<usize>, column: Option<usize>| Error::InvalidBaseline {
            path: path.to_string(),
            message,
            line,
            column,
        };
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            let what = if e.is_eof() { "the file ends early (cut off?)" } else { "not JSON" };
            bad(format!("{what}: {e}"), Some(e.line()), Some(e.column()))
        })?;
        let Some(object) = value.as_object() else {
            return Err(bad(format!("a JSON {} where a result object belongs", kind_of(&value)), None, None));
        };
        if object.contains_key("runs") {
            let version = object.get("version").and_then(|v| v.as_str()).unwrap_or("(none)");
            if version != "2.1.0" {
                let (line, column) = key_position(text, "version").unzip();
                return Err(bad(
                    format!(
                        "SARIF version {version}; only SARIF 2.1.0 is read (write it again with this ptplugin)"
                    ),
                    line,
                    column,
                ));
            }
            return from_sarif(path, text).map_err(|(message, line, column)| bad(message, line, column));
        }
        match object.get("format").and_then(|f| f.as_str()) {
            Some(RESULTS_FORMAT) => {}
            Some(other) => {
                return Err(bad(
                    format!("results format `{other}`; this ptplugin reads `{RESULTS_FORMAT}`"),
                    None,
                    None,
                ));
            }
            None => {
                return Err(bad(
                    "neither SARIF 2.1.0 (no `runs`) nor ptplugin's JSON results (no `format`): a baseline is \
                     the output of an earlier `ptplugin analyze --format sarif` or `--format json`"
                        .into(),
                    None,
                    None,
                ));
            }
        }
        let mut de = serde_json::Deserializer::from_str(text);
        let results: Results = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let (line, column) = (e.inner().line(), e.inner().column());
            bad(format!("at {}: {}", e.path(), e.inner()), Some(line), Some(column))
        })?;
        let findings = results
            .findings()
            .map(|(p, f)| BaselineFinding {
                plugin: p.name.clone(),
                rule: f.finding.rule.clone(),
                severity: f.finding.severity,
                message: f.finding.message.clone(),
                fingerprint: f.fingerprint.clone(),
            })
            .collect();
        let plugins = results.plugins.iter().filter(|p| p.error.is_none()).map(|p| p.name.clone()).collect();
        Ok(Baseline { path: path.to_string(), findings, plugins })
    }
}

type Problem = (String, Option<usize>, Option<usize>);

fn from_sarif(path: &str, text: &str) -> std::result::Result<Baseline, Problem> {
    let mut de = serde_json::Deserializer::from_str(text);
    let log: serde_sarif::sarif::Sarif = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let (line, column) = (e.inner().line(), e.inner().column());
        (format!("not valid SARIF 2.1.0 at {}: {}", e.path(), e.inner()), Some(line), Some(column))
    })?;
    let mut findings = Vec::new();
    let mut plugins = Vec::new();
    for (i, run) in log.runs.iter().enumerate() {
        let tool = &run.tool.driver.name;
        let ours = run.properties.as_ref().is_some_and(|p| p.additional_properties.contains_key(RUN_MARKER));
        if !ours {
            return Err((
                format!(
                    "runs[{i}] (tool `{tool}`) was not written by ptplugin: a baseline must be an earlier \
                     `ptplugin analyze --format sarif` (its runs carry a `{RUN_MARKER}` property and \
                     `{FINGERPRINT_KEY}` fingerprints)"
                ),
                None,
                None,
            ));
        }
        let failed = run.invocations.iter().flatten().any(|inv| !inv.execution_successful);
        if !failed {
            plugins.push(tool.clone());
        }
        for (j, result) in run.results.iter().flatten().enumerate() {
            let at = format!("runs[{i}].results[{j}]");
            let fingerprint =
                result.partial_fingerprints.as_ref().and_then(|p| p.get(FINGERPRINT_KEY)).ok_or_else(
                    || (format!("{at} has no `{FINGERPRINT_KEY}` partial fingerprint"), None, None),
                )?;
            let rule = result.rule_id.clone().ok_or_else(|| (format!("{at} has no ruleId"), None, None))?;
            use serde_sarif::sarif::ResultLevel;
            let severity = match result.level {
                Some(ResultLevel::Error) => Severity::Error,
                Some(ResultLevel::Note) | Some(ResultLevel::None) => Severity::Note,
                Some(ResultLevel::Warning) | None => Severity::Warning,
            };
            findings.push(BaselineFinding {
                plugin: tool.clone(),
                rule,
                severity,
                message: result.message.text.clone().unwrap_or_default(),
                fingerprint: fingerprint.clone(),
            });
        }
    }
    Ok(Baseline { path: path.to_string(), findings, plugins })
}

/// Where the top-level field `key` is in `text` (1-based line and column), to point at a field
/// that is wrong (the parsed value no longer knows where it was). Nested fields of the same name
/// (a run's `tool.driver.version`) are skipped: only depth 1 counts.
fn key_position(text: &str, key: &str) -> Option<(usize, usize)> {
    let quoted = format!("\"{key}\"");
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    let (mut line, mut line_start) = (1, 0);
    for (i, c) in text.char_indices() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '\n' => (line, line_start) = (line + 1, i + 1),
            '{' | '[' => depth += 1,
            '}' | ']' => depth = depth.saturating_sub(1),
            '"' if depth == 1 && text[i..].starts_with(&quoted) => {
                return Some((line, text[line_start..i].chars().count() + 1));
            }
            '"' => in_string = true,
            _ => {}
        }
    }
    None
}

fn kind_of(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_top_level_key_is_found_past_nested_ones_and_strings() {
        let text = "{\n  \"x\": \"\\\"version\\\" {\",\n  \"runs\": [{\"version\": \"1\"}],\n  \"version\": \"2.0.0\"\n}";
        assert_eq!(key_position(text, "version"), Some((4, 3)));
        assert_eq!(key_position(text, "missing"), None);
        let e = Baseline::parse("b.sarif", text).unwrap_err();
        assert!(
            e.to_string().starts_with("invalid baseline b.sarif at line 4, column 3: SARIF version 2.0.0"),
            "{e}"
        );
    }
}
