//! `--format svg`: a layered drawing of a [`Graph`], laid out here rather than by Graphviz so
//! that `mlopsc graph` needs no other program and no network.
//!
//! Why not a crate: `layout-rs` (the pure-Rust Graphviz) flattens subgraphs, so the
//! architecture's groups would be lost, and iterates hash maps while placing and writing,
//! so its output is not the same byte for byte from one run to the next.
//!
//! The layout is the usual layered one, left to right like the Mermaid and DOT output:
//! cycles broken by reversing the back edges of a depth-first search, longest-path layers,
//! edges longer than one layer (and edge labels) turned into chains of vertices so that
//! every edge runs between neighbouring columns, barycentre ordering, then rows that stay
//! apart. A group is a horizontal band of its own, so its box holds its nodes and nothing
//! else's. Since an edge only crosses a column at a vertex of its chain, which has a slot of
//! its own, no edge is drawn through a node.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::{Graph, Line, Shape};

const FONT_SIZE: f64 = 13.0;
const LINE_HEIGHT: f64 = 17.0;
const PAD_X: f64 = 10.0;
const PAD_Y: f64 = 7.0;
/// Horizontal room between columns, where edges bend from one row to another.
const COLUMN_GAP: f64 = 56.0;
/// Vertical room between two slots of a column.
const SLOT_GAP: f64 = 12.0;
/// The height of the slot an edge passes a column through.
const BEND_HEIGHT: f64 = 4.0;
/// Between a group's box and its nodes, and between two bands.
const GROUP_PAD: f64 = 12.0;
const GROUP_LABEL_HEIGHT: f64 = 18.0;
const MARGIN: f64 = 16.0;
/// Edges meet a box no nearer than this to its top or bottom.
const PORT_INSET: f64 = 6.0;
/// Ordering sweeps; small graphs settle in a few.
const SWEEPS: usize = 12;

/// What a vertex of the layout stands for.
#[derive(Clone, Copy)]
enum Part {
    Node(usize),
    /// The label of edge `n` of the graph, drawn where the edge passes.
    Label(usize),
    /// Where an edge passes a column.
    Bend,
}

struct Vertex {
    part: Part,
    /// The group's index, or the number of groups for vertices in none.
    band: usize,
    layer: usize,
    width: f64,
    height: f64,
    /// Top-left corner.
    x: f64,
    y: f64,
}

impl Vertex {
    fn center_y(&self) -> f64 {
        self.y + self.height / 2.0
    }
}

/// An edge of the graph, as drawn: its chain of vertices in layout order.
struct Route {
    chain: Vec<usize>,
    /// Drawn against the layout's direction, to break a cycle: the arrow is at its start.
    reversed: bool,
    dotted: bool,
}

/// The diagram as a standalone SVG document.
pub(super) fn render(graph: &Graph) -> String {
    let edges: Vec<&(usize, usize, Line)> = graph.edges.iter().collect();
    let mut vertices = Vec::new();
    let band_of = |node: usize| {
        graph
            .groups
            .iter()
            .position(|(_, members)| members.contains(&node))
            .unwrap_or(graph.groups.len())
    };
    for (i, node) in graph.nodes.iter().enumerate() {
        let (width, height) = node_size(&node.label, node.shape);
        vertices.push(Vertex {
            part: Part::Node(i),
            band: band_of(i),
            layer: 0,
            width,
            height,
            x: 0.0,
            y: 0.0,
        });
    }
    // An edge the graph draws backward (the return row of a loop) is laid out from its head
    // to its tail; the search then turns whichever edges still close a cycle.
    let backward: Vec<bool> = edges
        .iter()
        .map(|(from, to, _)| graph.backward.contains(&(*from, *to)))
        .collect();
    let laid_out: Vec<(usize, usize, Line)> = edges
        .iter()
        .zip(&backward)
        .map(|((from, to, line), &back)| {
            if back {
                (*to, *from, line.clone())
            } else {
                (*from, *to, line.clone())
            }
        })
        .collect();
    let turned = back_edges(graph.nodes.len(), &laid_out.iter().collect::<Vec<_>>());
    let reversed: BTreeSet<usize> = (0..edges.len())
        .filter(|e| backward[*e] != turned.contains(e))
        .collect();
    // Layout edges before chains: node to node, or through the edge's label.
    let mut routes = Vec::new();
    for (e, (from, to, line)) in edges.iter().enumerate() {
        if from == to {
            // Drawn as a loop beside its node, outside the layout.
            continue;
        }
        let is_reversed = reversed.contains(&e);
        let (start, end) = if is_reversed {
            (*to, *from)
        } else {
            (*from, *to)
        };
        let mut chain = vec![start];
        if let Line::Labelled(text) = line {
            vertices.push(Vertex {
                part: Part::Label(e),
                band: vertices[start].band,
                layer: 0,
                width: text_width(text) + 2.0 * 4.0,
                height: LINE_HEIGHT + 4.0,
                x: 0.0,
                y: 0.0,
            });
            chain.push(vertices.len() - 1);
        }
        chain.push(end);
        routes.push(Route {
            chain,
            reversed: is_reversed,
            dotted: *line == Line::Dotted,
        });
    }
    assign_layers(&mut vertices, &routes);
    // Chains get a bend in each column they pass.
    for route in &mut routes {
        let mut chain = vec![route.chain[0]];
        for pair in route.chain.windows(2) {
            let band = vertices[pair[0]].band;
            for layer in vertices[pair[0]].layer + 1..vertices[pair[1]].layer {
                vertices.push(Vertex {
                    part: Part::Bend,
                    band,
                    layer,
                    width: 0.0,
                    height: BEND_HEIGHT,
                    x: 0.0,
                    y: 0.0,
                });
                chain.push(vertices.len() - 1);
            }
            chain.push(pair[1]);
        }
        route.chain = chain;
    }
    let columns = order_columns(&vertices, &routes);
    place(&mut vertices, &columns, &routes, graph.groups.len());
    draw(graph, &edges, &vertices, &columns, &routes)
}

/// The indices of the edges that close a cycle, found by a depth-first search from each node
/// in order, so that the same graph always breaks the same way.
fn back_edges(nodes: usize, edges: &[&(usize, usize, Line)]) -> BTreeSet<usize> {
    let mut out: Vec<Vec<(usize, usize)>> = vec![Vec::new(); nodes];
    for (e, (from, to, _)) in edges.iter().enumerate() {
        out[*from].push((e, *to));
    }
    // 0 unvisited, 1 on the stack, 2 done.
    let mut state = vec![0u8; nodes];
    let mut back = BTreeSet::new();
    for root in 0..nodes {
        if state[root] != 0 {
            continue;
        }
        state[root] = 1;
        let mut stack = vec![(root, 0usize)];
        while let Some((node, next)) = stack.pop() {
            let Some(&(e, to)) = out[node].get(next) else {
                state[node] = 2;
                continue;
            };
            stack.push((node, next + 1));
            match state[to] {
                0 => {
                    state[to] = 1;
                    stack.push((to, 0));
                }
                1 => {
                    back.insert(e);
                }
                _ => {}
            }
        }
    }
    back
}

/// Longest-path layers, then each source moved right next to its nearest successor, so that a
/// lone trigger or alarm does not sit far from what it points at.
fn assign_layers(vertices: &mut [Vertex], routes: &[Route]) {
    let count = vertices.len();
    let mut successors = vec![Vec::new(); count];
    let mut indegree = vec![0usize; count];
    for route in routes {
        for pair in route.chain.windows(2) {
            successors[pair[0]].push(pair[1]);
            indegree[pair[1]] += 1;
        }
    }
    let has_predecessor: Vec<bool> = indegree.iter().map(|&d| d > 0).collect();
    // Kahn's algorithm, smallest index first: the graph is acyclic once back edges turned.
    let mut ready: BTreeSet<usize> = (0..count).filter(|&v| indegree[v] == 0).collect();
    let mut topological = Vec::with_capacity(count);
    while let Some(v) = ready.pop_first() {
        topological.push(v);
        for &w in &successors[v] {
            vertices[w].layer = vertices[w].layer.max(vertices[v].layer + 1);
            indegree[w] -= 1;
            if indegree[w] == 0 {
                ready.insert(w);
            }
        }
    }
    for &v in topological.iter().rev() {
        if !has_predecessor[v]
            && let Some(nearest) = successors[v].iter().map(|&w| vertices[w].layer).min()
        {
            vertices[v].layer = nearest.saturating_sub(1);
        }
    }
}

/// Each column's vertices, top to bottom: by band, then by the barycentre of their neighbours,
/// keeping the order with the fewest crossings.
fn order_columns(vertices: &[Vertex], routes: &[Route]) -> Vec<Vec<usize>> {
    let layers = vertices.iter().map(|v| v.layer + 1).max().unwrap_or(0);
    let mut columns: Vec<Vec<usize>> = vec![Vec::new(); layers];
    for (i, vertex) in vertices.iter().enumerate() {
        columns[vertex.layer].push(i);
    }
    for column in &mut columns {
        column.sort_by_key(|&v| vertices[v].band);
    }
    let mut predecessors = vec![Vec::new(); vertices.len()];
    let mut successors = vec![Vec::new(); vertices.len()];
    for route in routes {
        for pair in route.chain.windows(2) {
            successors[pair[0]].push(pair[1]);
            predecessors[pair[1]].push(pair[0]);
        }
    }
    let mut position = vec![0.0; vertices.len()];
    let index = |columns: &[Vec<usize>], position: &mut [f64]| {
        for column in columns {
            for (p, &v) in column.iter().enumerate() {
                position[v] = p as f64;
            }
        }
    };
    index(&columns, &mut position);
    let mut best = columns.clone();
    let mut fewest = crossings(&columns, &successors, &position);
    for sweep in 0..SWEEPS {
        let forward = sweep % 2 == 0;
        let layer_order: Vec<usize> = if forward {
            (1..layers).collect()
        } else {
            (0..layers.saturating_sub(1)).rev().collect()
        };
        for layer in layer_order {
            let neighbours = if forward { &predecessors } else { &successors };
            let key = |v: usize| {
                let around = &neighbours[v];
                if around.is_empty() {
                    position[v]
                } else {
                    around.iter().map(|&u| position[u]).sum::<f64>() / around.len() as f64
                }
            };
            let mut keyed: Vec<(usize, f64, f64, usize)> = columns[layer]
                .iter()
                .map(|&v| (vertices[v].band, key(v), position[v], v))
                .collect();
            keyed.sort_by(|a, b| {
                a.0.cmp(&b.0)
                    .then(a.1.total_cmp(&b.1))
                    .then(a.2.total_cmp(&b.2))
            });
            columns[layer] = keyed.into_iter().map(|(_, _, _, v)| v).collect();
            for (p, &v) in columns[layer].iter().enumerate() {
                position[v] = p as f64;
            }
        }
        let count = crossings(&columns, &successors, &position);
        if count < fewest {
            fewest = count;
            best = columns.clone();
        }
    }
    best
}

/// Pairs of edges that cross between neighbouring columns: segments whose ends are in
/// strictly opposite order. Sorted by start, then end, these are the strict inversions of the
/// ends, counted by merge sort: a column of a hundred alarms is counted on every sweep.
fn crossings(columns: &[Vec<usize>], successors: &[Vec<usize>], position: &[f64]) -> usize {
    let mut total = 0;
    for column in columns {
        let mut segments: Vec<(f64, f64)> = column
            .iter()
            .flat_map(|&v| {
                successors[v]
                    .iter()
                    .map(move |&w| (position[v], position[w]))
            })
            .collect();
        segments.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
        let mut ends: Vec<f64> = segments.iter().map(|s| s.1).collect();
        total += strict_inversions(&mut ends);
    }
    total
}

/// Pairs `i < j` with `values[i] > values[j]`; sorts `values` on the way.
fn strict_inversions(values: &mut [f64]) -> usize {
    if values.len() < 2 {
        return 0;
    }
    let (middle, length) = (values.len() / 2, values.len());
    let (left, right) = values.split_at_mut(middle);
    let mut count = strict_inversions(left) + strict_inversions(right);
    let mut merged = Vec::with_capacity(length);
    let (mut i, mut j) = (0, 0);
    while i < left.len() && j < right.len() {
        // An equal pair is no inversion: take from the left first.
        if left[i] <= right[j] {
            merged.push(left[i]);
            i += 1;
        } else {
            count += left.len() - i;
            merged.push(right[j]);
            j += 1;
        }
    }
    merged.extend_from_slice(&left[i..]);
    merged.extend_from_slice(&right[j..]);
    values.copy_from_slice(&merged);
    count
}

/// Coordinates: columns side by side; bands one under the other, each as tall as its tallest
/// column; within a band, each slot pulled towards its neighbours' rows, never closer than
/// [`SLOT_GAP`] to the next one.
fn place(vertices: &mut [Vertex], columns: &[Vec<usize>], routes: &[Route], groups: usize) {
    let mut x = MARGIN;
    for column in columns {
        let width = column
            .iter()
            .map(|&v| vertices[v].width)
            .fold(0.0, f64::max);
        for &v in column {
            vertices[v].x = x + (width - vertices[v].width) / 2.0;
        }
        x += width + COLUMN_GAP;
    }
    let mut neighbours = vec![Vec::new(); vertices.len()];
    for route in routes {
        for pair in route.chain.windows(2) {
            neighbours[pair[0]].push(pair[1]);
            neighbours[pair[1]].push(pair[0]);
        }
    }
    let mut top = MARGIN;
    for band in 0..=groups {
        let boxed = band < groups;
        let segments: Vec<Vec<usize>> = columns
            .iter()
            .map(|c| {
                c.iter()
                    .copied()
                    .filter(|&v| vertices[v].band == band)
                    .collect()
            })
            .collect();
        let stacks: Vec<f64> = segments
            .iter()
            .map(|segment| {
                segment.iter().map(|&v| vertices[v].height).sum::<f64>()
                    + SLOT_GAP * segment.len().saturating_sub(1) as f64
            })
            .collect();
        let height = stacks.iter().copied().fold(0.0, f64::max);
        if height == 0.0 {
            continue;
        }
        let inner_top = top
            + if boxed {
                GROUP_PAD + GROUP_LABEL_HEIGHT
            } else {
                0.0
            };
        let inner_bottom = inner_top + height;
        for (segment, stack) in segments.iter().zip(&stacks) {
            let mut y = inner_top + (height - stack) / 2.0;
            for &v in segment {
                vertices[v].y = y;
                y += vertices[v].height + SLOT_GAP;
            }
        }
        for _ in 0..8 {
            for segment in &segments {
                let wanted: Vec<f64> = segment
                    .iter()
                    .map(|&v| {
                        let around = &neighbours[v];
                        let center = if around.is_empty() {
                            vertices[v].center_y()
                        } else {
                            around.iter().map(|&u| vertices[u].center_y()).sum::<f64>()
                                / around.len() as f64
                        };
                        center - vertices[v].height / 2.0
                    })
                    .collect();
                let mut floor = inner_top;
                for (&v, want) in segment.iter().zip(wanted) {
                    vertices[v].y = want.max(floor);
                    floor = vertices[v].y + vertices[v].height + SLOT_GAP;
                }
                let mut ceiling = inner_bottom + SLOT_GAP;
                for &v in segment.iter().rev() {
                    let limit = ceiling - SLOT_GAP - vertices[v].height;
                    vertices[v].y = vertices[v].y.min(limit);
                    ceiling = vertices[v].y;
                }
            }
        }
        top = inner_bottom + if boxed { GROUP_PAD } else { 0.0 } + GROUP_PAD;
    }
}

fn draw(
    graph: &Graph,
    edges: &[&(usize, usize, Line)],
    vertices: &[Vertex],
    columns: &[Vec<usize>],
    routes: &[Route],
) -> String {
    let group_boxes: Vec<(f64, f64, f64, f64)> = graph
        .groups
        .iter()
        .enumerate()
        .map(|(g, (name, members))| {
            let left = members
                .iter()
                .map(|&m| vertices[m].x)
                .fold(f64::MAX, f64::min);
            let right = members
                .iter()
                .map(|&m| vertices[m].x + vertices[m].width)
                .fold(0.0, f64::max);
            let in_band = vertices.iter().filter(|v| v.band == g);
            let top = in_band.clone().map(|v| v.y).fold(f64::MAX, f64::min);
            let bottom = in_band.map(|v| v.y + v.height).fold(0.0, f64::max);
            let x = left - GROUP_PAD;
            let width = (right - left + 2.0 * GROUP_PAD).max(text_width(name) + 2.0 * PAD_X);
            let y = top - GROUP_PAD - GROUP_LABEL_HEIGHT;
            (x, y, width, bottom + GROUP_PAD - y)
        })
        .collect();
    let right = vertices
        .iter()
        .map(|v| v.x + v.width)
        .chain(group_boxes.iter().map(|b| b.0 + b.2))
        .fold(0.0, f64::max);
    let bottom = vertices
        .iter()
        .map(|v| v.y + v.height)
        .chain(group_boxes.iter().map(|b| b.1 + b.3))
        .fold(0.0, f64::max);
    let (width, height) = (right + MARGIN, bottom + MARGIN);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" \
         viewBox=\"0 0 {width:.0} {height:.0}\" font-family=\"Helvetica, Arial, sans-serif\" \
         font-size=\"{FONT_SIZE}\">"
    );
    let _ = writeln!(out, "<title>{}</title>", graph.name);
    out.push_str(
        "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" \
         markerWidth=\"6\" markerHeight=\"6\" orient=\"auto-start-reverse\">\
         <path d=\"M0,0 L10,5 L0,10 z\" fill=\"#555\"/></marker></defs>\n",
    );
    let _ = writeln!(
        out,
        "<rect width=\"{width:.0}\" height=\"{height:.0}\" fill=\"#ffffff\"/>"
    );
    for ((name, _), (x, y, w, h)) in graph.groups.iter().zip(&group_boxes) {
        let _ = writeln!(
            out,
            "<g class=\"group\"><rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" \
             rx=\"6\" fill=\"#f6f7f9\" stroke=\"#9aa4b2\"/><text x=\"{:.1}\" y=\"{:.1}\" \
             fill=\"#3b4452\" font-weight=\"bold\">{}</text></g>",
            x + PAD_X,
            y + GROUP_LABEL_HEIGHT,
            escape(name)
        );
    }
    let column_right = |layer: usize| {
        columns[layer]
            .iter()
            .map(|&v| vertices[v].x + vertices[v].width)
            .fold(0.0, f64::max)
    };
    let column_left = |layer: usize| {
        columns[layer]
            .iter()
            .map(|&v| vertices[v].x)
            .fold(f64::MAX, f64::min)
    };
    let (starts, ends) = ports(graph, vertices, routes);
    for ((route, start), end) in routes.iter().zip(starts).zip(ends) {
        let first = &vertices[route.chain[0]];
        let shape_of = |vertex: &Vertex| match vertex.part {
            Part::Node(n) => graph.nodes[n].shape,
            Part::Label(_) | Part::Bend => Shape::Box,
        };
        let leave = first.x + first.width - inset(shape_of(first), first, start);
        let mut path = format!("M{leave:.1},{start:.1}");
        let mut at = (column_right(first.layer), start);
        if at.0 > leave {
            let _ = write!(path, " L{:.1},{:.1}", at.0, at.1);
        }
        for &next in &route.chain[1..] {
            let vertex = &vertices[next];
            let y = match vertex.part {
                Part::Node(_) => end,
                Part::Label(_) | Part::Bend => vertex.center_y(),
            };
            let x = column_left(vertex.layer);
            let middle = (at.0 + x) / 2.0;
            let _ = write!(
                path,
                " C{middle:.1},{:.1} {middle:.1},{y:.1} {x:.1},{y:.1}",
                at.1
            );
            at = match vertex.part {
                Part::Node(_) => {
                    let reach = vertex.x + inset(shape_of(vertex), vertex, y);
                    if reach > x {
                        let _ = write!(path, " L{reach:.1},{y:.1}");
                    }
                    (reach, y)
                }
                Part::Label(_) | Part::Bend => {
                    let end = column_right(vertex.layer);
                    let _ = write!(path, " L{end:.1},{y:.1}");
                    (end, y)
                }
            };
        }
        let arrow = if route.reversed {
            "marker-start"
        } else {
            "marker-end"
        };
        let dash = if route.dotted {
            " stroke-dasharray=\"5 4\""
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "<path class=\"edge\" d=\"{path}\" fill=\"none\" stroke=\"#555\" \
             stroke-width=\"1.3\"{dash} {arrow}=\"url(#arrow)\"/>"
        );
    }
    // An edge from a node to itself: a loop out into the gap on its right and back.
    for (node, _, line) in edges.iter().filter(|(from, to, _)| from == to) {
        let vertex = &vertices[*node];
        let (x, y) = (vertex.x + vertex.width, vertex.center_y());
        let reach = x + COLUMN_GAP / 2.0 - 4.0;
        let dash = if *line == Line::Dotted {
            " stroke-dasharray=\"5 4\""
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "<path class=\"edge\" d=\"M{x:.1},{:.1} C{reach:.1},{:.1} {reach:.1},{:.1} {x:.1},{:.1}\" \
             fill=\"none\" stroke=\"#555\" stroke-width=\"1.3\"{dash} marker-end=\"url(#arrow)\"/>",
            y - 6.0,
            y - 18.0,
            y + 18.0,
            y + 6.0
        );
        if let Line::Labelled(text) = line {
            let _ = writeln!(
                out,
                "<text class=\"edge-label\" x=\"{:.1}\" y=\"{:.1}\" fill=\"#333\">{}</text>",
                reach + 2.0,
                y + FONT_SIZE / 2.0 - 2.0,
                escape(text)
            );
        }
    }
    for vertex in vertices {
        let Part::Label(e) = vertex.part else {
            continue;
        };
        let Line::Labelled(text) = &edges[e].2 else {
            continue;
        };
        let _ = writeln!(
            out,
            "<g class=\"edge-label\"><rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" \
             height=\"{:.1}\" rx=\"3\" fill=\"#ffffff\" stroke=\"#c8ced6\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#333\">{}</text></g>",
            vertex.x,
            vertex.y,
            vertex.width,
            vertex.height,
            vertex.x + vertex.width / 2.0,
            vertex.y + 2.0 + baseline(0),
            escape(text)
        );
    }
    for vertex in vertices {
        let Part::Node(i) = vertex.part else {
            continue;
        };
        let node = &graph.nodes[i];
        let _ = write!(out, "<g id=\"n{i}\" class=\"node\">");
        out.push_str(&shape(node.shape, vertex));
        let center = vertex.x + vertex.width / 2.0;
        for (l, line) in node.label.iter().enumerate() {
            let color = if l == 0 { "#111" } else { "#555" };
            let _ = write!(
                out,
                "<text x=\"{center:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"{color}\">{}</text>",
                vertex.y + PAD_Y + baseline(l),
                escape(line)
            );
        }
        out.push_str("</g>\n");
    }
    out.push_str("</svg>\n");
    out
}

/// Where each route leaves its first vertex and reaches its last: spread over the height of a
/// node, in the order of where the edges come from or go to, so that the arrows into one node
/// do not pile up into one blot. Pointed and rounded ends keep them to their middle half.
fn ports(graph: &Graph, vertices: &[Vertex], routes: &[Route]) -> (Vec<f64>, Vec<f64>) {
    let mut starts: Vec<f64> = routes
        .iter()
        .map(|r| vertices[r.chain[0]].center_y())
        .collect();
    let mut ends: Vec<f64> = routes
        .iter()
        .map(|r| vertices[r.chain[r.chain.len() - 1]].center_y())
        .collect();
    // Per node, the routes leaving it (false) or reaching it (true), by the row of the vertex
    // next to it on the route.
    let mut at_node: Vec<[Vec<(f64, usize)>; 2]> = vec![[Vec::new(), Vec::new()]; vertices.len()];
    for (r, route) in routes.iter().enumerate() {
        let (first, last) = (route.chain[0], route.chain[route.chain.len() - 1]);
        at_node[first][0].push((vertices[route.chain[1]].center_y(), r));
        at_node[last][1].push((vertices[route.chain[route.chain.len() - 2]].center_y(), r));
    }
    for (v, sides) in at_node.iter_mut().enumerate() {
        let Part::Node(n) = vertices[v].part else {
            continue;
        };
        let vertex = &vertices[v];
        let (top, height) = match graph.nodes[n].shape {
            Shape::Box | Shape::Document => {
                (vertex.y + PORT_INSET, vertex.height - 2.0 * PORT_INSET)
            }
            Shape::Decision | Shape::Stop => (vertex.y + vertex.height / 4.0, vertex.height / 2.0),
        };
        for (side, ys) in sides.iter_mut().zip([&mut starts, &mut ends]) {
            side.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            let count = side.len() as f64;
            for (k, &(_, r)) in side.iter().enumerate() {
                ys[r] = top + height * (k as f64 + 0.5) / count;
            }
        }
    }
    (starts, ends)
}

/// How far inside its box a node's outline is on the left and right, `y` from its middle:
/// where an edge at that height meets a pointed or rounded end.
fn inset(shape: Shape, vertex: &Vertex, y: f64) -> f64 {
    let offset = (y - vertex.center_y()).abs();
    match shape {
        Shape::Box | Shape::Document => 0.0,
        Shape::Decision => tip(vertex.height) * offset / (vertex.height / 2.0),
        Shape::Stop => {
            let radius = vertex.height.min(vertex.width) / 2.0;
            let offset = offset.min(radius);
            radius - (radius * radius - offset * offset).sqrt()
        }
    }
}

/// The outline of a node, filling its whole box: the box is what the layout keeps apart.
fn shape(shape: Shape, v: &Vertex) -> String {
    let (x, y, w, h) = (v.x, v.y, v.width, v.height);
    match shape {
        Shape::Box => format!(
            "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" rx=\"4\" \
             fill=\"#eaf1fb\" stroke=\"#4a6fa5\"/>"
        ),
        Shape::Stop => format!(
            "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" rx=\"{:.1}\" \
             fill=\"#fdecea\" stroke=\"#b03a2e\"/>",
            h.min(w) / 2.0
        ),
        Shape::Decision => {
            let tip = tip(h);
            format!(
                "<polygon points=\"{x:.1},{:.1} {:.1},{y:.1} {:.1},{y:.1} {:.1},{:.1} {:.1},{:.1} \
                 {:.1},{:.1}\" fill=\"#fff5d6\" stroke=\"#b8860b\"/>",
                y + h / 2.0,
                x + tip,
                x + w - tip,
                x + w,
                y + h / 2.0,
                x + w - tip,
                y + h,
                x + tip,
                y + h
            )
        }
        Shape::Document => {
            let fold = 10.0;
            format!(
                "<polygon points=\"{x:.1},{y:.1} {:.1},{y:.1} {:.1},{:.1} {:.1},{:.1} {x:.1},{:.1}\" \
                 fill=\"#eef7ea\" stroke=\"#5a8f4e\"/><polyline points=\"{:.1},{y:.1} {:.1},{:.1} \
                 {:.1},{:.1}\" fill=\"none\" stroke=\"#5a8f4e\"/>",
                x + w - fold,
                x + w,
                y + fold,
                x + w,
                y + h,
                y + h,
                x + w - fold,
                x + w - fold,
                y + fold,
                x + w,
                y + fold
            )
        }
    }
}

/// How far a decision's pointed ends reach out from its text.
fn tip(height: f64) -> f64 {
    (height / 2.0).min(16.0)
}

fn node_size(label: &[String], shape: Shape) -> (f64, f64) {
    let text = label.iter().map(|l| text_width(l)).fold(0.0, f64::max);
    let height = label.len().max(1) as f64 * LINE_HEIGHT + 2.0 * PAD_Y;
    let extra = match shape {
        Shape::Decision => 2.0 * tip(height),
        Shape::Stop => height / 2.0,
        Shape::Document => 8.0,
        Shape::Box => 0.0,
    };
    (text + 2.0 * PAD_X + extra, height)
}

/// The baseline of line `line` of a label, from the top of its text.
fn baseline(line: usize) -> f64 {
    line as f64 * LINE_HEIGHT + (LINE_HEIGHT + FONT_SIZE) / 2.0 - 2.0
}

/// A generous estimate of how wide `text` is drawn: there are no font metrics at hand, so
/// the widths are those of DejaVu Sans, wider than Helvetica and Arial, rounded up, so that
/// text stays inside its box in any of them.
fn text_width(text: &str) -> f64 {
    let ems: f64 = text
        .chars()
        .map(|c| match c {
            'i' | 'j' | 'l' | '.' | ',' | ':' | ';' | '\'' | '|' | '!' | 'I' => 0.3,
            ' ' | 'f' | 't' | 'r' | '(' | ')' | '[' | ']' | '-' | '/' => 0.42,
            'm' | 'w' | 'M' | 'W' | '%' | '@' => 1.0,
            'A'..='Z' => 0.78,
            _ => 0.64,
        })
        .sum();
    ems * FONT_SIZE
}

/// Text as XML character data or an attribute value.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Not allowed in XML 1.0 at all, even escaped.
            c if c.is_control() && !matches!(c, '\t' | '\n' | '\r') => out.push('\u{FFFD}'),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The merge count agrees with the definition, pair by pair, ties included.
    #[test]
    fn crossings_count_the_pairs_in_opposite_order() {
        let mut seed = 7u64;
        let mut next = |bound: u64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) % bound
        };
        for _ in 0..200 {
            let vertices = 2 + next(12) as usize;
            let position: Vec<f64> = (0..vertices).map(|_| next(5) as f64).collect();
            let mut successors = vec![Vec::new(); vertices];
            for _ in 0..next(20) {
                let (v, w) = (
                    next(vertices as u64) as usize,
                    next(vertices as u64) as usize,
                );
                successors[v].push(w);
            }
            let columns = vec![(0..vertices).collect::<Vec<_>>()];
            let segments: Vec<(f64, f64)> = (0..vertices)
                .flat_map(|v| successors[v].iter().map(move |&w| (v, w)))
                .map(|(v, w)| (position[v], position[w]))
                .collect();
            let mut by_definition = 0;
            for (i, a) in segments.iter().enumerate() {
                for b in &segments[i + 1..] {
                    if (a.0 - b.0) * (a.1 - b.1) < 0.0 {
                        by_definition += 1;
                    }
                }
            }
            assert_eq!(crossings(&columns, &successors, &position), by_definition);
        }
    }

    /// A step that waits for itself is not valid SageMaker, but the diagram still shows it.
    #[test]
    fn an_edge_from_a_node_to_itself_is_drawn_as_a_loop() {
        let definition = json!({"Steps": [
            {"Name": "a", "Type": "Processing", "DependsOn": ["a"], "Arguments": {}},
            {"Name": "b", "Type": "Processing", "DependsOn": ["a"], "Arguments": {}}
        ]});
        let svg = render(&super::super::pipeline(&definition));
        assert_eq!(svg.matches("class=\"edge\"").count(), 2, "{svg}");
        assert!(svg.contains("stroke-dasharray"), "{svg}");
    }

    #[test]
    fn characters_xml_forbids_are_replaced_and_markup_is_escaped() {
        assert_eq!(
            escape("a<b>&\"'\u{1}\t"),
            "a&lt;b&gt;&amp;&quot;&apos;\u{FFFD}\t"
        );
    }

    /// The monitoring loop is a cycle: one of its edges is drawn backwards, arrow at its start.
    #[test]
    fn a_cycle_is_broken_by_reversing_one_edge() {
        let mut graph = Graph::default();
        let a = graph.add(vec!["a".into()], Shape::Box);
        let b = graph.add(vec!["b".into()], Shape::Box);
        let c = graph.add(vec!["c".into()], Shape::Box);
        for (from, to) in [(a, b), (b, c), (c, a)] {
            graph.edges.insert((from, to, Line::Solid));
        }
        let svg = render(&graph);
        assert_eq!(svg.matches("marker-start=").count(), 1, "{svg}");
        assert_eq!(svg.matches("marker-end=").count(), 2, "{svg}");
    }
}
