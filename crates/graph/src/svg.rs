//! Self-contained SVG: inline CSS, no scripts or external references, so the file can be
//! opened directly, embedded by the console, or attached to an issue.
//!
//! Hooks for the console: every state is a `<g class="node state state-<Type>"
//! data-state="<name>">`; setting `data-status="SUCCEEDED|FAILED|RUNNING|CAUGHT"` on it
//! recolours it with the built-in rules. Edges carry `edge-next`, `edge-choice`,
//! `edge-default`, `edge-catch` classes and `data-from`/`data-to` state names.

use crate::layout::{layout, Layout, Point, Rect, CAPTION_H};
use crate::model::{EdgeKind, Graph, NodeKind};
use std::fmt::Write;

const STYLE: &str = r#"
.sw-graph { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; }
.sw-graph text { dominant-baseline: alphabetic; }
.node .box { stroke-width: 1.5; }
.node .name { font-size: 13px; font-weight: 600; fill: #0f172a; text-anchor: middle; }
.node .type { font-size: 11px; fill: #334155; text-anchor: middle; }
.state .box { fill: #f1f5f9; stroke: #475569; }
.state-Task .box { fill: #dbeafe; stroke: #1d4ed8; }
.state-Choice .box { fill: #fef3c7; stroke: #b45309; }
.state-Pass .box { fill: #f1f5f9; stroke: #475569; }
.state-Wait .box { fill: #ede9fe; stroke: #6d28d9; }
.state-Succeed .box { fill: #dcfce7; stroke: #15803d; }
.state-Fail .box { fill: #fee2e2; stroke: #b91c1c; }
.state-Parallel > .box, .state-Map > .box { fill: #f8fafc; stroke: #475569; }
.terminal .box { fill: #1e293b; stroke: #1e293b; }
.terminal .name { fill: #ffffff; font-size: 12px; }
.terminal.nested .box { fill: #475569; stroke: #475569; }
.terminal.nested.end .box { fill: #ffffff; stroke-width: 3; }
.container .frame { fill: #ffffff; stroke: #64748b; stroke-dasharray: 4 3; }
.container .caption { font-size: 11px; fill: #334155; }
.edge path { fill: none; stroke: #475569; stroke-width: 1.5; }
.edge-choice path { stroke: #1d4ed8; }
.edge-default path { stroke: #475569; }
.edge-catch path { stroke: #b91c1c; stroke-dasharray: 6 4; }
.edge-label rect { fill: #ffffff; fill-opacity: 0.92; }
.edge-label text { font-size: 11px; fill: #0f172a; text-anchor: middle; }
.edge-label.edge-catch text { fill: #991b1b; }
.edge-label.edge-choice text { fill: #1e3a8a; }
.state[data-status="SUCCEEDED"] > .box { fill: #bbf7d0; stroke: #15803d; stroke-width: 3; }
.state[data-status="FAILED"] > .box { fill: #fecaca; stroke: #b91c1c; stroke-width: 3; }
.state[data-status="CAUGHT"] > .box { fill: #fed7aa; stroke: #c2410c; stroke-width: 3; }
.state[data-status="RUNNING"] > .box { fill: #bfdbfe; stroke: #1d4ed8; stroke-width: 3; }
"#;

/// Markers, one per edge colour (`context-stroke` is not yet safe everywhere).
const MARKERS: [(&str, &str); 4] = [
    ("next", "#475569"),
    ("choice", "#1d4ed8"),
    ("default", "#475569"),
    ("catch", "#b91c1c"),
];

fn marker_of(kind: EdgeKind) -> &'static str {
    match kind {
        EdgeKind::Choice => "choice",
        EdgeKind::Default => "default",
        EdgeKind::Catch => "catch",
        _ => "next",
    }
}

/// Lays out and draws `g`.
pub fn to_svg(g: &Graph) -> String {
    to_svg_with(g, &layout(g))
}

/// Draws `g` with a layout computed before (the console reuses the same layout).
pub fn to_svg_with(g: &Graph, l: &Layout) -> String {
    let mut s = String::with_capacity(4096 + g.nodes.len() * 400);
    let title = match &g.comment {
        Some(c) if !c.trim().is_empty() => format!("State machine: {c}"),
        _ => "State machine".to_string(),
    };
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="sw-graph" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" aria-labelledby="sw-title sw-desc">"#,
        w = num(l.width),
        h = num(l.height)
    );
    let states = g
        .nodes
        .iter()
        .filter(|n| matches!(n.kind, NodeKind::State { .. }))
        .count();
    let _ = write!(
        s,
        "\n<title id=\"sw-title\">{}</title>\n<desc id=\"sw-desc\">{} states, {} transitions</desc>\n",
        esc(&title),
        states,
        g.edges.len()
    );
    s.push_str("<defs>\n<style>");
    s.push_str(STYLE);
    s.push_str("</style>\n");
    for (name, colour) in MARKERS {
        let _ = writeln!(
            s,
            r#"<marker id="sw-arrow-{name}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="9" markerHeight="9" markerUnits="userSpaceOnUse" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>"#
        );
    }
    s.push_str("</defs>\n");

    // Containers first, so their contents draw on top of them.
    for (i, node) in g.nodes.iter().enumerate() {
        if !node.is_container() {
            continue;
        }
        let r = l.nodes[i].rect;
        let ty = node.state_type().unwrap_or("");
        open_state(&mut s, node.label(), ty, true);
        let _ = write!(
            s,
            r#"<rect class="box" x="{}" y="{}" width="{}" height="{}" rx="8"/>"#,
            num(r.x),
            num(r.y),
            num(r.w),
            num(r.h)
        );
        text(&mut s, "name", r.cx(), r.y + 18.0, &l.nodes[i].text);
        text(&mut s, "type", r.cx(), r.y + 33.0, ty);
        s.push_str("</g>\n");
        for &c in &node.children {
            let cr = l.containers[c];
            let scope = &g.scopes[c];
            let _ = write!(
                s,
                r#"<g class="container" data-scope="{}" role="group" aria-label="{}"><rect class="frame" x="{}" y="{}" width="{}" height="{}" rx="6"/>"#,
                esc(&scope.id),
                esc(&format!("{} of {}", scope.label, node.label())),
                num(cr.x),
                num(cr.y),
                num(cr.w),
                num(cr.h)
            );
            let _ = write!(
                s,
                r#"<text class="caption" x="{}" y="{}">{}</text></g>"#,
                num(cr.x + 8.0),
                num(cr.y + CAPTION_H - 4.0),
                esc(&scope.label)
            );
            s.push('\n');
        }
    }

    for (i, e) in g.edges.iter().enumerate() {
        let route = &l.edges[i];
        if route.points.len() < 2 {
            continue;
        }
        let from = g.nodes[e.from].label();
        let to = g.nodes[e.to].label();
        let _ = write!(
            s,
            r#"<g class="edge {}{}" data-from="{}" data-to="{}"><title>{}</title><path d="{}" marker-end="url(#sw-arrow-{})"/></g>"#,
            e.kind.css_class(),
            if route.back { " back" } else { "" },
            esc(from),
            esc(to),
            esc(&match &e.label {
                Some(t) => format!("{from} → {to}: {t}"),
                None => format!("{from} → {to}"),
            }),
            path(&route.points),
            marker_of(e.kind)
        );
        s.push('\n');
    }
    for (i, e) in g.edges.iter().enumerate() {
        if let Some(lb) = &l.edges[i].label {
            let r = lb.rect;
            let _ = write!(
                s,
                r#"<g class="edge-label {}"><rect x="{}" y="{}" width="{}" height="{}" rx="3"/>"#,
                e.kind.css_class(),
                num(r.x),
                num(r.y),
                num(r.w),
                num(r.h)
            );
            text(&mut s, "", r.cx(), r.y + r.h - 4.5, &lb.text);
            s.push_str("</g>\n");
        }
    }

    for (i, node) in g.nodes.iter().enumerate() {
        if node.is_container() {
            continue;
        }
        let r = l.nodes[i].rect;
        let nested = g
            .scopes
            .get(node.scope)
            .is_some_and(|sc| sc.owner.is_some());
        match &node.kind {
            NodeKind::State { state_type, .. } => {
                open_state(&mut s, node.label(), state_type, false);
                rect(&mut s, r, 6.0);
                text(&mut s, "name", r.cx(), r.y + 19.0, &l.nodes[i].text);
                text(&mut s, "type", r.cx(), r.y + 34.0, state_type);
                s.push_str("</g>\n");
            }
            NodeKind::Start | NodeKind::End => {
                let which = if node.kind == NodeKind::Start {
                    "start"
                } else {
                    "end"
                };
                let aria = match g.scopes.get(node.scope) {
                    Some(sc) if nested => format!("{} of {}", node.label(), sc.label),
                    _ => node.label().to_string(),
                };
                let _ = write!(
                    s,
                    r#"<g class="node terminal {which}{}" role="img" aria-label="{}"><title>{}</title>"#,
                    if nested { " nested" } else { "" },
                    esc(&aria),
                    esc(&aria)
                );
                rect(&mut s, r, r.h / 2.0);
                if !nested {
                    text(&mut s, "name", r.cx(), r.cy() + 4.0, node.label());
                }
                s.push_str("</g>\n");
            }
        }
    }
    s.push_str("</svg>\n");
    s
}

fn open_state(s: &mut String, name: &str, ty: &str, container: bool) {
    let aria = format!("{ty} state {name}");
    let _ = write!(
        s,
        r#"<g class="node state state-{}{}" data-state="{}" role="{}" aria-label="{}"><title>{}</title>"#,
        css_ident(ty),
        if container { " container-node" } else { "" },
        esc(name),
        if container { "group" } else { "img" },
        esc(&aria),
        esc(&format!("{name} ({ty})"))
    );
}

fn rect(s: &mut String, r: Rect, rx: f64) {
    let _ = write!(
        s,
        r#"<rect class="box" x="{}" y="{}" width="{}" height="{}" rx="{}"/>"#,
        num(r.x),
        num(r.y),
        num(r.w),
        num(r.h),
        num(rx)
    );
}

fn text(s: &mut String, class: &str, x: f64, y: f64, t: &str) {
    let class = if class.is_empty() {
        String::new()
    } else {
        format!(r#" class="{class}""#)
    };
    let _ = write!(
        s,
        r#"<text{class} x="{}" y="{}">{}</text>"#,
        num(x),
        num(y),
        esc(t)
    );
}

fn path(points: &[Point]) -> String {
    let mut d = String::new();
    for (i, p) in points.iter().enumerate() {
        let _ = write!(
            d,
            "{}{},{}",
            if i == 0 { "M" } else { " L" },
            num(p.x),
            num(p.y)
        );
    }
    d
}

/// Fixed one-decimal numbers: compact and byte-for-byte reproducible.
fn num(v: f64) -> String {
    let v = if v.is_finite() { v } else { 0.0 };
    let t = format!("{v:.1}");
    match t.strip_suffix(".0") {
        Some(i) if i != "-0" => i.to_string(),
        Some(_) => "0".into(),
        None => t,
    }
}

/// State types are ASL words, but the definition is user data: keep class names safe.
fn css_ident(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

/// XML escaping for text and attribute values; characters XML 1.0 forbids become U+FFFD.
pub(crate) fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            '\t' | '\n' | '\r' => o.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => o.push('\u{FFFD}'),
            c => o.push(c),
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_compact() {
        assert_eq!(num(12.0), "12");
        assert_eq!(num(12.25), "12.2");
        assert_eq!(num(-0.01), "0");
        assert_eq!(num(f64::NAN), "0");
    }

    #[test]
    fn escaping() {
        assert_eq!(
            esc("a<b & \"c\"\u{1}"),
            "a&lt;b &amp; &quot;c&quot;\u{FFFD}"
        );
    }
}
