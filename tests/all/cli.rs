//! `ptplugin` as a user runs it: exit codes, JSON shapes, text output, the demo.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use parseltongue_plugins::{Limits, bundled};

use crate::support::plugin_dir;
use serde_json::Value;

/// A compile cache shared by every CLI run of this test binary.
fn cache_dir() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().unwrap()).path()
}

fn ptplugin(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ptplugin"))
        .args(args)
        .arg("--cache-dir")
        .arg(cache_dir())
        .env_remove("PTPLUGIN_LOG")
        .output()
        .expect("ptplugin runs")
}

/// `ptplugin run --plugin PLUGIN --graph <sample> --format json EXTRA...`: exit code and JSON.
fn run_json(plugin: &str, extra: &[&str]) -> (Option<i32>, Value) {
    let graph = sample();
    let mut args = vec!["run", "--plugin", plugin, "--graph", &graph, "--format", "json"];
    args.extend_from_slice(extra);
    let out = ptplugin(&args);
    (out.status.code(), json(&out))
}

fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&output.stdout),
            stderr(output)
        )
    })
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn sample() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/sample-graph.json").display().to_string()
}

fn temp_file(name: &str, contents: &[u8]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, contents).unwrap();
    (dir, path)
}

#[test]
fn run_prints_the_result_usage_and_limits_as_json() {
    let out =
        ptplugin(&["run", "--plugin", "bundled:cycle-finder", "--graph", &sample(), "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(v["findings"].as_array().unwrap().len(), 3, "{v}");
    assert_eq!(v["confidence"], 1.0);
    assert_eq!(v["recommendations"].as_array().unwrap().len(), 1);
    assert!(v["usage"]["wall_time_ms"].as_f64().unwrap() > 0.0);
    assert!(v["usage"]["peak_memory_bytes"].as_u64().unwrap() > 0);
    assert!(v["usage"].get("fuel_consumed").is_none(), "not metered by default");
    assert_eq!(v["plugin"]["name"], "cycle-finder");
    // The CLI's default flags are the library's default limits.
    assert_eq!(v["limits"], serde_json::to_value(Limits::default()).unwrap());
}

#[test]
fn run_prints_readable_text_by_default() {
    let out = ptplugin(&["run", "--plugin", "bundled:node-census", "--graph", &sample()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("node-census: 4 findings, confidence 1.00\n"), "{text}");
    assert!(text.contains("  - note census.type: fn: 23 of 32 nodes (71.9%)\n"), "{text}");
    assert!(text.contains("recommendations:\n  - `fn` makes up 71.9%"), "{text}");
    assert!(text.contains("usage: "), "{text}");
    // The plugin's own log line reaches stderr, attributed to it.
    assert!(stderr(&out).contains("counted 32 nodes of 4 types"), "{}", stderr(&out));
}

#[test]
fn run_takes_a_component_file_and_config_values() {
    let file = Path::new(bundled::GUEST_DIR).join("node_census.wasm").display().to_string();
    let run = |threshold: &str| {
        let out = ptplugin(&[
            "run",
            "--plugin",
            &file,
            "--graph",
            &sample(),
            "--config",
            &format!("threshold={threshold}"),
            "--format",
            "json",
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        json(&out)["recommendations"].as_array().unwrap().len()
    };
    assert_eq!(run("0.9"), 0);
    assert_eq!(run("0.5"), 1);
}

#[test]
fn a_fault_exits_1_with_its_kind_and_usage() {
    let (code, v) = run_json("bundled:fault-loop", &["--timeout-ms", "100"]);
    assert_eq!(code, Some(1));
    assert_eq!(v["error"]["kind"], "timeout");
    assert_eq!(v["error"]["message"], "the plugin used up its 100 ms of CPU time");
    assert!(v["usage"]["cpu_time_ms"].as_f64().unwrap() >= 100.0, "{v}");
    assert!(
        v["usage"]["wall_time_ms"].as_f64().unwrap() >= v["usage"]["cpu_time_ms"].as_f64().unwrap(),
        "{v}"
    );

    let (code, v) = run_json("bundled:fault-loop", &["--fuel", "1000000"]);
    assert_eq!(code, Some(1));
    assert_eq!(v["error"]["kind"], "fuel-exhausted");
    assert_eq!(v["usage"]["fuel_consumed"], 1_000_000);

    let (code, v) = run_json("bundled:fault-memory-bomb", &["--memory-mb", "4"]);
    assert_eq!(code, Some(1));
    assert_eq!(v["error"]["kind"], "memory-limit");
}

#[test]
fn a_fault_in_text_mode_goes_to_stderr() {
    let out = ptplugin(&["run", "--plugin", "bundled:fault-deep-recursion", "--graph", &sample()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).is_empty());
    assert!(
        stderr(&out).contains("error[stack-overflow]: the plugin overflowed its wasm stack"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_bad_graph_exits_2_with_line_and_column() {
    let (_dir, graph) = temp_file("g.json", b"{\n  \"nodes\": [\n    {\"id\": 1}\n  ]\n}");
    let out = ptplugin(&[
        "run",
        "--plugin",
        "bundled:node-census",
        "--graph",
        graph.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let v = json(&out);
    assert_eq!(v["error"]["kind"], "invalid-graph");
    assert_eq!(v["error"]["line"], 3);
    assert!(v["error"]["message"].as_str().unwrap().contains("nodes[0].id: invalid type: integer"), "{v}");

    let out = ptplugin(&[
        "run",
        "--plugin",
        "bundled:node-census",
        "--graph",
        "/nonexistent/g.json",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let v = json(&out);
    assert_eq!(v["error"]["kind"], "io");
    assert!(v["error"]["message"].as_str().unwrap().contains("/nonexistent/g.json"), "{v}");
}

#[test]
fn a_file_that_is_not_a_component_exits_1() {
    let (_dir, plugin) = temp_file("p.wasm", b"hello");
    let out =
        ptplugin(&["run", "--plugin", plugin.to_str().unwrap(), "--graph", &sample(), "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out)["error"]["kind"], "invalid-component");
}

#[test]
fn bad_usage_exits_2() {
    let out =
        ptplugin(&["run", "--plugin", "bundled:node-census", "--graph", &sample(), "--config", "novalue"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("expected KEY=VALUE"), "{}", stderr(&out));
    let out =
        ptplugin(&["run", "--plugin", "bundled:node-census", "--graph", &sample(), "--timeout-ms", "0"]);
    assert_eq!(out.status.code(), Some(2));
    let out = ptplugin(&["run", "--plugin", "bundled:no-such-plugin", "--graph", &sample()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no bundled plugin `no-such-plugin` (bundled: node-census, cycle-finder"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn the_cache_is_used_on_the_second_run_and_can_be_turned_off() {
    let dir = tempfile::tempdir().unwrap();
    let run = |extra: &[&str]| {
        let graph = sample();
        let mut args = vec!["run", "--plugin", "bundled:node-census", "--graph", &graph, "--format", "json"];
        args.extend_from_slice(extra);
        let out = Command::new(env!("CARGO_BIN_EXE_ptplugin")).args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        json(&out)["plugin"]["load"]["cache"]["status"].as_str().unwrap().to_string()
    };
    let cache = dir.path().join("c").display().to_string();
    assert_eq!(run(&["--cache-dir", &cache]), "miss");
    assert_eq!(run(&["--cache-dir", &cache]), "hit");
    assert_eq!(run(&["--no-cache"]), "disabled");
}

#[test]
fn inspect_describes_a_plugin() {
    let out = ptplugin(&["inspect", "bundled:cycle-finder", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(v["satisfies_contract"], true);
    assert_eq!(v["world"], "parseltongue:plugin/analyzer@0.2.0");
    assert_eq!(v["contract"], "0.2");
    assert_eq!(v["exports"][0], "parseltongue:plugin/analysis@0.2.0");
    assert!(v["host_imports"].as_array().unwrap().contains(&"parseltongue:plugin/host@0.2.0".into()), "{v}");
    let wasi: Vec<&str> = v["wasi_imports"].as_array().unwrap().iter().map(|i| i.as_str().unwrap()).collect();
    assert!(wasi.iter().any(|i| i.starts_with("wasi:cli/environment@0.2.")), "{wasi:?}");
    assert_eq!(v["wasi_policy"][wasi[0]].as_str().map(|s| !s.is_empty()), Some(true));
    let wasm = bundled::get("cycle-finder").unwrap().wasm;
    assert_eq!(v["size"], wasm.len());
    assert_eq!(v["sha256"], hex::encode(parseltongue_plugins::sha256(wasm)));

    let text = stdout(&ptplugin(&["inspect", "bundled:cycle-finder"]));
    assert!(
        text.contains("world:    parseltongue:plugin/analyzer@0.2.0 (contract 0.2, satisfies it)"),
        "{text}"
    );
    assert!(text.contains("denied") || text.contains("empty: no variables"), "{text}");

    // A plugin of the seed's contract says so too.
    let v = json(&ptplugin(&["inspect", "bundled:legacy-census", "--format", "json"]));
    assert_eq!(
        (v["contract"].as_str(), v["world"].as_str()),
        (Some("0.1"), Some("parseltongue:plugin/analyzer@0.1.0"))
    );
    assert_eq!(v["exports"][0], "parseltongue:plugin/parseltongue-plugin@0.1.0");
}

#[test]
fn inspect_exits_1_for_what_is_not_a_plugin() {
    let (_dir, file) = temp_file("command.wasm", &crate::support::wasi_command_component());
    let out = ptplugin(&["inspect", file.to_str().unwrap(), "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let v = json(&out);
    assert_eq!(v["satisfies_contract"], false);
    assert!(
        v["problem"].as_str().unwrap().contains(
            "exports neither parseltongue:plugin/analysis@0.2.x nor parseltongue:plugin/parseltongue-plugin@0.1.x"
        ),
        "{v}"
    );

    let module = wat::parse_str("(module)").unwrap();
    let (_dir, file) = temp_file("core.wasm", &module);
    let out = ptplugin(&["inspect", file.to_str().unwrap(), "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out)["error"]["kind"], "invalid-component");
}

#[test]
fn the_demo_runs_every_bundled_plugin_as_expected() {
    let out = ptplugin(&["demo", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let v = json(&out);
    assert_eq!(v["all_as_expected"], true);
    let plugins = v["plugins"].as_array().unwrap();
    let shown = bundled::PLUGINS.iter().filter(|p| p.role != bundled::Role::Probe).count();
    assert_eq!(plugins.len(), shown);
    for p in plugins {
        assert_eq!(p["as_expected"], true, "{p}");
        if p["role"] == "fault" {
            assert_eq!(p["error"]["kind"], p["expected_kind"], "{p}");
            assert_eq!(p["recovered"], true, "{p}");
        }
    }

    let out = ptplugin(&["demo"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(text.contains(&format!("All {shown} plugins behaved as expected")), "{text}");
    assert!(text.contains("[ok ] fault-memory-bomb        fault   stopped: memory-limit"), "{text}");
}

#[test]
fn thousands_of_crash_restart_cycles_keep_memory_and_descriptors_flat() {
    // Its own process, so no other test's allocations blur the figures. Longer runs:
    // PTPLUGIN_SOAK_CYCLES=100000 cargo test --test all soak
    let cycles = std::env::var("PTPLUGIN_SOAK_CYCLES").unwrap_or_else(|_| "2000".into());
    let out = ptplugin(&["soak", "--cycles", &cycles, "--samples", "10", "--format", "json"]);
    let v = json(&out);
    assert_eq!(out.status.code(), Some(0), "{v:#}");
    assert_eq!(v["flat"], true);
    let cycles: u64 = cycles.parse().unwrap();
    assert_eq!(v["cycles"], cycles);
    assert_eq!(v["restarts"], cycles, "every crash was followed by a restart");
    assert!(v["rss_growth_bytes"].as_i64().unwrap() <= 16 << 20, "{v:#}");
    assert!(v["fd_growth"].as_i64().unwrap() <= 0, "{v:#}");
    assert_eq!(v["live_instances_after"], 0);
    assert_eq!(v["samples"].as_array().unwrap().len(), 11);
}

#[test]
fn sustained_load_across_many_plugins_keeps_memory_and_descriptors_flat() {
    // Its own process. Longer: ptplugin soak --load 10m --plugins 200 (see BENCHMARKS.md).
    let out =
        ptplugin(&["soak", "--load", "8s", "--plugins", "20", "--concurrency", "4", "--format", "json"]);
    let v = json(&out);
    assert_eq!(out.status.code(), Some(0), "{v:#}");
    assert_eq!(v["flat"], true);
    assert_eq!(v["plugins"], 20);
    assert_eq!(v["failed_calls"], 0, "{v:#}");
    assert!(v["calls"].as_u64().unwrap() > 100, "{v:#}");
    assert!(v["crash_cycles"].as_u64().unwrap() > 10, "the crashing plugin ran beside them: {v:#}");
    let samples = v["samples"].as_array().unwrap();
    assert!(samples.len() >= 7, "one a second after the warm-up: {v:#}");
    let calls: Vec<u64> = samples.iter().map(|s| s["calls"].as_u64().unwrap()).collect();
    assert!(calls.windows(2).all(|w| w[0] < w[1]), "load all along: {calls:?}");
    assert!(v["rss_growth_bytes"].as_i64().unwrap() <= 16 << 20, "{v:#}");
    assert!(v["fd_growth"].as_i64().unwrap() <= 0, "{v:#}");
    assert_eq!(v["live_instances_after"], 0);
}

#[test]
fn policy_check_shows_requested_granted_and_denied() {
    let plugin = plugin_dir(
        "envy",
        "escape-read-env",
        "[capabilities]\nenv = [{ name = \"PATH\", reason = \"finds tools\" }, { name = \"HOME\", reason = \"nosy\" }]\n",
    );
    let (_pdir, policy) = temp_file("policy.toml", b"[defaults]\nenv = [\"PATH\"]\n");
    let out =
        ptplugin(&["policy", "check", plugin.path().to_str().unwrap(), "--policy", policy.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "something was denied");
    let text = stdout(&out);
    assert!(text.contains("requested:\n  env PATH — finds tools\n  env HOME — nosy\n"), "{text}");
    assert!(text.contains("granted:\n  env PATH\n"), "{text}");
    assert!(text.contains("denied:\n  env HOME — not a variable the policy allows\n"), "{text}");

    let (_pdir, generous) = temp_file("policy.toml", b"[defaults]\nenv = [\"PATH\", \"HOME\"]\n");
    let args = [
        "policy",
        "check",
        plugin.path().to_str().unwrap(),
        "--policy",
        generous.to_str().unwrap(),
        "--format",
        "json",
    ];
    let out = ptplugin(&args);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(json(&out)["denied"], serde_json::json!([]));

    let (_pdir, broken) = temp_file("policy.toml", b"[defaults]\nenv = \"PATH\"\n");
    let out =
        ptplugin(&["policy", "check", plugin.path().to_str().unwrap(), "--policy", broken.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("error[invalid-policy]") && stderr(&out).contains("line 2"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn run_loads_a_manifest_applies_the_policy_and_writes_the_audit_trail() {
    let plugin = plugin_dir(
        "envy",
        "escape-read-env",
        "[capabilities]\nenv = [{ name = \"PATH\", reason = \"tools\" }]\n",
    );
    let (dir, policy) = temp_file("policy.toml", b"[defaults]\nenv = [\"PATH\"]\n");
    let audit = dir.path().join("audit.jsonl");
    let args = [
        "run",
        "--plugin",
        plugin.path().to_str().unwrap(),
        "--graph",
        &sample(),
        "--policy",
        policy.to_str().unwrap(),
        "--audit",
        audit.to_str().unwrap(),
        "--format",
        "json",
    ];
    let out = ptplugin(&args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(v["findings"][0]["message"], format!("env PATH={}", std::env::var("PATH").unwrap()));
    assert_eq!(v["plugin"]["name"], "envy");
    assert_eq!(v["plugin"]["load"]["granted"]["env"], serde_json::json!(["PATH"]));

    let out = ptplugin(&["audit", "verify", audit.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("intact"), "{}", stdout(&out));

    // Edit one record: verification names it.
    let text = std::fs::read_to_string(&audit).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let load = lines.iter().position(|l| l.contains("\"record\":\"load\"")).unwrap();
    lines[load] = lines[load].replace("envy", "evil");
    std::fs::write(&audit, lines.join("\n") + "\n").unwrap();
    let out = ptplugin(&["audit", "verify", audit.to_str().unwrap(), "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let v = json(&out);
    assert_eq!(v["intact"], false);
    assert_eq!(v["first_bad"]["line"], load + 1, "{v}");

    // A torn last line is told apart from tampering.
    let (_d, torn) =
        temp_file("torn.jsonl", &[lines[..load].join("\n").as_bytes(), b"\n{\"seq\":9"].concat());
    let out = ptplugin(&["audit", "verify", torn.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("is torn"), "{}", stdout(&out));
}
