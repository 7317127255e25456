//! Every execution definition of the conformance corpus: laid out without overlaps, every
//! ASL transition drawn exactly once, and the SVG well-formed. Also writes a few samples to
//! `target/graph-samples/` for review.

mod common;

use serde_json::Value;
use std::path::PathBuf;
use stepwise_asl::validate::{validate_value, MachineType, ValidateOptions};
use stepwise_graph::{dot, layout, mermaid, svg, EdgeKind, Graph};

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/localstack/cases")
}

/// (from, to, kind) for every transition, read straight from the JSON (independently of the
/// graph builder). `to` is "<End>" for End/Succeed/Fail.
fn transitions(def: &Value, out: &mut Vec<(String, String, &'static str)>) {
    let Some(states) = def.get("States").and_then(Value::as_object) else {
        return;
    };
    if let Some(s) = def.get("StartAt").and_then(Value::as_str) {
        out.push(("<Start>".into(), s.into(), "start"));
    }
    for (name, st) in states {
        let ty = st.get("Type").and_then(Value::as_str).unwrap_or("");
        let mut push = |to: &str, kind| out.push((name.clone(), to.to_string(), kind));
        if ty == "Choice" {
            for r in st
                .get("Choices")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(n) = r.get("Next").and_then(Value::as_str) {
                    push(n, "choice");
                }
            }
            if let Some(n) = st.get("Default").and_then(Value::as_str) {
                push(n, "default");
            }
        } else if let Some(n) = st.get("Next").and_then(Value::as_str) {
            push(n, "next");
        }
        for c in st
            .get("Catch")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(n) = c.get("Next").and_then(Value::as_str) {
                push(n, "catch");
            }
        }
        if st.get("End") == Some(&Value::Bool(true)) || ty == "Succeed" || ty == "Fail" {
            push("<End>", "end");
        }
        for b in st
            .get("Branches")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            transitions(b, out);
        }
        if let Some(p) = st.get("ItemProcessor").or_else(|| st.get("Iterator")) {
            transitions(p, out);
        }
    }
}

fn graph_transitions(g: &Graph) -> Vec<(String, String, &'static str)> {
    g.edges
        .iter()
        .map(|e| {
            let name = |i: usize| match g.nodes[i].state_name() {
                Some(n) => n.to_string(),
                None => format!("<{}>", g.nodes[i].label()),
            };
            let kind = match e.kind {
                EdgeKind::Start => "start",
                EdgeKind::Next => "next",
                EdgeKind::Choice => "choice",
                EdgeKind::Default => "default",
                EdgeKind::Catch => "catch",
                EdgeKind::End => "end",
            };
            (name(e.from), name(e.to), kind)
        })
        .collect()
}

fn depth(g: &Graph, scope: usize) -> usize {
    match g.scopes[scope].owner {
        Some(o) => 1 + depth(g, g.nodes[o].scope),
        None => 0,
    }
}

#[test]
fn every_corpus_definition_lays_out_cleanly() {
    let dir = corpus_dir();
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("SKIPPED: conformance corpus not found at {}", dir.display());
        return;
    };
    let mut files: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    files.sort();
    let (mut laid, mut invalid, mut failures) = (0usize, 0usize, Vec::new());
    let (mut states, mut edges, mut back_edges) = (0usize, 0usize, 0usize);
    // Sample candidates: (score, id, graph) for the deepest nesting, most loops, most catches.
    let mut best: [(usize, String, Option<Graph>); 3] = Default::default();
    let started = std::time::Instant::now();
    for f in &files {
        let Ok(text) = std::fs::read_to_string(f) else {
            continue;
        };
        let Ok(case) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        let kind = case.get("kind").and_then(Value::as_str).unwrap_or("");
        if kind != "execution" && kind != "express_sync" {
            continue;
        }
        let Some(def) = case.get("definition").filter(|d| d.is_object()) else {
            continue;
        };
        let id = case
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_string();
        let express = case.get("state_machine_type").and_then(Value::as_str) == Some("EXPRESS");
        let opts = ValidateOptions {
            machine_type: if express {
                MachineType::Express
            } else {
                MachineType::Standard
            },
        };
        if !validate_value(def, &opts).is_empty() {
            invalid += 1;
            continue;
        }
        let g = match Graph::from_definition(def) {
            Ok(g) => g,
            Err(e) => {
                failures.push(format!("{id}: {e}"));
                continue;
            }
        };
        let l = layout(&g);
        if let Err(e) = common::check_geometry(&g, &l) {
            failures.push(format!("{id}: {e}"));
        }
        let mut want = Vec::new();
        transitions(def, &mut want);
        let mut got = graph_transitions(&g);
        want.sort();
        got.sort();
        if want != got {
            failures.push(format!(
                "{id}: transitions differ\n  want {want:?}\n  got  {got:?}"
            ));
        }
        let s = svg::to_svg_with(&g, &l);
        if let Err(e) = common::check_xml(&s) {
            failures.push(format!("{id}: SVG not well-formed: {e}"));
        }
        let n_states = common::state_count(&g);
        if s.matches("data-state=\"").count() != n_states {
            failures.push(format!("{id}: not every state has data-state"));
        }
        let d = dot::to_dot(&g);
        let m = mermaid::to_mermaid(&g);
        if !d.starts_with("digraph") || !m.starts_with("flowchart TD") {
            failures.push(format!("{id}: bad DOT/Mermaid header"));
        }
        laid += 1;
        states += n_states;
        edges += g.edges.len();
        let backs = l.edges.iter().filter(|e| e.back).count();
        back_edges += backs;
        let nest = g
            .scopes
            .iter()
            .enumerate()
            .map(|(i, _)| depth(&g, i))
            .max()
            .unwrap_or(0)
            * 100
            + g.scopes.len();
        let catches = g.edges.iter().filter(|e| e.kind == EdgeKind::Catch).count() * 10
            + g.edges
                .iter()
                .filter(|e| e.kind == EdgeKind::Choice)
                .count();
        let loops = backs * 100
            + g.edges
                .iter()
                .filter(|e| e.kind == EdgeKind::Choice)
                .count();
        for (k, score) in [nest, loops, catches].into_iter().enumerate() {
            if score > best[k].0 {
                best[k] = (score, id.clone(), Some(g.clone()));
            }
        }
    }
    let elapsed = started.elapsed();
    println!(
        "corpus: {laid} definitions laid out ({invalid} skipped as invalid), {states} states, \
         {edges} edges, {back_edges} back edges, {:.0} ms in all",
        elapsed.as_secs_f64() * 1000.0
    );
    let samples = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/graph-samples");
    if std::fs::create_dir_all(&samples).is_ok() {
        for (tag, (_, id, g)) in ["nested", "loops", "catch"].iter().zip(&best) {
            if let Some(g) = g {
                let base = samples.join(format!("{tag}--{id}"));
                let _ = std::fs::write(base.with_extension("svg"), svg::to_svg(g));
                let _ = std::fs::write(base.with_extension("dot"), dot::to_dot(g));
                let _ = std::fs::write(base.with_extension("mmd"), mermaid::to_mermaid(g));
                println!("sample: {}", base.with_extension("svg").display());
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(laid > 0, "no definitions laid out");
}
