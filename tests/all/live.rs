//! Today's Parseltongue (v1.7.2, HTTP only) as the graph source, against the real binary:
//! `--graph http://…` everywhere, `watch` and `serve` end to end, and the error cases.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use parseltongue_plugins::{ServerSource, import};
use serde_json::Value;

use crate::pt08::polyglot_server;

fn ptplugin() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ptplugin"));
    command.env_remove("PTPLUGIN_LOG");
    command
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

async fn get(url: &str) -> Value {
    reqwest::get(url).await.unwrap().json().await.unwrap()
}

fn meta<'a>(node: &'a parseltongue_plugins::GraphNode, key: &str) -> Option<&'a str> {
    import::meta(node, key)
}

#[tokio::test(flavor = "multi_thread")]
async fn cycle_finder_over_http_finds_the_cycle_pt08_misses_in_every_language() {
    let server = tokio::task::spawn_blocking(polyglot_server).await.unwrap();
    let url = server.url();

    // Parseltongue's own scan: its edges end in by-name placeholders, so it sees no cycle.
    let scan = get(&format!("{url}/circular-dependency-detection-scan")).await;
    assert_eq!(scan["data"]["has_cycles"], false, "{scan}");

    // Every page, however small the pages: the same graph as one big page.
    let stats = get(&format!("{url}/codebase-statistics-overview-summary")).await;
    let total = stats["data"]["dependency_edges_total_count"].as_u64().unwrap() as usize;
    assert!(total > 150, "more edges than pt08's default page of 100: {total}");
    let paged = ServerSource::new(&url).unwrap().page_size(37).fetch().await.unwrap();
    let whole = ServerSource::new(&url).unwrap().page_size(100_000).fetch().await.unwrap();
    assert_eq!(paged.stats.edges_read, total);
    assert_eq!(paged.graph, whole.graph);

    // A folder scope (pt08's `scope=L1`): only that folder's definitions.
    let scoped = ServerSource::new(&url).unwrap().scope("pkg").fetch().await.unwrap();
    let entities: Vec<&str> = scoped
        .graph
        .nodes()
        .iter()
        .filter(|n| meta(n, "origin") == Some("entity"))
        .map(|n| meta(n, "file").unwrap())
        .collect();
    assert!(!entities.is_empty() && entities.iter().all(|f| f.starts_with("./pkg/")), "{entities:?}");

    // Names resolve within their language only, and each language gets its own modules.
    let g = &paged.graph;
    let by_id = |id: &str| g.nodes().iter().find(|n| n.id == id).unwrap();
    for e in g.edges() {
        let (s, t) = (by_id(&e.source), by_id(&e.target));
        if let (Some(a), Some(b)) = (meta(s, "language"), meta(t, "language")) {
            let family = |l: &str| if l == "typescript" { "javascript".to_string() } else { l.to_string() };
            assert_eq!(family(a), family(b), "{} -> {} crosses languages", s.id, t.id);
        }
    }
    let module_of = |name: &str, lang: &str| {
        g.nodes()
            .iter()
            .find(|n| meta(n, "name") == Some(name) && meta(n, "language") == Some(lang))
            .and_then(|n| meta(n, "module"))
            .unwrap_or_else(|| panic!("no {lang} {name}"))
            .to_string()
    };
    assert_eq!(module_of("other", "python"), "pkg.util");
    assert_eq!(module_of("wrap", "javascript"), "web/app");
    assert_eq!(module_of("Pong", "go"), "gosrc");
    assert_eq!(module_of("alpha", "rust"), "crate");
    assert_eq!(module_of("f3", "rust"), "crate::many");

    // The CLI, through the supervision runtime: every language's cycle.
    let out = ptplugin()
        .args(["run", "--plugin", "bundled:cycle-finder", "--graph", &url, "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    // Each finding as the text output prints it, from the JSON's finding objects.
    let findings: Vec<String> = json(&out)["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| serde_json::from_value::<parseltongue_plugins::Finding>(f.clone()).unwrap().to_string())
        .collect();
    let has = |parts: &[&str]| findings.iter().any(|f| parts.iter().all(|p| f.contains(p)));
    assert!(
        has(&["cycle.dependency", "cycle of 3 nodes", "alpha", "beta", "gamma", "(src/lib.rs:"]),
        "{findings:#?}"
    );
    assert!(has(&["cycle of 2 nodes", "helper", "other", "(pkg/util.py:"]), "{findings:#?}");
    assert!(has(&["cycle of 2 nodes", "render", "wrap", "(web/app.js:"]), "{findings:#?}");
    assert!(has(&["cycle of 2 nodes", "Ping", "Pong", "(gosrc/main.go:"]), "{findings:#?}");
    assert!(has(&["cycle of 2 nodes", "run", "helper", "(java/App.java:"]), "{findings:#?}");
    assert!(has(&["cycle.module", "module cycle of 2 modules", "pkg.a", "pkg.b"]), "{findings:#?}");

    // Dead code: what a runtime calls (`__init__`, Go's `main`) is not dead.
    let out = ptplugin()
        .args(["run", "--plugin", "bundled:dead-code", "--graph", &url, "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let dead = json(&out)["findings"].to_string();
    assert!(!dead.contains("__init__") && !dead.contains("main (gosrc"), "{dead}");

    // `import` and `test` read the server too; `--scope` goes with a server only.
    let out = ptplugin().args(["import", &url, "--format", "json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let stats = json(&out);
    assert_eq!(stats["format"], "parseltongue-server");
    assert_eq!(stats["edges_read"].as_u64().unwrap() as usize, total);
    assert!(stats["placeholders"].as_u64().unwrap() > 0, "{stats}");
    let out = ptplugin()
        .args(["run", "--plugin", "bundled:node-census", "--graph", "x.json", "--scope", "src"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    drop(server);
}

/// A child process killed when the test ends, however it ends (a failed assertion must not leave
/// a `watch` or `serve` running).
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl std::ops::Deref for Reaped {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Reaped {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

/// Lines of a child's stdout, as they come.
fn lines(child: &mut Child) -> mpsc::Receiver<String> {
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// The next event that satisfies `want`, within `within`.
fn wait_for(
    rx: &mpsc::Receiver<String>,
    within: Duration,
    what: &str,
    want: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + within;
    let mut seen = Vec::new();
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(line) => {
                let event: Value =
                    serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
                if want(&event) {
                    return event;
                }
                seen.push(line);
            }
            Err(_) => break,
        }
    }
    panic!("no {what} within {within:?}; saw:\n{}", seen.join("\n"))
}

fn appeared(event: &Value, plugin: &str, text: &str, field: &str) -> bool {
    event["event"] == "changed"
        && event["changes"].as_array().unwrap().iter().any(|c| {
            c["plugin"] == plugin
                && c[field].as_array().unwrap().iter().any(|f| f.as_str().unwrap().contains(text))
        })
}

#[test]
fn watch_reports_a_new_cycle_as_it_appears_and_disappears_and_outlives_the_server() {
    let mut server = polyglot_server();
    let mut watch = Reaped(
        ptplugin()
            .args(["watch", "--graph", &server.url(), "--plugin", "bundled:cycle-finder"])
            .args(["--interval", "300ms", "--format", "json"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let events = lines(&mut watch);
    let baseline = wait_for(&events, Duration::from_secs(60), "baseline", |e| e["event"] == "baseline");
    assert!(baseline["findings"]["cycle-finder"].to_string().contains("alpha"), "{baseline}");

    // An edit that closes a new cycle: reported as appeared, nothing else.
    let original = std::fs::read_to_string(server.code().join("src/lib.rs")).unwrap();
    let edited =
        format!("{original}pub fn epsilon() -> u32 {{ zeta() }}\npub fn zeta() -> u32 {{ epsilon() }}\n");
    server.write("src/lib.rs", &edited);
    let change = wait_for(&events, Duration::from_secs(60), "the new cycle", |e| {
        appeared(e, "cycle-finder", "epsilon", "appeared")
    });
    let cycles = &change["changes"][0];
    assert!(cycles["appeared"].to_string().contains("zeta"), "{change}");
    assert!(!cycles["disappeared"].to_string().contains("alpha"), "the old cycles stay: {change}");

    // Reverting removes it again (the re-indexed copy replaces the first one).
    server.write("src/lib.rs", &original);
    wait_for(&events, Duration::from_secs(60), "the cycle gone", |e| {
        appeared(e, "cycle-finder", "epsilon", "disappeared")
    });

    // The server goes away: said once; it comes back on the same port: said, and watching goes on.
    server.stop();
    let lost = wait_for(&events, Duration::from_secs(30), "server-lost", |e| e["event"] == "server-lost");
    assert_eq!(lost["kind"], "graph-server", "{lost}");
    assert!(lost["message"].as_str().unwrap().contains("pt08-http-code-query-server"), "{lost}");
    server.start();
    wait_for(&events, Duration::from_secs(60), "server-back", |e| e["event"] == "server-back");
    server.write("src/lib.rs", &edited);
    wait_for(&events, Duration::from_secs(60), "the cycle after the restart", |e| {
        appeared(e, "cycle-finder", "epsilon", "appeared")
    });

    // Ctrl-C: a clean stop.
    rustix::process::kill_process(
        rustix::process::Pid::from_raw(watch.id() as i32).unwrap(),
        rustix::process::Signal::INT,
    )
    .unwrap();
    wait_for(&events, Duration::from_secs(30), "stopped", |e| e["event"] == "stopped");
    assert_eq!(watch.wait().unwrap().code(), Some(0));
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_answers_in_parseltongues_envelope_with_real_plugins() {
    let server = tokio::task::spawn_blocking(polyglot_server).await.unwrap();
    let mut serve = Reaped(
        ptplugin()
            .args(["serve", "--graph", &server.url(), "--listen", "127.0.0.1:0"])
            .args(["--plugin", "bundled:cycle-finder", "--plugin", "bundled:fault-panic"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let out = lines(&mut serve);
    let first = out.recv_timeout(Duration::from_secs(60)).expect("serve says where it listens");
    let base =
        first.split(" on ").nth(1).and_then(|s| s.split(' ').next()).unwrap_or_else(|| panic!("{first}"));
    assert!(base.starts_with("http://127.0.0.1:"), "{first}");
    let client = reqwest::Client::new();
    let call = |route: &str| {
        let request = client.get(format!("{base}{route}"));
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.text().await.unwrap())
        }
    };

    let (status, body) = call("/server-health-check-status").await;
    assert_eq!(status, 200);
    let health: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (health["success"].clone(), health["endpoint"].clone()),
        (Value::Bool(true), "/server-health-check-status".into())
    );
    assert_eq!(health["status"], "ok", "pt08's own health shape");

    let (_, body) = call("/plugin-analyses-list-all").await;
    let list: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(list["data"]["total_count"], 2, "{list}");

    let (status, body) = call("/plugin-analysis-run-now?plugin=cycle-finder").await;
    assert_eq!(status, 200, "{body}");
    let run: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(run["success"], true);
    assert!(run["tokens"].as_u64().unwrap() > 0);
    let about_alpha = |f: &Value| {
        f["rule"] == "cycle.dependency"
            && f["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .any(|n| n["name"] == "alpha" && n["file"] == "src/lib.rs")
    };
    assert!(run["data"]["findings"].as_array().unwrap().iter().any(about_alpha), "{run}");
    assert_eq!(run["data"]["graph"]["source"], server.url());

    // A plugin's failure is an envelope with its kind; the service goes on.
    let (status, body) = call("/plugin-analysis-run-now?plugin=fault-panic").await;
    assert_eq!(status, 502, "{body}");
    let failed: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (failed["success"].clone(), failed["error"]["kind"].clone()),
        (Value::Bool(false), "trap".into())
    );
    assert!(!body.contains("RUST_BACKTRACE") && !body.contains("stack backtrace"), "{body}");

    for (route, status, kind) in [
        ("/plugin-analysis-run-now?plugin=nope", 404, "not-found"),
        ("/plugin-analysis-run-now", 400, "usage"),
        ("/no-such-route", 404, "usage"),
    ] {
        let (got, body) = call(route).await;
        let v: Value =
            serde_json::from_str(&body).unwrap_or_else(|_| panic!("{route}: not an envelope: {body}"));
        assert_eq!(
            (got, v["success"].clone(), v["error"]["kind"].as_str()),
            (status, Value::Bool(false), Some(kind)),
            "{route}"
        );
    }
    let (status, _) = call(&format!("/plugin-analysis-run-now?plugin={}", "x".repeat(10_000))).await;
    assert_eq!(status, 414);

    let (_, all) = call("/plugin-analyses-run-all").await;
    let all: Value = serde_json::from_str(&all).unwrap();
    assert_eq!(all["data"]["failed_count"], 1, "{all}");

    let (status, metrics) = call("/metrics").await;
    assert_eq!(status, 200);
    assert!(metrics.contains("cycle-finder"), "{metrics}");

    rustix::process::kill_process(
        rustix::process::Pid::from_raw(serve.id() as i32).unwrap(),
        rustix::process::Signal::INT,
    )
    .unwrap();
    assert_eq!(serve.wait().unwrap().code(), Some(0));

    // Another address than loopback only when asked.
    let out = ptplugin().args(["serve", "--graph", &server.url(), "--listen", "0.0.0.0:0"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--allow-remote"));
}

/// A one-trick HTTP server: answers every connection with `response`, for the ways a server can
/// misbehave that a real pt08 does not (plain text, `success: false`, a redirect elsewhere).
fn answering(head: &'static str, body: &'static str) -> String {
    let response = format!("{head}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len());
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { break };
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(response.as_bytes());
        }
    });
    url
}

#[test]
fn a_server_that_cannot_serve_a_graph_is_a_clear_error_exit_2() {
    let free = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let cases: Vec<(String, &str, &str)> = vec![
        (
            format!("http://127.0.0.1:{free}"),
            "graph-server",
            "is `parseltongue pt08-http-code-query-server` running on 127.0.0.1",
        ),
        (format!("http://127.0.0.1:{free}/code-entities-list-all"), "usage", "not a route"),
        (
            answering("HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain", "Failed to deserialize here"),
            "graph-server",
            "HTTP 400 Bad Request: Failed to deserialize here",
        ),
        (
            answering("HTTP/1.1 200 OK\r\ncontent-type: text/html", "<html></html>"),
            "graph-server",
            "not JSON",
        ),
        (
            answering(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json",
                r#"{"success":false,"endpoint":"/code-entities-list-all","error":"database locked"}"#,
            ),
            "graph-server",
            "success: false: database locked",
        ),
        (
            answering("HTTP/1.1 302 Found\r\nlocation: http://127.0.0.2:9/", ""),
            "graph-server",
            "redirected to another host (127.0.0.2:9)",
        ),
    ];
    for (url, kind, says) in cases {
        let out = ptplugin()
            .args(["run", "--plugin", "bundled:node-census", "--graph", &url, "--format", "json"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{url}: {}", String::from_utf8_lossy(&out.stdout));
        let error = &json(&out)["error"];
        assert_eq!(error["kind"], kind, "{url}: {error}");
        let all = error.to_string();
        assert!(all.contains(says), "{url}: expected `{says}` in {all}");
    }

    // An answer larger than --max-graph-mb is cut off while it streams in, not read whole.
    let big: &'static str = Box::leak(
        format!(
            r#"{{"success":true,"endpoint":"/code-entities-list-all","data":{{"entities":[]}},"pad":"{}"}}"#,
            "x".repeat(3 << 20)
        )
        .into_boxed_str(),
    );
    let url = answering("HTTP/1.1 200 OK\r\ncontent-type: application/json", big);
    let out = ptplugin().args(["import", &url, "--max-graph-mb", "1", "--format", "json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let error = json(&out)["error"].to_string();
    assert!(error.contains("larger than 1 MiB") && error.contains("--max-graph-mb"), "{error}");
}

#[test]
fn saved_answers_import_like_the_server_and_incomplete_pages_are_refused() {
    let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/parseltongue-v1.7.2");
    let out = ptplugin().args(["import", sample.to_str().unwrap(), "--format", "json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let stats = json(&out);
    assert_eq!((stats["entities_read"].as_u64(), stats["edges_read"].as_u64()), (Some(999), Some(9702)));
    assert_eq!(stats["placeholders"], 641);
    assert_eq!(stats["nodes"], parseltongue_plugins::bundled::parseltongue_sample().graph.nodes().len());

    // The first page alone: 2000 of 9702 edges is no graph to analyse.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(sample.join("code-entities-list-all.json"), dir.path().join("code-entities-list-all.json"))
        .unwrap();
    std::fs::create_dir(dir.path().join("dependency-edges-list-all")).unwrap();
    let first = "dependency-edges-list-all/limit2000-offset00000.json";
    std::fs::copy(sample.join(first), dir.path().join(first)).unwrap();
    let out = ptplugin().args(["import", dir.path().to_str().unwrap(), "--format", "json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let message = json(&out)["error"]["message"].as_str().unwrap().to_string();
    assert!(message.contains("2000 of 9702 edges") && message.contains("offset 2000"), "{message}");
}
