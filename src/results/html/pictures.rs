//! Small graphs drawn as SVG: the boxes and arrows are laid out by `layout-rs` (Graphviz's
//! layered layout, in Rust — no `dot` to install, no layout code of ours). A picture never
//! holds more than [`MAX_NODES`] boxes; the caller says what was cut.

use layout::backends::svg::SVGWriter;
use layout::core::base::Orientation;
use layout::core::color::Color;
use layout::core::style::{LineStyleKind, StyleAttr};
use layout::std_shapes::render::get_shape_size;
use layout::std_shapes::shapes::{Arrow, Element, LineEndKind, ShapeKind};
use layout::topo::layout::VisualGraph;

/// Most boxes in one picture: past this, a layered drawing stops being readable.
pub const MAX_NODES: usize = 40;
/// Longest label drawn; longer ones are cut with `…`.
const MAX_LABEL: usize = 32;

/// How a box is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// An ordinary node.
    Plain,
    /// The node the picture is about (a hot spot, a cycle member).
    Focus,
    /// A node of a cycle in an overview.
    Warning,
}

/// A graph to draw: labelled boxes and arrows between them (by index).
#[derive(Debug, Clone, Default)]
pub struct Picture {
    /// Box labels and tones.
    pub nodes: Vec<(String, Tone)>,
    /// Arrows `from → to`, with whether to draw them highlighted.
    pub edges: Vec<(usize, usize, bool)>,
    /// Layers from left to right instead of top to bottom (a star of many dependents reads as
    /// a column, not as one very wide row).
    pub left_to_right: bool,
}

impl Picture {
    /// Adds a box, returning its index.
    pub fn node(&mut self, label: &str, tone: Tone) -> usize {
        self.nodes.push((label.to_string(), tone));
        self.nodes.len() - 1
    }

    /// The picture as an `<svg>` element (no XML prolog), its element ids prefixed with `id`
    /// so several pictures can share a page. `None` for an empty picture.
    pub fn to_svg(&self, id: &str) -> Option<String> {
        if self.nodes.is_empty() {
            return None;
        }
        let orientation =
            if self.left_to_right { Orientation::LeftToRight } else { Orientation::TopToBottom };
        let mut graph = VisualGraph::new(orientation);
        let handles: Vec<_> = self
            .nodes
            .iter()
            .take(MAX_NODES)
            .map(|(label, tone)| {
                let shape = ShapeKind::new_box(&short(label));
                let size = get_shape_size(orientation, &shape, 13, false);
                let (line, fill, width) = match tone {
                    Tone::Plain => (0x5f6b7aff, 0xf4f6f8ff, 1),
                    Tone::Focus => (0xb3261eff, 0xfde7e4ff, 2),
                    Tone::Warning => (0xb06000ff, 0xfff1d6ff, 2),
                };
                let look = StyleAttr::new(Color::new(line), width, Some(Color::new(fill)), 4, 13);
                graph.add_node(Element::create(shape, look, orientation, size))
            })
            .collect();
        for &(from, to, hot) in &self.edges {
            let (Some(&a), Some(&b)) = (handles.get(from), handles.get(to)) else { continue };
            let look = if hot {
                StyleAttr::new(Color::new(0xb3261eff), 2, None, 0, 11)
            } else {
                StyleAttr::new(Color::new(0x5f6b7aff), 1, None, 0, 11)
            };
            let arrow = Arrow::new(
                LineEndKind::None,
                LineEndKind::Arrow,
                LineStyleKind::Normal,
                "",
                &look,
                &None,
                &None,
            );
            graph.add_edge(arrow, a, b);
        }
        let mut svg = SVGWriter::new();
        graph.do_it(false, false, false, &mut svg);
        Some(scoped(&svg.finalize(), id))
    }
}

/// The writer's output made fit for a page with other pictures: no XML prolog, and ids (arrow
/// markers, clip paths, label paths) unique to this picture.
fn scoped(svg: &str, id: &str) -> String {
    let start = svg.find("<svg").unwrap_or(0);
    svg[start..]
        .replacen("<svg ", &format!("<svg class=\"picture\" role=\"img\" data-picture=\"{id}\" "), 1)
        .replace("id=\"", &format!("id=\"{id}-"))
        .replace("url(#", &format!("url(#{id}-"))
        .replace("href=\"#", &format!("href=\"#{id}-"))
}

/// A label short enough for a box. A path (`a::b::c`, `src/x/y.rs`) keeps its end, where the
/// name is; anything else keeps its start.
pub fn short(label: &str) -> String {
    let count = label.chars().count();
    if count <= MAX_LABEL {
        return label.to_string();
    }
    if label.contains("::") || label.contains('/') {
        let tail: String = label.chars().skip(count - (MAX_LABEL - 1)).collect();
        return format!("…{tail}");
    }
    cut(label, MAX_LABEL)
}

/// `text` in at most `max` characters, its start kept (`…` says it was cut).
pub(super) fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let kept: String = text.chars().take(max.saturating_sub(1)).collect();
    format!("{kept}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cycle_is_drawn_as_boxes_and_arrows_with_ids_of_its_own() {
        let mut p = Picture::default();
        let a = p.node("alpha", Tone::Focus);
        let b = p.node("beta <&>", Tone::Plain);
        p.edges = vec![(a, b, true), (b, a, true)];
        let svg = p.to_svg("c1").unwrap();
        assert!(svg.starts_with("<svg class=\"picture\""), "{svg}");
        assert!(svg.contains("alpha") && svg.contains("beta &lt;&amp;&gt;"), "{svg}");
        assert!(svg.contains("id=\"c1-endarrow\"") && svg.contains("url(#c1-endarrow)"), "{svg}");
        assert!(!svg.contains("<?xml"));
        assert_eq!(Picture::default().to_svg("x"), None);
        assert_eq!(short(&"x".repeat(50)).chars().count(), MAX_LABEL);
        assert_eq!(
            short("crate_name::module_name::http_server_startup_runner"),
            "…ame::http_server_startup_runner"
        );
    }
}
