//! `arn:aws:states:::lambda:invoke.waitForTaskToken` end to end: `stepwise serve` with a local
//! function (a command) that receives the task token in its event and answers the execution
//! itself with SendTaskSuccess over the API, as a real Lambda function would.
//!
//! Skips with a message when the binary is not built (`cargo build -p stepwise-cli`;
//! STEPWISE_BIN overrides its path) or python3 is missing.

mod common;

use common::{
    binary, create_machine, data_dir, finished, free_port, history, json_of, python,
    start_execution, start_server, types,
};
use serde_json::json;

/// Reads the event, answers the token through the API, then returns its own small result.
const FUNCTION: &str = r#"
import json, sys, urllib.request
event = json.load(sys.stdin)
body = json.dumps({"taskToken": event["token"], "output": json.dumps({"approved": event["order"]})})
req = urllib.request.Request("http://127.0.0.1:%d/" % event["port"], data=body.encode(),
    headers={"Content-Type": "application/x-amz-json-1.0",
             "X-Amz-Target": "AWSStepFunctions.SendTaskSuccess"})
urllib.request.urlopen(req).read()
print(json.dumps({"sent": True}))
"#;

#[test]
fn a_function_answers_its_own_task_token() {
    let Some(bin) = binary() else {
        eprintln!("SKIP: the stepwise binary is not built (cargo build -p stepwise-cli)");
        return;
    };
    if !common::python_has("json") {
        eprintln!("SKIP: no python3");
        return;
    }
    let dir = data_dir("lambda-callback");
    let functions = dir.join("functions.json");
    std::fs::write(
        &functions,
        json!({"Functions": {"approver": {"Command": [python(), "-c", FUNCTION]}}}).to_string(),
    )
    .expect("functions file");
    let port = free_port();
    let functions_arg = functions.to_string_lossy().to_string();
    let _server = start_server(
        &bin,
        port,
        &["--data-dir", ":memory:", "--lambda-config", &functions_arg],
    );
    let definition = json!({"StartAt": "Approve", "States": {"Approve": {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {"FunctionName": "approver",
            "Payload": {"token.$": "$$.Task.Token", "order.$": "$.order", "port": port}},
        "TimeoutSeconds": 30,
        "End": true}}});
    let sm = create_machine(port, "Approval", definition);
    let arn = start_execution(port, &sm, json!({"order": 42}));
    let d = finished(port, &arn, 30);
    assert_eq!(d["status"], "SUCCEEDED", "{d}");
    assert_eq!(json_of(&d["output"]), json!({"approved": 42}));
    let events = history(port, &arn);
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
    // The function's own answer is what the call handed back (TaskSubmitted's output).
    let submitted = &events[4]["taskSubmittedEventDetails"];
    assert_eq!(submitted["resource"], "invoke.waitForTaskToken");
    let out = json_of(&submitted["output"]);
    assert_eq!(out["Payload"], json!({"sent": true}), "{out}");
    assert_eq!(out["StatusCode"], 200, "{out}");
}
