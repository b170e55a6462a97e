//! `--graph` as every command reads it: a server URL, a directory of saved answers, or a file.

use std::path::Path;

use parseltongue_plugins::{GraphSource, MIB};

use crate::args::GraphArgs;
use crate::report::Failure;

impl GraphArgs {
    /// The source these arguments name.
    pub fn source(&self) -> Result<GraphSource, Failure> {
        graph_source(&self.graph, self.edges.as_deref(), self.max_graph_mb, self.scope.as_deref())
    }
}

/// The source `--graph` names, with `--edges`, `--max-graph-mb` and `--scope` applied.
pub fn graph_source(
    graph: &str,
    edges: Option<&Path>,
    max_graph_mb: u64,
    scope: Option<&str>,
) -> Result<GraphSource, Failure> {
    let source = GraphSource::parse(graph, edges, max_graph_mb * MIB)?;
    Ok(match (source, scope) {
        (GraphSource::Server(server), Some(scope)) => GraphSource::Server(server.scope(scope)),
        (_, Some(_)) => {
            return Err(parseltongue_plugins::Error::Usage {
                message: "--scope filters a Parseltongue server's graph: give --graph http://HOST:PORT"
                    .into(),
            }
            .into());
        }
        (source, None) => source,
    })
}
