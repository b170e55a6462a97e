//! What operators see and check: the conformance command, metrics, the live view.

use serde_json::Value;

use crate::support::{output, ptplugin};

fn conformance(extra: &[&str]) -> (Option<i32>, String, String) {
    output(ptplugin().arg("conformance").args(extra))
}

fn policy_file(text: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policy.toml");
    std::fs::write(&path, text).unwrap();
    let path = path.display().to_string();
    (dir, path)
}

/// The result column of the line for `threat`.
fn verdict<'a>(stdout: &'a str, threat: &str) -> &'a str {
    stdout
        .lines()
        .find(|l| l.starts_with(threat) && l[threat.len()..].starts_with("  "))
        .unwrap_or_else(|| panic!("no line for {threat}:\n{stdout}"))
}

const THREATS: [&str; 10] = [
    "loop",
    "memory bomb",
    "stack",
    "output size",
    "huge list",
    "log flood",
    "fs escape",
    "net escape",
    "env",
    "slot leak",
];

#[test]
fn conformance_is_green_on_the_defaults() {
    let (code, stdout, stderr) = conformance(&[]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    for threat in THREATS {
        let line = verdict(&stdout, threat);
        assert!(line.contains(" contained "), "{line}");
    }
    assert!(verdict(&stdout, "loop").contains("stopped: timeout"), "{stdout}");
    assert!(verdict(&stdout, "slot leak").contains("no trace"), "{stdout}");
    assert!(stdout.contains("10 threats: 10 contained, 0 allowed by policy, 0 not contained"), "{stdout}");
}

#[test]
fn conformance_turns_red_with_a_clear_line_when_a_limit_is_lifted() {
    let (_dir, policy) = policy_file("[defaults.limits]\ntimeout-ms = 600000\n");
    let (code, stdout, stderr) = conformance(&["--policy", &policy, "--give-up-after", "2s"]);
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    let line = verdict(&stdout, "loop");
    assert!(line.contains("NOT CONTAINED"), "{line}");
    assert!(line.contains("still running after 2 s: a plugin may run for 600000 ms per call"), "{line}");
    for threat in &THREATS[1..] {
        assert!(verdict(&stdout, threat).contains(" contained "), "{threat}: {stdout}");
    }
    assert!(stdout.trim_end().ends_with("NOT CONTAINED: loop"), "{stdout}");
}

#[test]
fn conformance_reports_lifted_output_limits_and_grants_as_json() {
    let (_dir, policy) = policy_file(
        "[defaults]\nread-dirs = [\"/etc\"]\n[defaults.limits]\nmax-output-kb = 100000\nmax-findings = 5000000\n",
    );
    let (code, stdout, stderr) = conformance(&["--policy", &policy, "--format", "json"]);
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["all_contained"], false);
    let outcome = |threat: &str| {
        let check = v["checks"].as_array().unwrap().iter().find(|c| c["threat"] == threat).unwrap();
        (check["outcome"].as_str().unwrap().to_string(), check["detail"].as_str().unwrap().to_string())
    };
    let (o, detail) = outcome("output-size");
    assert_eq!(o, "not-contained");
    assert!(detail.starts_with("returned 200000 entries, 20.0 MB of text to the host"), "{detail}");
    assert_eq!(outcome("huge-list").0, "not-contained");
    let (o, detail) = outcome("fs-escape");
    assert_eq!(o, "allowed-by-policy", "{detail}");
    assert!(detail.contains("read /etc/passwd") && detail.contains("granted: read-dir /etc"), "{detail}");
    assert!(!detail.contains("root:"), "no file contents in reports: {detail}");
    assert_eq!(outcome("loop").0, "contained");
}
