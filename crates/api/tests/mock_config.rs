//! `stepwise serve --mock-config FILE` end to end: StartExecution with Step Functions Local's
//! `stateMachineArn#TestCaseName` runs the test case's mocked responses
//! (examples/integrations/order-processing.mock-config.json over
//! examples/order-processing.asl.json); an unknown test case is refused.
//!
//! Skips with a message when the binary is not built (`cargo build -p stepwise-cli`;
//! STEPWISE_BIN overrides its path).

mod common;

use common::{binary, call, finished, free_port, ok, start_server};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

#[test]
fn test_cases_answer_from_the_mock_config() {
    let Some(bin) = binary() else {
        eprintln!("SKIP: the stepwise binary is not built (cargo build -p stepwise-cli)");
        return;
    };
    let ex = examples();
    let port = free_port();
    let mocks = ex.join("integrations/order-processing.mock-config.json");
    let _server = start_server(
        &bin,
        port,
        &[
            Path::new("--data-dir"),
            Path::new(":memory:"),
            Path::new("--mock-config"),
            &mocks,
        ],
    );
    let definition =
        std::fs::read_to_string(ex.join("order-processing.asl.json")).expect("definition");
    let input = std::fs::read_to_string(ex.join("order-processing.input.json")).expect("input");
    let sm = ok(
        port,
        "CreateStateMachine",
        json!({"name": "order-processing", "definition": definition,
            "roleArn": "arn:aws:iam::123456789012:role/r"}),
    );
    let sm = sm["stateMachineArn"].as_str().expect("arn").to_string();

    // HappyPath: every task mocked, the reservation retried once.
    let started = ok(
        port,
        "StartExecution",
        json!({"stateMachineArn": format!("{sm}#HappyPath"), "name": "happy", "input": input}),
    );
    let arn = started["executionArn"].as_str().expect("arn").to_string();
    assert!(arn.ends_with(":execution:order-processing:happy"), "{arn}");
    let d = finished(port, &arn, 30);
    assert_eq!(d["status"], "SUCCEEDED", "{d}");
    assert_eq!(d["stateMachineArn"], sm.as_str());
    let output: Value = serde_json::from_str(d["output"].as_str().expect("output")).expect("json");
    assert_eq!(
        output,
        json!({"orderId": "ord-1001", "status": "COMPLETE", "paymentId": "pay-9001",
            "shipments": [{"trackingNumber": "TRK-1"}, {"trackingNumber": "TRK-2"},
                {"trackingNumber": "TRK-n"}],
            "receiptSent": true})
    );

    // A second execution of the same test case starts its own response sequences.
    let again = ok(
        port,
        "StartExecution",
        json!({"stateMachineArn": format!("{sm}#HappyPath"), "input": input}),
    );
    let d = finished(port, again["executionArn"].as_str().expect("arn"), 30);
    assert_eq!(d["status"], "SUCCEEDED", "{d}");
    assert_eq!(
        serde_json::from_str::<Value>(d["output"].as_str().expect("output")).expect("json"),
        output
    );

    // ReceiptThrottled: the receipt's failure is caught.
    let t = ok(
        port,
        "StartExecution",
        json!({"stateMachineArn": format!("{sm}#ReceiptThrottled"), "input": input}),
    );
    let t = t["executionArn"].as_str().expect("arn");
    let d = finished(port, t, 30);
    assert_eq!(d["status"], "SUCCEEDED", "{d}");
    let h = ok(port, "GetExecutionHistory", json!({"executionArn": t}));
    let failed: Vec<&Value> = h["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["type"] == "TaskFailed")
        .map(|e| &e["taskFailedEventDetails"])
        .collect();
    assert!(
        failed
            .iter()
            .any(|f| f["error"] == "SNS.ThrottledException" && f["cause"] == "Rate exceeded"),
        "{failed:?}"
    );

    // Without a test case nothing is mocked: the Lambda call names what is missing.
    let plain = ok(
        port,
        "StartExecution",
        json!({"stateMachineArn": sm, "input": input}),
    );
    let d = finished(port, plain["executionArn"].as_str().expect("arn"), 30);
    assert_eq!(d["status"], "FAILED", "{d}");
    assert!(
        d["cause"]
            .as_str()
            .unwrap_or("")
            .contains("--lambda-config"),
        "{d}"
    );

    // An unknown test case is refused before an execution exists.
    let (status, err) = call(
        port,
        "StartExecution",
        &json!({"stateMachineArn": format!("{sm}#NoSuchCase"), "name": "nope", "input": input}),
    )
    .expect("answers");
    assert_eq!(status, 400, "{err}");
    assert_eq!(err["__type"], "ValidationException", "{err}");
    let message = err["message"].as_str().unwrap_or_default();
    assert!(message.contains("NoSuchCase"), "{err}");
    let (status, _) = call(
        port,
        "DescribeExecution",
        &json!({"executionArn": arn.replace(":happy", ":nope")}),
    )
    .expect("answers");
    assert_eq!(status, 400);
}

/// Mock response sequences count the calls an execution made, also across a `kill -9`: the
/// resumed execution's replayed first call counts, so its retry gets the second response.
#[test]
fn mock_sequences_survive_a_restart() {
    let Some(bin) = binary() else {
        eprintln!("SKIP: the stepwise binary is not built (cargo build -p stepwise-cli)");
        return;
    };
    let dir = common::data_dir("mock-restart");
    let mocks = dir.join("mocks.json");
    std::fs::write(
        &mocks,
        json!({
            "StateMachines": {"Flaky": {"TestCases": {"FailThenPass": {"Send": "FailOnce"}}}},
            "MockedResponses": {"FailOnce": {
                "0": {"Throw": {"Error": "Queue.Busy", "Cause": "try again"}},
                "1": {"Return": {"MessageId": "m-2"}}
            }}
        })
        .to_string(),
    )
    .expect("mock config");
    let args = [
        dir.join("db").into_os_string(),
        mocks.clone().into_os_string(),
    ];
    let serve_args = |a: &[std::ffi::OsString; 2]| {
        vec![
            std::ffi::OsString::from("--data-dir"),
            a[0].clone(),
            std::ffi::OsString::from("--mock-config"),
            a[1].clone(),
        ]
    };
    let port = free_port();
    let mut server = start_server(&bin, port, &serve_args(&args));
    let definition = json!({"StartAt": "Send", "States": {"Send": {
        "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage",
        "Parameters": {"QueueUrl": "q", "MessageBody": "hi"},
        "Retry": [{"ErrorEquals": ["Queue.Busy"], "IntervalSeconds": 3, "MaxAttempts": 1}],
        "End": true}}});
    let sm = ok(
        port,
        "CreateStateMachine",
        json!({"name": "Flaky", "definition": definition.to_string(),
               "roleArn": "arn:aws:iam::123456789012:role/r"}),
    )["stateMachineArn"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let arn = ok(
        port,
        "StartExecution",
        json!({"stateMachineArn": format!("{sm}#FailThenPass")}),
    )["executionArn"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    // The first call failed and the retry waits: kill the server in the wait.
    let start = Instant::now();
    loop {
        let h = ok(port, "GetExecutionHistory", json!({"executionArn": arn}));
        let failed = h["events"]
            .as_array()
            .is_some_and(|e| e.iter().any(|e| e["type"] == "TaskFailed"));
        if failed {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "no first call");
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = server.0.kill();
    let _ = server.0.wait();
    let _server = start_server(&bin, port, &serve_args(&args));
    let d = finished(port, &arn, 30);
    assert_eq!(d["status"], "SUCCEEDED", "{d}");
    assert_eq!(
        serde_json::from_str::<Value>(d["output"].as_str().unwrap_or("null")).ok(),
        Some(json!({"MessageId": "m-2"}))
    );
}
