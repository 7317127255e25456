//! Layered (Sugiyama-style) layout of a [`Graph`], computed here so the web console and the
//! CLI draw the same picture.
//!
//! Each scope is laid out on its own, innermost first; a Parallel/Map node is then an opaque
//! box sized to hold its containers. Per scope: DFS back edges are set aside (and later routed
//! around the right side), longest-path layering with labelled edges spanning two layers (the
//! label sits on the dummy node in between, so labels never overlap nodes), barycentre sweeps
//! against crossings, then x coordinates by repeated isotonic regression towards neighbour
//! means (keeps order and spacing, straightens chains). Everything iterates over vectors in
//! definition order: the result is deterministic.

use crate::model::{Graph, NodeKind};
use serde::Serialize;

#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Point {
    pub x: f64,
    pub y: f64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Rect {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

impl Rect {
    pub fn right(&self) -> f64 {
        self.x + self.w
    }
    pub fn bottom(&self) -> f64 {
        self.y + self.h
    }
    pub fn cx(&self) -> f64 {
        self.x + self.w / 2.0
    }
    pub fn cy(&self) -> f64 {
        self.y + self.h / 2.0
    }
    fn moved(&self, dx: f64, dy: f64) -> Rect {
        Rect {
            x: self.x + dx,
            y: self.y + dy,
            ..*self
        }
    }
    /// Whether the interiors intersect (touching edges don't count).
    pub fn overlaps(&self, o: &Rect) -> bool {
        const EPS: f64 = 1e-6;
        self.x < o.right() - EPS
            && o.x < self.right() - EPS
            && self.y < o.bottom() - EPS
            && o.y < self.bottom() - EPS
    }
    /// Whether `o` lies entirely inside `self`.
    pub fn contains(&self, o: &Rect) -> bool {
        const EPS: f64 = 1e-6;
        o.x >= self.x - EPS
            && o.y >= self.y - EPS
            && o.right() <= self.right() + EPS
            && o.bottom() <= self.bottom() + EPS
    }
}

/// Where everything goes. Vectors are parallel to the graph's: `nodes[i]` is `graph.nodes[i]`,
/// `containers[s]` is `graph.scopes[s]` (`containers[0]` frames the whole machine),
/// `edges[e]` is `graph.edges[e]`.
#[derive(Clone, Debug, Serialize)]
pub struct Layout {
    pub width: f64,
    pub height: f64,
    pub nodes: Vec<NodeBox>,
    pub containers: Vec<Rect>,
    pub edges: Vec<EdgeRoute>,
}

#[derive(Clone, Debug, Serialize)]
pub struct NodeBox {
    pub rect: Rect,
    /// The node's name as drawn (shortened with `…` when too wide).
    pub text: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct EdgeRoute {
    /// Polyline from the source's border to the target's border.
    pub points: Vec<Point>,
    pub label: Option<LabelBox>,
    /// Drawn against the flow (a loop), routed around the right-hand side.
    pub back: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct LabelBox {
    pub rect: Rect,
    /// The label as drawn (shortened with `…` when long; the graph holds the full text).
    pub text: String,
}

// Geometry, in SVG user units (px at 100 %).
pub const NAME_FONT: f64 = 13.0;
pub const TYPE_FONT: f64 = 11.0;
pub const LABEL_FONT: f64 = 11.0;
pub const NODE_H: f64 = 44.0;
const NODE_MIN_W: f64 = 96.0;
const NODE_MAX_W: f64 = 240.0;
const NODE_PAD_X: f64 = 12.0;
const PILL_W: f64 = 64.0;
const PILL_H: f64 = 28.0;
const DOT: f64 = 16.0;
pub const LABEL_H: f64 = 16.0;
const LABEL_MAX_CHARS: usize = 40;
const RANK_GAP: f64 = 36.0;
const NODE_GAP: f64 = 28.0;
const DUMMY_GAP: f64 = 12.0;
const LANE_GAP: f64 = 16.0;
/// Height of a Parallel/Map node's own title above its containers.
pub const HEADER_H: f64 = 42.0;
/// Height of a container's caption ("Branch 1").
pub const CAPTION_H: f64 = 18.0;
const PAD: f64 = 12.0;
const CONTAINER_GAP: f64 = 16.0;
const MARGIN: f64 = 16.0;

/// Approximate advance width of `s` in a sans-serif font: exact metrics would need font files,
/// and both clients get the same estimate, which is what matters.
pub fn text_width(s: &str, font: f64) -> f64 {
    s.chars()
        .map(|c| {
            if c.is_ascii_uppercase() || c == 'm' || c == 'w' {
                0.68
            } else if c == 'i' || c == 'l' || c == 'j' || c == '.' || c == ',' || c == '|' {
                0.3
            } else if c.is_ascii() {
                0.56
            } else if (c as u32) >= 0x1100 {
                1.0
            } else {
                0.62
            }
        })
        .sum::<f64>()
        * font
}

/// `s` shortened with `…` to fit `max_w`.
pub fn fit_text(s: &str, font: f64, max_w: f64) -> String {
    if text_width(s, font) <= max_w {
        return s.to_string();
    }
    let mut out = String::new();
    for c in s.chars() {
        out.push(c);
        if text_width(&out, font) + text_width("…", font) > max_w {
            out.pop();
            break;
        }
    }
    out.push('…');
    out
}

fn short_label(s: &str) -> String {
    if s.chars().count() <= LABEL_MAX_CHARS {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(LABEL_MAX_CHARS - 1).collect();
        t.push('…');
        t
    }
}

/// Result of laying out one scope, relative to its content origin.
#[derive(Default)]
struct Scratch {
    /// Node rect relative to its scope's content origin.
    node_rel: Vec<Rect>,
    /// Container rect relative to its owner node's top-left corner.
    container_rel: Vec<Rect>,
    /// Content origin relative to the container's top-left corner.
    content_off: Vec<Point>,
    scope_size: Vec<(f64, f64)>,
    edge_rel: Vec<Option<EdgeRoute>>,
    text: Vec<String>,
}

/// Lays the graph out. Never fails: any graph the model builds can be drawn.
pub fn layout(g: &Graph) -> Layout {
    let mut s = Scratch {
        node_rel: vec![Rect::default(); g.nodes.len()],
        container_rel: vec![Rect::default(); g.scopes.len()],
        content_off: vec![Point::default(); g.scopes.len()],
        scope_size: vec![(0.0, 0.0); g.scopes.len()],
        edge_rel: vec![None; g.edges.len()],
        text: vec![String::new(); g.nodes.len()],
    };
    // Edges per scope, gathered once.
    let mut scope_edges: Vec<Vec<usize>> = vec![Vec::new(); g.scopes.len()];
    for (i, e) in g.edges.iter().enumerate() {
        if let Some(v) = scope_edges.get_mut(e.scope) {
            v.push(i);
        }
    }
    // Children have larger indices than their owners' scopes: walking scopes backwards
    // lays out every container before the node that holds it.
    for sid in (0..g.scopes.len()).rev() {
        layout_scope(g, sid, &scope_edges[sid], &mut s);
    }
    let (w, h) = s.scope_size.first().copied().unwrap_or((0.0, 0.0));
    let mut out = Layout {
        width: w + 2.0 * MARGIN,
        height: h + 2.0 * MARGIN,
        nodes: vec![
            NodeBox {
                rect: Rect::default(),
                text: String::new()
            };
            g.nodes.len()
        ],
        containers: vec![Rect::default(); g.scopes.len()],
        edges: vec![
            EdgeRoute {
                points: Vec::new(),
                label: None,
                back: false
            };
            g.edges.len()
        ],
    };
    if !g.scopes.is_empty() {
        out.containers[0] = Rect {
            x: MARGIN,
            y: MARGIN,
            w,
            h,
        };
        // Scopes in index order: an owner's scope always precedes its children.
        let mut origin = vec![Point::default(); g.scopes.len()];
        origin[0] = Point {
            x: MARGIN,
            y: MARGIN,
        };
        for sid in 0..g.scopes.len() {
            let o = origin[sid];
            for &n in &g.scopes[sid].nodes {
                let r = s.node_rel[n].moved(o.x, o.y);
                out.nodes[n] = NodeBox {
                    rect: r,
                    text: std::mem::take(&mut s.text[n]),
                };
                for &c in &g.nodes[n].children {
                    let cr = s.container_rel[c].moved(r.x, r.y);
                    out.containers[c] = cr;
                    origin[c] = Point {
                        x: cr.x + s.content_off[c].x,
                        y: cr.y + s.content_off[c].y,
                    };
                }
            }
            for &e in &scope_edges[sid] {
                if let Some(mut route) = s.edge_rel[e].take() {
                    for p in &mut route.points {
                        p.x += o.x;
                        p.y += o.y;
                    }
                    if let Some(l) = &mut route.label {
                        l.rect = l.rect.moved(o.x, o.y);
                    }
                    out.edges[e] = route;
                }
            }
        }
    }
    out
}

fn layout_scope(g: &Graph, sid: usize, edges: &[usize], s: &mut Scratch) {
    let scope = &g.scopes[sid];
    let nested = scope.owner.is_some();
    let mut sizes = Vec::with_capacity(scope.nodes.len());
    for &n in &scope.nodes {
        let node = &g.nodes[n];
        let (w, h) = match &node.kind {
            NodeKind::Start | NodeKind::End if nested => (DOT, DOT),
            NodeKind::Start | NodeKind::End => (PILL_W, PILL_H),
            NodeKind::State { name, state_type } => {
                let inner = NODE_MAX_W - 2.0 * NODE_PAD_X;
                let text = fit_text(name, NAME_FONT, inner);
                let tw = text_width(&text, NAME_FONT).max(text_width(state_type, TYPE_FONT));
                s.text[n] = text;
                let w = (tw + 2.0 * NODE_PAD_X).clamp(NODE_MIN_W, NODE_MAX_W);
                if node.children.is_empty() {
                    (w, NODE_H)
                } else {
                    compound_size(g, n, w, s)
                }
            }
        };
        if !matches!(node.kind, NodeKind::State { .. }) {
            s.text[n] = node.label().to_string();
        }
        sizes.push((w, h));
    }
    let index_of = |n: usize| scope.nodes.iter().position(|&m| m == n);
    let mut ledges = Vec::with_capacity(edges.len());
    for &e in edges {
        let edge = &g.edges[e];
        if let (Some(a), Some(b)) = (index_of(edge.from), index_of(edge.to)) {
            let label = edge.label.as_deref().map(|l| {
                let t = short_label(l);
                let w = text_width(&t, LABEL_FONT) + 8.0;
                (t, w)
            });
            ledges.push((e, a, b, label));
        }
    }
    let start = index_of(scope.start).unwrap_or(0);
    let end = index_of(scope.end).unwrap_or(0);
    let input: Vec<FlatEdge> = ledges
        .iter()
        .map(|(_, a, b, l)| (*a, *b, l.clone()))
        .collect();
    let res = sugiyama(&sizes, start, end, &input);
    for (i, &n) in scope.nodes.iter().enumerate() {
        s.node_rel[n] = res.rects[i];
    }
    for (k, (e, ..)) in ledges.iter().enumerate() {
        s.edge_rel[*e] = Some(res.routes[k].clone());
    }
    s.scope_size[sid] = (res.width, res.height);
}

/// Size of a Parallel/Map node holding already laid-out scopes; records where each container
/// goes inside it.
fn compound_size(g: &Graph, n: usize, header_w: f64, s: &mut Scratch) -> (f64, f64) {
    let children = &g.nodes[n].children;
    let mut boxes: Vec<(f64, f64)> = Vec::with_capacity(children.len());
    for &c in children {
        let (cw, ch) = s.scope_size[c];
        let caption_w = text_width(&g.scopes[c].label, LABEL_FONT) + 2.0 * PAD;
        boxes.push(((cw + 2.0 * PAD).max(caption_w), ch + CAPTION_H + 2.0 * PAD));
    }
    let row_w: f64 = boxes.iter().map(|b| b.0).sum::<f64>()
        + CONTAINER_GAP * (boxes.len().saturating_sub(1)) as f64;
    let row_h = boxes.iter().map(|b| b.1).fold(0.0, f64::max);
    let w = (row_w + 2.0 * PAD).max(header_w);
    let mut x = (w - row_w) / 2.0;
    for (i, &c) in children.iter().enumerate() {
        let (bw, _) = boxes[i];
        s.container_rel[c] = Rect {
            x,
            y: HEADER_H,
            w: bw,
            h: row_h,
        };
        let (cw, _) = s.scope_size[c];
        s.content_off[c] = Point {
            x: (bw - cw) / 2.0,
            y: CAPTION_H + PAD,
        };
        x += bw + CONTAINER_GAP;
    }
    (w, HEADER_H + row_h + PAD)
}

/// An edge of one scope: local source, local target, label text and its width.
type FlatEdge = (usize, usize, Option<(String, f64)>);

struct SugResult {
    rects: Vec<Rect>,
    routes: Vec<EdgeRoute>,
    width: f64,
    height: f64,
}

#[derive(Clone, Copy, PartialEq)]
enum VKind {
    Real,
    Dummy,
    Label,
}

struct V {
    w: f64,
    h: f64,
    layer: usize,
    kind: VKind,
}

/// The core algorithm on one flat graph. `edges`: (from, to, label text and width).
fn sugiyama(sizes: &[(f64, f64)], start: usize, end: usize, edges: &[FlatEdge]) -> SugResult {
    let n = sizes.len();
    // 1. Back edges: those reaching a node still on the DFS stack (self-loops included).
    let mut out: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, (a, _, _)) in edges.iter().enumerate() {
        out[*a].push(i);
    }
    let mut back = vec![false; edges.len()];
    let mut state = vec![0u8; n];
    let roots = std::iter::once(start).chain(0..n);
    for root in roots {
        if root >= n || state[root] != 0 {
            continue;
        }
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        state[root] = 1;
        while let Some(top) = stack.last_mut() {
            let (v, k) = *top;
            if k < out[v].len() {
                top.1 += 1;
                let e = out[v][k];
                let w = edges[e].1;
                match state[w] {
                    0 => {
                        state[w] = 1;
                        stack.push((w, 0));
                    }
                    1 => back[e] = true,
                    _ => {}
                }
            } else {
                state[v] = 2;
                stack.pop();
            }
        }
    }

    // 2. Longest-path layering on forward edges; labelled edges span two layers.
    let minlen = |e: usize| if edges[e].2.is_some() { 2 } else { 1 };
    let mut indeg = vec![0usize; n];
    for (i, (_, b, _)) in edges.iter().enumerate() {
        if !back[i] {
            indeg[*b] += 1;
        }
    }
    let mut layer = vec![0usize; n];
    let mut queue: std::collections::VecDeque<usize> = (0..n).filter(|&v| indeg[v] == 0).collect();
    while let Some(v) = queue.pop_front() {
        for &e in &out[v] {
            if back[e] {
                continue;
            }
            let w = edges[e].1;
            layer[w] = layer[w].max(layer[v] + minlen(e));
            indeg[w] -= 1;
            if indeg[w] == 0 {
                queue.push_back(w);
            }
        }
    }
    if end < n {
        // End closes the drawing, on its own bottom layer.
        let max_other = (0..n)
            .filter(|&v| v != end)
            .map(|v| layer[v])
            .max()
            .unwrap_or(0);
        layer[end] = layer[end].max(max_other + 1);
    }

    // 3. Dummy nodes for edges spanning several layers; the first carries the label.
    let mut vs: Vec<V> = sizes
        .iter()
        .zip(&layer)
        .map(|(&(w, h), &l)| V {
            w,
            h,
            layer: l,
            kind: VKind::Real,
        })
        .collect();
    let mut chains: Vec<Vec<usize>> = vec![Vec::new(); edges.len()];
    let mut label_of: Vec<Option<usize>> = vec![None; edges.len()];
    for (i, (a, b, label)) in edges.iter().enumerate() {
        if back[i] {
            continue;
        }
        let mut chain = vec![*a];
        for l in layer[*a] + 1..layer[*b] {
            let first = l == layer[*a] + 1;
            let (kind, w, h) = match label {
                Some((_, lw)) if first => (VKind::Label, *lw, LABEL_H),
                _ => (VKind::Dummy, 0.0, 0.0),
            };
            if kind == VKind::Label {
                label_of[i] = Some(vs.len());
            }
            chain.push(vs.len());
            vs.push(V {
                w,
                h,
                layer: l,
                kind,
            });
        }
        chain.push(*b);
        chains[i] = chain;
    }
    let nv = vs.len();
    let mut succ: Vec<Vec<usize>> = vec![Vec::new(); nv];
    let mut pred: Vec<Vec<usize>> = vec![Vec::new(); nv];
    for c in &chains {
        for w in c.windows(2) {
            succ[w[0]].push(w[1]);
            pred[w[1]].push(w[0]);
        }
    }
    let nlayers = vs.iter().map(|v| v.layer + 1).max().unwrap_or(0);

    // 4. Order within layers: DFS discovery order, then barycentre sweeps; keep the best.
    let mut layers: Vec<Vec<usize>> = vec![Vec::new(); nlayers];
    let mut seen = vec![false; nv];
    for root in std::iter::once(start).chain(0..nv) {
        if root >= nv || seen[root] {
            continue;
        }
        let mut stack = vec![root];
        while let Some(v) = stack.pop() {
            if seen[v] {
                continue;
            }
            seen[v] = true;
            layers[vs[v].layer].push(v);
            for &w in succ[v].iter().rev() {
                if !seen[w] {
                    stack.push(w);
                }
            }
        }
    }
    let mut pos = vec![0usize; nv];
    let set_pos = |layers: &Vec<Vec<usize>>, pos: &mut Vec<usize>| {
        for l in layers {
            for (i, &v) in l.iter().enumerate() {
                pos[v] = i;
            }
        }
    };
    set_pos(&layers, &mut pos);
    let mut best = layers.clone();
    let mut best_c = crossings(&layers, &succ, &pos);
    for it in 0..12 {
        if best_c == 0 {
            break;
        }
        let down = it % 2 == 0;
        let order: Vec<usize> = if down {
            (1..nlayers).collect()
        } else {
            (0..nlayers.saturating_sub(1)).rev().collect()
        };
        for l in order {
            let nbrs = if down { &pred } else { &succ };
            let mut keyed: Vec<(f64, usize)> = layers[l]
                .iter()
                .map(|&v| {
                    let ns = &nbrs[v];
                    let key = if ns.is_empty() {
                        pos[v] as f64
                    } else {
                        ns.iter().map(|&u| pos[u] as f64).sum::<f64>() / ns.len() as f64
                    };
                    (key, v)
                })
                .collect();
            keyed.sort_by(|a, b| a.0.total_cmp(&b.0));
            layers[l] = keyed.into_iter().map(|(_, v)| v).collect();
            for (i, &v) in layers[l].iter().enumerate() {
                pos[v] = i;
            }
        }
        let c = crossings(&layers, &succ, &pos);
        if c < best_c {
            best_c = c;
            best = layers.clone();
        }
    }
    let layers = best;
    set_pos(&layers, &mut pos);

    // 5. y: one band per layer, nodes centred in their band.
    let band_h: Vec<f64> = layers
        .iter()
        .map(|l| l.iter().map(|&v| vs[v].h).fold(0.0, f64::max))
        .collect();
    let mut band_top = vec![0.0; nlayers];
    for l in 1..nlayers {
        band_top[l] = band_top[l - 1] + band_h[l - 1] + RANK_GAP;
    }
    let band_bottom = |l: usize| band_top[l] + band_h[l];

    // 6. x: pack, then pull each node towards its neighbours' mean, keeping order and gaps.
    let gap = |a: usize, b: usize| {
        if vs[a].kind == VKind::Real && vs[b].kind == VKind::Real {
            NODE_GAP
        } else {
            DUMMY_GAP
        }
    };
    let mut x = vec![0.0; nv];
    for l in &layers {
        let mut cur = 0.0;
        for (i, &v) in l.iter().enumerate() {
            if i > 0 {
                let u = l[i - 1];
                cur += (vs[u].w + vs[v].w) / 2.0 + gap(u, v);
            }
            x[v] = cur;
        }
    }
    for it in 0..18 {
        let mode = it % 3;
        let order: Vec<usize> = match mode {
            0 => (0..nlayers).collect(),
            1 => (0..nlayers).rev().collect(),
            _ => (0..nlayers).collect(),
        };
        for l in order {
            let lay = &layers[l];
            if lay.is_empty() {
                continue;
            }
            let mut desired = Vec::with_capacity(lay.len());
            let mut weight = Vec::with_capacity(lay.len());
            for &v in lay {
                let ns: Vec<usize> = match mode {
                    0 => pred[v].clone(),
                    1 => succ[v].clone(),
                    _ => pred[v].iter().chain(&succ[v]).copied().collect(),
                };
                if ns.is_empty() {
                    desired.push(x[v]);
                    weight.push(0.01);
                } else {
                    desired.push(ns.iter().map(|&u| x[u]).sum::<f64>() / ns.len() as f64);
                    // Dummies weigh more: long edges should run straight.
                    let k = if vs[v].kind == VKind::Real { 1.0 } else { 2.0 };
                    weight.push(k * ns.len() as f64);
                }
            }
            let mut sep = vec![0.0; lay.len()];
            for i in 1..lay.len() {
                sep[i] = (vs[lay[i - 1]].w + vs[lay[i]].w) / 2.0 + gap(lay[i - 1], lay[i]);
            }
            let placed = isotonic(&desired, &weight, &sep);
            for (i, &v) in lay.iter().enumerate() {
                x[v] = placed[i];
            }
        }
    }
    // Normalise to start at 0.
    let min_left = (0..nv)
        .map(|v| x[v] - vs[v].w / 2.0)
        .fold(f64::INFINITY, f64::min);
    let min_left = if min_left.is_finite() { min_left } else { 0.0 };
    for xv in &mut x {
        *xv -= min_left;
    }
    let rect_of = |v: usize| {
        let l = vs[v].layer;
        Rect {
            x: x[v] - vs[v].w / 2.0,
            y: band_top[l] + (band_h[l] - vs[v].h) / 2.0,
            w: vs[v].w,
            h: vs[v].h,
        }
    };
    let mut width = (0..nv).map(|v| x[v] + vs[v].w / 2.0).fold(0.0, f64::max);
    let height = if nlayers > 0 {
        band_bottom(nlayers - 1)
    } else {
        0.0
    };

    // 7. Routes. Ports spread along the bottom/top so fan-outs don't start at one point.
    let mut out_port = vec![0.0; edges.len()];
    let mut in_port = vec![0.0; edges.len()];
    for v in 0..n {
        let r = rect_of(v);
        let mut outs: Vec<(f64, usize)> = (0..edges.len())
            .filter(|&e| !back[e] && edges[e].0 == v)
            .map(|e| (x[chains[e][1]], e))
            .collect();
        outs.sort_by(|a, b| a.0.total_cmp(&b.0));
        let k = outs.len() as f64;
        for (i, (_, e)) in outs.iter().enumerate() {
            out_port[*e] = r.cx() + ((i as f64 + 1.0) / (k + 1.0) - 0.5) * 0.6 * r.w;
        }
        let mut ins: Vec<(f64, usize)> = (0..edges.len())
            .filter(|&e| !back[e] && edges[e].1 == v)
            .map(|e| (x[chains[e][chains[e].len() - 2]], e))
            .collect();
        ins.sort_by(|a, b| a.0.total_cmp(&b.0));
        let k = ins.len() as f64;
        for (i, (_, e)) in ins.iter().enumerate() {
            in_port[*e] = r.cx() + ((i as f64 + 1.0) / (k + 1.0) - 0.5) * 0.6 * r.w;
        }
    }
    let mut routes = Vec::with_capacity(edges.len());
    // Lanes for back edges: (first layer, last layer, rightmost x used).
    let mut lanes: Vec<(usize, usize, f64)> = Vec::new();
    for (i, (a, b, label)) in edges.iter().enumerate() {
        let (a, b) = (*a, *b);
        let ra = rect_of(a);
        let rb = rect_of(b);
        if !back[i] {
            let mut pts = Vec::new();
            let mut push = |p: Point| {
                if pts.last() != Some(&p) {
                    pts.push(p);
                }
            };
            let la = vs[a].layer;
            push(Point {
                x: out_port[i],
                y: ra.bottom(),
            });
            push(Point {
                x: out_port[i],
                y: band_bottom(la),
            });
            for &d in &chains[i][1..chains[i].len() - 1] {
                let l = vs[d].layer;
                push(Point {
                    x: x[d],
                    y: band_top[l],
                });
                push(Point {
                    x: x[d],
                    y: band_bottom(l),
                });
            }
            let lb = vs[b].layer;
            push(Point {
                x: in_port[i],
                y: band_top[lb],
            });
            push(Point {
                x: in_port[i],
                y: rb.y,
            });
            let label = match (label, label_of[i]) {
                (Some((t, _)), Some(d)) => Some(LabelBox {
                    rect: rect_of(d),
                    text: t.clone(),
                }),
                _ => None,
            };
            routes.push(EdgeRoute {
                points: pts,
                label,
                back: false,
            });
        } else {
            // Around the right of everything in the layers it spans.
            let (lo, hi) = (vs[b].layer.min(vs[a].layer), vs[a].layer.max(vs[b].layer));
            let mut lane = (0..nv)
                .filter(|&v| vs[v].layer >= lo && vs[v].layer <= hi)
                .map(|v| x[v] + vs[v].w / 2.0)
                .fold(0.0, f64::max)
                + LANE_GAP;
            for &(l0, l1, used) in &lanes {
                if l0 <= hi && lo <= l1 {
                    lane = lane.max(used + LANE_GAP);
                }
            }
            let stagger = ((lanes.len() % 3) as f64 - 1.0) * 5.0;
            let y_out = band_bottom(vs[a].layer) + RANK_GAP / 2.0 + stagger;
            let y_in = band_top[vs[b].layer] - RANK_GAP / 2.0 + stagger;
            let ex = ra.right() - (ra.w / 4.0).min(12.0);
            let nx = rb.right() - (rb.w / 4.0).min(12.0);
            let pts = vec![
                Point {
                    x: ex,
                    y: ra.bottom(),
                },
                Point { x: ex, y: y_out },
                Point { x: lane, y: y_out },
                Point { x: lane, y: y_in },
                Point { x: nx, y: y_in },
                Point { x: nx, y: rb.y },
            ];
            let mut used = lane;
            let label = label.as_ref().map(|(t, lw)| {
                let r = Rect {
                    x: lane + 4.0,
                    y: (y_out + y_in) / 2.0 - LABEL_H / 2.0,
                    w: *lw,
                    h: LABEL_H,
                };
                used = r.right();
                LabelBox {
                    rect: r,
                    text: t.clone(),
                }
            });
            lanes.push((lo, hi, used));
            width = width.max(used);
            routes.push(EdgeRoute {
                points: pts,
                label,
                back: true,
            });
        }
    }
    SugResult {
        rects: (0..n).map(rect_of).collect(),
        routes,
        width,
        height,
    }
}

/// Edge crossings between consecutive layers (pairwise count; layers here are small).
fn crossings(layers: &[Vec<usize>], succ: &[Vec<usize>], pos: &[usize]) -> usize {
    let mut total = 0;
    for l in layers {
        let segs: Vec<(usize, usize)> = l
            .iter()
            .flat_map(|&u| succ[u].iter().map(move |&v| (pos[u], pos[v])))
            .collect();
        for i in 0..segs.len() {
            for j in i + 1..segs.len() {
                let (a1, b1) = segs[i];
                let (a2, b2) = segs[j];
                if (a1 < a2 && b1 > b2) || (a1 > a2 && b1 < b2) {
                    total += 1;
                }
            }
        }
    }
    total
}

/// Positions closest (weighted least squares) to `desired` with `x[i] - x[i-1] >= sep[i]`:
/// shifting by the cumulative separations turns this into isotonic regression, solved
/// exactly by pool-adjacent-violators.
fn isotonic(desired: &[f64], weight: &[f64], sep: &[f64]) -> Vec<f64> {
    let n = desired.len();
    let mut c = vec![0.0; n];
    for i in 1..n {
        c[i] = c[i - 1] + sep[i];
    }
    // Blocks: (weighted sum, weight, length).
    let mut blocks: Vec<(f64, f64, usize)> = Vec::with_capacity(n);
    for i in 0..n {
        let w = weight[i].max(1e-6);
        blocks.push(((desired[i] - c[i]) * w, w, 1));
        while blocks.len() >= 2 {
            let (s2, w2, n2) = blocks[blocks.len() - 1];
            let (s1, w1, n1) = blocks[blocks.len() - 2];
            if s1 / w1 > s2 / w2 {
                blocks.pop();
                let last = blocks.len() - 1;
                blocks[last] = (s1 + s2, w1 + w2, n1 + n2);
            } else {
                break;
            }
        }
    }
    let mut out = Vec::with_capacity(n);
    for (s, w, len) in blocks {
        for _ in 0..len {
            let i = out.len();
            out.push(s / w + c[i]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Graph;
    use serde_json::json;

    fn laid(def: serde_json::Value) -> (Graph, Layout) {
        let g = Graph::from_definition(&def).expect("graph");
        let l = layout(&g);
        (g, l)
    }

    #[test]
    fn isotonic_keeps_order_and_gaps() {
        let x = isotonic(&[10.0, 0.0, 5.0], &[1.0, 1.0, 1.0], &[0.0, 20.0, 20.0]);
        assert!(x[1] - x[0] >= 20.0 - 1e-9 && x[2] - x[1] >= 20.0 - 1e-9);
        let free = isotonic(&[0.0, 100.0], &[1.0, 1.0], &[0.0, 10.0]);
        assert_eq!(free, vec![0.0, 100.0]);
    }

    #[test]
    fn chain_is_straight_and_top_down() {
        let (g, l) = laid(json!({"StartAt": "A", "States": {
            "A": {"Type": "Pass", "Next": "B"},
            "B": {"Type": "Pass", "End": true}}}));
        let a = l.nodes[g.state("A").unwrap()].rect;
        let b = l.nodes[g.state("B").unwrap()].rect;
        assert!(a.bottom() < b.y);
        assert!((a.cx() - b.cx()).abs() < 1e-6);
        assert!(l.edges.iter().all(|e| !e.back && e.points.len() >= 2));
    }

    #[test]
    fn loops_are_back_edges_routed_on_the_right() {
        let (g, l) = laid(json!({"StartAt": "Wait", "States": {
            "Wait": {"Type": "Wait", "Seconds": 1, "Next": "Check"},
            "Check": {"Type": "Choice", "Choices": [
                {"Variable": "$.done", "BooleanEquals": true, "Next": "Done"}
            ], "Default": "Wait"},
            "Done": {"Type": "Succeed"}}}));
        let back: Vec<usize> = (0..g.edges.len()).filter(|&e| l.edges[e].back).collect();
        assert_eq!(back.len(), 1);
        let e = &g.edges[back[0]];
        assert_eq!(g.nodes[e.from].label(), "Check");
        assert_eq!(g.nodes[e.to].label(), "Wait");
        let route = &l.edges[back[0]];
        let lane = route.points[2].x;
        let rightmost = l.nodes.iter().map(|n| n.rect.right()).fold(0.0, f64::max);
        assert!(
            lane >= rightmost,
            "lane {lane} right of all nodes {rightmost}"
        );
        assert_eq!(
            route.label.as_ref().map(|b| b.text.as_str()),
            Some("Default")
        );
        // Self-loop works too.
        let (_, l) = laid(json!({"StartAt": "C", "States": {
            "C": {"Type": "Choice", "Choices": [
                {"Variable": "$.x", "IsPresent": true, "Next": "D"}], "Default": "C"},
            "D": {"Type": "Succeed"}}}));
        assert_eq!(l.edges.iter().filter(|e| e.back).count(), 1);
    }

    #[test]
    fn map_in_parallel_nests_containers() {
        let (g, l) = laid(json!({"StartAt": "P", "States": {
        "P": {"Type": "Parallel", "End": true, "Branches": [
            {"StartAt": "M", "States": {"M": {"Type": "Map", "End": true,
                "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"},
                    "StartAt": "Inner", "States": {"Inner": {"Type": "Pass", "End": true}}}}}},
            {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": true}}}
        ]}}}));
        assert_eq!(g.scopes.len(), 4);
        let p = l.nodes[g.state("P").unwrap()].rect;
        let m = g.state("M").unwrap();
        let inner = l.nodes[g.state("Inner").unwrap()].rect;
        let b1 = l.containers[1];
        let b2 = l.containers[3];
        assert!(p.contains(&b1) && p.contains(&b2));
        assert!(!b1.overlaps(&b2));
        assert!(b1.contains(&l.nodes[m].rect));
        let proc_scope = g.nodes[m].children[0];
        assert!(l.nodes[m].rect.contains(&l.containers[proc_scope]));
        assert!(l.containers[proc_scope].contains(&inner));
    }

    #[test]
    fn deterministic() {
        let def = json!({"StartAt": "C", "States": {
            "C": {"Type": "Choice", "Choices": [
                {"Variable": "$.a", "NumericGreaterThan": 1, "Next": "X"},
                {"Variable": "$.a", "NumericLessThan": 0, "Next": "Y"}], "Default": "Z"},
            "X": {"Type": "Pass", "Next": "Y"}, "Y": {"Type": "Pass", "Next": "Z"},
            "Z": {"Type": "Succeed"}}});
        let a = serde_json::to_string(&laid(def.clone()).1).unwrap();
        let b = serde_json::to_string(&laid(def).1).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn long_names_are_shortened() {
        let long = "N".repeat(80);
        let t = fit_text(&long, NAME_FONT, 200.0);
        assert!(t.ends_with('…') && text_width(&t, NAME_FONT) <= 200.0);
    }
}
