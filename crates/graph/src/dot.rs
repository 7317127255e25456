//! Graphviz DOT. Graphviz does its own layout; this keeps the same nodes, edges, labels,
//! classes and colours so `dot -Tsvg` gives a comparable picture.
//!
//! A Parallel/Map state becomes `cluster_<id>` holding a header node (the state itself) and
//! one nested cluster per branch. Edges into it point at the header with `lhead`; edges out of
//! it leave from its first container's End with `ltail`, so they clip at the cluster border.

use crate::model::{EdgeKind, Graph, Node, NodeKind};
use std::fmt::Write;

/// Fill and outline of a state type, shared with the Mermaid renderer.
pub(crate) fn colours(ty: &str) -> (&'static str, &'static str) {
    match ty {
        "Task" => ("#dbeafe", "#1d4ed8"),
        "Choice" => ("#fef3c7", "#b45309"),
        "Wait" => ("#ede9fe", "#6d28d9"),
        "Succeed" => ("#dcfce7", "#15803d"),
        "Fail" => ("#fee2e2", "#b91c1c"),
        "Parallel" | "Map" => ("#f8fafc", "#475569"),
        _ => ("#f1f5f9", "#475569"),
    }
}

pub fn to_dot(g: &Graph) -> String {
    let mut s = String::new();
    s.push_str("digraph \"stepwise\" {\n");
    let _ = writeln!(
        s,
        "  graph [rankdir=TB, compound=true, fontname=\"Helvetica\", fontsize=11, nodesep=0.35, ranksep=0.45{}];",
        match &g.comment {
            Some(c) if !c.trim().is_empty() => format!(", label={}, labelloc=t", quote(c)),
            _ => String::new(),
        }
    );
    s.push_str("  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=12, fontcolor=\"#0f172a\", penwidth=1.2];\n");
    s.push_str("  edge [fontname=\"Helvetica\", fontsize=10, color=\"#475569\", fontcolor=\"#0f172a\", arrowsize=0.7];\n");
    if !g.scopes.is_empty() {
        scope(g, 0, 1, &mut s);
    }
    for e in &g.edges {
        let (mut tail, mut head) = (g.nodes[e.from].id.clone(), g.nodes[e.to].id.clone());
        let mut attrs: Vec<String> = Vec::new();
        let from = &g.nodes[e.from];
        if let Some(&c) = from.children.first() {
            tail = g.nodes[g.scopes[c].end].id.clone();
            attrs.push(format!("ltail=\"cluster_{}\"", from.id));
        }
        if g.nodes[e.to].is_container() {
            attrs.push(format!("lhead=\"cluster_{}\"", g.nodes[e.to].id));
            head = g.nodes[e.to].id.clone();
        }
        if let Some(l) = &e.label {
            attrs.push(format!("label={}", quote(l)));
        }
        match e.kind {
            EdgeKind::Catch => {
                attrs.push("style=dashed, color=\"#b91c1c\", fontcolor=\"#991b1b\"".into())
            }
            EdgeKind::Choice => attrs.push("color=\"#1d4ed8\", fontcolor=\"#1e3a8a\"".into()),
            _ => {}
        }
        attrs.push(format!("class=\"{}\"", e.kind.css_class()));
        let _ = writeln!(s, "  {tail} -> {head} [{}];", attrs.join(", "));
    }
    s.push_str("}\n");
    s
}

fn scope(g: &Graph, sid: usize, depth: usize, s: &mut String) {
    let ind = "  ".repeat(depth);
    let nested = g.scopes[sid].owner.is_some();
    for &n in &g.scopes[sid].nodes {
        let node = &g.nodes[n];
        if node.is_container() {
            compound(g, node, depth, s);
        } else {
            let _ = writeln!(s, "{ind}{} [{}];", node.id, node_attrs(node, nested));
        }
    }
}

fn node_attrs(node: &Node, nested: bool) -> String {
    match &node.kind {
        NodeKind::Start | NodeKind::End if nested => format!(
            "label=\"\", shape=circle, width=0.18, fixedsize=true, fillcolor=\"#475569\", color=\"#475569\", tooltip={}",
            quote(node.label())
        ),
        NodeKind::Start | NodeKind::End => format!(
            "label={}, shape=box, style=\"rounded,filled\", fillcolor=\"#1e293b\", color=\"#1e293b\", fontcolor=\"#ffffff\"",
            quote(node.label())
        ),
        NodeKind::State { name, state_type } => {
            let (fill, line) = colours(state_type);
            format!(
                "label={}, fillcolor=\"{fill}\", color=\"{line}\", class={}, tooltip={}",
                quote(&format!("{name}\n{state_type}")),
                quote(&format!("state state-{state_type}")),
                quote(&format!("{name} ({state_type})"))
            )
        }
    }
}

fn compound(g: &Graph, node: &Node, depth: usize, s: &mut String) {
    let ind = "  ".repeat(depth);
    let ty = node.state_type().unwrap_or("");
    let _ = writeln!(s, "{ind}subgraph \"cluster_{}\" {{", node.id);
    let _ = writeln!(
        s,
        "{ind}  label=\"\"; style=\"rounded,filled\"; fillcolor=\"#f8fafc\"; color=\"#475569\";"
    );
    let _ = writeln!(
        s,
        "{ind}  {} [{}];",
        node.id,
        node_attrs(node, false).replace("style=\"rounded,filled\"", "")
    );
    let _ = ty;
    for &c in &node.children {
        let sc = &g.scopes[c];
        let _ = writeln!(s, "{ind}  subgraph \"cluster_{}\" {{", sc.id);
        let _ = writeln!(
            s,
            "{ind}    label={}; style=\"rounded,dashed,filled\"; fillcolor=\"#ffffff\"; color=\"#64748b\"; fontcolor=\"#334155\";",
            quote(&sc.label)
        );
        scope(g, c, depth + 2, s);
        let _ = writeln!(s, "{ind}  }}");
        // Keeps the branches below the header.
        let _ = writeln!(
            s,
            "{ind}  {} -> {} [style=invis];",
            node.id, g.nodes[sc.start].id
        );
    }
    let _ = writeln!(s, "{ind}}}");
}

/// A DOT double-quoted string.
fn quote(t: &str) -> String {
    let mut o = String::with_capacity(t.len() + 2);
    o.push('"');
    for c in t.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            '\r' => {}
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dot_has_clusters_and_dashed_catch() {
        let g = Graph::from_definition(&json!({"StartAt": "P", "States": {
            "P": {"Type": "Parallel", "Next": "Done", "Catch": [
                {"ErrorEquals": ["States.ALL"], "Next": "Oops"}],
                "Branches": [{"StartAt": "A \"q\"", "States": {"A \"q\"": {"Type": "Pass", "End": true}}}]},
            "Done": {"Type": "Succeed"},
            "Oops": {"Type": "Fail"}}}))
        .unwrap();
        let d = to_dot(&g);
        assert!(d.contains("subgraph \"cluster_n1\""), "{d}");
        assert!(d.contains("label=\"Branch 1\""));
        assert!(d.contains("A \\\"q\\\"\\nPass"));
        assert!(d.contains("ltail=\"cluster_n1\""));
        assert!(d.contains("style=dashed"));
        assert!(d.contains("label=\"States.ALL\""));
    }
}
