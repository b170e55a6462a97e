//! Reading a graph from a running Parseltongue v1.7 server (`pt08-http-code-query-server`).
//!
//! The entity list comes in one answer, the edges in pages (the server returns 100 unless asked
//! for more); a pull asks for pages of [`ServerSource::page_size`] until `total_count`, a few at
//! a time. If the total moves during a pull (the server re-indexed a file), the pull starts over.
//! Every answer is bounded in size and time; connection failures are retried with backoff
//! (`backon`); redirects are followed only to the same host and port.

use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use futures::{StreamExt, TryStreamExt};
use reqwest::Url;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};
use crate::graph::import::responses::{self, EdgePage, EntityList};
use crate::graph::import::{self, Imported};

/// Edge pages in flight at once.
const PAGES_IN_FLIGHT: usize = 4;
/// Pulls started over because the server's edge count moved underneath, before giving up.
const RESTARTS: usize = 3;

/// A Parseltongue server's address and how to read it.
#[derive(Debug, Clone)]
pub struct ServerSource {
    base: Url,
    scope: Option<String>,
    page_size: usize,
    max_bytes: u64,
    retries: usize,
    client: reqwest::Client,
}

/// Numbers that move when the server's graph changes; cheap to read (two small answers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct ServerCounters {
    /// Code entities (placeholders included).
    pub entities: u64,
    /// Dependency edges.
    pub edges: u64,
    /// File-watcher events the server processed (Parseltongue 1.7.2 reports 0 however many it
    /// processed; kept for servers that count).
    pub events: u64,
}

#[derive(Deserialize)]
struct Statistics {
    code_entities_total_count: u64,
    dependency_edges_total_count: u64,
}

#[derive(Deserialize)]
struct Watcher {
    #[serde(default)]
    events_processed_total_count: u64,
}

impl ServerSource {
    /// A server at `url` (`http://HOST:PORT`, or `https://`); no request is made yet.
    ///
    /// # Errors
    ///
    /// [`Error::Usage`] for another scheme, no host, or a route instead of the server's address.
    pub fn new(url: &str) -> Result<ServerSource> {
        let usage = |message: String| Error::Usage { message };
        let base = Url::parse(url).map_err(|e| usage(format!("`{url}` is not a URL: {e}")))?;
        if !matches!(base.scheme(), "http" | "https") || base.host_str().is_none() {
            return Err(usage(format!("`{url}`: a Parseltongue server is http://HOST:PORT")));
        }
        if base.path() != "/" || base.query().is_some() {
            return Err(usage(format!(
                "`{url}`: give the server's address (http://{}), not a route; the routes are read from it",
                host_port(&base)
            )));
        }
        let origin = base.clone();
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(120))
            .redirect(reqwest::redirect::Policy::custom(move |attempt| {
                let same = attempt.url().host_str() == origin.host_str()
                    && attempt.url().port_or_known_default() == origin.port_or_known_default();
                if attempt.previous().len() >= 5 {
                    attempt.error("more than 5 redirects")
                } else if same {
                    attempt.follow()
                } else {
                    let to = host_port(attempt.url());
                    attempt.error(format!("redirected to another host ({to}); not followed"))
                }
            }))
            .build()
            .map_err(|e| Error::GraphServer {
                url: url.to_string(),
                message: "cannot set up an HTTP client".into(),
                source: Some(Box::new(e)),
            })?;
        Ok(ServerSource {
            base,
            scope: None,
            page_size: 2000,
            max_bytes: crate::files::MAX_GRAPH_BYTES,
            retries: 3,
            client,
        })
    }

    /// Only entities and edges in this folder scope (`L1` or `L1||L2`, as pt08's `scope`).
    pub fn scope(mut self, scope: impl Into<String>) -> ServerSource {
        self.scope = Some(scope.into());
        self
    }

    /// Edges per page asked for (default 2000).
    pub fn page_size(mut self, edges: usize) -> ServerSource {
        self.page_size = edges.max(1);
        self
    }

    /// The most bytes one pull may read, over all answers (default [`crate::files::MAX_GRAPH_BYTES`]).
    pub fn max_bytes(mut self, bytes: u64) -> ServerSource {
        self.max_bytes = bytes;
        self
    }

    /// Retries of a request that could not connect or timed out (default 3; backoff from 200 ms).
    pub fn retries(mut self, retries: usize) -> ServerSource {
        self.retries = retries;
        self
    }

    /// The server's address, as given.
    pub fn url(&self) -> &str {
        self.base.as_str().trim_end_matches('/')
    }

    /// Reads every entity and every edge page and imports them.
    ///
    /// # Errors
    ///
    /// [`Error::GraphServer`] naming the URL when the server cannot be reached, times out, or
    /// answers something other than its API; [`Error::InvalidGraph`] for keys the importer
    /// cannot read.
    pub async fn fetch(&self) -> Result<Imported> {
        let mut restarts = 0;
        loop {
            let list: EntityList = self.get(responses::ENTITIES, &[]).await?;
            match self.edges().await? {
                Some(edges) => return import::from_answers(list.entities, edges),
                None if restarts < RESTARTS => restarts += 1,
                None => {
                    let why = format!(
                        "the edge count kept changing during {RESTARTS} pulls: the server is re-indexing; try again"
                    );
                    return Err(self.error(why));
                }
            }
        }
    }

    /// Every edge, or `None` if the total changed between pages.
    async fn edges(&self) -> Result<Option<Vec<responses::ServerEdge>>> {
        let limit = self.page_size.to_string();
        let first: EdgePage = self.get(responses::EDGES, &[("limit", &limit), ("offset", "0")]).await?;
        let total = first.total_count;
        if first.edges.is_empty() && total > 0 {
            let route = responses::EDGES;
            return Err(
                self.error(format!("{route} says there are {total} edges but sent none from offset 0"))
            );
        }
        let step = first.edges.len().max(1);
        let offsets: Vec<String> = (step..total).step_by(step).map(|o| o.to_string()).collect();
        let page = |offset: String| {
            let limit = limit.clone();
            async move { self.get::<EdgePage>(responses::EDGES, &[("limit", &limit), ("offset", &offset)]).await }
        };
        let rest: Vec<EdgePage> =
            futures::stream::iter(offsets).map(page).buffered(PAGES_IN_FLIGHT).try_collect().await?;
        if rest.iter().any(|p| p.total_count != total) {
            return Ok(None);
        }
        let mut pages = vec![first];
        pages.extend(rest);
        responses::join_pages(pages).map(Some).map_err(|e| self.error(e.to_string()))
    }

    /// The server's change counters.
    ///
    /// # Errors
    ///
    /// As [`ServerSource::fetch`].
    pub async fn counters(&self) -> Result<ServerCounters> {
        let stats: Statistics = self.get("/codebase-statistics-overview-summary", &[]).await?;
        let watcher: Watcher = self.get("/file-watcher-status-check", &[]).await?;
        Ok(ServerCounters {
            entities: stats.code_entities_total_count,
            edges: stats.dependency_edges_total_count,
            events: watcher.events_processed_total_count,
        })
    }

    /// GET `route` with `query` (and the scope), retried on connection errors and timeouts.
    async fn get<T: DeserializeOwned>(&self, route: &str, query: &[(&str, &str)]) -> Result<T> {
        let mut url = self.base.join(route).expect("routes are paths");
        {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in query {
                pairs.append_pair(k, v);
            }
            if let Some(scope) = &self.scope {
                pairs.append_pair("scope", scope);
            }
        }
        if url.query() == Some("") {
            url.set_query(None);
        }
        let backoff = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(200))
            .with_max_delay(Duration::from_secs(2))
            .with_max_times(self.retries);
        let body = (|| self.body(url.clone()))
            .retry(backoff)
            .sleep(tokio::time::sleep)
            .when(|e: &Attempt| e.retry)
            .notify(|e, after| tracing::debug!("{}: {}; retrying in {after:?}", url, e.error))
            .await
            .map_err(|e| e.error)?;
        let text = String::from_utf8(body)
            .map_err(|_| self.error(format!("answered {route} with bytes that are not UTF-8 text")))?;
        if !text.trim_start().starts_with('{') {
            let preview: String = text.chars().take(200).collect();
            return Err(self.error(format!("answered {route} with something that is not JSON: {preview:?}")));
        }
        responses::open(&text, route).map_err(|e| match e {
            // Shape errors say where in the answer; say which answer.
            Error::InvalidGraph { line: Some(_), .. } => self.error(format!("{route}: {e}")),
            e => self.error(e.to_string()),
        })
    }

    /// One GET: the body if the status is a success, read up to the byte limit.
    async fn body(&self, url: Url) -> Result<Vec<u8>, Attempt> {
        let route = url.path().to_string();
        let mut response = self.client.get(url).send().await.map_err(|e| self.send_error(&route, e))?;
        let status = response.status();
        if !status.is_success() {
            let text = response.text().await.unwrap_or_default();
            let said = text.trim().chars().take(300).collect::<String>();
            let message = match status.as_u16() {
                404 if said.is_empty() => format!(
                    "has no route {route} (404): is this Parseltongue v1.7's pt08-http-code-query-server?"
                ),
                _ if said.is_empty() => format!("answered {route} with HTTP {status}"),
                _ => format!("answered {route} with HTTP {status}: {said}"),
            };
            return Err(Attempt { retry: status.is_server_error(), error: self.error(message) });
        }
        let mut body = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if (body.len() + chunk.len()) as u64 > self.max_bytes {
                        let mib = self.max_bytes / (1024 * 1024);
                        let message =
                            format!("the answer to {route} is larger than {mib} MiB (raise --max-graph-mb)");
                        return Err(Attempt { retry: false, error: self.error(message) });
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => return Ok(body),
                Err(e) => return Err(self.send_error(&route, e)),
            }
        }
    }

    fn send_error(&self, route: &str, e: reqwest::Error) -> Attempt {
        let hostport = host_port(&self.base);
        let (retry, message) = if e.is_connect() {
            (
                true,
                format!(
                    "cannot connect: is `parseltongue pt08-http-code-query-server` running on {hostport}? \
                     (start it in the code's directory: parseltongue pt08-http-code-query-server --db \"sqlite:…/analysis.db\" --port {})",
                    self.base.port_or_known_default().unwrap_or(7777)
                ),
            )
        } else if e.is_timeout() {
            (true, format!("no answer to {route} in time (the server is busy or hung)"))
        } else if e.is_redirect() {
            (false, format!("a redirect from {route} was refused"))
        } else {
            (true, format!("the request for {route} failed"))
        };
        Attempt {
            retry,
            error: Error::GraphServer { url: self.url().to_string(), message, source: Some(Box::new(e)) },
        }
    }

    fn error(&self, message: String) -> Error {
        Error::GraphServer { url: self.url().to_string(), message, source: None }
    }
}

/// A failed request and whether trying again may help.
struct Attempt {
    retry: bool,
    error: Error,
}

fn host_port(url: &Url) -> String {
    match (url.host_str(), url.port_or_known_default()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_string(),
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_servers_address_is_accepted() {
        assert!(ServerSource::new("http://127.0.0.1:7777").is_ok());
        assert_eq!(ServerSource::new("http://127.0.0.1:7777/").unwrap().url(), "http://127.0.0.1:7777");
        for bad in ["ftp://x:1", "http://127.0.0.1:7777/code-entities-list-all", "http://", "7777"] {
            let e = ServerSource::new(bad).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::Usage, "{bad}: {e}");
        }
    }

    #[tokio::test]
    async fn nothing_listening_is_a_clear_error_naming_the_address() {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let source = ServerSource::new(&format!("http://127.0.0.1:{port}")).unwrap().retries(1);
        let e = source.fetch().await.unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::GraphServer);
        let text = e.to_string();
        assert!(
            text.contains(&format!("127.0.0.1:{port}")) && text.contains("pt08-http-code-query-server"),
            "{text}"
        );
    }
}
