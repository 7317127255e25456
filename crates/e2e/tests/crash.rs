//! Crash test: 1,000 Standard executions (some in Waits of 1–3 s, some in the middle of a Map),
//! `kill -9` of the server, restart on the same data directory: every execution finishes with
//! the right output, and every history has gap-free ids and exactly one terminal event.

mod common;

use aws_sdk_sfn::config::{Credentials, Region};
use aws_sdk_sfn::types::ExecutionStatus;
use aws_sdk_sfn::Client;
use futures::stream::{self, StreamExt};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const ROLE: &str = "arn:aws:iam::123456789012:role/stepwise-e2e";

fn client(endpoint: &str) -> Client {
    let conf = aws_sdk_sfn::Config::builder()
        .behavior_version_latest()
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "static"))
        .build();
    Client::from_conf(conf)
}

async fn create(sfn: &Client, name: &str, def: Value) -> String {
    sfn.create_state_machine()
        .name(name)
        .definition(def.to_string())
        .role_arn(ROLE)
        .send()
        .await
        .expect("CreateStateMachine")
        .state_machine_arn()
        .to_string()
}

/// What each execution must end with, from its input.
fn expected_output(kind: usize, i: usize) -> Value {
    if kind == 0 {
        json!({"i": i, "w": 1 + i % 3, "sum": i + 1000})
    } else {
        json!({"i": i, "items": [i, i + 1, i + 2], "doubled": [[i, i], [i + 1, i + 1], [i + 2, i + 2]]})
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn executions_survive_kill_9() {
    let dir = common::temp_dir("crash");
    let Some(server) = common::Server::start(dir.clone()) else {
        eprintln!("SKIPPED: the stepwise binary is not built (cargo build -p stepwise-cli)");
        return;
    };
    let sfn = client(&server.endpoint());
    let waiter = create(&sfn, "crash-waiter", json!({"StartAt": "W", "States": {
        "W": {"Type": "Wait", "SecondsPath": "$.w", "Next": "Sum"},
        "Sum": {"Type": "Pass", "Parameters": {"i.$": "$.i", "w.$": "$.w", "sum.$": "States.MathAdd($.i, 1000)"}, "End": true}}})).await;
    let mapper = create(&sfn, "crash-mapper", json!({"StartAt": "M", "States": {
        "M": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 2, "ResultPath": "$.doubled",
              "ItemProcessor": {"StartAt": "Nap", "States": {
                  "Nap": {"Type": "Wait", "Seconds": 1, "Next": "Twice"},
                  "Twice": {"Type": "Pass", "Parameters": {"pair.$": "States.Array($, $)"}, "OutputPath": "$.pair", "End": true}}},
              "End": true}}})).await;

    let total = 1000;
    let started: Vec<(usize, usize, String)> = stream::iter(0..total)
        .map(|n| {
            let sfn = sfn.clone();
            let (waiter, mapper) = (waiter.clone(), mapper.clone());
            async move {
                let (kind, i) = (n % 2, n);
                let (arn, input) = if kind == 0 {
                    (waiter, json!({"i": i, "w": 1 + i % 3}))
                } else {
                    (mapper, json!({"i": i, "items": [i, i + 1, i + 2]}))
                };
                let out = sfn
                    .start_execution()
                    .state_machine_arn(arn)
                    .name(format!("x{n}"))
                    .input(input.to_string())
                    .send()
                    .await
                    .expect("StartExecution");
                (kind, i, out.execution_arn().to_string())
            }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    assert_eq!(started.len(), total);

    // Crash while executions wait and map.
    let dir = server.kill();
    let server = common::Server::start(dir).expect("restart");
    let sfn = client(&server.endpoint());

    let deadline = Instant::now() + Duration::from_secs(120);
    let checked: Vec<()> = stream::iter(started)
        .map(|(kind, i, arn)| {
            let sfn = sfn.clone();
            async move {
                let d = loop {
                    let d = sfn
                        .describe_execution()
                        .execution_arn(&arn)
                        .send()
                        .await
                        .expect("DescribeExecution");
                    if d.status() != &ExecutionStatus::Running {
                        break d;
                    }
                    assert!(
                        Instant::now() < deadline,
                        "{arn} never finished after the restart"
                    );
                    tokio::time::sleep(Duration::from_millis(200)).await;
                };
                assert_eq!(
                    d.status(),
                    &ExecutionStatus::Succeeded,
                    "{arn}: {:?} {:?}",
                    d.error(),
                    d.cause()
                );
                let out: Value =
                    serde_json::from_str(d.output().unwrap_or("null")).expect("output JSON");
                assert_eq!(out, expected_output(kind, i), "{arn}");
                let mut ids = Vec::new();
                let mut kinds = Vec::new();
                let mut token = None;
                loop {
                    let page = sfn
                        .get_execution_history()
                        .execution_arn(&arn)
                        .max_results(1000)
                        .set_next_token(token)
                        .send()
                        .await
                        .expect("GetExecutionHistory");
                    for e in page.events() {
                        ids.push(e.id());
                        kinds.push(e.r#type().as_str().to_string());
                    }
                    token = page.next_token().map(str::to_string);
                    if token.is_none() {
                        break;
                    }
                }
                let expected_ids: Vec<i64> = (1..=ids.len() as i64).collect();
                assert_eq!(ids, expected_ids, "{arn}: gap-free ids");
                let terminal = kinds
                    .iter()
                    .filter(|k| k.starts_with("Execution") && *k != "ExecutionStarted")
                    .count();
                assert_eq!(terminal, 1, "{arn}: one terminal event in {kinds:?}");
                assert_eq!(
                    kinds.iter().filter(|k| *k == "ExecutionStarted").count(),
                    1,
                    "{arn}"
                );
            }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    assert_eq!(checked.len(), total);
    server.terminate();
}
