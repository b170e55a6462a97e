//! The metrics endpoint: `/metrics` (Prometheus text format) and `/snapshot` (JSON
//! [`MetricsSnapshot`](crate::observe::telemetry::MetricsSnapshot), what `ptplugin top --connect` reads).
//! Loopback only, HTTP/1.1, read-only: it answers GET and nothing else.

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::error::{Error, Result};
use crate::runtime::host::WeakHost;

/// Binds `addr`, refusing anything but a loopback address: metrics name every plugin and its
/// errors, which is nothing to publish beyond this machine.
pub(crate) async fn bind(addr: SocketAddr) -> Result<TcpListener> {
    if !addr.ip().is_loopback() {
        return Err(Error::io(
            format!("metrics endpoint {addr}"),
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not a loopback address; the endpoint only listens on 127.0.0.1 or ::1 (put a proxy in front to publish it)",
            ),
        ));
    }
    TcpListener::bind(addr).await.map_err(|e| Error::io(format!("cannot listen on {addr} for metrics"), e))
}

/// Serves until the task is aborted (at host shutdown) or the host is gone.
pub(crate) async fn serve(listener: TcpListener, host: WeakHost) {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            // Out of descriptors, say: back off instead of spinning on the error.
            Err(_) => {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        let host = host.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| respond(req, host.clone()));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn respond(
    req: Request<Incoming>,
    host: WeakHost,
) -> std::result::Result<Response<Full<Bytes>>, Infallible> {
    let reply = |status: StatusCode, kind: &'static str, body: String| {
        let mut response = Response::new(Full::new(Bytes::from(body)));
        *response.status_mut() = status;
        if let Ok(value) = kind.parse() {
            response.headers_mut().insert(hyper::header::CONTENT_TYPE, value);
        }
        Ok(response)
    };
    if req.method() != Method::GET {
        return reply(StatusCode::METHOD_NOT_ALLOWED, "text/plain", "read-only: GET only\n".into());
    }
    let Some(host) = host.upgrade() else {
        return reply(StatusCode::SERVICE_UNAVAILABLE, "text/plain", "the host has stopped\n".into());
    };
    match req.uri().path() {
        "/metrics" => {
            let text = host.prometheus_text().unwrap_or_default();
            reply(StatusCode::OK, "text/plain; version=0.0.4; charset=utf-8", text)
        }
        "/snapshot" => {
            let snapshot = host.metrics().await;
            let json = serde_json::to_string(&snapshot).unwrap_or_else(|_| "{}".into());
            reply(StatusCode::OK, "application/json", json)
        }
        "/" => reply(
            StatusCode::OK,
            "text/plain",
            "parseltongue-plugins host\n/metrics   Prometheus text format\n/snapshot  JSON, what `ptplugin top --connect` reads\n".into(),
        ),
        _ => reply(StatusCode::NOT_FOUND, "text/plain", "not found: try /metrics or /snapshot\n".into()),
    }
}
