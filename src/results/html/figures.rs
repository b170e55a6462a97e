//! What the report draws, chosen from the findings and the graph: each reported cycle with the
//! graph's own edges between its members, the top hot spots with the nodes that depend on them
//! directly, and the module dependency graph with the modules of cycles marked. Each figure
//! is cut to [`MAX_NODES`] boxes and says what it left out.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::graph::Graph;
use crate::results::html::pictures::{MAX_NODES, Picture, Tone};
use crate::results::model::Results;

/// Most cycles drawn.
pub const MAX_CYCLES: usize = 12;
/// Most hot spots drawn.
pub const MAX_HOT_SPOTS: usize = 5;
/// Most arrows in the module picture.
const MAX_MODULE_EDGES: usize = 120;

/// One drawing with its caption and what was cut.
#[derive(Debug, Clone)]
pub struct Figure {
    /// Which plugin's finding it shows (empty for the module overview).
    pub plugin: String,
    /// The caption.
    pub caption: String,
    /// What was left out, if anything.
    pub cut: Option<String>,
    /// The drawing.
    pub picture: Picture,
}

/// The figures of a report, by section.
#[derive(Debug, Clone, Default)]
pub struct Figures {
    /// One per reported cycle (at most [`MAX_CYCLES`]).
    pub cycles: Vec<Figure>,
    /// How many cycles were reported in all.
    pub cycles_total: usize,
    /// One per hot spot (at most [`MAX_HOT_SPOTS`]).
    pub hot_spots: Vec<Figure>,
    /// How many hot spots were reported in all.
    pub hot_spots_total: usize,
    /// The module dependency graph, when the graph has modules.
    pub modules: Option<Figure>,
}

/// Node lookups the figures share.
struct Index<'g> {
    graph: &'g Graph,
    by_id: HashMap<&'g str, usize>,
}

impl<'g> Index<'g> {
    fn new(graph: &'g Graph) -> Self {
        let by_id = graph.nodes().iter().enumerate().map(|(i, n)| (n.id.as_str(), i)).collect();
        Index { graph, by_id }
    }

    fn meta(&self, node: usize, key: &str) -> Option<&'g str> {
        self.graph.nodes()[node].metadata.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    fn label(&self, node: usize) -> String {
        self.meta(node, "name").map(str::to_string).unwrap_or_else(|| self.graph.nodes()[node].id.clone())
    }

    /// A node's module: metadata `module`, else its file.
    fn module(&self, node: usize) -> Option<&'g str> {
        self.meta(node, "module").or_else(|| self.meta(node, "file"))
    }

    fn edges(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.graph
            .edges()
            .iter()
            .filter_map(|e| Some((*self.by_id.get(e.source.as_str())?, *self.by_id.get(e.target.as_str())?)))
    }
}

/// Chooses and builds the figures.
pub fn figures(results: &Results, graph: &Graph) -> Figures {
    let index = Index::new(graph);
    let mut out = Figures::default();
    let mut cycle_members: Vec<Vec<usize>> = Vec::new();
    let mut module_cycles: Vec<Vec<&str>> = Vec::new();
    let mut hot: Vec<(String, String, usize)> = Vec::new();
    for (plugin, found) in results.findings() {
        let f = &found.finding;
        let nodes: Vec<usize> =
            f.nodes.iter().filter_map(|n| index.by_id.get(n.id.as_str()).copied()).collect();
        if f.rule.starts_with("cycle.") && !nodes.is_empty() {
            out.cycles_total += 1;
            if f.rule == "cycle.module" {
                module_cycles.push(nodes.iter().filter_map(|&n| index.module(n)).collect());
            }
            if out.cycles.len() < MAX_CYCLES {
                let by_module = f.rule == "cycle.module";
                out.cycles.push(cycle_figure(&index, &plugin.name, &f.message, &nodes, by_module));
            }
            cycle_members.push(nodes);
        } else if f.rule.starts_with("blast-radius.") && !nodes.is_empty() {
            out.hot_spots_total += 1;
            if hot.len() < MAX_HOT_SPOTS {
                hot.push((plugin.name.clone(), f.message.clone(), nodes[0]));
            }
        }
    }
    out.hot_spots = hot_spot_figures(&index, &hot);
    out.modules = module_figure(&index, &module_cycles);
    out
}

/// Most direct dependents drawn around a hot spot.
const MAX_DEPENDENTS: usize = 15;

/// A cycle; a module cycle's members are labelled with their modules (each stands for one).
fn cycle_figure(
    index: &Index<'_>,
    plugin: &str,
    message: &str,
    members: &[usize],
    by_module: bool,
) -> Figure {
    let shown: Vec<usize> = members.iter().copied().take(MAX_NODES).collect();
    let mut picture = Picture::default();
    let mut slot = HashMap::new();
    for (i, &n) in shown.iter().enumerate() {
        let label = match index.module(n) {
            Some(module) if by_module => module.to_string(),
            _ => index.label(n),
        };
        slot.insert(n, picture.node(&label, if i == 0 { Tone::Focus } else { Tone::Warning }));
    }
    // The graph's own edges among the members; the reported order for a module cycle (it names
    // one definition per module, not connected definitions) or when there are none.
    let mut seen = HashSet::new();
    for (a, b) in index.edges().filter(|_| !by_module) {
        if let (Some(&x), Some(&y)) = (slot.get(&a), slot.get(&b))
            && seen.insert((x, y))
        {
            picture.edges.push((x, y, true));
        }
    }
    if picture.edges.is_empty() && shown.len() > 1 {
        for i in 0..shown.len() {
            picture.edges.push((i, (i + 1) % shown.len(), true));
        }
    }
    let cut = (members.len() > shown.len())
        .then(|| format!("showing {} of the cycle's {} nodes", shown.len(), members.len()));
    Figure { plugin: plugin.to_string(), caption: message.to_string(), cut, picture }
}

fn hot_spot_figures(index: &Index<'_>, hot: &[(String, String, usize)]) -> Vec<Figure> {
    if hot.is_empty() {
        return Vec::new();
    }
    let wanted: HashSet<usize> = hot.iter().map(|h| h.2).collect();
    let mut dependents: HashMap<usize, Vec<usize>> = HashMap::new();
    for (a, b) in index.edges() {
        if wanted.contains(&b) && a != b {
            dependents.entry(b).or_default().push(a);
        }
    }
    hot.iter()
        .map(|(plugin, message, node)| {
            let mut direct = dependents.remove(node).unwrap_or_default();
            direct.sort_unstable();
            direct.dedup();
            let mut picture = Picture { left_to_right: true, ..Picture::default() };
            let centre = picture.node(&index.label(*node), Tone::Focus);
            for &d in direct.iter().take(MAX_DEPENDENTS) {
                let n = picture.node(&index.label(d), Tone::Plain);
                picture.edges.push((n, centre, false));
            }
            let cut = (direct.len() > MAX_DEPENDENTS)
                .then(|| format!("showing {MAX_DEPENDENTS} of its {} direct dependents", direct.len()));
            Figure { plugin: plugin.clone(), caption: message.clone(), cut, picture }
        })
        .collect()
}

fn module_figure(index: &Index<'_>, cycles: &[Vec<&str>]) -> Option<Figure> {
    let mut weights: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    let mut degree: BTreeMap<&str, usize> = BTreeMap::new();
    for (a, b) in index.edges() {
        let (Some(x), Some(y)) = (index.module(a), index.module(b)) else { continue };
        if x != y {
            *weights.entry((x, y)).or_default() += 1;
            *degree.entry(x).or_default() += 1;
            *degree.entry(y).or_default() += 1;
        }
    }
    if degree.is_empty() {
        return None;
    }
    let in_cycle: HashSet<&str> = cycles.iter().flatten().copied().collect();
    // Modules of cycles first, then the most connected.
    let mut modules: Vec<&str> = degree.keys().copied().collect();
    modules.sort_by_key(|m| (!in_cycle.contains(m), std::cmp::Reverse(degree[m]), *m));
    let total_modules = modules.len();
    modules.truncate(MAX_NODES);
    let mut picture = Picture::default();
    let slot: HashMap<&str, usize> = modules
        .iter()
        .map(|m| (*m, picture.node(m, if in_cycle.contains(m) { Tone::Warning } else { Tone::Plain })))
        .collect();
    let same_cycle = |x: &str, y: &str| cycles.iter().any(|c| c.contains(&x) && c.contains(&y));
    let mut edges: Vec<((&str, &str), usize)> =
        weights.into_iter().filter(|((x, y), _)| slot.contains_key(x) && slot.contains_key(y)).collect();
    let total_edges = edges.len();
    edges.sort_by_key(|((x, y), w)| (!same_cycle(x, y), std::cmp::Reverse(*w)));
    edges.truncate(MAX_MODULE_EDGES);
    for ((x, y), _) in &edges {
        picture.edges.push((slot[x], slot[y], same_cycle(x, y)));
    }
    let mut cut = Vec::new();
    if total_modules > modules.len() {
        cut.push(format!(
            "showing {} of {total_modules} modules (those in cycles, then the most connected)",
            modules.len()
        ));
    }
    if total_edges > edges.len() {
        cut.push(format!(
            "{} of {total_edges} dependencies between them (cycles first, then the heaviest)",
            edges.len()
        ));
    }
    let marked = if in_cycle.is_empty() {
        "no module cycles reported".to_string()
    } else {
        format!("{} modules in reported cycles, marked", in_cycle.len())
    };
    Some(Figure {
        plugin: String::new(),
        caption: format!("module dependencies: {total_modules} modules; {marked}"),
        cut: (!cut.is_empty()).then(|| cut.join("; ")),
        picture,
    })
}
