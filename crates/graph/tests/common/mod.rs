//! Shared test helpers: an XML well-formedness check and geometry invariants.

#![allow(dead_code)]

use stepwise_graph::{Graph, Layout, NodeKind};

/// Checks that `s` is well-formed XML (one root, balanced tags, quoted attributes, valid
/// entity references, no stray `<`/`&`). Enough for SVG we produce; no DTDs or CDATA.
pub fn check_xml(s: &str) -> Result<(), String> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut stack: Vec<String> = Vec::new();
    let mut roots = 0;
    let text_ok = |t: &str, at: usize| -> Result<(), String> {
        let mut rest = t;
        while let Some(p) = rest.find('&') {
            let after = &rest[p + 1..];
            let end = after.find(';').ok_or(format!("bare & at {at}"))?;
            let ent = &after[..end];
            let ok = matches!(ent, "amp" | "lt" | "gt" | "quot" | "apos")
                || (ent.starts_with("#x")
                    && ent.len() > 2
                    && ent[2..].chars().all(|c| c.is_ascii_hexdigit()))
                || (ent.starts_with('#')
                    && ent.len() > 1
                    && ent[1..].chars().all(|c| c.is_ascii_digit()));
            if !ok {
                return Err(format!("bad entity &{ent}; at {at}"));
            }
            rest = &after[end + 1..];
        }
        if t.contains('<') {
            return Err(format!("raw < at {at}"));
        }
        Ok(())
    };
    while i < b.len() {
        if b[i] == b'<' {
            let close = s[i..].find('>').ok_or(format!("unclosed tag at {i}"))? + i;
            let tag = &s[i + 1..close];
            if let Some(name) = tag.strip_prefix('/') {
                let open = stack.pop().ok_or(format!("close without open at {i}"))?;
                if open != name.trim() {
                    return Err(format!("</{name}> closes <{open}> at {i}"));
                }
            } else if tag.starts_with('?') || tag.starts_with('!') {
                // declaration or comment: not produced by us, tolerated
            } else {
                let self_closing = tag.ends_with('/');
                let body = tag.trim_end_matches('/');
                let name_end = body.find(char::is_whitespace).unwrap_or(body.len());
                let name = &body[..name_end];
                if name.is_empty()
                    || !name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == ':' || c == '_')
                {
                    return Err(format!("bad tag name {name:?} at {i}"));
                }
                // Attributes: name="value" pairs, distinct names.
                let mut rest = body[name_end..].trim_start();
                let mut seen: Vec<&str> = Vec::new();
                while !rest.is_empty() {
                    let eq = rest
                        .find('=')
                        .ok_or(format!("attribute without value at {i}"))?;
                    let an = rest[..eq].trim();
                    if an.is_empty() || an.contains(char::is_whitespace) {
                        return Err(format!("bad attribute name {an:?} at {i}"));
                    }
                    if seen.contains(&an) {
                        return Err(format!("duplicate attribute {an} at {i}"));
                    }
                    seen.push(an);
                    let after = rest[eq + 1..].trim_start();
                    let q = after.chars().next().ok_or("missing quote")?;
                    if q != '"' && q != '\'' {
                        return Err(format!("unquoted attribute {an} at {i}"));
                    }
                    let vend = after[1..]
                        .find(q)
                        .ok_or(format!("unterminated attribute at {i}"))?;
                    text_ok(&after[1..1 + vend], i)?;
                    rest = after[vend + 2..].trim_start();
                }
                if stack.is_empty() {
                    roots += 1;
                }
                if !self_closing {
                    stack.push(name.to_string());
                }
            }
            i = close + 1;
        } else {
            let next = s[i..].find('<').map(|p| p + i).unwrap_or(b.len());
            let t = &s[i..next];
            if stack.is_empty() && !t.trim().is_empty() {
                return Err(format!("text outside the root at {i}"));
            }
            text_ok(t, i)?;
            i = next;
        }
    }
    if !stack.is_empty() {
        return Err(format!("unclosed elements {stack:?}"));
    }
    if roots != 1 {
        return Err(format!("{roots} root elements"));
    }
    Ok(())
}

/// Geometry invariants: no overlapping boxes within a scope, every node and label inside its
/// container, sibling containers disjoint and inside their owner, routes inside their scope.
pub fn check_geometry(g: &Graph, l: &Layout) -> Result<(), String> {
    let whole = stepwise_graph::Rect {
        x: 0.0,
        y: 0.0,
        w: l.width,
        h: l.height,
    };
    for (sid, sc) in g.scopes.iter().enumerate() {
        let frame = l.containers[sid];
        if !whole.contains(&frame) {
            return Err(format!("container {} outside the drawing", sc.id));
        }
        let mut boxes: Vec<(String, stepwise_graph::Rect)> = Vec::new();
        for &n in &sc.nodes {
            boxes.push((g.nodes[n].label().to_string(), l.nodes[n].rect));
        }
        for (e, edge) in g.edges.iter().enumerate() {
            if edge.scope != sid {
                continue;
            }
            if let Some(lb) = &l.edges[e].label {
                boxes.push((format!("label {:?}", lb.text), lb.rect));
            }
            for p in &l.edges[e].points {
                let eps = 1e-6;
                if p.x < frame.x - eps
                    || p.x > frame.right() + eps
                    || p.y < frame.y - eps
                    || p.y > frame.bottom() + eps
                {
                    return Err(format!("edge {e} point {p:?} outside scope {}", sc.id));
                }
            }
        }
        for (i, (na, a)) in boxes.iter().enumerate() {
            if !frame.contains(a) {
                return Err(format!(
                    "{na} {a:?} outside its container {} {frame:?}",
                    sc.id
                ));
            }
            for (nb, b) in &boxes[i + 1..] {
                if a.overlaps(b) {
                    return Err(format!("{na} {a:?} overlaps {nb} {b:?}"));
                }
            }
        }
    }
    for (i, node) in g.nodes.iter().enumerate() {
        let r = l.nodes[i].rect;
        if r.w <= 0.0 || r.h <= 0.0 {
            return Err(format!("node {} has no size", node.label()));
        }
        for (k, &c) in node.children.iter().enumerate() {
            let cr = l.containers[c];
            if !r.contains(&cr) {
                return Err(format!(
                    "container {} outside {}",
                    g.scopes[c].id,
                    node.label()
                ));
            }
            for &d in &node.children[k + 1..] {
                if cr.overlaps(&l.containers[d]) {
                    return Err(format!(
                        "containers {} and {} overlap",
                        g.scopes[c].id, g.scopes[d].id
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Number of states (Start/End excluded).
pub fn state_count(g: &Graph) -> usize {
    g.nodes
        .iter()
        .filter(|n| matches!(n.kind, NodeKind::State { .. }))
        .count()
}
