//! The HTML report: a summary per plugin, a findings table to filter and sort, and pictures —
//! cycles, hot spots and the module graph laid out by `layout-rs` — in one self-contained file.

mod figures;
mod page;
mod pictures;

pub use figures::{Figure, Figures, MAX_CYCLES, MAX_HOT_SPOTS, figures};
pub use page::MAX_ROWS;
pub use pictures::{MAX_NODES, Picture, Tone};

use crate::graph::Graph;
use crate::results::gate::Verdict;
use crate::results::model::Results;

/// The report for `results` on `graph` (the graph the results are about: the pictures draw
/// its edges), with the gate's verdict when there was one.
pub fn to_html(results: &Results, graph: &Graph, verdict: Option<&Verdict>) -> String {
    page::page(results, &figures(results, graph), verdict)
}
