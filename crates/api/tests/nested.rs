//! Nested executions end to end against the `stepwise serve` binary: `states:startExecution`
//! with every integration pattern, the SDK integration `aws-sdk:sfn:*` (a child answers its
//! parent's callback with `sendTaskSuccess`), failures and their shapes, stopping a parent
//! stops its `.sync` children, and a `kill -9` of the server while a parent waits on its child
//! loses nothing.
//!
//! Skips with a message when the binary is not built (`cargo build -p stepwise-cli`;
//! STEPWISE_BIN overrides its path).

mod common;

use common::{
    binary, create_machine, data_dir, finished, free_port, history, json_of, ok, start_execution,
    start_server, types,
};

use serde_json::{json, Value};
use std::time::{Duration, Instant};

fn executions_of(port: u16, sm: &str) -> Vec<Value> {
    let out = ok(port, "ListExecutions", json!({"stateMachineArn": sm}));
    out["executions"].as_array().cloned().unwrap_or_default()
}

fn nested_task(pattern: &str, extra: Value) -> Value {
    let mut params = json!({"StateMachineArn.$": "$.sm", "Input.$": "$.input"});
    if let (Some(p), Some(e)) = (params.as_object_mut(), extra.as_object()) {
        if e.contains_key("Input") {
            p.remove("Input.$");
        }
        p.extend(e.clone());
    }
    json!({"StartAt": "Call", "States": {"Call": {
        "Type": "Task",
        "Resource": format!("arn:aws:states:::states:startExecution{pattern}"),
        "Parameters": params,
        "End": true}}})
}

#[test]
fn nested_executions_through_the_server() {
    let Some(bin) = binary() else {
        eprintln!("stepwise binary not built (cargo build -p stepwise-cli): skipping");
        return;
    };
    let port = free_port();
    let _server = start_server(&bin, port, &["--data-dir", ":memory:"]);

    let child = create_machine(
        port,
        "Child",
        json!({"StartAt": "P", "States": {"P": {"Type": "Pass",
            "Parameters": {"got.$": "$"},
            "End": true}}}),
    );
    let failing = create_machine(
        port,
        "Failing",
        json!({"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Boom", "Cause": "it broke"}}}),
    );

    // .sync:2 — the child's output as JSON, the parent linked by the documented input member.
    let sync2 = create_machine(
        port,
        "ParentSync2",
        nested_task(
            ".sync:2",
            json!({"Input": {"n": 1, "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id"}}),
        ),
    );
    let parent = start_execution(port, &sync2, json!({"sm": child}));
    let d = finished(port, &parent, 20);
    assert_eq!(d["status"], "SUCCEEDED", "{d}");
    let out = json_of(&d["output"]);
    assert_eq!(out["Status"], "SUCCEEDED", "{out}");
    assert_eq!(out["Output"]["got"]["n"], 1, "{out}");
    assert_eq!(
        out["Output"]["got"]["AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"],
        parent.as_str(),
        "{out}"
    );
    assert_eq!(out["Input"]["n"], 1, "{out}");
    assert_eq!(out["StateMachineArn"], child.as_str());
    assert!(
        out["StartDate"].is_i64() && out["StopDate"].is_i64(),
        "{out}"
    );
    let events = history(port, &parent);
    assert_eq!(
        types(&events),
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
            "TaskSubmitted",
            "TaskSucceeded",
            "TaskStateExited",
            "ExecutionSucceeded"
        ]
    );
    let submitted = json_of(&events[4]["taskSubmittedEventDetails"]["output"]);
    assert_eq!(submitted["ExecutionArn"], out["ExecutionArn"]);
    assert_eq!(submitted["SdkHttpMetadata"]["HttpStatusCode"], 200);
    assert_eq!(
        events[4]["taskSubmittedEventDetails"]["resource"],
        "startExecution.sync:2"
    );

    // .sync — Input and Output as JSON text; a child without a name gets one per task.
    let sync1 = create_machine(port, "ParentSync", nested_task(".sync", json!({})));
    let parent = start_execution(port, &sync1, json!({"sm": child, "input": {"k": "v"}}));
    let d = finished(port, &parent, 20);
    assert_eq!(d["status"], "SUCCEEDED", "{d}");
    let out = json_of(&d["output"]);
    assert_eq!(out["Input"], "{\"k\":\"v\"}", "{out}");
    assert_eq!(json_of(&out["Output"])["got"]["k"], "v", "{out}");

    // A failing child fails the parent's task with States.TaskFailed and its description.
    let parent = start_execution(port, &sync1, json!({"sm": failing, "input": null}));
    let d = finished(port, &parent, 20);
    assert_eq!(d["status"], "FAILED", "{d}");
    assert_eq!(d["error"], "States.TaskFailed");
    let cause = json_of(&d["cause"]);
    assert_eq!(cause["Error"], "Boom", "{cause}");
    assert_eq!(cause["Cause"], "it broke", "{cause}");
    assert_eq!(cause["Status"], "FAILED", "{cause}");
    assert_eq!(
        cause["Input"], "{}",
        "null input starts the child with {{}}: {cause}"
    );

    // Request-response: the parent goes on as soon as the child started.
    let fire = create_machine(
        port,
        "ParentFire",
        nested_task("", json!({"Name": "fixed-name"})),
    );
    let parent = start_execution(port, &fire, json!({"sm": child, "input": {}}));
    let d = finished(port, &parent, 20);
    assert_eq!(d["status"], "SUCCEEDED", "{d}");
    let out = json_of(&d["output"]);
    assert!(
        out["ExecutionArn"]
            .as_str()
            .is_some_and(|a| a.ends_with(":Child:fixed-name")),
        "{out}"
    );
    // Starting it again with the same name and a different input: the AWS error, by name.
    let parent = start_execution(port, &fire, json!({"sm": child, "input": {"other": 1}}));
    let d = finished(port, &parent, 20);
    assert_eq!(d["status"], "FAILED", "{d}");
    assert_eq!(d["error"], "StepFunctions.ExecutionAlreadyExistsException");
    // An unknown state machine.
    let parent = start_execution(
        port,
        &fire,
        json!({"sm": format!("{child}Missing"), "input": {}}),
    );
    let d = finished(port, &parent, 20);
    assert_eq!(
        d["error"],
        "StepFunctions.StateMachineDoesNotExistException"
    );
    assert!(
        d["cause"]
            .as_str()
            .is_some_and(|c| c.starts_with("State Machine Does Not Exist: '")
                && c.contains("(Service: AWSStepFunctions; Status Code: 400; Error Code: StateMachineDoesNotExist;")),
        "{d}"
    );

    // .waitForTaskToken: the child answers its parent through the SDK integration.
    let answering = create_machine(
        port,
        "Answering",
        json!({"StartAt": "Answer", "States": {"Answer": {"Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:sfn:sendTaskSuccess",
            "Parameters": {"TaskToken.$": "$.token", "Output": {"answered": true}},
            "End": true}}}),
    );
    let callback = create_machine(
        port,
        "ParentCallback",
        json!({"StartAt": "Call", "States": {"Call": {"Type": "Task",
            "Resource": "arn:aws:states:::states:startExecution.waitForTaskToken",
            "Parameters": {"StateMachineArn.$": "$.sm", "Input": {"token.$": "$$.Task.Token"}},
            "End": true}}}),
    );
    let parent = start_execution(port, &callback, json!({"sm": answering}));
    let d = finished(port, &parent, 20);
    assert_eq!(d["status"], "SUCCEEDED", "{d}");
    assert_eq!(json_of(&d["output"]), json!({"answered": true}));
    let children = executions_of(port, &answering);
    assert_eq!(children.len(), 1);
    let child_run = finished(port, children[0]["executionArn"].as_str().unwrap_or(""), 5);
    assert_eq!(child_run["status"], "SUCCEEDED", "{child_run}");
    // The SDK integration's answer: the API's members capitalised, dates as ISO-8601 text.
    assert_eq!(json_of(&child_run["output"]), json!({}), "{child_run}");

    // The SDK integration's errors: Sfn.<Code>Exception and the SDK v2 text.
    let parent = start_execution(port, &answering, json!({"token": "NoSuchTaskToken"}));
    let d = finished(port, &parent, 20);
    assert_eq!(d["error"], "Sfn.InvalidTokenException", "{d}");
    assert!(
        d["cause"].as_str().is_some_and(|c| c.starts_with(
            "Invalid Token: 'Invalid token' (Service: Sfn, Status Code: 400, Request ID: "
        ) && c.ends_with(") (SDK Attempt Count: 1)")),
        "{d}"
    );
    let describe = create_machine(
        port,
        "SdkDescribe",
        json!({"StartAt": "D", "States": {"D": {"Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:sfn:describeStateMachine",
            "Parameters": {"StateMachineArn.$": "$.sm"}, "End": true}}}),
    );
    let parent = start_execution(port, &describe, json!({"sm": child}));
    let d = finished(port, &parent, 20);
    assert_eq!(d["status"], "SUCCEEDED", "{d}");
    let out = json_of(&d["output"]);
    assert_eq!(out["Name"], "Child", "{out}");
    assert!(
        out["CreationDate"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z') && t.contains('T')),
        "{out}"
    );
}

#[test]
fn stopping_a_parent_stops_its_sync_children() {
    let Some(bin) = binary() else {
        eprintln!("stepwise binary not built (cargo build -p stepwise-cli): skipping");
        return;
    };
    let port = free_port();
    let _server = start_server(&bin, port, &["--data-dir", ":memory:"]);
    let slow = create_machine(
        port,
        "Slow",
        json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 600, "End": true}}}),
    );
    let parent_sm = create_machine(port, "Parent", nested_task(".sync:2", json!({})));
    let parent = start_execution(port, &parent_sm, json!({"sm": slow, "input": {}}));
    let start_wait = Instant::now();
    let child = loop {
        if let Some(c) = executions_of(port, &slow).first() {
            break c["executionArn"].as_str().unwrap_or("").to_string();
        }
        assert!(start_wait.elapsed() < Duration::from_secs(10), "no child");
        std::thread::sleep(Duration::from_millis(20));
    };
    ok(port, "StopExecution", json!({"executionArn": parent}));
    assert_eq!(finished(port, &parent, 10)["status"], "ABORTED");
    assert_eq!(finished(port, &child, 10)["status"], "ABORTED");
}

#[test]
fn a_parent_waiting_on_its_child_survives_kill_9() {
    let Some(bin) = binary() else {
        eprintln!("stepwise binary not built (cargo build -p stepwise-cli): skipping");
        return;
    };
    let dir = data_dir("nested-restart");
    let dir_arg = dir.to_string_lossy().to_string();
    let port = free_port();
    let mut server = start_server(&bin, port, &["--data-dir", &dir_arg]);
    let child = create_machine(
        port,
        "Child",
        json!({"StartAt": "W", "States": {
            "W": {"Type": "Wait", "Seconds": 3, "Next": "P"},
            "P": {"Type": "Pass", "Result": {"done": true}, "End": true}}}),
    );
    let parent_sm = create_machine(port, "Parent", nested_task(".sync:2", json!({})));
    let parents: Vec<String> = (0..5)
        .map(|i| start_execution(port, &parent_sm, json!({"sm": child, "input": {"i": i}})))
        .collect();
    let t0 = Instant::now();
    while executions_of(port, &child).len() < parents.len() {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "children not started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = server.0.kill();
    let _ = server.0.wait();

    let _server = start_server(&bin, port, &["--data-dir", &dir_arg]);
    for p in &parents {
        let d = finished(port, p, 30);
        assert_eq!(d["status"], "SUCCEEDED", "{d}");
        let out = json_of(&d["output"]);
        assert_eq!(out["Output"], json!({"done": true}), "{out}");
        let kinds = types(&history(port, p));
        assert_eq!(kinds.iter().filter(|k| *k == "TaskSubmitted").count(), 1);
    }
    // Each parent started exactly one child.
    assert_eq!(executions_of(port, &child).len(), parents.len());
}
