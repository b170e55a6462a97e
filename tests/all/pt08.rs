//! The real Parseltongue v1.7.2 for the tests: fixture code indexed with `pt01`, served by
//! `pt08-http-code-query-server` from the code's own directory (it watches and re-indexes it) on a
//! free loopback port, killed by its PID when dropped. Installed by `.ci/test-deps`.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The binary: `$PTPLUGIN_PARSELTONGUE`, the tools cache `.ci/test-deps` fills, or `PATH`.
pub fn binary() -> PathBuf {
    if let Some(path) = std::env::var_os("PTPLUGIN_PARSELTONGUE") {
        return path.into();
    }
    let tools = std::env::var_os("PTPLUGIN_TOOLS").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache/ptplugin-tools")
    });
    let cached = tools.join("bin/parseltongue");
    if cached.is_file() {
        return cached;
    }
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths).map(|d| d.join("parseltongue")).find(|p| p.is_file())
    });
    on_path.expect("Parseltongue v1.7.2 is not installed: run `bash .ci/test-deps` (it unpacks ../shared/tools/parseltongue)")
}

/// An indexed fixture codebase and, once started, its pt08 server.
pub struct Pt08 {
    dir: tempfile::TempDir,
    server: Option<Child>,
    db: String,
    starts: usize,
    /// The port the server listens on (its own choice if the asked one was taken).
    pub port: u16,
}

impl Pt08 {
    /// Writes `files` (path, text) under a fresh code directory and indexes it with pt01.
    pub fn index(files: &[(&str, &str)]) -> Pt08 {
        let dir = tempfile::tempdir().unwrap();
        let code = dir.path().join("code");
        for (path, text) in files {
            let path = code.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        // pt01 writes its database into the current directory: index there, then move the
        // database out of the tree pt08 will watch.
        let out = Command::new(binary())
            .args(["pt01-folder-to-cozodb-streamer", "."])
            .current_dir(&code)
            .output()
            .unwrap();
        assert!(out.status.success(), "pt01 failed: {}", String::from_utf8_lossy(&out.stderr));
        let workspace = std::fs::read_dir(&code)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .find(|p| p.is_dir() && p.file_name().unwrap().to_string_lossy().starts_with("parseltongue"))
            .expect("pt01 made its workspace directory");
        let db_dir = dir.path().join("db");
        std::fs::rename(&workspace, &db_dir).unwrap();
        let db = format!("sqlite:{}", db_dir.join("analysis.db").display());
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        Pt08 { dir, server: None, db, starts: 0, port }
    }

    /// The code directory (pt08's working directory).
    pub fn code(&self) -> PathBuf {
        self.dir.path().join("code")
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Starts pt08 (again, after [`Pt08::stop`], on the same port) and waits until it listens.
    pub fn start(&mut self) -> &mut Pt08 {
        assert!(self.server.is_none(), "already running");
        self.starts += 1;
        // The log lives outside the watched tree: inside it, every write is a change event.
        let log = self.dir.path().join(format!("pt08-{}.log", self.starts));
        let child = Command::new(binary())
            .args(["pt08-http-code-query-server", "--port", &self.port.to_string(), "--db", &self.db])
            .current_dir(self.code())
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(Stdio::null())
            .spawn()
            .expect("pt08 starts");
        self.server = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(port) = listening_port(&log) {
                self.port = port;
                if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return self;
                }
            }
            let exited = self.server.as_mut().unwrap().try_wait().unwrap();
            assert!(
                exited.is_none(),
                "pt08 exited ({exited:?}): {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            assert!(
                Instant::now() < deadline,
                "pt08 did not start: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Kills the server (by its PID) and waits for it.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.server.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Replaces a fixture file's text (pt08 re-indexes it within seconds).
    pub fn write(&self, path: &str, text: &str) {
        std::fs::write(self.code().join(path), text).unwrap();
    }
}

impl Drop for Pt08 {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The port pt08 says it serves on: `HTTP Server running at: http://localhost:PORT`.
fn listening_port(log: &Path) -> Option<u16> {
    let file = std::fs::File::open(log).ok()?;
    BufReader::new(file).lines().map_while(Result::ok).find_map(|line| {
        let rest = line.split("HTTP Server running at: http://localhost:").nth(1)?;
        rest.trim().parse().ok()
    })
}

/// A fixture codebase in five languages, each with a cycle of its own, and in Rust the
/// three-function cycle pt08's own cycle scan misses. Same-named functions across languages
/// (`helper`) must never resolve into each other.
pub fn polyglot() -> Vec<(&'static str, String)> {
    let mut many = String::from("// Enough calls for several pages of edges.\n");
    for i in 0..60 {
        many.push_str(&format!(
            "pub fn f{i}() -> u32 {{ f{}() + f{}() + helper() }}\n",
            (i + 1) % 60 + 60,
            (i + 7) % 60 + 60
        ));
    }
    for i in 60..120 {
        many.push_str(&format!("pub fn f{i}() -> u32 {{ {i} }}\n"));
    }
    vec![
        (
            "src/lib.rs",
            "pub mod many;\npub fn alpha(n: u32) -> u32 { if n == 0 { 0 } else { beta(n - 1) } }\n\
             pub fn beta(n: u32) -> u32 { gamma(n) }\n\
             pub fn gamma(n: u32) -> u32 { alpha(n) }\n\
             pub fn helper() -> u32 { 3 }\n"
                .into(),
        ),
        ("src/many.rs", many),
        (
            "pkg/app.py",
            "from pkg.util import helper\n\nclass Service:\n    def __init__(self):\n        self.n = 1\n\n    def run(self):\n        return helper(self.n)\n"
                .into(),
        ),
        ("pkg/util.py", "def helper(x):\n    return other(x)\n\ndef other(x):\n    return helper(x)\n".into()),
        // Two Python modules that need each other: a module cycle.
        ("pkg/a.py", "from pkg.b import pong\n\ndef ping():\n    return pong()\n".into()),
        ("pkg/b.py", "from pkg.a import ping\n\ndef pong():\n    return ping()\n".into()),
        (
            "web/app.js",
            "export function render(x) { return wrap(x); }\nfunction wrap(x) { return render(x); }\n".into(),
        ),
        ("gosrc/main.go", "package main\n\nfunc Ping() { Pong() }\nfunc Pong() { Ping() }\nfunc main() { Ping() }\n".into()),
        (
            "java/App.java",
            "package com.example;\npublic class App {\n  public void run() { helper(); }\n  private void helper() { run(); }\n}\n"
                .into(),
        ),
    ]
}

/// Indexes [`polyglot`] and starts its server.
pub fn polyglot_server() -> Pt08 {
    let files = polyglot();
    let refs: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
    let mut server = Pt08::index(&refs);
    server.start();
    server
}
