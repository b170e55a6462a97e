//! The security model end to end: nothing beyond the sandbox unless the plugin asks *and* the
//! policy allows; what is granted is exactly what is reachable; storage persists and is private
//! and quota'd; I/O is throttled; everything lands in a verifiable audit trail.

use std::io::Read;
use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use parseltongue_plugins::audit::verify;
use parseltongue_plugins::manifest::{ConnectRequest, DirRequest, EnvRequest, KvRequest, Reason};
use parseltongue_plugins::{
    Capabilities, ErrorKind, Graph, KvStore, Limits, PluginHost, PluginOptions, PluginSpec, Policy, bundled,
};

use crate::support::{sandbox, small_graph};

fn spec(name: &str) -> PluginSpec {
    PluginSpec::bytes(name, bundled::get(name).expect("bundled").wasm)
}

fn graph() -> Arc<Graph> {
    Arc::new(small_graph())
}

async fn host_with(policy: Policy, specs: Vec<PluginSpec>) -> PluginHost {
    let mut builder = PluginHost::builder().sandbox(sandbox().clone()).policy(policy);
    for s in specs {
        builder = builder.plugin(s);
    }
    builder.start().await.expect("host starts")
}

async fn findings(host: &PluginHost, plugin: &str) -> Vec<String> {
    crate::support::texts(host.analyze(plugin, graph()).await.expect("the call succeeds").result)
}

fn dirs(paths: &[&Path]) -> Capabilities {
    Capabilities {
        read_dirs: paths
            .iter()
            .map(|p| DirRequest { path: p.to_path_buf(), reason: "inputs".into() })
            .collect(),
        ..Capabilities::default()
    }
}

#[tokio::test]
async fn a_granted_directory_is_readable_and_nothing_else_is() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    std::fs::create_dir(&input).unwrap();
    std::fs::write(input.join("notes.txt"), "granted content\n").unwrap();
    std::fs::write(tmp.path().join("secret"), "s3cret\n").unwrap();
    let p = |rel: &str| format!("{}/{rel}", input.display());
    let options = PluginOptions::new()
        .config("read", format!("{},{},/etc/passwd", p("notes.txt"), p("../secret")))
        .config("list", input.display().to_string())
        .config("write", format!("{},{}", p("new.txt"), p("notes.txt")));
    let plugin = spec("escape-read-passwd").options(options).capabilities(dirs(&[&input]));
    let host = host_with(Policy::default().allow_read_dir(tmp.path()), vec![plugin]).await;

    let f = findings(&host, "escape-read-passwd").await;
    assert_eq!(f[0], format!("read {}: ok: granted content", p("notes.txt")));
    assert!(f[1].starts_with(&format!("read {}: denied: ", p("../secret"))), "{f:?}");
    assert!(f[2].starts_with("read /etc/passwd: denied: "), "{f:?}");
    assert!(f[3].starts_with(&format!("list {}: ok: 1 entries", input.display())), "{f:?}");
    assert!(f[4].starts_with(&format!("write {}: denied: ", p("new.txt"))), "{f:?}");
    assert!(f[5].starts_with(&format!("write {}: denied: ", p("notes.txt"))), "{f:?}");
    assert!(!input.join("new.txt").exists());
    assert_eq!(std::fs::read_to_string(input.join("notes.txt")).unwrap(), "granted content\n");
    let report = host.status().await.plugin("escape-read-passwd").unwrap().load.clone();
    assert_eq!(report.granted.read_dirs, vec![input.clone()]);
    host.shutdown().await;
}

#[tokio::test]
async fn a_directory_outside_the_policy_is_not_granted() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("x"), "x").unwrap();
    let options = PluginOptions::new().config("read", format!("{}/x", tmp.path().display()));
    let plugin = spec("escape-read-passwd").options(options).capabilities(dirs(&[tmp.path()]));
    let host = host_with(Policy::default().allow_read_dir("/srv/elsewhere"), vec![plugin]).await;
    assert!(findings(&host, "escape-read-passwd").await[0].contains(": denied: "));
    let report = host.status().await.plugin("escape-read-passwd").unwrap().load.clone();
    assert_eq!(report.denied.len(), 1);
    assert!(report.denied[0].why.contains("not under any directory the policy allows"));
    host.shutdown().await;
}

fn connect(port: u16) -> Capabilities {
    Capabilities {
        connect: vec![ConnectRequest {
            target: format!("127.0.0.1:{port}"),
            reason: "talks to a local index".into(),
        }],
        ..Capabilities::default()
    }
}

#[tokio::test]
async fn only_the_granted_address_can_be_connected_to() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let other = TcpListener::bind("127.0.0.1:0").unwrap();
    let other_port = other.local_addr().unwrap().port();
    let options = |p: u16| PluginOptions::new().config("port", p.to_string());
    let policy = Policy::default().allow_connect(format!("127.0.0.1:{port}"));
    let host = host_with(
        policy,
        vec![
            spec("escape-tcp-connect").name("granted").options(options(port)).capabilities(connect(port)),
            spec("escape-tcp-connect").name("ungranted").options(options(port)),
            spec("escape-tcp-connect")
                .name("elsewhere")
                .options(options(other_port))
                .capabilities(connect(port)),
        ],
    )
    .await;

    let f = findings(&host, "granted").await;
    assert_eq!(f[0], format!("connect 127.0.0.1:{port}: ok"));
    let (mut stream, _) = listener.accept().unwrap();
    let mut got = String::new();
    stream.read_to_string(&mut got).unwrap();
    assert_eq!(got, "escaped\n", "the connection really reached the server");
    assert!(f[1].starts_with("resolve localhost: denied: "), "an IP grant does not allow name lookup: {f:?}");

    let f = findings(&host, "ungranted").await;
    assert!(f[0].starts_with(&format!("connect 127.0.0.1:{port}: denied: ")), "{f:?}");
    let f = findings(&host, "elsewhere").await;
    assert!(f[0].starts_with(&format!("connect 127.0.0.1:{other_port}: denied: ")), "{f:?}");
    listener.set_nonblocking(true).unwrap();
    other.set_nonblocking(true).unwrap();
    assert!(listener.accept().is_err() && other.accept().is_err(), "no other connection arrived");
    host.shutdown().await;
}

#[tokio::test]
async fn only_granted_environment_variables_are_visible() {
    assert!(std::env::var_os("PATH").is_some() && std::env::var_os("HOME").is_some());
    let wants = Capabilities {
        env: vec![
            EnvRequest { name: "PATH".into(), reason: "finds tools".into() },
            EnvRequest { name: "HOME".into(), reason: "would like it".into() },
        ],
        ..Capabilities::default()
    };
    let host =
        host_with(Policy::default().allow_env("PATH"), vec![spec("escape-read-env").capabilities(wants)])
            .await;
    let f = findings(&host, "escape-read-env").await;
    assert_eq!(f, vec![format!("env PATH={}", std::env::var("PATH").unwrap())]);
    host.shutdown().await;
}

#[tokio::test]
async fn the_wall_clock_is_real_only_when_granted() {
    let clock =
        Capabilities { wall_clock: Some(Reason { reason: "timestamps".into() }), ..Capabilities::default() };
    let host = host_with(
        Policy::default()
            .plugin("granted", parseltongue_plugins::Allowance { wall_clock: true, ..Default::default() }),
        vec![
            spec("probe-clock").name("granted").capabilities(clock.clone()),
            spec("probe-clock").name("denied").capabilities(clock),
        ],
    )
    .await;
    let seconds = |f: Vec<String>| f[0].strip_prefix("wall clock ").unwrap().parse::<u64>().unwrap();
    assert!(seconds(findings(&host, "granted").await) > 1_700_000_000);
    assert_eq!(seconds(findings(&host, "denied").await), 0);
    host.shutdown().await;
}

fn kv(quota_kb: Option<u64>) -> Capabilities {
    Capabilities { kv: Some(KvRequest { reason: "remembers".into(), quota_kb }), ..Capabilities::default() }
}

#[tokio::test]
async fn storage_survives_a_restart_is_private_and_has_a_quota() {
    storage_case("kv-counter").await;
}

/// The same with the contract 0.2 fixture: 0.2's `kv` interface is served by the same store.
#[tokio::test]
async fn storage_works_the_same_for_a_contract_0_2_plugin() {
    assert_eq!(
        parseltongue_plugins::Contract::declared_by(bundled::get("kv-counter-v02").unwrap().wasm),
        Some(parseltongue_plugins::Contract::V0_2)
    );
    storage_case("kv-counter-v02").await;
}

async fn storage_case(fixture: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("kv.redb");
    let policy = Policy::default().allow_kv(4);
    let specs = || {
        vec![
            spec(fixture).name("a").capabilities(kv(None)),
            spec(fixture).name("b").capabilities(kv(None)),
            spec(fixture)
                .name("filler")
                .capabilities(kv(Some(64)))
                .options(PluginOptions::new().config("fill", "10000")),
            spec(fixture).name("ungranted"),
        ]
    };
    {
        let store = KvStore::open(&db).unwrap();
        let host = PluginHost::builder()
            .sandbox(sandbox().clone())
            .policy(policy.clone())
            .kv_store(store)
            .plugins(specs())
            .start()
            .await
            .unwrap();
        assert_eq!(findings(&host, "a").await, vec!["count 1", "keys count"]);
        assert_eq!(findings(&host, "a").await, vec!["count 2", "keys count"]);
        assert_eq!(findings(&host, "b").await, vec!["count 1", "keys count"], "b cannot see a's keys");
        let f = findings(&host, "filler").await;
        assert_eq!(f[0], "count 1");
        assert!(f[1].starts_with("fill 10000: error: over quota"), "{f:?}");
        let report = host.status().await.plugin("filler").unwrap().load.clone();
        assert_eq!(report.granted.kv_quota_bytes, Some(4 * 1024), "capped at the policy's 4 KiB");
        let f = findings(&host, "ungranted").await;
        assert!(f[0].starts_with("get: error: key-value storage is not granted"), "{f:?}");
        host.shutdown().await;
    }
    // A new host on the same store: the count carries on.
    let host = PluginHost::builder()
        .sandbox(sandbox().clone())
        .policy(policy)
        .kv_store(KvStore::open(&db).unwrap())
        .plugins(specs())
        .start()
        .await
        .unwrap();
    assert_eq!(findings(&host, "a").await, vec!["count 3", "keys count"]);
    host.shutdown().await;
}

#[tokio::test]
async fn a_log_flood_is_throttled_across_calls() {
    let limits = Limits::default()
        .with_max_log_bytes(4 * 1024)
        .with_log_bytes_per_sec(1024)
        .with_cpu_time(Duration::from_secs(30));
    let host = host_with(
        Policy::default(),
        vec![spec("fault-log-flood").options(PluginOptions::new().limits(limits))],
    )
    .await;
    let first = host.analyze("fault-log-flood", graph()).await.unwrap();
    let kept_first: usize = first.logs.iter().map(|r| r.message.len()).sum();
    assert!(kept_first <= 4 * 1024, "{kept_first}");
    assert!(first.usage.log_messages_dropped > 1_900);
    let second = host.analyze("fault-log-flood", graph()).await.unwrap();
    let kept_second: usize = second.logs.iter().map(|r| r.message.len()).sum();
    assert!(
        kept_second < kept_first,
        "the bucket did not refill between calls: {kept_second} vs {kept_first}"
    );
    host.shutdown().await;
}

#[tokio::test]
async fn too_many_host_calls_in_one_call_stop_the_plugin() {
    let limits = Limits::default().with_max_host_calls(2);
    // cycle-finder calls config twice and edges once.
    let host =
        host_with(Policy::default(), vec![spec("cycle-finder").options(PluginOptions::new().limits(limits))])
            .await;
    let e = host.analyze("cycle-finder", graph()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Throttled, "{e}");
    assert!(e.to_string().contains("more than 2 host calls"), "{e}");
    host.shutdown().await;
}

#[tokio::test]
async fn the_audit_trail_records_grants_denials_calls_and_crashes_and_verifies() {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("audit.jsonl");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let wants = Capabilities {
        env: vec![
            EnvRequest { name: "PATH".into(), reason: "tools".into() },
            EnvRequest { name: "HOME".into(), reason: "nosy".into() },
        ],
        ..Capabilities::default()
    };
    let host = PluginHost::builder()
        .sandbox(sandbox().clone())
        .policy(Policy::default().allow_env("PATH"))
        .audit_log(&log)
        .plugin(spec("escape-read-env").capabilities(wants))
        .plugin(spec("escape-tcp-connect").options(PluginOptions::new().config("port", port.to_string())))
        .plugin(spec("fault-panic"))
        .start()
        .await
        .unwrap();
    host.analyze("escape-read-env", graph()).await.unwrap();
    host.analyze("escape-tcp-connect", graph()).await.unwrap();
    host.analyze("fault-panic", graph()).await.unwrap_err();
    host.analyze("fault-panic", Arc::new(Graph::default())).await.unwrap();
    host.shutdown().await;

    let report = verify(&log).unwrap();
    assert!(report.is_intact() && report.head_checked, "{report:?}");
    let text = std::fs::read_to_string(&log).unwrap();
    let records: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let has = |pred: &dyn Fn(&serde_json::Value) -> bool| records.iter().any(|r| pred(&r["record"]));
    assert!(has(&|r| r["record"] == "opened"));
    assert!(has(&|r| r["record"] == "policy-change"));
    assert!(has(&|r| r["record"] == "load"
        && r["plugin"] == "fault-panic"
        && r["sha256"].as_str().unwrap().len() == 64));
    assert!(has(&|r| r["record"] == "grant" && r["capability"] == "env PATH"));
    assert!(has(&|r| r["record"] == "denial" && r["capability"] == "env HOME" && r["when"] == "load"));
    assert!(
        has(&|r| r["record"] == "denial" && r["plugin"] == "escape-tcp-connect" && r["when"] == "run"),
        "the refused connection attempt is recorded"
    );
    assert!(has(&|r| r["record"] == "call-start" && r["plugin"] == "escape-read-env"));
    assert!(has(&|r| r["record"] == "call-end"
        && r["outcome"] == "ok"
        && r["usage"]["wall_time_ms"].is_number()));
    assert!(has(&|r| r["record"] == "call-end" && r["outcome"] == "trap"));
    assert!(has(&|r| r["record"] == "event" && r["event"] == "crashed" && r["plugin"] == "fault-panic"));
    assert!(has(&|r| r["record"] == "event" && r["event"] == "restarted"));
}

#[tokio::test]
async fn storage_writes_past_the_rate_are_refused_and_counted() {
    let tmp = tempfile::tempdir().unwrap();
    let limits = Limits::default().with_kv_writes_per_sec(1);
    let host = PluginHost::builder()
        .sandbox(sandbox().clone())
        .policy(Policy::default().allow_kv(16))
        .kv_store(KvStore::open(tmp.path().join("kv.redb")).unwrap())
        .plugin(spec("kv-counter").capabilities(kv(None)).options(PluginOptions::new().limits(limits)))
        .start()
        .await
        .unwrap();
    let first = host.analyze("kv-counter", graph()).await.unwrap();
    assert_eq!(first.result.messages()[0], "count 1");
    assert_eq!(first.usage.kv_writes_refused, 0);
    let second = host.analyze("kv-counter", graph()).await.unwrap();
    assert_eq!(second.result.messages()[0], "set: error: throttled: too many writes per second");
    assert_eq!(second.usage.kv_writes_refused, 1);
    host.shutdown().await;
}
