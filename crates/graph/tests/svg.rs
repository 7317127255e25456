//! SVG output: well-formed with hostile names, accessible, styled hooks present.

mod common;

use serde_json::json;
use stepwise_graph::{layout, render, svg, Format, Graph};

#[test]
fn hostile_names_stay_well_formed_and_labelled() {
    let evil = "<script>alert('x')</script> & \"q\"";
    let def = json!({"Comment": "a < b & c", "StartAt": evil, "States": {
        evil: {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
               "Parameters": {"FunctionName": "f"}, "Next": "Route",
               "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Oops"}]},
        "Route": {"Type": "Choice", "Choices": [
            {"Variable": "$.s", "StringEquals": "<&>", "Next": "Oops"}], "Default": "Loop"},
        "Loop": {"Type": "Map", "Next": "Route", "ItemProcessor": {
            "StartAt": "Again", "States": {
                "Again": {"Type": "Choice", "Choices": [
                    {"Variable": "$.more", "BooleanEquals": true, "Next": "Again"}],
                    "Default": "Out"},
                "Out": {"Type": "Succeed"}}}},
        "Oops": {"Type": "Fail"}}});
    let g = Graph::from_definition(&def).expect("graph");
    let l = layout(&g);
    common::check_geometry(&g, &l).expect("geometry");
    // A loop at the top level (Loop -> Route) and a self-loop inside the Map.
    assert_eq!(l.edges.iter().filter(|e| e.back).count(), 2);
    let s = svg::to_svg_with(&g, &l);
    common::check_xml(&s).expect("well-formed");
    assert!(!s.contains("<script"));
    assert!(s.contains(
        r#"data-state="&lt;script&gt;alert(&apos;x&apos;)&lt;/script&gt; &amp; &quot;q&quot;""#
    ));
    for class in [
        "state-Task",
        "state-Choice",
        "state-Map",
        "state-Succeed",
        "state-Fail",
    ] {
        assert!(s.contains(class), "{class}");
    }
    for class in ["edge-next", "edge-choice", "edge-default", "edge-catch"] {
        assert!(s.contains(&format!("class=\"edge {class}")), "{class}");
    }
    assert!(s.contains(r#"aria-label="Choice state Route""#));
    assert!(s.contains("<title>Route (Choice)</title>"));
    assert!(s.contains(r#"aria-label="Item processor of Loop""#));
    // Same input, same bytes.
    assert_eq!(s, render(&g, Format::Svg));
}
