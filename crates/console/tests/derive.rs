//! The execution page's reading of a history (`web/derive.js`), on real events from the
//! engine: Map iterations told apart by their thread, retries counted, a caught failure
//! orange, a failed iteration red. Runs derive.js under node; skipped without node.

mod common;

use common::{api, http, start_server};
use serde_json::{json, Value};
use std::process::Command;

const DEF: &str = r#"{
  "StartAt": "Flaky",
  "States": {
    "Flaky": {
      "Type": "Parallel",
      "Branches": [{"StartAt": "Nope", "States": {"Nope": {"Type": "Fail", "Error": "Oops"}}}],
      "Retry": [{"ErrorEquals": ["Oops"], "IntervalSeconds": 1, "MaxAttempts": 1}],
      "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": null, "Next": "Each"}],
      "End": true
    },
    "Each": {
      "Type": "Map",
      "ItemsPath": "$.items",
      "ItemProcessor": {
        "StartAt": "Check",
        "States": {
          "Check": {"Type": "Choice", "Choices": [{"Variable": "$", "NumericEquals": 2, "Next": "Bad"}], "Default": "Good"},
          "Bad": {"Type": "Fail", "Error": "BadItem", "Cause": "two"},
          "Good": {"Type": "Pass", "End": true}
        }
      },
      "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Handled"}],
      "End": true
    },
    "Handled": {"Type": "Pass", "End": true}
  }
}"#;

fn has_node() -> bool {
    Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn derive_js_reads_real_histories() {
    if !has_node() {
        eprintln!("SKIPPED: node is not installed");
        return;
    }
    let srv = start_server();
    let (s, v) = api(
        srv.addr,
        "CreateStateMachine",
        json!({"name": "mapper", "definition": DEF, "roleArn": "arn:aws:iam::123456789012:role/r"}),
    );
    assert_eq!(s, 200, "{v}");
    let (s, v) = api(
        srv.addr,
        "StartExecution",
        json!({"stateMachineArn": v["stateMachineArn"], "input": "{\"items\": [1, 2, 3]}"}),
    );
    assert_eq!(s, 200, "{v}");
    let arn = v["executionArn"]
        .as_str()
        .unwrap_or_default()
        .replace(':', "%3A");
    let (_, sse) = http(
        srv.addr,
        "GET",
        &format!("/console/api/stream?arn={arn}"),
        &[],
        "",
    );
    let events: Vec<Value> = sse
        .split("\n\n")
        .filter_map(|m| m.lines().find_map(|l| l.strip_prefix("data: ")))
        .filter_map(|d| serde_json::from_str::<Value>(d).ok())
        .flat_map(|m| m["events"].as_array().cloned().unwrap_or_default())
        .collect();
    assert!(
        events.iter().any(|e| e["type"] == "ExecutionSucceeded"),
        "{sse}"
    );

    let def: Value = serde_json::from_str(DEF).expect("def");
    let mut states = serde_json::Map::new();
    states.insert(
        "Nope".into(),
        def["States"]["Flaky"]["Branches"][0]["States"]["Nope"].clone(),
    );
    states.insert(
        "Bad".into(),
        def["States"]["Each"]["ItemProcessor"]["States"]["Bad"].clone(),
    );
    let dir = std::env::temp_dir().join(format!("stepwise-derive-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let file = dir.join("events.json");
    std::fs::write(
        &file,
        json!({"events": events, "states": states}).to_string(),
    )
    .expect("write");
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/browser/derive-check.mjs"
    );
    let out = Command::new("node")
        .arg(script)
        .arg(&file)
        .output()
        .expect("node");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");

    let st = &v["statuses"];
    assert_eq!(st["Flaky"], "CAUGHT", "retried then caught");
    assert_eq!(st["Nope"], "FAILED");
    assert_eq!(st["Each"], "CAUGHT");
    assert_eq!(st["Bad"], "FAILED");
    assert_eq!(st["Handled"], "SUCCEEDED");
    let flaky = v["runs"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["name"] == "Flaky"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(flaky["retries"], 1, "{flaky}");
    // Both attempts' branches failed: two runs of Nope in different threads.
    let nopes = v["runs"]
        .as_array()
        .map(|r| r.iter().filter(|r| r["name"] == "Nope").count());
    assert_eq!(nopes, Some(2));
    let bad = v["runs"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["name"] == "Bad"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(bad["error"], "BadItem");

    // Iteration 1 (the item 2) failed; picking iteration 0 shows its own path only.
    let its = v["iterations"].as_array().cloned().unwrap_or_default();
    assert!(
        its.iter()
            .any(|i| i["index"] == 1 && i["status"] == "FAILED"),
        "{its:?}"
    );
    let it0 = &v["byIteration"]["0"];
    assert_eq!(it0["Good"], "SUCCEEDED");
    assert!(it0["Bad"].is_null(), "iteration 0 never reached Bad: {it0}");
    let it1 = &v["byIteration"]["1"];
    assert_eq!(it1["Bad"], "FAILED");
    assert!(it1["Good"].is_null(), "{it1}");
}
