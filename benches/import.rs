//! Importing Parseltongue exports: the real v0.9.7 self-analysis (127 entities, 4,316 edges) and
//! synthetic workspace exports of 5,000 and 20,000 entities (about 47,000 and 190,000 edges),
//! from JSON text to a validated graph with every by-name target resolved.
//!
//! Reading Parseltongue v1.7's server (`import/pt08`): the bundled v1.7.2 self-analysis from its
//! saved answers (texts, and files), and — when the `parseltongue` binary is installed
//! (`.ci/test-deps`) — the same data two ways from a real pt08: pulled over HTTP, and read back
//! from the answers saved from it. This repository's `src/` is the codebase it indexes; set
//! `PTPLUGIN_BENCH_PT08_URL` to pull another running server instead (e.g. Parseltongue's own
//! source, to compare with the bundled sample's files).
//!
//! `cargo bench --bench import` for figures; `cargo test --benches` runs each case once (CI).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_main};
use parseltongue_plugins::{ServerSource, bundled, import, synthetic};

fn import_exports(c: &mut Criterion) {
    let mut group = c.benchmark_group("import");
    group.sample_size(10).measurement_time(Duration::from_secs(5));
    let real = (bundled::PARSELTONGUE_ENTITIES.to_string(), bundled::PARSELTONGUE_EDGES.to_string());
    let mut cases = vec![("v0.9.7 self-analysis".to_string(), real)];
    let sizes: &[usize] = if cfg!(debug_assertions) { &[5_000] } else { &[5_000, 20_000] };
    for &n in sizes {
        cases.push((format!("synthetic {n} entities"), synthetic::parseltongue_export(n, 11)));
    }
    for (name, (entities, edges)) in &cases {
        let stats = import::from_texts(entities, Some(edges)).expect("imports").stats;
        eprintln!(
            "{name}: {} edges read, {} nodes, {} resolved by name",
            stats.edges_read,
            stats.nodes(),
            stats.resolved()
        );
        group.throughput(Throughput::Elements(stats.edges_read as u64));
        group.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter(|| import::from_texts(entities, Some(edges)).expect("imports"))
        });
    }
    group.finish();
}

fn import_server_answers(c: &mut Criterion) {
    let mut group = c.benchmark_group("import/pt08");
    group.sample_size(10).measurement_time(Duration::from_secs(5));
    let pages = bundled::PARSELTONGUE_V17_EDGE_PAGES;
    let sample =
        import::from_server_texts(bundled::PARSELTONGUE_V17_ENTITIES, &pages).expect("imports").stats;
    eprintln!(
        "v1.7.2 self-analysis: {} entities, {} edges read; {} nodes, {} edges",
        sample.entities_read,
        sample.edges_read,
        sample.nodes(),
        sample.edges()
    );
    group.throughput(Throughput::Elements(sample.edges_read as u64));
    group.bench_function("v1.7.2 self, saved answers in memory", |b| {
        b.iter(|| import::from_server_texts(bundled::PARSELTONGUE_V17_ENTITIES, &pages).expect("imports"))
    });
    let saved = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/parseltongue-v1.7.2");
    group.bench_function("v1.7.2 self, saved answer files", |b| {
        b.iter(|| import::load(&saved, None).expect("imports"))
    });

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let (url, _server) = match std::env::var("PTPLUGIN_BENCH_PT08_URL") {
        Ok(url) => (url, None),
        Err(_) => match Served::start() {
            Some(served) => (served.url.clone(), Some(served)),
            None => {
                eprintln!(
                    "import/pt08 over HTTP: skipped, no `parseltongue` binary (bash .ci/test-deps installs it)"
                );
                group.finish();
                return;
            }
        },
    };
    let source = ServerSource::new(&url).expect("a server URL");
    let pulled = runtime.block_on(source.fetch()).expect("the server answers");
    let dir = tempfile::tempdir().expect("temp dir");
    runtime.block_on(save_answers(&url, dir.path(), pulled.stats.edges_read));
    let from_files = import::load(dir.path(), None).expect("saved answers import");
    assert_eq!(from_files.graph, pulled.graph, "the same graph both ways");
    eprintln!(
        "{url}: {} entities, {} edges read; {} nodes, {} edges",
        pulled.stats.entities_read,
        pulled.stats.edges_read,
        pulled.stats.nodes(),
        pulled.stats.edges()
    );
    group.throughput(Throughput::Elements(pulled.stats.edges_read as u64));
    group.bench_function(BenchmarkId::new("pulled over HTTP", &url), |b| {
        b.iter(|| runtime.block_on(source.fetch()).expect("the server answers"))
    });
    group.bench_function(BenchmarkId::new("its saved answer files", &url), |b| {
        b.iter(|| import::load(dir.path(), None).expect("imports"))
    });
    group.finish();
}

/// Saves a server's answers in the layout `import::load` reads (pages of 2000 edges).
async fn save_answers(url: &str, dir: &Path, edges: usize) {
    let get = |route: String| async move {
        reqwest::get(format!("{url}{route}")).await.expect("GET").text().await.expect("body")
    };
    std::fs::write(dir.join("code-entities-list-all.json"), get("/code-entities-list-all".into()).await)
        .unwrap();
    let pages = dir.join("dependency-edges-list-all");
    std::fs::create_dir(&pages).unwrap();
    for offset in (0..edges.max(1)).step_by(2000) {
        let page = get(format!("/dependency-edges-list-all?limit=2000&offset={offset}")).await;
        std::fs::write(pages.join(format!("limit2000-offset{offset:05}.json")), page).unwrap();
    }
}

/// pt08 serving an index of this repository's `src/`, stopped when dropped.
struct Served {
    child: Child,
    _dir: tempfile::TempDir,
    url: String,
}

impl Served {
    fn start() -> Option<Served> {
        let binary = parseltongue()?;
        let dir = tempfile::tempdir().ok()?;
        let code = dir.path().join("code");
        copy_tree(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &code.join("src"));
        let ok = Command::new(&binary)
            .args(["pt01-folder-to-cozodb-streamer", "."])
            .current_dir(&code)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .ok()?;
        assert!(ok.success(), "pt01 failed");
        let workspace =
            std::fs::read_dir(&code).ok()?.filter_map(|e| e.ok().map(|e| e.path())).find(|p| {
                p.is_dir() && p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("parseltongue"))
            })?;
        let db = dir.path().join("db");
        std::fs::rename(workspace, &db).ok()?;
        let port = std::net::TcpListener::bind("127.0.0.1:0").ok()?.local_addr().ok()?.port();
        let child = Command::new(&binary)
            .args([
                "pt08-http-code-query-server",
                "--port",
                &port.to_string(),
                "--db",
                &format!("sqlite:{}", db.join("analysis.db").display()),
            ])
            .current_dir(&code)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "pt08 did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(Served { child, _dir: dir, url: format!("http://127.0.0.1:{port}") })
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn parseltongue() -> Option<PathBuf> {
    let home = std::env::var_os("HOME")?;
    let cached = Path::new(&home).join(".cache/ptplugin-tools/bin/parseltongue");
    cached.is_file().then_some(cached)
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            copy_tree(&path, &to.join(entry.file_name()));
        } else {
            std::fs::copy(&path, to.join(entry.file_name())).unwrap();
        }
    }
}

// In a private module: criterion's generated group function needs no public docs.
mod group {
    criterion::criterion_group!(benches, super::import_exports, super::import_server_answers);
}
criterion_main!(group::benches);
