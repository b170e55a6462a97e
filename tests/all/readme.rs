//! The README, as a new user reads it: every shell example that stands on its own runs as
//! written, every command synopsis names commands and flags that exist, the sample output shown
//! is the output given, and the TOML and JSON shown parse.
//!
//! Runnable examples run with `bash -e` in a fresh directory holding what the README says they
//! use (`plugins/census/` at 1.2.0, `plugins/census-1.3/`, `graph.json`, `policy.toml`), with the
//! binary under test first on `PATH`, private cache and data directories, and a registry of the
//! test's own in place of `localhost:5000`.

use std::path::{Path, PathBuf};
use std::process::Command;

use parseltongue_plugins::{Graph, Manifest, Policy, bundled};

use crate::registry::TestRegistry;
use crate::support::output;

/// A fenced block of the README: its language tag, first line number and lines.
struct Block {
    lang: String,
    line: usize,
    lines: Vec<String>,
}

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap()
}

fn blocks() -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut open: Option<Block> = None;
    for (i, line) in readme().lines().enumerate() {
        match (line.strip_prefix("```"), open.take()) {
            (Some(_), Some(block)) => blocks.push(block),
            (Some(lang), None) => {
                open = Some(Block { lang: lang.trim().to_string(), line: i + 1, lines: Vec::new() })
            }
            (None, Some(mut block)) => {
                block.lines.push(line.to_string());
                open = Some(block);
            }
            (None, None) => {}
        }
    }
    assert!(open.is_none(), "an unclosed code block in the README");
    blocks
}

/// Lines with `\` continuations joined, comments and blank lines dropped.
fn commands(lines: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut pending = String::new();
    for line in lines {
        let line = line.trim_end();
        match line.strip_suffix('\\') {
            Some(head) => pending.push_str(head),
            None => {
                pending.push_str(line);
                let command = pending.trim().to_string();
                pending.clear();
                if !command.is_empty() && !command.starts_with('#') {
                    out.push(command);
                }
            }
        }
    }
    out
}

/// A synopsis, not a command to run: alternatives and optional parts.
fn is_synopsis(command: &str) -> bool {
    command.contains('[') || command.contains('|')
}

fn binary_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_ptplugin")).parent().unwrap().to_path_buf()
}

fn help(args: &[&str]) -> String {
    let (code, out, err) = output(Command::new(env!("CARGO_BIN_EXE_ptplugin")).args(args).arg("--help"));
    assert_eq!(code, Some(0), "ptplugin {args:?} --help: {err}");
    out
}

#[test]
fn every_synopsis_names_real_commands_and_flags() {
    let mut checked = 0;
    for block in blocks().iter().filter(|b| b.lang == "sh") {
        for command in commands(&block.lines).iter().filter(|c| c.starts_with("ptplugin ") && is_synopsis(c))
        {
            let words: Vec<&str> = command.split_whitespace().collect();
            for sub in words[1].split('|').filter(|s| !s.contains('…')) {
                // Nested commands (`policy check`, `audit verify`, `sdk wit`) have their own help.
                let nested = words
                    .get(2)
                    .filter(|w| !w.starts_with('-') && w.chars().all(|c| c.is_ascii_lowercase() || c == '-'));
                let text = match nested {
                    Some(n) if help(&[sub]).contains(&format!("  {n} ")) => help(&[sub, n]),
                    _ => help(&[sub]),
                };
                for flag in words.iter().filter_map(|w| {
                    let w = w.trim_start_matches('[');
                    w.starts_with("--").then(|| {
                        w.trim_end_matches(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
                            .split('=')
                            .next()
                            .unwrap()
                    })
                }) {
                    // Flags of the other alternatives (`--cache-dir DIR | --no-cache`) are checked
                    // against the first command only when it is the one named.
                    if words[1].contains('|') {
                        continue;
                    }
                    assert!(
                        text.contains(&format!("{flag} ")) || text.contains(&format!("{flag}\n")),
                        "README line {}: `ptplugin {sub}` has no {flag}:\n{text}",
                        block.line
                    );
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 20, "the synopses were found ({checked})");
}

#[test]
fn the_first_block_is_the_two_commands() {
    let first = &blocks()[0];
    let commands = commands(&first.lines);
    assert_eq!(commands.len(), 2, "{commands:?}");
    assert!(commands[0].ends_with("cargo run --release -- demo"), "{commands:?}");
    assert!(commands[1].ends_with("bash .ci/test"), "{commands:?}");
    assert!(Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/test").is_file());
}

#[test]
fn the_shown_import_output_is_the_output() {
    let block = blocks()
        .into_iter()
        .find(|b| b.lines.first().is_some_and(|l| l.starts_with("$ ptplugin import")))
        .expect("the import example");
    // The command, and its continuation lines (each after a line ending in `\`).
    let length = 1 + block.lines.iter().take_while(|l| l.ends_with('\\')).count();
    let command_lines: Vec<String> = block.lines[..length].to_vec();
    let shown = &block.lines[command_lines.len()..];
    let command = commands(&command_lines).join(" ");
    let args: Vec<&str> = command.trim_start_matches("$ ptplugin ").split_whitespace().collect();
    let (code, out, err) = output(
        Command::new(env!("CARGO_BIN_EXE_ptplugin")).args(&args).current_dir(env!("CARGO_MANIFEST_DIR")),
    );
    assert_eq!(code, Some(0), "{err}");
    // The elapsed time is the one line that differs from run to run.
    let timeless = |l: &&str| !l.starts_with("took ");
    let printed: Vec<&str> = out.lines().filter(timeless).collect();
    assert_eq!(printed, shown.iter().map(String::as_str).filter(timeless).collect::<Vec<_>>());
}

/// The contract section's sample of `run` output: every line shown is printed, as shown.
#[test]
fn the_shown_findings_are_printed() {
    let block = blocks()
        .into_iter()
        .find(|b| b.lines.first().is_some_and(|l| l.starts_with("cycle-finder: 10 findings")))
        .expect("the findings example");
    let (code, out, err) = output(
        Command::new(env!("CARGO_BIN_EXE_ptplugin"))
            .args(["run", "--plugin", "bundled:cycle-finder", "--graph", "samples/parseltongue-v1.7.2", "-q"])
            .current_dir(env!("CARGO_MANIFEST_DIR")),
    );
    assert_eq!(code, Some(0), "{err}");
    let printed: Vec<&str> = out.lines().collect();
    for line in &block.lines {
        assert!(printed.contains(&line.as_str()), "README shows `{line}`; run printed:\n{out}");
    }
}

#[test]
fn the_toml_and_json_shown_parse() {
    let mut parsed = 0;
    for block in blocks() {
        let text = block.lines.join("\n");
        let at = format!("README line {}", block.line);
        match block.lang.as_str() {
            "toml" if block.lines.iter().any(|l| l.starts_with("name =")) => {
                Manifest::parse(&text, Path::new(&at)).unwrap_or_else(|e| panic!("{at}: {e}"));
            }
            "toml" if text.contains("[capabilities]") => {
                let whole = format!("name = \"example\"\nversion = \"1.0.0\"\n{text}");
                Manifest::parse(&whole, Path::new(&at)).unwrap_or_else(|e| panic!("{at}: {e}"));
            }
            "toml" => {
                Policy::parse(&text, Path::new(&at)).unwrap_or_else(|e| panic!("{at}: {e}"));
            }
            "json" => {
                Graph::from_json(&text).unwrap_or_else(|e| panic!("{at}: {e}"));
            }
            _ => continue,
        }
        parsed += 1;
    }
    assert!(parsed >= 5, "{parsed}");
}

/// A directory with what the runnable examples use.
fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let census = bundled::get("node-census").unwrap().wasm;
    for (sub, version) in [("census", "1.2.0"), ("census-1.3", "1.3.0")] {
        let plugin = dir.path().join("plugins").join(sub);
        std::fs::create_dir_all(&plugin).unwrap();
        std::fs::write(plugin.join("plugin.toml"), format!("name = \"census\"\nversion = \"{version}\"\n"))
            .unwrap();
        std::fs::write(plugin.join("census.wasm"), census).unwrap();
    }
    std::fs::write(dir.path().join("graph.json"), bundled::SAMPLE_GRAPH).unwrap();
    std::fs::write(dir.path().join("policy.toml"), "[defaults]\nwall-clock = true\n").unwrap();
    dir
}

#[test]
fn every_self_contained_example_runs_as_written() {
    let registry = TestRegistry::start();
    let mut ran = 0;
    for block in blocks().iter().filter(|b| b.lang == "sh") {
        let commands = commands(&block.lines);
        let runnable =
            commands.iter().any(|c| c.starts_with("ptplugin ")) && !commands.iter().any(|c| is_synopsis(c));
        if !runnable {
            continue;
        }
        let dir = workspace();
        let script = block.lines.join("\n").replace("localhost:5000", &registry.addr);
        let path = format!("{}:{}", binary_dir().display(), std::env::var("PATH").unwrap_or_default());
        let (code, out, err) = output(
            Command::new("bash")
                .args(["-e", "-c", &script])
                .current_dir(dir.path())
                .env("PATH", path)
                .env("XDG_CACHE_HOME", dir.path().join(".cache"))
                .env("XDG_DATA_HOME", dir.path().join(".local/share"))
                .env("CARGO_TARGET_DIR", Path::new(env!("CARGO_TARGET_TMPDIR")).join("plugin-projects"))
                .env_remove("PTPLUGIN_LOG"),
        );
        assert_eq!(
            code,
            Some(0),
            "README line {}: the example fails as written:\n{script}\n{out}\n{err}",
            block.line
        );
        ran += 1;
    }
    assert!(ran >= 2, "the distribution and authoring examples ran ({ran})");
}
