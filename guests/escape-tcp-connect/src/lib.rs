//! Escape fixture: tries to open a TCP connection to `127.0.0.1:<port>` (config `port`, default
//! 80) and to resolve `localhost`, and reports what happened as findings.

use guest_sdk::{AnalysisResult, GraphNode, Guest, host};
use std::io::Write;
use std::net::{TcpStream, ToSocketAddrs};

struct TcpConnect;

impl Guest for TcpConnect {
    fn analyze_graph(_nodes: Vec<GraphNode>) -> AnalysisResult {
        let port: u16 = host::config("port").and_then(|p| p.parse().ok()).unwrap_or(80);
        let connect = match TcpStream::connect(("127.0.0.1", port)) {
            Ok(mut stream) => {
                let _ = stream.write_all(b"escaped\n");
                format!("connect 127.0.0.1:{port}: ok")
            }
            Err(e) => format!("connect 127.0.0.1:{port}: denied: {e}"),
        };
        let lookup = match ("localhost", port).to_socket_addrs() {
            Ok(addrs) => format!("resolve localhost: ok: {} addresses", addrs.count()),
            Err(e) => format!("resolve localhost: denied: {e}"),
        };
        AnalysisResult { findings: vec![connect, lookup], confidence: 1.0, recommendations: vec![] }
    }
}

guest_sdk::export_plugin!(TcpConnect);
