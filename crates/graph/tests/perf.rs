//! A generated 200-state machine (chains, Choices with loops, Catches, Parallel and Map
//! containers) lays out and renders quickly.

mod common;

use serde_json::{json, Map, Value};
use stepwise_asl::validate::{validate_value, ValidateOptions};
use stepwise_graph::{layout, svg, Graph};

/// `groups` blocks of 10 states. Each block: a Task with a Catch, a Choice looping back or
/// going on, Pass/Wait fillers, every third block a Parallel (2 branches × 2 states) and
/// every fifth a Map (2 states).
fn generate(groups: usize) -> Value {
    let mut states = Map::new();
    let name = |g: usize, i: usize| format!("G{g:02}_S{i}");
    let last = groups - 1;
    for g in 0..groups {
        let next_block = if g == last {
            "Done".to_string()
        } else {
            name(g + 1, 0)
        };
        states.insert(
            name(g, 0),
            json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                   "Parameters": {"FunctionName": "f"}, "Next": name(g, 1),
                   "Catch": [{"ErrorEquals": ["States.ALL"], "Next": name(g, 9)}]}),
        );
        states.insert(
            name(g, 1),
            json!({"Type": "Choice", "Choices": [
                {"Variable": "$.n", "NumericGreaterThan": g, "Next": name(g, 2)},
                {"Variable": "$.retry", "BooleanEquals": true, "Next": name(g, 0)}
            ], "Default": name(g, 5)}),
        );
        let container = if g % 3 == 0 {
            json!({"Type": "Parallel", "Next": name(g, 3), "Branches": [
                {"StartAt": format!("{}_a1", name(g, 2)), "States": {
                    format!("{}_a1", name(g, 2)): {"Type": "Pass", "Next": format!("{}_a2", name(g, 2))},
                    format!("{}_a2", name(g, 2)): {"Type": "Pass", "End": true}}},
                {"StartAt": format!("{}_b1", name(g, 2)), "States": {
                    format!("{}_b1", name(g, 2)): {"Type": "Pass", "Next": format!("{}_b2", name(g, 2))},
                    format!("{}_b2", name(g, 2)): {"Type": "Succeed"}}}]})
        } else if g % 5 == 0 {
            json!({"Type": "Map", "Next": name(g, 3), "ItemProcessor": {
                "ProcessorConfig": {"Mode": "INLINE"},
                "StartAt": format!("{}_m1", name(g, 2)), "States": {
                    format!("{}_m1", name(g, 2)): {"Type": "Pass", "Next": format!("{}_m2", name(g, 2))},
                    format!("{}_m2", name(g, 2)): {"Type": "Pass", "End": true}}}})
        } else {
            json!({"Type": "Pass", "Next": name(g, 3)})
        };
        states.insert(name(g, 2), container);
        states.insert(
            name(g, 3),
            json!({"Type": "Wait", "Seconds": 1, "Next": name(g, 4)}),
        );
        states.insert(name(g, 4), json!({"Type": "Pass", "Next": name(g, 6)}));
        states.insert(name(g, 5), json!({"Type": "Pass", "Next": name(g, 6)}));
        states.insert(name(g, 6), json!({"Type": "Pass", "Next": name(g, 7)}));
        states.insert(
            name(g, 7),
            json!({"Type": "Choice", "Choices": [
                {"Variable": "$.again", "IsPresent": true, "Next": name(g, 3)}
            ], "Default": name(g, 8)}),
        );
        states.insert(name(g, 8), json!({"Type": "Pass", "Next": next_block}));
        states.insert(
            name(g, 9),
            json!({"Type": "Fail", "Error": "E", "Cause": "c"}),
        );
    }
    states.insert("Done".into(), json!({"Type": "Succeed"}));
    json!({"Comment": "generated", "StartAt": name(0, 0), "States": states})
}

#[test]
fn two_hundred_states_in_well_under_a_second() {
    let def = generate(20);
    assert!(
        validate_value(&def, &ValidateOptions::default()).is_empty(),
        "generated definition valid"
    );
    let t = std::time::Instant::now();
    let g = Graph::from_definition(&def).expect("graph");
    let l = layout(&g);
    let s = svg::to_svg_with(&g, &l);
    let elapsed = t.elapsed();
    let n = common::state_count(&g);
    println!(
        "generated machine: {n} states, {} edges, {} back edges: layout + SVG in {:.1} ms ({} bytes)",
        g.edges.len(),
        l.edges.iter().filter(|e| e.back).count(),
        elapsed.as_secs_f64() * 1000.0,
        s.len()
    );
    assert!(n >= 200, "{n} states");
    assert!(elapsed.as_secs_f64() < 5.0, "too slow: {elapsed:?}");
    common::check_geometry(&g, &l).expect("geometry");
    common::check_xml(&s).expect("well-formed SVG");
    let out =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/graph-samples");
    if std::fs::create_dir_all(&out).is_ok() {
        let _ = std::fs::write(out.join("generated-200.svg"), &s);
    }
}
