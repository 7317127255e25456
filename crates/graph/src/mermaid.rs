//! Mermaid `flowchart TD`, for Markdown files and issues. Parallel/Map states become
//! subgraphs (edges may point at a subgraph id), with one nested subgraph per container.

use crate::dot::colours;
use crate::model::{EdgeKind, Graph, NodeKind};
use std::fmt::Write;

pub fn to_mermaid(g: &Graph) -> String {
    let mut s = String::from("flowchart TD\n");
    if !g.scopes.is_empty() {
        scope(g, 0, 1, &mut s);
    }
    for e in &g.edges {
        let arrow = if e.kind == EdgeKind::Catch {
            "-.->"
        } else {
            "-->"
        };
        let (a, b) = (&g.nodes[e.from].id, &g.nodes[e.to].id);
        match &e.label {
            Some(l) => {
                let _ = writeln!(s, "  {a} {arrow}|\"{}\"| {b}", text(l));
            }
            None => {
                let _ = writeln!(s, "  {a} {arrow} {b}");
            }
        }
    }
    // Styles: one class per state type present, in first-seen order.
    let mut types: Vec<&str> = Vec::new();
    for n in &g.nodes {
        if let Some(t) = n.state_type() {
            if !types.contains(&t) {
                types.push(t);
            }
        }
    }
    for t in &types {
        let (fill, line) = colours(t);
        let _ = writeln!(
            s,
            "  classDef {} fill:{fill},stroke:{line},color:#0f172a",
            class_name(t)
        );
        let ids: Vec<&str> = g
            .nodes
            .iter()
            .filter(|n| n.state_type() == Some(t) && !n.is_container())
            .map(|n| n.id.as_str())
            .collect();
        if !ids.is_empty() {
            let _ = writeln!(s, "  class {} {}", ids.join(","), class_name(t));
        }
    }
    s.push_str("  classDef terminal fill:#1e293b,stroke:#1e293b,color:#ffffff\n");
    let terms: Vec<&str> = g
        .nodes
        .iter()
        .filter(|n| !matches!(n.kind, NodeKind::State { .. }))
        .map(|n| n.id.as_str())
        .collect();
    if !terms.is_empty() {
        let _ = writeln!(s, "  class {} terminal", terms.join(","));
    }
    s
}

fn scope(g: &Graph, sid: usize, depth: usize, s: &mut String) {
    let ind = "  ".repeat(depth);
    let nested = g.scopes[sid].owner.is_some();
    for &n in &g.scopes[sid].nodes {
        let node = &g.nodes[n];
        match &node.kind {
            NodeKind::Start | NodeKind::End if nested => {
                let _ = writeln!(s, "{ind}{}((\" \"))", node.id);
            }
            NodeKind::Start | NodeKind::End => {
                let _ = writeln!(s, "{ind}{}([\"{}\"])", node.id, node.label());
            }
            NodeKind::State { name, state_type } if node.is_container() => {
                let _ = writeln!(
                    s,
                    "{ind}subgraph {}[\"{} ({})\"]",
                    node.id,
                    text(name),
                    text(state_type)
                );
                let _ = writeln!(s, "{ind}  direction TB");
                for &c in &node.children {
                    let sc = &g.scopes[c];
                    let _ = writeln!(s, "{ind}  subgraph {}[\"{}\"]", sc.id, text(&sc.label));
                    let _ = writeln!(s, "{ind}    direction TB");
                    scope(g, c, depth + 2, s);
                    let _ = writeln!(s, "{ind}  end");
                }
                let _ = writeln!(s, "{ind}end");
            }
            NodeKind::State { name, state_type } => {
                let _ = writeln!(
                    s,
                    "{ind}{}[\"{}<br/><small>{}</small>\"]",
                    node.id,
                    text(name),
                    text(state_type)
                );
            }
        }
    }
}

fn class_name(t: &str) -> String {
    let c: String = t.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    format!("state{c}")
}

/// Text inside a quoted Mermaid label: quotes and markup characters as Mermaid entity codes.
fn text(t: &str) -> String {
    let mut o = String::with_capacity(t.len());
    for c in t.chars() {
        match c {
            '"' => o.push_str("#quot;"),
            '<' => o.push_str("#lt;"),
            '>' => o.push_str("#gt;"),
            '&' => o.push_str("#amp;"),
            '#' => o.push_str("#35;"),
            '|' => o.push_str("#124;"),
            '\n' | '\r' => o.push(' '),
            c => o.push(c),
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn mermaid_subgraphs_and_labels() {
        let g = Graph::from_definition(&json!({"StartAt": "M", "States": {
            "M": {"Type": "Map", "Next": "C", "ItemProcessor": {
                "StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}}},
            "C": {"Type": "Choice", "Choices": [
                {"Variable": "$.x", "StringEquals": "a|b", "Next": "D"}], "Default": "D"},
            "D": {"Type": "Succeed"}}}))
        .unwrap();
        let m = to_mermaid(&g);
        assert!(m.starts_with("flowchart TD\n"));
        assert!(m.contains("subgraph n1[\"M (Map)\"]"), "{m}");
        assert!(m.contains("subgraph s1[\"Item processor\"]"));
        assert!(m.contains("|\"$.x == #quot;a#124;b#quot;\"|"), "{m}");
        assert!(m.contains("n1 --> n2"));
    }
}
