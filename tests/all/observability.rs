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
    assert!(
        line.contains("still running after 2 s: a plugin may use 600000 ms of CPU time per call"),
        "{line}"
    );
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

mod metrics {
    use std::time::Duration;

    use parseltongue_plugins::telemetry::MetricsSnapshot;
    use parseltongue_plugins::{Backoff, ErrorKind, PluginHost, PluginSpec, RestartPolicy, bundled};

    use crate::support::{graph, small_graph};

    fn spec(name: &str) -> PluginSpec {
        PluginSpec::bytes(name, bundled::get(name).unwrap().wasm)
    }

    pub(super) fn quick_restarts() -> RestartPolicy {
        RestartPolicy {
            backoff: Backoff {
                initial: Duration::from_millis(10),
                max: Duration::from_millis(10),
                multiplier: 1.0,
                jitter: 0.0,
            },
            max_restarts: 2,
            poison_threshold: u32::MAX,
            ..RestartPolicy::default()
        }
    }

    pub(super) async fn host(endpoint: bool) -> PluginHost {
        let mut builder = PluginHost::builder()
            .sandbox(crate::support::sandbox().clone())
            .restart_policy(quick_restarts())
            .plugins(["node-census", "fault-panic", "fault-log-flood"].map(spec));
        if endpoint {
            builder = builder.metrics_endpoint("127.0.0.1:0".parse().unwrap());
        }
        builder.start().await.unwrap()
    }

    /// Three good calls, a flood, and crashes until quarantine.
    pub(super) async fn workload(host: &PluginHost) {
        for _ in 0..3 {
            host.analyze("node-census", small_graph()).await.unwrap();
        }
        host.analyze("fault-log-flood", small_graph()).await.unwrap();
        let mut crashes = 0;
        for i in 0..20 {
            match host.analyze("fault-panic", graph(&[&format!("n{i}")], &[])).await {
                Err(e) if e.kind() == ErrorKind::Trap => crashes += 1,
                Err(e) if e.kind() == ErrorKind::Quarantined => break,
                other => panic!("{other:?}"),
            }
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
        assert_eq!(crashes, 3, "two restarts allowed, the third crash quarantines");
    }

    /// The monitor counts asynchronously: wait until it has seen `calls` calls of `plugin`.
    async fn settled(host: &PluginHost, plugin: &str, calls: u64) -> MetricsSnapshot {
        for _ in 0..100 {
            let snapshot = host.metrics().await;
            if snapshot.plugins.iter().any(|p| p.plugin == plugin && p.calls >= calls) {
                return snapshot;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("{plugin} never reached {calls} calls: {:#?}", host.metrics().await)
    }

    #[tokio::test]
    async fn the_snapshot_counts_calls_errors_restarts_quarantines_and_throttled_bytes() {
        let host = host(false).await;
        workload(&host).await;
        let snapshot = settled(&host, "fault-panic", 3).await;
        let census = snapshot.plugins.iter().find(|p| p.plugin == "node-census").unwrap();
        assert_eq!((census.calls, census.error_count(), census.restarts), (3, 0, 0));
        assert_eq!(census.latency.count, 3);
        assert!(census.latency.quantile(0.5).unwrap() > Duration::ZERO);
        assert!(census.peak_memory_bytes > 0 && census.peak_memory_bytes <= census.memory_limit_bytes);
        assert_eq!(census.memory_limit_bytes, 64 << 20);
        assert_eq!(census.state, "running");
        assert_eq!(census.instances, vec!["idle"]);

        let panic = snapshot.plugins.iter().find(|p| p.plugin == "fault-panic").unwrap();
        assert_eq!(panic.errors.get("trap"), Some(&3), "{panic:#?}");
        assert_eq!((panic.restarts, panic.quarantines, panic.crashes), (2, 1, 3), "{panic:#?}");
        assert_eq!(panic.state, "quarantined");
        assert_eq!(panic.state_reason.as_deref(), Some("2 restarts within 10 s"));
        let kinds: Vec<&str> = panic.recent_errors.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, ["trap", "trap", "trap", "quarantined"]);
        assert!(panic.recent_errors[0].message.contains("panicked"), "{:?}", panic.recent_errors[0]);

        let flood = snapshot.plugins.iter().find(|p| p.plugin == "fault-log-flood").unwrap();
        assert!(flood.throttled_bytes > 1_000_000, "{flood:#?}");
        assert!(snapshot.process.rss_bytes > 0 && snapshot.process.fds > 0);
        assert_eq!(host.prometheus_text(), None, "no endpoint, no own recorder");
        host.shutdown().await;
    }

    async fn get(url: &str) -> (u16, String) {
        let response = reqwest::get(url).await.unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    /// The value of the series `name{labels}` in Prometheus text.
    fn series(text: &str, name_and_labels: &str) -> f64 {
        let line = text
            .lines()
            .find(|l| l.starts_with(name_and_labels) && l[name_and_labels.len()..].starts_with(' '))
            .unwrap_or_else(|| panic!("no series {name_and_labels} in:\n{text}"));
        line.rsplit(' ').next().unwrap().parse().unwrap()
    }

    #[tokio::test]
    async fn the_endpoint_serves_prometheus_text_and_the_snapshot() {
        let host = host(true).await;
        workload(&host).await;
        settled(&host, "fault-panic", 3).await;
        let base = format!("http://{}", host.metrics_endpoint().unwrap());
        let (status, text) = get(&format!("{base}/metrics")).await;
        assert_eq!(status, 200);
        let census = r#"{plugin="node-census",version="0.0.0"}"#;
        let panic = r#"{plugin="fault-panic",version="0.0.0"}"#;
        assert_eq!(series(&text, &format!("ptplugin_calls_total{census}")), 3.0);
        assert_eq!(
            series(&text, r#"ptplugin_errors_total{plugin="fault-panic",version="0.0.0",kind="trap"}"#),
            3.0
        );
        assert_eq!(series(&text, &format!("ptplugin_restarts_total{panic}")), 2.0);
        assert_eq!(series(&text, &format!("ptplugin_quarantines_total{panic}")), 1.0);
        assert_eq!(series(&text, &format!("ptplugin_quarantined{panic}")), 1.0);
        assert_eq!(series(&text, &format!("ptplugin_call_duration_seconds_count{census}")), 3.0);
        assert_eq!(
            series(
                &text,
                r#"ptplugin_call_duration_seconds_bucket{plugin="node-census",version="0.0.0",le="+Inf"}"#
            ),
            3.0
        );
        assert!(series(&text, &format!("ptplugin_peak_memory_bytes{census}")) > 0.0);
        assert!(
            series(&text, r#"ptplugin_throttled_bytes_total{plugin="fault-log-flood",version="0.0.0"}"#)
                > 1e6
        );
        assert!(text.contains("# TYPE ptplugin_calls_total counter"), "{text}");

        let (status, json) = get(&format!("{base}/snapshot")).await;
        assert_eq!(status, 200);
        let snapshot: MetricsSnapshot = serde_json::from_str(&json).unwrap();
        let p = snapshot.plugins.iter().find(|p| p.plugin == "fault-panic").unwrap();
        assert_eq!((p.state.as_str(), p.restarts), ("quarantined", 2));
        assert_eq!(get(&format!("{base}/nothing")).await.0, 404);
        let posted = reqwest::Client::new().post(format!("{base}/metrics")).send().await.unwrap();
        assert_eq!(posted.status().as_u16(), 405);

        host.shutdown().await;
        assert!(reqwest::get(format!("{base}/metrics")).await.is_err(), "the endpoint closes with the host");
    }

    #[tokio::test]
    async fn the_endpoint_listens_on_loopback_only() {
        let error = PluginHost::builder()
            .sandbox(crate::support::sandbox().clone())
            .metrics_endpoint("0.0.0.0:0".parse().unwrap())
            .start()
            .await
            .err()
            .expect("refused");
        assert_eq!(error.kind(), ErrorKind::Io);
        assert!(error.to_string().contains("not a loopback address"), "{error}");
    }
}

/// `ptplugin top` as a person sees it: in a real terminal (tmux), read off the screen.
mod top {
    use std::process::Command;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, Instant};

    /// A tmux session running one command in a 160×40 terminal; killed on drop.
    struct Terminal {
        session: String,
    }

    impl Terminal {
        fn start(args: &[&str]) -> Terminal {
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            let session =
                format!("ptplugin-top-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
            static CACHE: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
            let cache = CACHE.get_or_init(|| tempfile::tempdir().unwrap()).path();
            let mut command =
                format!("{} --cache-dir {} top", env!("CARGO_BIN_EXE_ptplugin"), cache.display());
            for a in args {
                command.push(' ');
                command.push_str(a);
            }
            // Keep the pane after exit so the exit status can be read.
            let shell = format!("{command}; echo EXITED $?; sleep 60");
            let status = Command::new("tmux")
                .args(["new-session", "-d", "-s", &session, "-x", "160", "-y", "40", &shell])
                .status()
                .expect("tmux is installed (.ci/test-deps installs it)");
            assert!(status.success());
            Terminal { session }
        }

        fn screen(&self) -> String {
            let out =
                Command::new("tmux").args(["capture-pane", "-p", "-t", &self.session]).output().unwrap();
            String::from_utf8_lossy(&out.stdout).into_owned()
        }

        fn keys(&self, keys: &[&str]) {
            let mut args = vec!["send-keys", "-t", &self.session];
            args.extend_from_slice(keys);
            assert!(Command::new("tmux").args(&args).status().unwrap().success());
        }

        /// Waits until the screen satisfies `ready`; the last screen otherwise (in the panic).
        fn wait_for(&self, what: &str, ready: impl Fn(&str) -> bool) -> String {
            let started = Instant::now();
            loop {
                let screen = self.screen();
                if ready(&screen) {
                    return screen;
                }
                assert!(
                    started.elapsed() < Duration::from_secs(90),
                    "never saw {what}; the screen:\n{screen}"
                );
                std::thread::sleep(Duration::from_millis(250));
            }
        }
    }

    impl Drop for Terminal {
        fn drop(&mut self) {
            let _ = Command::new("tmux").args(["kill-session", "-t", &self.session]).status();
        }
    }

    /// The table row of `plugin`, split into columns.
    fn row(screen: &str, plugin: &str) -> Option<Vec<String>> {
        screen
            .lines()
            .find(|l| l.split_whitespace().next() == Some(plugin))
            .map(|l| l.split_whitespace().map(String::from).collect())
    }

    #[test]
    fn top_shows_the_demo_host_live_and_quits_on_q() {
        let term = Terminal::start(&[]);
        let screen = term.wait_for("the fault plugins backing off", |s| {
            row(s, "fault-panic").is_some_and(|r| r[2] == "backing") && row(s, "node-census").is_some()
        });
        assert!(screen.contains("ptplugin top — demo host"), "{screen}");
        for column in [
            "STATE",
            "BUSY/INST",
            "CALLS",
            "ERRORS",
            "RESTARTS",
            "P99 ms",
            "CPU/QUOTA",
            "MEM/LIMIT",
            "DROPPED",
        ] {
            assert!(screen.contains(column), "{column}: {screen}");
        }
        for plugin in ["node-census", "cycle-finder", "dead-code", "fault-loop", "fault-memory-bomb"] {
            assert!(row(&screen, plugin).is_some(), "{plugin}: {screen}");
        }
        // The loop runs against a CPU quota: its column reads used/budget.
        assert!(row(&screen, "fault-loop").unwrap().iter().any(|c| c.ends_with("/2000")), "{screen}");
        // Select fault-panic (rows are sorted by name: 8th) and read its errors.
        term.keys(&["Down"; 7]);
        // The panel appears at once; its recent error once the failed call is recorded (on a busy
        // machine a refresh or two later).
        let screen = term.wait_for("fault-panic's details with its error", |s| {
            s.contains("fault-panic: instances and recent errors") && s.contains("panicked")
        });
        assert!(screen.contains("trap") && screen.contains("panicked"), "{screen}");
        assert!(screen.contains("instances: #0 "), "one entry per instance: {screen}");
        term.keys(&["q"]);
        let screen = term.wait_for("the exit", |s| s.contains("EXITED"));
        assert!(screen.contains("EXITED 0"), "{screen}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn top_connects_to_a_running_host_and_shows_quarantine() {
        let host = super::metrics::host(true).await;
        super::metrics::workload(&host).await;
        let addr = host.metrics_endpoint().unwrap().to_string();
        let term = Terminal::start(&["--connect", &addr, "--interval", "200ms"]);
        let screen = tokio::task::spawn_blocking(move || {
            let screen = term.wait_for("the quarantined plugin", |s| {
                row(s, "fault-panic").is_some_and(|r| r[2] == "quarantined")
            });
            term.keys(&["q"]);
            (screen, term.wait_for("the exit", |s| s.contains("EXITED")))
        })
        .await
        .unwrap();
        let (screen, exit) = screen;
        assert!(screen.contains(&format!("http://{addr}/snapshot")), "{screen}");
        let census = row(&screen, "node-census").unwrap();
        assert_eq!(&census[2..6], ["running", "0/1", "0", "3"], "{screen}");
        let panic = row(&screen, "fault-panic").unwrap();
        assert_eq!(&panic[5..8], ["3", "3", "2"], "calls, errors, restarts: {screen}");
        assert!(screen.contains("1 quarantined"), "{screen}");
        assert!(exit.contains("EXITED 0"), "{exit}");
        host.shutdown().await;
    }

    #[test]
    fn top_says_when_it_cannot_reach_the_host() {
        let term = Terminal::start(&["--connect", "127.0.0.1:9", "--interval", "200ms"]);
        let screen = term.wait_for("the error", |s| s.contains("cannot reach"));
        assert!(screen.contains("http://127.0.0.1:9/snapshot"), "{screen}");
        term.keys(&["q"]);
        assert!(term.wait_for("the exit", |s| s.contains("EXITED")).contains("EXITED 0"));
    }

    #[test]
    fn top_needs_a_terminal() {
        let (code, _, stderr) = crate::support::output(crate::support::ptplugin().arg("top"));
        assert_eq!(code, Some(2), "{stderr}");
        assert!(stderr.contains("needs a terminal"), "{stderr}");
    }
}
