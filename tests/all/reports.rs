//! Results people use (`ptplugin analyze`, `run --format sarif|html`): SARIF checked by
//! Microsoft's SARIF Multitool, the baseline gate on real cycles, bad baselines and outputs
//! refused before any plugin runs, failed plugins reported beside the others, atomic writes.
//! The HTML report in a real browser is in `report_browser.rs`.

use std::path::{Path, PathBuf};

use parseltongue_plugins::{Graph, GraphEdge, GraphNode};
use serde_json::Value;

use crate::support::{output, ptplugin};

/// What `analyze` runs by default: the bundled analyses of contract 0.2, by name.
const DEFAULT_ANALYSES: [&str; 7] =
    ["api-surface", "blast-radius", "cycle-finder", "dead-code", "god-objects", "node-census", "page-rank"];

pub fn sample_dir() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/samples/parseltongue-v1.7.2").to_string()
}

/// `ptplugin ARGS`: exit code, stdout, stderr.
pub fn cli(args: &[&str]) -> (Option<i32>, String, String) {
    output(ptplugin().args(args).arg("-q"))
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap())
        .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// Microsoft's SARIF Multitool (`sarif validate`), installed by `.ci/test-deps` from npm: the
/// validator's own log of what it found in `file`, as (level, rule id, message arguments).
fn validate(file: &Path) -> Vec<(String, String, String)> {
    let log = file.with_extension("validation.sarif");
    let out = std::process::Command::new("sarif-multitool")
        .arg("validate")
        .arg(file)
        .arg("--output")
        .arg(&log)
        .output()
        .expect("sarif-multitool runs (.ci/test-deps installs it; .ci/test puts it on PATH)");
    assert!(out.status.success(), "sarif-multitool: {}", String::from_utf8_lossy(&out.stderr));
    let log = json(&log);
    let run = &log["runs"][0];
    assert_eq!(run["invocations"][0]["executionSuccessful"], true, "the validator ran: {run}");
    run["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                // A result without a level is a warning (SARIF's default).
                r["level"].as_str().unwrap_or("warning").to_string(),
                r["ruleId"].as_str().unwrap_or_default().to_string(),
                r["message"]["arguments"].to_string(),
            )
        })
        .collect()
}

#[test]
fn sarif_of_the_real_sample_validates_with_microsofts_sarif_multitool() {
    let dir = tempfile::tempdir().unwrap();
    let sarif = dir.path().join("results.sarif");
    let (code, _, err) =
        cli(&["analyze", "--graph", &sample_dir(), "--format", "sarif", "-o", sarif.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    let findings = validate(&sarif);
    let errors: Vec<_> = findings.iter().filter(|(level, ..)| level == "error").collect();
    assert!(errors.is_empty(), "SARIF Multitool errors: {errors:#?}");
    println!("SARIF Multitool on the real sample: {} errors, {} warnings", errors.len(), findings.len());

    // The validator does find errors (a control): the same log with a line 0 and a bad URI.
    let mut broken = json(&sarif);
    let location = &mut broken["runs"][2]["results"][0]["locations"][0]["physicalLocation"];
    location["region"]["startLine"] = 0.into();
    location["artifactLocation"]["uri"] = "C:\\not a uri".into();
    let broken_path = dir.path().join("broken.sarif");
    std::fs::write(&broken_path, serde_json::to_string(&broken).unwrap()).unwrap();
    let rules: Vec<String> =
        validate(&broken_path).into_iter().filter(|(l, ..)| l == "error").map(|(_, rule, _)| rule).collect();
    assert!(rules.contains(&"JSON1008".to_string()) && rules.contains(&"SARIF1002".to_string()), "{rules:?}");

    // What code scanning reads: one run per plugin, its rules, located results, fingerprints.
    let log = json(&sarif);
    assert_eq!(log["version"], "2.1.0");
    let runs = log["runs"].as_array().unwrap();
    let tools: Vec<&str> = runs.iter().map(|r| r["tool"]["driver"]["name"].as_str().unwrap()).collect();
    assert_eq!(tools, DEFAULT_ANALYSES);
    let cycles = &runs[2];
    let driver = &cycles["tool"]["driver"];
    assert_eq!(driver["properties"]["sha256"].as_str().unwrap().len(), 64);
    let rule_ids: Vec<&str> =
        driver["rules"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert!(rule_ids.contains(&"cycle.dependency") && rule_ids.contains(&"cycle.module"), "{rule_ids:?}");
    let first = cycles["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["message"]["text"].as_str().unwrap().contains("init_parser -> new"))
        .expect("the init_parser cycle");
    assert_eq!(first["ruleId"], "cycle.dependency");
    assert_eq!(first["level"], "warning");
    assert_eq!(rule_ids[first["ruleIndex"].as_u64().unwrap() as usize], "cycle.dependency");
    let physical = &first["locations"][0]["physicalLocation"];
    assert_eq!(physical["artifactLocation"]["uri"], "src-crates/parseltongue-core/src/query_extractor.rs");
    assert_eq!(physical["artifactLocation"]["uriBaseId"], "SRCROOT");
    assert_eq!(physical["region"]["startLine"], 316);
    let logical = &first["locations"][0]["logicalLocations"][0];
    assert!(logical["fullyQualifiedName"].as_str().unwrap().contains("init_parser"), "{logical}");
    assert_eq!(first["relatedLocations"].as_array().unwrap().len(), 1);
    assert_eq!(first["partialFingerprints"]["ptpluginFindingHash/v1"].as_str().unwrap().len(), 32);
    assert!(runs.iter().all(|r| r["invocations"][0]["executionSuccessful"] == true));
}

fn node(id: &str, file: &str, line: u32) -> GraphNode {
    GraphNode {
        id: id.into(),
        node_type: "function".into(),
        metadata: vec![
            ("name".into(), id.into()),
            ("file".into(), file.into()),
            ("line_start".into(), line.to_string()),
        ],
    }
}

/// A small codebase: `ab` closes the cycle `a ↔ b`, `cd` closes `c ↔ d`; `shift` moves every
/// line down (an edit above them).
fn codebase(dir: &Path, name: &str, shift: u32, ab: bool, cd: bool) -> PathBuf {
    let nodes = ["a", "b", "c", "d", "e"]
        .iter()
        .enumerate()
        .map(|(i, id)| node(id, "src/lib.rs", 10 * i as u32 + 1 + shift));
    let mut edges = vec![("a", "b"), ("c", "d"), ("d", "e")];
    if ab {
        edges.push(("b", "a"));
    }
    if cd {
        edges.push(("d", "c"));
    }
    let edges = edges
        .into_iter()
        .map(|(s, t)| GraphEdge { source: s.into(), target: t.into(), edge_type: "Calls".into() })
        .collect();
    let path = dir.join(name);
    std::fs::write(&path, Graph::new(nodes.collect(), edges).unwrap().to_json()).unwrap();
    path
}

#[test]
fn a_new_cycle_fails_the_gate_and_an_unchanged_one_passes_after_lines_move() {
    let dir = tempfile::tempdir().unwrap();
    let p = |path: &Path| path.to_str().unwrap().to_string();
    let before = codebase(dir.path(), "before.json", 0, true, false);
    let moved = codebase(dir.path(), "moved.json", 7, true, false);
    let after = codebase(dir.path(), "after.json", 7, true, true);
    let fixed = codebase(dir.path(), "fixed.json", 0, false, false);
    for format in ["sarif", "json"] {
        let baseline = dir.path().join(format!("baseline.{format}"));
        let (code, _, err) = cli(&[
            "analyze",
            "--graph",
            &p(&before),
            "--plugin",
            "bundled:cycle-finder",
            "--format",
            format,
            "-o",
            &p(&baseline),
        ]);
        assert_eq!(code, Some(0), "{err}");

        // Lines moved, same cycle: unchanged, the gate passes.
        let gate = |graph: &Path, extra: &[&str]| {
            let mut args =
                vec!["analyze", "--graph", graph.to_str().unwrap(), "--plugin", "bundled:cycle-finder"];
            args.extend(["--baseline", baseline.to_str().unwrap(), "--format", "json"]);
            args.extend(extra);
            let (code, out, err) = cli(&args);
            let value: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out} {err}"));
            (code, value)
        };
        let (code, v) = gate(&moved, &[]);
        assert_eq!(code, Some(0), "{v}");
        assert_eq!(v["baseline"]["new"], 0);
        assert_eq!(v["baseline"]["unchanged"], 1);
        assert_eq!(v["gate"]["passed"], true);
        assert_eq!(v["plugins"][0]["findings"][0]["baseline_state"], "unchanged");
        assert_eq!(v["plugins"][0]["findings"][0]["nodes"][0]["line_start"], 8);

        // A new cycle: new, the gate fails (exit 3); the old one is still unchanged.
        let (code, v) = gate(&after, &[]);
        assert_eq!(code, Some(3), "{v}");
        assert_eq!((v["baseline"]["new"].as_u64(), v["baseline"]["unchanged"].as_u64()), (Some(1), Some(1)));
        assert_eq!(v["gate"]["failing"], 1);
        let states: Vec<(String, String)> = v["plugins"][0]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["message"].as_str().unwrap().to_string(),
                    f["baseline_state"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        assert!(
            states.contains(&("dependency cycle of 2 nodes: c -> d -> c".into(), "new".into())),
            "{states:?}"
        );
        assert!(
            states.contains(&("dependency cycle of 2 nodes: a -> b -> a".into(), "unchanged".into())),
            "{states:?}"
        );

        // Cycles are warnings: a gate on errors only passes; `any` fails on the old one too.
        assert_eq!(gate(&after, &["--min-severity", "error"]).0, Some(0));
        let (code, v) = gate(&moved, &["--fail-on", "any"]);
        assert_eq!((code, v["gate"]["failing"].as_u64()), (Some(3), Some(1)));
        // And the cycle fixed: absent, nothing new, passes.
        let (code, v) = gate(&fixed, &[]);
        assert_eq!(code, Some(0), "{v}");
        assert_eq!(v["baseline"]["absent"][0]["message"], "dependency cycle of 2 nodes: a -> b -> a", "{v}");
        // The report says what is new and what went.
        let html = dir.path().join(format!("report-{format}.html"));
        let report = |graph: &Path| {
            let (code, _, err) = cli(&[
                "analyze",
                "--graph",
                &p(graph),
                "--plugin",
                "bundled:cycle-finder",
                "--baseline",
                &p(&baseline),
                "--format",
                "html",
                "-o",
                &p(&html),
            ]);
            (code, std::fs::read_to_string(&html).unwrap_or_else(|e| panic!("{e}: {err}")))
        };
        let (code, page) = report(&after);
        assert_eq!(code, Some(3), "{page}");
        assert!(page.contains("<strong>1 new</strong>, 1 unchanged, 0 absent."), "{page}");
        assert!(
            page.contains("Gate <strong>failed</strong>: 1 findings at warning or worse that are new."),
            "{page}"
        );
        assert!(page.contains(r#"<td class="state-new">new</td>"#), "{page}");
        let (code, page) = report(&fixed);
        assert_eq!(code, Some(0));
        assert!(page.contains("Gone since the baseline (1)"), "{page}");
        assert!(page.contains("dependency cycle of 2 nodes: a -&gt; b -&gt; a"), "{page}");
    }
}

#[test]
fn bad_baselines_and_outputs_are_refused_before_any_plugin_runs() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_string()
    };
    let mut full = String::new();
    let (code, out, _) =
        cli(&["analyze", "--graph", &sample_dir(), "--plugin", "bundled:cycle-finder", "--format", "sarif"]);
    assert_eq!(code, Some(0));
    full.push_str(&out);
    // The graph does not even exist: what is wrong with the baseline or output is said first.
    let refuse = |extra: &[&str]| {
        let mut args = vec!["analyze", "--graph", "/no/such/graph.json", "--format", "json"];
        args.extend(extra);
        let (code, out, _) = cli(&args);
        let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
        (code, v["error"].clone())
    };
    let cut = write("cut.sarif", &full[..full.len() / 2]);
    let (code, e) = refuse(&["--baseline", &cut]);
    assert_eq!((code, e["kind"].as_str()), (Some(2), Some("invalid-baseline")), "{e}");
    assert!(e["message"].as_str().unwrap().contains("ends early"), "{e}");
    assert!(e["line"].as_u64().unwrap() > 1 && e["column"].as_u64().is_some(), "{e}");

    let old = write("old.sarif", &full.replace(r#""version": "2.1.0""#, r#""version": "2.0.0""#));
    let (code, e) = refuse(&["--baseline", &old]);
    assert_eq!((code, e["kind"].as_str()), (Some(2), Some("invalid-baseline")), "{e}");
    assert!(e["message"].as_str().unwrap().contains("SARIF version 2.0.0"), "{e}");
    // Where: the log's `version` field.
    let line = full.lines().position(|l| l.contains(r#""version": "2.1.0""#)).unwrap() + 1;
    assert_eq!(e["line"].as_u64(), Some(line as u64), "{e}");

    let other = write(
        "eslint.sarif",
        r#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"ESLint"}},"results":[{"ruleId":"no-unused-vars","message":{"text":"x"}}]}]}"#,
    );
    let (code, e) = refuse(&["--baseline", &other]);
    assert_eq!((code, e["kind"].as_str()), (Some(2), Some("invalid-baseline")), "{e}");
    assert!(
        e["message"].as_str().unwrap().contains("runs[0] (tool `ESLint`) was not written by ptplugin"),
        "{e}"
    );

    // A `run --format json` output is not a result set; a SARIF with a bad level is not SARIF.
    let (_, run_json, _) =
        cli(&["run", "--plugin", "bundled:cycle-finder", "--graph", &sample_dir(), "--format", "json"]);
    let run_json = write("run.json", &run_json);
    let (code, e) = refuse(&["--baseline", &run_json]);
    assert_eq!((code, e["kind"].as_str()), (Some(2), Some("invalid-baseline")), "{e}");
    assert!(e["message"].as_str().unwrap().contains("neither SARIF 2.1.0"), "{e}");
    let level = write("level.sarif", &full.replacen(r#""level": "warning""#, r#""level": "severe""#, 1));
    let (_, e) = refuse(&["--baseline", &level]);
    assert!(
        e["message"].as_str().unwrap().contains("not valid SARIF 2.1.0 at runs[0].results[0].level"),
        "{e}"
    );

    // An output in a directory that does not exist is an `io` error, before the graph is read.
    let (code, e) = refuse(&["-o", "/no/such/dir/report.html"]);
    assert_eq!((code, e["kind"].as_str()), (Some(2), Some("io")), "{e}");
    assert!(e["message"].as_str().unwrap().contains("no directory /no/such/dir"), "{e}");
    // Text errors print the position too.
    let (code, _, err) = cli(&["analyze", "--graph", &sample_dir(), "--baseline", &cut]);
    assert_eq!(code, Some(2));
    assert!(err.contains("error[invalid-baseline]: invalid baseline") && err.contains(" at line "), "{err}");
}

#[test]
fn a_failed_plugin_is_reported_the_others_still_report_and_the_file_is_whole() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("results.json");
    std::fs::write(&report, "an older report").unwrap();
    let (code, _, err) = cli(&[
        "analyze",
        "--graph",
        &sample_dir(),
        "--plugin",
        "bundled:cycle-finder",
        "--plugin",
        "bundled:fault-loop",
        "--plugin",
        "bundled:fault-panic",
        "--timeout-ms",
        "200",
        "--format",
        "json",
        "-o",
        report.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(1), "a plugin failed: exit 1 ({err})");
    // Written whole, once, with nothing left beside it.
    let v = json(&report);
    let names: Vec<String> =
        dir.path().read_dir().unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    assert_eq!(names, ["results.json"]);
    let plugin =
        |name: &str| v["plugins"].as_array().unwrap().iter().find(|p| p["name"] == name).unwrap().clone();
    assert_eq!(plugin("fault-loop")["error"]["kind"], "timeout");
    assert_eq!(plugin("fault-panic")["error"]["kind"], "trap");
    let cycles = plugin("cycle-finder");
    assert!(cycles.get("error").is_none());
    assert_eq!(cycles["findings"].as_array().unwrap().len(), 10);

    // The same in SARIF: failed invocations with a notification naming the kind.
    let sarif = dir.path().join("results.sarif");
    let (code, ..) = cli(&[
        "analyze",
        "--graph",
        &sample_dir(),
        "--plugin",
        "bundled:cycle-finder",
        "--plugin",
        "bundled:fault-panic",
        "--format",
        "sarif",
        "-o",
        sarif.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(1));
    let log = json(&sarif);
    let run = log["runs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["tool"]["driver"]["name"] == "fault-panic")
        .unwrap();
    let invocation = &run["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    let note = &invocation["toolExecutionNotifications"][0];
    assert_eq!((note["level"].as_str(), note["descriptor"]["id"].as_str()), (Some("error"), Some("trap")));
    assert!(validate(&sarif).iter().all(|(level, ..)| level != "error"));

    // Text: the failure beside the other plugin's findings.
    let (code, out, _) = cli(&[
        "analyze",
        "--graph",
        &sample_dir(),
        "--plugin",
        "bundled:cycle-finder",
        "--plugin",
        "bundled:fault-panic",
    ]);
    assert_eq!(code, Some(1));
    assert!(out.contains("== fault-panic — FAILED [trap]"), "{out}");
    assert!(
        out.contains(
            "warning cycle.dependency: dependency cycle of 2 nodes: init_parser -> new -> init_parser"
        ),
        "{out}"
    );
}

#[test]
fn run_writes_sarif_too_and_every_bundled_analysis_is_the_default() {
    let (code, out, err) =
        cli(&["run", "--plugin", "bundled:god-objects", "--graph", &sample_dir(), "--format", "sarif"]);
    assert_eq!(code, Some(0), "{err}");
    let log: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(log["runs"].as_array().unwrap().len(), 1);
    let rules: Vec<&str> =
        log["runs"][0]["results"].as_array().unwrap().iter().map(|r| r["ruleId"].as_str().unwrap()).collect();
    assert!(!rules.is_empty() && rules.iter().all(|r| r.starts_with("god-object.")), "{rules:?}");
    assert_eq!(log["runs"][0]["tool"]["driver"]["name"], "god-objects");

    let (code, out, _) = cli(&["analyze", "--graph", &sample_dir(), "--format", "json"]);
    assert_eq!(code, Some(0));
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["format"], "ptplugin-results/1");
    let names: Vec<&str> =
        v["plugins"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    // Contract 0.2 analyses only: the `legacy-*` ones repeat them as text.
    assert_eq!(names, DEFAULT_ANALYSES);
    assert!(
        v["plugins"].as_array().unwrap().iter().all(|p| p["usage"]["peak_memory_bytes"].as_u64() > Some(0))
    );
}

#[test]
fn a_plugin_directory_is_analysed_and_a_plugin_that_cannot_load_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let plugins = dir.path().join("plugins");
    let cycles = plugins.join("cycles");
    std::fs::create_dir_all(&cycles).unwrap();
    std::fs::write(
        cycles.join("plugin.toml"),
        "name = \"my-cycles\"\nversion = \"1.2.3\"\ncomponent = \"p.wasm\"\n",
    )
    .unwrap();
    std::fs::write(cycles.join("p.wasm"), parseltongue_plugins::bundled::get("cycle-finder").unwrap().wasm)
        .unwrap();
    std::fs::write(plugins.join("broken.wasm"), b"\0asm\x0d\0\x01\0 not really").unwrap();
    let (code, out, err) = cli(&[
        "analyze",
        "--graph",
        &sample_dir(),
        "--plugins",
        plugins.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(code, Some(1), "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let entries = v["plugins"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{v}");
    let mine = entries.iter().find(|p| p["name"] == "my-cycles").expect("the manifest's plugin");
    assert_eq!(mine["version"], "1.2.3");
    assert_eq!(mine["findings"].as_array().unwrap().len(), 10);
    assert!(mine["rules"].as_array().unwrap().iter().any(|r| r["id"] == "cycle.dependency"));
    let broken = entries.iter().find(|p| p.get("error").is_some()).expect("the broken one");
    assert!(broken["name"].as_str().unwrap().contains("broken"), "{broken}");
    assert_eq!(broken["error"]["kind"], "invalid-component", "{broken}");

    let (code, _, err) = cli(&["analyze", "--graph", &sample_dir(), "--plugins", "/no/such/dir"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("--plugins /no/such/dir: no such directory"), "{err}");
}
