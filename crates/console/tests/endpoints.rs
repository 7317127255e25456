//! The console's HTTP side, mounted in front of an API as `stepwise serve` does it: pages and
//! assets, the definition/graph endpoint, and the live stream of an execution.

mod common;

use common::{api, http, start_server};
use serde_json::{json, Value};
use std::time::Instant;

const DEMO: &str = r#"{
  "Comment": "console demo",
  "StartAt": "Prepare",
  "States": {
    "Prepare": {"Type": "Pass", "Result": {"ok": true}, "ResultPath": "$.prep", "Next": "Risky"},
    "Risky": {
      "Type": "Parallel",
      "Branches": [{"StartAt": "Boom", "States": {"Boom": {"Type": "Fail", "Error": "Oops", "Cause": "it broke"}}}],
      "Catch": [{"ErrorEquals": ["Oops"], "ResultPath": "$.error", "Next": "Recover"}],
      "Next": "Done"
    },
    "Recover": {"Type": "Pass", "Next": "Done"},
    "Done": {"Type": "Succeed"}
  }
}"#;

fn create(addr: std::net::SocketAddr, name: &str, definition: &str) -> String {
    let (status, v) = api(
        addr,
        "CreateStateMachine",
        json!({"name": name, "definition": definition, "roleArn": "arn:aws:iam::123456789012:role/r"}),
    );
    assert_eq!(status, 200, "{v}");
    v["stateMachineArn"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn pages_assets_and_the_api_share_the_port() {
    let srv = start_server();
    let (status, body) = http(srv.addr, "GET", "/", &[], "");
    assert_eq!(status, 200);
    assert!(body.contains("/console/app.js"), "{body}");
    for asset in [
        "app.js",
        "api.js",
        "derive.js",
        "graph.js",
        "style.css",
        "views/execution.js",
    ] {
        let (status, body) = http(srv.addr, "GET", &format!("/console/{asset}"), &[], "");
        assert_eq!(status, 200, "{asset}");
        assert!(!body.is_empty());
    }
    let (status, _) = http(srv.addr, "GET", "/console/missing.js", &[], "");
    assert_eq!(status, 404);
    // The API still answers POST / and its own paths.
    let (status, v) = api(srv.addr, "ListStateMachines", json!({}));
    assert_eq!((status, v["stateMachines"].clone()), (200, json!([])));
    let (status, body) = http(srv.addr, "GET", "/healthz", &[], "");
    assert_eq!((status, body.as_str()), (200, "ok"));
}

#[test]
fn definition_endpoint_draws_the_graph_and_locates_diagnostics() {
    let srv = start_server();
    let arn = create(srv.addr, "demo", DEMO);
    let (status, body) = http(
        srv.addr,
        "GET",
        &format!("/console/api/definition?arn={}", enc(&arn)),
        &[],
        "",
    );
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(v["kind"], "stateMachine");
    assert_eq!(v["diagnostics"], json!([]));
    let svg = v["svg"].as_str().unwrap_or_default();
    for s in ["Prepare", "Risky", "Boom", "Recover", "Done"] {
        assert!(svg.contains(&format!(r#"data-state="{s}""#)), "{s}");
    }
    let edges = v["edges"].as_array().cloned().unwrap_or_default();
    assert!(edges
        .iter()
        .any(|e| e["from"] == "Risky" && e["to"] == "Recover" && e["kind"] == "Catch"));

    let (status, svg) = http(
        srv.addr,
        "GET",
        &format!("/console/api/graph.svg?arn={}", enc(&arn)),
        &[],
        "",
    );
    assert_eq!(status, 200);
    assert!(svg.starts_with("<svg"));

    let (status, body) = http(
        srv.addr,
        "GET",
        "/console/api/definition?arn=arn%3Anope",
        &[],
        "",
    );
    assert_eq!(status, 404, "{body}");
    let (status, _) = http(srv.addr, "GET", "/console/api/definition", &[], "");
    assert_eq!(status, 400);
}

/// The SSE messages of a finished stream.
fn updates(sse: &str) -> Vec<Value> {
    sse.split("\n\n")
        .filter(|m| m.contains("event: update"))
        .filter_map(|m| {
            let data: String = m
                .lines()
                .filter_map(|l| l.strip_prefix("data: ").or_else(|| l.strip_prefix("data:")))
                .collect::<Vec<_>>()
                .join("\n");
            serde_json::from_str(&data).ok()
        })
        .collect()
}

#[test]
fn the_stream_sends_every_event_with_its_thread_then_ends() {
    let srv = start_server();
    let arn = create(srv.addr, "demo", DEMO);
    let (status, v) = api(
        srv.addr,
        "StartExecution",
        json!({"stateMachineArn": arn, "name": "run1", "input": "{\"a\":1}"}),
    );
    assert_eq!(status, 200, "{v}");
    let exec = v["executionArn"].as_str().unwrap_or_default().to_string();
    let (status, sse) = http(
        srv.addr,
        "GET",
        &format!("/console/api/stream?arn={}", enc(&exec)),
        &[],
        "",
    );
    assert_eq!(status, 200);
    let msgs = updates(&sse);
    assert!(!msgs.is_empty(), "{sse}");
    let last = msgs.last().cloned().unwrap_or_default();
    assert_eq!(last["done"], true, "{sse}");
    let events: Vec<Value> = msgs
        .iter()
        .flat_map(|m| m["events"].as_array().cloned().unwrap_or_default())
        .collect();
    let ids: Vec<u64> = events.iter().filter_map(|e| e["id"].as_u64()).collect();
    assert_eq!(
        ids,
        (1..=ids.len() as u64).collect::<Vec<_>>(),
        "every event once, in order"
    );
    assert_eq!(
        events.last().map(|e| e["type"].clone()),
        Some(json!("ExecutionSucceeded"))
    );
    let boom = events
        .iter()
        .find(|e| e["type"] == "FailStateEntered")
        .cloned()
        .unwrap_or_default();
    assert_eq!(boom["stateEnteredEventDetails"]["name"], "Boom");
    assert!(
        boom["thread"].as_str().is_some_and(|t| t.starts_with('/')),
        "branch events carry their thread: {boom}"
    );
    let status_msgs: Vec<&Value> = msgs.iter().filter(|m| m["execution"].is_object()).collect();
    assert_eq!(
        status_msgs.last().map(|m| m["execution"]["status"].clone()),
        Some(json!("SUCCEEDED"))
    );

    // Resuming after the last event (what a reconnecting EventSource asks) sends only the end.
    let (_, sse) = http(
        srv.addr,
        "GET",
        &format!("/console/api/stream?arn={}", enc(&exec)),
        &[("Last-Event-ID", &ids.len().to_string())],
        "",
    );
    let msgs = updates(&sse);
    assert_eq!(msgs.len(), 1, "{sse}");
    assert_eq!(msgs[0]["events"], json!([]));
    assert_eq!(msgs[0]["done"], true);

    let (status, _) = http(
        srv.addr,
        "GET",
        "/console/api/stream?arn=arn%3Aaws%3Astates%3Aus-east-1%3A1%3Aexecution%3Ax%3Ay",
        &[],
        "",
    );
    assert_eq!(status, 404);
}

/// A chain of `n` states alternating Pass and Choice, as big machines tend to look.
pub fn big_definition(n: usize) -> String {
    let mut states = serde_json::Map::new();
    for i in 0..n {
        let next = format!("S{}", i + 1);
        let s = if i + 1 == n {
            json!({"Type": "Succeed"})
        } else if i % 5 == 4 {
            json!({"Type": "Choice", "Choices": [{"Variable": "$.x", "NumericGreaterThan": i, "Next": next}], "Default": next})
        } else {
            json!({"Type": "Pass", "Next": next})
        };
        states.insert(format!("S{i}"), s);
    }
    serde_json::to_string_pretty(&json!({"StartAt": "S0", "States": states})).unwrap_or_default()
}

#[test]
fn a_200_state_definition_is_drawn_quickly() {
    let srv = start_server();
    let arn = create(srv.addr, "big", &big_definition(200));
    let t = Instant::now();
    let (status, body) = http(
        srv.addr,
        "GET",
        &format!("/console/api/definition?arn={}", enc(&arn)),
        &[],
        "",
    );
    let took = t.elapsed();
    assert_eq!(status, 200);
    let v: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(v["states"].as_array().map(Vec::len), Some(200));
    // Debug build; release is several times faster. The page's budget is one second.
    assert!(took.as_millis() < 1000, "took {took:?}");
    eprintln!("200-state definition + layout + SVG: {took:?} (debug build)");
}
