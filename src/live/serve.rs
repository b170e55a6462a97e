//! Plugin analyses as HTTP endpoints, in Parseltongue's own style: the same envelope
//! (`{success, endpoint, data, tokens}`, `error` instead of `data` on failure) and descriptive
//! kebab-case routes, so the agents and scripts that query `pt08` can call plugins too.
//!
//! Every failure is an envelope with the error's stable kind (never a bare 500 or a backtrace);
//! runs are bounded in number at once (more get `overloaded`, 429), requests in size. The graph
//! is re-read only when the server's counters move (or once, for a file).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{DefaultBodyLimit, Query, Request, State};
use axum::http::{StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::{Mutex, Semaphore};

use crate::error::{Error, ErrorKind, Result};
use crate::graph::Graph;
use crate::graph::source::{GraphSource, ServerCounters};
use crate::runtime::{PluginHost, PluginState};
use crate::sandbox::{Analysis, Usage};

/// Longest request target accepted (path and query), in bytes.
const MAX_URI: usize = 8 * 1024;

/// The routes, for `/api-reference-documentation-help` and the 404 message.
const ROUTES: &[(&str, &str)] = &[
    ("/server-health-check-status", "Health: plugins loaded, graph source, uptime"),
    ("/plugin-analyses-list-all", "Every loaded plugin: name, version, state, SHA-256"),
    ("/plugin-analysis-run-now?plugin=NAME", "Run one plugin on the current graph"),
    ("/plugin-analyses-run-all", "Run every plugin on the current graph"),
    ("/metrics", "Prometheus metrics of the plugin host"),
    ("/api-reference-documentation-help", "This list"),
];

/// How the service bounds its work.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Analysis requests served at once; more are refused with `overloaded`.
    pub max_concurrent: usize,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions { max_concurrent: 8 }
    }
}

struct Shared {
    host: PluginHost,
    graph: GraphCache,
    runs: Semaphore,
    max_runs: usize,
    started: Instant,
}

/// The current graph, re-read when the server's counters move.
struct GraphCache {
    source: GraphSource,
    current: Mutex<Option<(Option<ServerCounters>, Arc<Graph>)>>,
}

impl GraphCache {
    async fn get(&self) -> Result<Arc<Graph>> {
        let mut current = self.current.lock().await;
        let counters = match &self.source {
            GraphSource::Server(server) => Some(server.counters().await?),
            GraphSource::File { .. } => None,
        };
        if let Some((seen, graph)) = current.as_ref()
            && (*seen == counters || counters.is_none())
        {
            return Ok(graph.clone());
        }
        let graph = Arc::new(self.source.load().await?.graph);
        *current = Some((counters, graph.clone()));
        Ok(graph)
    }
}

/// The service's routes over a running host and a graph source.
pub fn router(host: PluginHost, source: GraphSource, options: ServeOptions) -> Router {
    let shared = Arc::new(Shared {
        host,
        graph: GraphCache { source, current: Mutex::new(None) },
        runs: Semaphore::new(options.max_concurrent.max(1)),
        max_runs: options.max_concurrent.max(1),
        started: Instant::now(),
    });
    Router::new()
        .route("/server-health-check-status", get(health))
        .route("/plugin-analyses-list-all", get(list))
        .route("/plugin-analysis-run-now", get(run_one))
        .route("/plugin-analyses-run-all", get(run_all))
        .route("/metrics", get(metrics))
        .route("/api-reference-documentation-help", get(help))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(16 * 1024))
        .layer(middleware::from_fn(bounded_uri))
        .with_state(shared)
}

/// A success envelope; `tokens` estimates what the answer costs an LLM (4 bytes a token), as
/// Parseltongue's do.
fn ok(endpoint: &str, data: impl Serialize) -> Response {
    let data = serde_json::to_value(data).unwrap_or(Value::Null);
    let tokens = data.to_string().len() / 4;
    axum::Json(json!({"success": true, "endpoint": endpoint, "data": data, "tokens": tokens})).into_response()
}

/// A failure envelope with the error's kind, message and causes.
fn failure(endpoint: &str, e: &Error) -> Response {
    let kind = e.kind();
    let status = match kind {
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Usage => StatusCode::BAD_REQUEST,
        ErrorKind::Overloaded => StatusCode::TOO_MANY_REQUESTS,
        ErrorKind::Unavailable | ErrorKind::Quarantined => StatusCode::SERVICE_UNAVAILABLE,
        // The plugin or the graph's server failed, not this service or the caller.
        _ => StatusCode::BAD_GATEWAY,
    };
    let mut causes = Vec::new();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        causes.push(c.to_string());
        cause = c.source();
    }
    let body = json!({
        "success": false,
        "endpoint": endpoint,
        "error": {"kind": kind, "message": e.to_string(), "causes": causes},
    });
    (status, axum::Json(body)).into_response()
}

async fn bounded_uri(request: Request, next: Next) -> Response {
    let length = request.uri().to_string().len();
    if length > MAX_URI {
        let e = Error::Usage { message: format!("the request target is {length} bytes; at most {MAX_URI}") };
        let mut response = failure(request.uri().path(), &e);
        *response.status_mut() = StatusCode::URI_TOO_LONG;
        return response;
    }
    next.run(request).await
}

/// pt08's own health answer (`success`, `status`, `server_uptime_seconds_count` at the top), with
/// the plugins and the graph source in `data`.
async fn health(State(s): State<Arc<Shared>>) -> Response {
    axum::Json(json!({
        "success": true,
        "status": "ok",
        "endpoint": "/server-health-check-status",
        "server_uptime_seconds_count": s.started.elapsed().as_secs(),
        "data": {"plugins_loaded_count": s.host.plugins().len(), "graph_source": s.graph.source.describe()},
    }))
    .into_response()
}

#[derive(Serialize)]
struct Listed {
    name: String,
    version: String,
    state: String,
    sha256: String,
}

async fn list(State(s): State<Arc<Shared>>) -> Response {
    let status = s.host.status().await;
    let plugins: Vec<Listed> = status
        .plugins
        .iter()
        .filter(|p| p.active)
        .map(|p| Listed {
            name: p.name.clone(),
            version: p.version.clone(),
            state: match p.state() {
                Some(PluginState::Running) => "running".into(),
                Some(PluginState::Quarantined(why)) => format!("quarantined: {why}"),
                Some(PluginState::Draining) => "draining".into(),
                None => "unknown".into(),
            },
            sha256: p.sha256.clone(),
        })
        .collect();
    ok("/plugin-analyses-list-all", json!({"total_count": plugins.len(), "plugins": plugins}))
}

#[derive(Deserialize)]
struct RunQuery {
    plugin: Option<String>,
}

/// One plugin's answer in an envelope's `data`.
#[derive(Serialize)]
struct Answer<'a> {
    plugin: &'a str,
    findings: &'a [crate::contract::Finding],
    recommendations: &'a [String],
    confidence: f32,
    usage: &'a Usage,
}

impl<'a> Answer<'a> {
    fn of(plugin: &'a str, a: &'a Analysis) -> Answer<'a> {
        Answer {
            plugin,
            findings: &a.result.findings,
            recommendations: &a.result.recommendations,
            confidence: a.result.confidence,
            usage: &a.usage,
        }
    }
}

fn graph_facts(graph: &Graph, source: &GraphSource) -> Value {
    json!({"source": source.describe(), "nodes": graph.nodes().len(), "edges": graph.edges().len()})
}

async fn run_one(State(s): State<Arc<Shared>>, query: Result<Query<RunQuery>, QueryRejection>) -> Response {
    const ROUTE: &str = "/plugin-analysis-run-now";
    let plugin = match query {
        Ok(Query(RunQuery { plugin: Some(p) })) if !p.is_empty() => p,
        Ok(_) => {
            let e = Error::Usage {
                message: format!("say which plugin: {ROUTE}?plugin=NAME (see /plugin-analyses-list-all)"),
            };
            return failure(ROUTE, &e);
        }
        Err(rejection) => return failure(ROUTE, &Error::Usage { message: rejection.body_text() }),
    };
    if !s.host.plugins().contains(&plugin) {
        return failure(ROUTE, &Error::NotFound { plugin });
    }
    let Ok(_permit) = s.runs.try_acquire() else {
        return failure(ROUTE, &Error::Overloaded { plugin, capacity: s.max_runs });
    };
    let graph = match s.graph.get().await {
        Ok(graph) => graph,
        Err(e) => return failure(ROUTE, &e),
    };
    match s.host.analyze(&plugin, graph.clone()).await {
        Ok(analysis) => {
            let mut data = serde_json::to_value(Answer::of(&plugin, &analysis)).unwrap_or(Value::Null);
            data["graph"] = graph_facts(&graph, &s.graph.source);
            ok(ROUTE, data)
        }
        Err(e) => failure(ROUTE, &e),
    }
}

async fn run_all(State(s): State<Arc<Shared>>) -> Response {
    const ROUTE: &str = "/plugin-analyses-run-all";
    let Ok(_permit) = s.runs.try_acquire() else {
        return failure(ROUTE, &Error::Overloaded { plugin: "(all)".into(), capacity: s.max_runs });
    };
    let graph = match s.graph.get().await {
        Ok(graph) => graph,
        Err(e) => return failure(ROUTE, &e),
    };
    let results: BTreeMap<String, Result<Analysis>> = s.host.analyze_all(graph.clone()).await;
    let answers: Vec<Value> = results
        .iter()
        .map(|(name, result)| match result {
            Ok(a) => {
                let mut v = serde_json::to_value(Answer::of(name, a)).unwrap_or(Value::Null);
                v["success"] = Value::Bool(true);
                v
            }
            Err(e) => json!({"plugin": name, "success": false, "error": {"kind": e.kind(), "message": e.to_string()}}),
        })
        .collect();
    let failed = answers.iter().filter(|a| a["success"] == false).count();
    ok(
        ROUTE,
        json!({"graph": graph_facts(&graph, &s.graph.source), "failed_count": failed, "results": answers}),
    )
}

async fn metrics(State(s): State<Arc<Shared>>) -> Response {
    match s.host.prometheus_text() {
        Some(text) => ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response(),
        None => failure(
            "/metrics",
            &Error::Usage { message: "this host records into the program's own metrics recorder".into() },
        ),
    }
}

async fn help() -> Response {
    let routes: Vec<Value> = ROUTES
        .iter()
        .map(|(path, what)| json!({"path": path, "method": "GET", "description": what}))
        .collect();
    ok("/api-reference-documentation-help", json!({"total_endpoints": routes.len(), "endpoints": routes}))
}

async fn not_found(uri: Uri) -> Response {
    let e =
        Error::Usage { message: format!("no route {}: see /api-reference-documentation-help", uri.path()) };
    let mut response = failure(uri.path(), &e);
    *response.status_mut() = StatusCode::NOT_FOUND;
    response
}
