//! Where a graph comes from: files (any format [`crate::graph::import`] reads) or a running
//! Parseltongue v1.7 server. `--graph` everywhere in the CLI is a [`GraphSource`].
//!
//! The only network in the graph layer is the server client ([`ServerSource`]); nothing here runs
//! plugins.

mod server;

use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::graph::import::{self, Imported};

pub use server::{ServerCounters, ServerSource};

/// A graph's origin.
#[derive(Debug, Clone)]
pub enum GraphSource {
    /// A file (or a directory of saved server answers), with an optional edges file.
    File {
        /// The graph file or directory.
        graph: PathBuf,
        /// A second file of edges (`--edges`).
        edges: Option<PathBuf>,
        /// The largest file read, in bytes.
        max_bytes: u64,
    },
    /// A running Parseltongue server.
    Server(ServerSource),
}

impl GraphSource {
    /// `http://…` and `https://…` name a server; anything else is a path.
    ///
    /// # Errors
    ///
    /// [`crate::Error::Usage`] for a malformed server address, or `edges` given with a server.
    pub fn parse(graph: &str, edges: Option<&Path>, max_bytes: u64) -> Result<GraphSource> {
        if graph.starts_with("http://") || graph.starts_with("https://") {
            if edges.is_some() {
                return Err(crate::Error::Usage {
                    message: "a Parseltongue server gives its own edges: leave out --edges".into(),
                });
            }
            return Ok(GraphSource::Server(ServerSource::new(graph)?.max_bytes(max_bytes)));
        }
        Ok(GraphSource::File { graph: graph.into(), edges: edges.map(Path::to_path_buf), max_bytes })
    }

    /// Reads and imports the graph (files on a blocking thread, so an async caller is not stalled).
    ///
    /// # Errors
    ///
    /// As [`import::load_bounded`] or [`ServerSource::fetch`].
    pub async fn load(&self) -> Result<Imported> {
        match self {
            GraphSource::File { graph, edges, max_bytes } => {
                let (graph, edges, max) = (graph.clone(), edges.clone(), *max_bytes);
                tokio::task::spawn_blocking(move || import::load_bounded(&graph, edges.as_deref(), max))
                    .await
                    .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
            }
            GraphSource::Server(server) => server.fetch().await,
        }
    }

    /// What to call it in messages: the path or the URL.
    pub fn describe(&self) -> String {
        match self {
            GraphSource::File { graph, .. } => graph.display().to_string(),
            GraphSource::Server(server) => server.url().to_string(),
        }
    }
}
