//! What a hostile new user found, as tests of the release behaviour of `ptplugin`: concurrent
//! processes on one audit log, hostile and special files, the CLI's error contract. Each test
//! names the finding it pins (issue 14's numbering).

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use parseltongue_plugins::bundled;
use serde_json::Value;

use crate::support::{output, plugin_dir, ptplugin};

fn sample() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/sample-graph.json").display().to_string()
}

fn run(args: &[&str]) -> (Option<i32>, String, String) {
    output(ptplugin().args(args))
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {text}"))
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// 1. Twenty `run --audit F` processes at once: one intact chain holding every record.
#[test]
fn concurrent_runs_append_one_intact_audit_chain() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.jsonl");
    let graph = sample();
    let args = ["run", "--plugin", "bundled:node-census", "--graph", &graph, "--audit", path(&log), "-q"];
    // One run first: the compile cache is warm, so the twenty overlap in their writes.
    assert_eq!(run(&args).0, Some(0));
    let single = std::fs::read_to_string(&log).unwrap().lines().count();
    let children: Vec<std::process::Child> = (0..20)
        .map(|_| ptplugin().args(args).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap())
        .collect();
    for child in children {
        let out: Output = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let (code, stdout, _) = run(&["audit", "verify", path(&log), "--format", "json"]);
    let report = json(&stdout);
    assert_eq!(code, Some(0), "{report}");
    assert_eq!(report["intact"], true);
    assert_eq!(report["valid_records"], 21 * single, "every run's records: {report}");
    let text = std::fs::read_to_string(&log).unwrap();
    let count = |kind: &str| text.lines().filter(|l| l.contains(&format!("\"record\":\"{kind}\""))).count();
    assert_eq!((count("opened"), count("call-end")), (21, 21));
    // And the log still takes appends.
    assert_eq!(run(&args).0, Some(0));
    assert_eq!(run(&["audit", "verify", path(&log)]).0, Some(0));
}

/// 3. Random bytes over a kv file: a clean error, never a panic (exit 101).
#[test]
fn a_damaged_kv_file_is_a_clean_error() {
    let plugin = plugin_dir(
        "counter",
        "kv-counter",
        "component = \"p.wasm\"\n[capabilities]\nkv = { reason = \"counts\" }\n",
    );
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.toml");
    std::fs::write(&policy, "[defaults]\nkv = true\n").unwrap();
    let kv = dir.path().join("d.redb");
    let graph = sample();
    let args = [
        "run",
        "--plugin",
        path(plugin.path()),
        "--graph",
        &graph,
        "--policy",
        path(&policy),
        "--kv",
        path(&kv),
        "--format",
        "json",
    ];
    let (code, out, err) = run(&args);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(json(&out)["findings"][0]["message"], "count 1");
    let clean = std::fs::read(&kv).unwrap();
    let mut refused = 0;
    for seed in 0..12u64 {
        // Overwrite 2 KiB at a different place each time (a simple LCG picks it).
        let mut bytes = clean.clone();
        let start = (seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407)
            % bytes.len() as u64) as usize;
        for (i, b) in bytes[start..].iter_mut().take(2048).enumerate() {
            *b = (seed as u8).wrapping_mul(31).wrapping_add(i as u8).rotate_left(3);
        }
        std::fs::write(&kv, &bytes).unwrap();
        let (code, out, err) = run(&args);
        assert_ne!(code, Some(101), "seed {seed}: a panic: {err}");
        let v = json(&out);
        if code == Some(0) {
            assert!(v["findings"].is_array(), "{v}");
        } else {
            assert_eq!(code, Some(2), "seed {seed}: {err}");
            assert_eq!(v["error"]["kind"], "io", "{v}");
            assert!(v["error"]["message"].as_str().unwrap().contains("key-value store"), "{v}");
            refused += 1;
        }
    }
    assert!(refused > 0, "some damage was detected");
}

/// 4. Devices and oversized files are refused without being read whole.
#[test]
fn devices_and_oversized_inputs_are_refused_at_once() {
    let (code, _, err) = run(&["audit", "verify", "/dev/zero"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("not a regular file"), "{err}");
    let (code, out, _) =
        run(&["run", "--plugin", "bundled:node-census", "--graph", "/dev/zero", "--format", "json"]);
    assert_eq!(code, Some(2));
    assert!(json(&out)["error"]["message"].as_str().unwrap().contains("not a regular file"), "{out}");
    let dir = tempfile::tempdir().unwrap();
    // 200 MB of zeros as a plugin: refused by its header, without reading the rest.
    let zeros = dir.path().join("zeros.wasm");
    std::fs::File::create(&zeros).unwrap().set_len(200 << 20).unwrap();
    let (code, out, _) = run(&["run", "--plugin", path(&zeros), "--graph", &sample(), "--format", "json"]);
    assert_eq!(code, Some(1));
    assert_eq!(json(&out)["error"]["kind"], "invalid-component", "{out}");
    // A graph over the limit is refused by its size; the limit can be raised.
    let (code, out, _) = run(&[
        "run",
        "--plugin",
        "bundled:node-census",
        "--graph",
        &sample(),
        "--max-graph-mb",
        "1",
        "--format",
        "json",
    ]);
    assert_eq!(code, Some(0), "{out}");
    let big = dir.path().join("big.json");
    std::fs::File::create(&big).unwrap().set_len(3 << 20).unwrap();
    let (code, _, err) = run(&["import", path(&big), "--max-graph-mb", "2"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("over the limit"), "{err}");
}

/// 5. A manifest may only name a component inside its own directory.
#[test]
fn a_manifest_cannot_point_outside_its_directory() {
    let graph = sample();
    for component in ["../../../../../etc/passwd", "/etc/passwd", "sub/../../x.wasm"] {
        let plugin = plugin_dir("escapee", "node-census", &format!("component = \"{component}\"\n"));
        let (code, out, _) =
            run(&["run", "--plugin", path(plugin.path()), "--graph", &graph, "--format", "json"]);
        assert_eq!(code, Some(1), "{component}: {out}");
        assert_eq!(json(&out)["error"]["kind"], "invalid-manifest", "{component}: {out}");
    }
    // A symlink inside the directory that leads out is refused too.
    let plugin = plugin_dir("linked", "node-census", "component = \"link.wasm\"\n");
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("elsewhere.wasm");
    std::fs::write(&target, bundled::get("node-census").unwrap().wasm).unwrap();
    std::os::unix::fs::symlink(&target, plugin.path().join("link.wasm")).unwrap();
    let (code, out, _) =
        run(&["run", "--plugin", path(plugin.path()), "--graph", &graph, "--format", "json"]);
    assert_eq!(code, Some(1), "{out}");
    let error = &json(&out)["error"];
    assert_eq!(error["kind"], "invalid-manifest", "{out}");
    assert!(error["message"].as_str().unwrap().contains("leads outside"), "{out}");
    // One inside (through a symlink that stays inside) is fine.
    let plugin = plugin_dir("inside", "node-census", "component = \"link.wasm\"\n");
    std::os::unix::fs::symlink("p.wasm", plugin.path().join("link.wasm")).unwrap();
    let (code, _, err) = run(&["run", "--plugin", path(plugin.path()), "--graph", &graph]);
    assert_eq!(code, Some(0), "{err}");
}

/// 6. A refused metrics address: nothing said about it but the error.
#[test]
fn soak_says_nothing_of_an_endpoint_it_could_not_bind() {
    let (code, out, err) = run(&["soak", "--load", "1s", "--plugins", "1", "--metrics", "0.0.0.0:9466"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(!out.contains("metrics on"), "{out}");
    assert!(err.contains("not a loopback address"), "{err}");
}

/// 7. Limits an instance cannot even start under: the limit's kind, at load, once.
#[test]
fn limits_too_small_to_start_are_a_load_error_of_their_kind() {
    let graph = sample();
    for (flags, kind) in [(["--memory-mb", "1"], "memory-limit"), (["--fuel", "1"], "fuel-exhausted")] {
        let mut args = vec!["run", "--plugin", "bundled:node-census", "--graph", &graph, "--format", "json"];
        args.extend(flags);
        let (code, out, err) = run(&args);
        assert_eq!(code, Some(1), "{err}");
        let error = &json(&out)["error"];
        assert_eq!(error["kind"], kind, "{out}");
        assert!(error["message"].as_str().unwrap().contains("cannot start under its limits"), "{out}");
        assert!(!err.contains("panicked") && !err.contains("restarts within"), "{err}");
    }
}

/// 9. `policy check` of something that is not a plugin is an error.
#[test]
fn policy_check_needs_a_real_plugin() {
    let (code, _, err) = run(&["policy", "check", "/nope.wasm"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("error[not-found]"), "{err}");
    let (code, _, err) = run(&["policy", "check", "/etc/passwd"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("error[invalid-component]"), "{err}");
    let (code, out, _) = run(&["policy", "check", "bundled:node-census"]);
    assert_eq!(code, Some(0), "{out}");
}

/// 10. With `--format json`, a command-line error is JSON too.
#[test]
fn usage_errors_are_json_when_json_was_asked_for() {
    for args in [
        vec!["run", "--plugin", "bundled:node-census", "--format", "json"],
        vec!["run", "--format=json", "--plugin", "x", "--graph", "g", "--memory-mb", "0"],
        vec!["list", "--format", "json", "--bogus"],
    ] {
        let (code, out, err) = run(&args);
        assert_eq!(code, Some(2), "{args:?}");
        assert!(err.is_empty(), "{err}");
        let v = json(&out);
        assert_eq!(v["error"]["kind"], "usage", "{v}");
        assert!(!v["error"]["message"].as_str().unwrap().is_empty());
    }
    let (code, out, err) = run(&["run", "--plugin", "x"]);
    assert_eq!(code, Some(2));
    assert!(out.is_empty() && err.contains("--graph"), "{err}");
}

/// 12. A plugin name or path that names nothing: `not-found`, as documented.
#[test]
fn missing_plugins_are_not_found() {
    let (code, out, _) = run(&["run", "--plugin", "bundled:nope", "--graph", &sample(), "--format", "json"]);
    assert_eq!(code, Some(2));
    let error = &json(&out)["error"];
    assert_eq!(error["kind"], "not-found", "{out}");
    assert!(error["message"].as_str().unwrap().contains("node-census"), "names what there is: {out}");
    let (code, out, _) = run(&["test", "/nope", "--format", "json"]);
    assert_eq!(code, Some(2));
    assert_eq!(json(&out)["error"]["kind"], "not-found", "{out}");
}

/// 15. A bad name for `new` is a usage error naming the rule.
#[test]
fn new_refuses_bad_names_as_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = run(&["new", "Bad_Name", "--lang", "python", "--dir", path(&dir.path().join("x"))]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("lowercase letters"), "{err}");
    assert!(!dir.path().join("x").exists());
}

/// 16. Audit verification names the record that was changed, and says everything it found.
#[test]
fn audit_verify_names_the_edited_record_and_reports_a_torn_tail() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.jsonl");
    let graph = sample();
    for _ in 0..2 {
        let (code, _, err) =
            run(&["run", "--plugin", "bundled:node-census", "--graph", &graph, "--audit", path(&log), "-q"]);
        assert_eq!(code, Some(0), "{err}");
    }
    let lines: Vec<String> = std::fs::read_to_string(&log).unwrap().lines().map(String::from).collect();
    assert!(lines.len() > 6);
    let mut edited = lines.clone();
    edited[5] = edited[5].replacen("\"seq\":5,", "\"seq\":5, ", 1);
    std::fs::write(&log, edited.join("\n") + "\n").unwrap();
    let (code, out, _) = run(&["audit", "verify", path(&log)]);
    assert_eq!(code, Some(1));
    assert!(out.contains("TAMPERED at line 6: edited"), "{out}");
    assert!(out.contains("the 5 records before it verify"), "{out}");
    assert!(!out.contains("no head file"), "the head file is there: {out}");
    // The tail removed: the first missing record is named.
    std::fs::write(&log, lines[..lines.len() - 2].join("\n") + "\n").unwrap();
    let (_, out, _) = run(&["audit", "verify", path(&log)]);
    assert!(out.contains(&format!("TAMPERED at line {}: missing", lines.len() - 1)), "{out}");
    // A torn last line is named in the text too.
    std::fs::write(&log, lines.join("\n") + "\n{\"seq\":").unwrap();
    let (code, out, _) = run(&["audit", "verify", path(&log)]);
    assert_eq!(code, Some(1));
    assert!(out.contains(&format!("line {} is torn", lines.len() + 1)), "{out}");
    // A head file that is not one.
    std::fs::write(&log, lines.join("\n") + "\n").unwrap();
    std::fs::write(dir.path().join("audit.jsonl.head"), "{}").unwrap();
    let (code, out, _) = run(&["audit", "verify", path(&log)]);
    assert_eq!(code, Some(1));
    assert!(out.contains("TAMPERED head file"), "{out}");
}

/// 17. A symlinked cache directory is followed.
#[test]
fn a_symlinked_cache_dir_is_followed() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real");
    std::fs::create_dir(&real).unwrap();
    let link = dir.path().join("link");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let graph = sample();
    let args = ["run", "--plugin", "bundled:node-census", "--graph", &graph, "--format", "json"];
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ptplugin"))
        .args(args)
        .arg("--cache-dir")
        .arg(&link)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(std::fs::read_dir(&real).unwrap().count() > 0, "the artifact went to the link's target");
}

/// 19. A config value a plugin cannot use is reported in its output.
#[test]
fn bad_config_values_are_reported_in_the_output() {
    let graph = sample();
    for value in ["-1".to_string(), "9".repeat(100_000)] {
        let config = format!("max-cycles={value}");
        let (code, out, err) = run(&[
            "run",
            "--plugin",
            "bundled:cycle-finder",
            "--graph",
            &graph,
            "--config",
            &config,
            "--format",
            "json",
            "-q",
        ]);
        assert_eq!(code, Some(0), "{err}");
        let v = json(&out);
        let first = v["recommendations"][0].as_str().unwrap();
        assert!(first.starts_with("config `max-cycles` = `") && first.contains("used 100"), "{first}");
        assert!(first.len() < 200, "the value is cut short: {first}");
    }
}

/// 20. No colour codes on stderr that is not a terminal.
#[test]
fn no_colour_codes_off_a_terminal() {
    let (_, _, err) = run(&["run", "--plugin", "bundled:fault-panic", "--graph", &sample(), "-v"]);
    assert!(!err.is_empty());
    assert!(!err.contains('\u{1b}'), "{err:?}");
}

/// 21. Read-only commands never write: `list` of a store that is not there creates nothing.
#[test]
fn list_creates_no_store() {
    let dir = tempfile::tempdir().unwrap();
    let store: PathBuf = dir.path().join("nonexistent");
    let (code, out, err) = run(&["list", "--store", path(&store)]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("no plugins installed"), "{out}");
    assert!(!store.exists());
}
