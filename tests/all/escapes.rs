//! Deny-by-default WASI: a plugin cannot read host files, open sockets or see the environment.
//! Each escape fixture reports its attempts as findings; each attempt must have been refused.

use std::net::TcpListener;
use std::time::Duration;

use parseltongue_plugins::PluginOptions;

use crate::support::{load, plugin, small_graph};

#[tokio::test]
async fn cannot_read_etc_passwd_list_root_or_write_tmp() {
    let analysis =
        plugin("escape-read-passwd").analyze(&small_graph()).await.expect("the attempt is not a crash");
    let findings = crate::support::texts(analysis.result);
    assert_eq!(findings.len(), 3, "{findings:?}");
    for f in &findings {
        assert!(f.contains(": denied: "), "an escape succeeded: {f}");
        assert!(!f.contains("root:"), "host file content leaked: {f}");
    }
    assert!(!std::path::Path::new("/tmp/ptplugin-escape").exists());
}

#[tokio::test]
async fn cannot_connect_to_a_listening_loopback_port_or_resolve_names() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let plugin = load("escape-tcp-connect", PluginOptions::new().config("port", port.to_string()));
    let analysis = plugin.analyze(&small_graph()).await.expect("the attempt is not a crash");
    let findings = crate::support::texts(analysis.result);
    assert!(findings[0].starts_with(&format!("connect 127.0.0.1:{port}: denied: ")), "{findings:?}");
    assert!(findings[1].starts_with("resolve localhost: denied: "), "{findings:?}");
    // Give a connection that slipped through every chance to show up.
    std::thread::sleep(Duration::from_millis(50));
    match listener.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("the listener saw a connection: {other:?}"),
    }
}

#[tokio::test]
async fn sees_no_environment_variables_arguments_or_stdin() {
    assert!(std::env::var_os("PATH").is_some(), "the host has an environment to leak");
    let analysis = plugin("escape-read-env").analyze(&small_graph()).await.unwrap();
    assert_eq!(analysis.result.messages(), Vec::<&str>::new());
    assert_eq!(analysis.result.recommendations, vec!["saw 0 environment entries, arguments and stdin bytes"]);
}
