//! Checks our dispatch table and every implemented action's answers against botocore's copy
//! of the service model (stepfunctions/2016-11-23/service-2.json), the contract every SDK is
//! generated from: output shapes (types, enums, required members, no unknown members) and
//! that each error code an action answers is one the model lists for it. Skipped, with a
//! message, where botocore is not installed.

mod common;

use serde_json::{json, Map, Value};
use std::process::Command;
use stepwise_api::actions::{dispatch, Support, ACTIONS};
use stepwise_api::service::Service;
use stepwise_api::Config;

/// The model as botocore loads it (it handles the .json.gz form newer releases ship).
fn model() -> Option<Value> {
    if !common::python_has("botocore") {
        eprintln!(
            "SKIP: botocore is not importable by {} (set STEPWISE_PYTHON or run scripts/test.sh)",
            common::python()
        );
        return None;
    }
    let out = Command::new(common::python())
        .args([
            "-c",
            "import json, botocore.loaders as l; \
             print(json.dumps(l.Loader().load_service_model('stepfunctions', 'service-2')))",
        ])
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "loading the model failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_slice(&out.stdout).expect("model is JSON"))
}

fn shape<'a>(model: &'a Value, name: &str) -> &'a Value {
    let s = &model["shapes"][name];
    assert!(s.is_object(), "shape {name} not in the model");
    s
}

/// Asserts `v` fits shape `name`: JSON type, enum values, required and known members.
fn check(model: &Value, name: &str, v: &Value, at: &str) {
    let s = shape(model, name);
    match s["type"].as_str().unwrap_or_default() {
        "structure" => {
            let obj = v
                .as_object()
                .unwrap_or_else(|| panic!("{at}: not an object: {v}"));
            let members = s["members"].as_object().expect("members");
            for (k, mv) in obj {
                let m = members
                    .get(k)
                    .unwrap_or_else(|| panic!("{at}: member {k} is not in shape {name}"));
                let target = m["shape"].as_str().expect("member shape");
                check(model, target, mv, &format!("{at}.{k}"));
            }
            for r in s["required"].as_array().into_iter().flatten() {
                let r = r.as_str().unwrap_or_default();
                assert!(obj.contains_key(r), "{at}: required member {r} missing");
            }
        }
        "list" => {
            let arr = v
                .as_array()
                .unwrap_or_else(|| panic!("{at}: not a list: {v}"));
            let member = s["member"]["shape"].as_str().expect("list member");
            for (i, item) in arr.iter().enumerate() {
                check(model, member, item, &format!("{at}[{i}]"));
            }
        }
        "string" => {
            let text = v
                .as_str()
                .unwrap_or_else(|| panic!("{at}: not a string: {v}"));
            if let Some(values) = s["enum"].as_array() {
                assert!(
                    values.iter().any(|e| e == text),
                    "{at}: {text} not in enum {values:?}"
                );
            }
        }
        "boolean" => assert!(v.is_boolean(), "{at}: not a boolean: {v}"),
        "integer" | "long" => assert!(v.is_i64(), "{at}: not an integer: {v}"),
        // The JSON protocol sends timestamps as epoch seconds (fraction for milliseconds).
        "timestamp" => assert!(
            v.as_f64().is_some_and(|t| t > 1.0e9 && t < 1.0e10),
            "{at}: not an epoch-seconds timestamp: {v}"
        ),
        "float" | "double" => assert!(v.is_number(), "{at}: not a number: {v}"),
        "map" => {
            let obj = v
                .as_object()
                .unwrap_or_else(|| panic!("{at}: not a map: {v}"));
            let value = s["value"]["shape"].as_str().expect("map value");
            for (k, mv) in obj {
                check(model, value, mv, &format!("{at}.{k}"));
            }
        }
        other => panic!("{at}: shape type {other} not expected in our answers"),
    }
}

fn service() -> std::sync::Arc<Service> {
    Service::in_memory(Config::default()).expect("service")
}

fn call(body: Value) -> Result<Value, stepwise_api::error::ApiError> {
    dispatch(
        "ValidateStateMachineDefinition",
        body.to_string().as_bytes(),
        &service(),
    )
}

#[test]
fn dispatch_table_is_the_model_operation_list() {
    let Some(model) = model() else { return };
    let ops = model["operations"].as_object().expect("operations");
    let ours: Vec<&str> = ACTIONS.iter().map(|(n, _)| *n).collect();
    for name in &ours {
        assert!(
            ops.contains_key(*name),
            "{name} is not an operation of the model"
        );
    }
    for name in ops.keys() {
        assert!(
            ours.contains(&name.as_str()),
            "model operation {name} is missing from the dispatch table"
        );
    }
    assert_eq!(model["metadata"]["targetPrefix"], "AWSStepFunctions");
    assert_eq!(model["metadata"]["jsonVersion"], "1.0");
}

#[test]
fn validate_answers_fit_the_output_shape() {
    let Some(model) = model() else { return };
    let op = &model["operations"]["ValidateStateMachineDefinition"];
    let output = op["output"]["shape"].as_str().expect("output shape");
    let cases = [
        json!({"definition": r#"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}"#}),
        json!({"definition": r#"{"States":{"A":{"Type":"Pass","End":true}}}"#}),
        json!({"definition": " "}),
        json!({"definition": "not json"}),
        json!({"definition": r#"{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"},
              "C":{"Type":"Pass","Next":"D"}}}"#, "maxResults": 1, "severity": "WARNING",
              "type": "EXPRESS"}),
    ];
    let mut with_location = false;
    let mut without_location = false;
    for c in cases {
        let out = call(c.clone()).unwrap_or_else(|e| panic!("{c}: {e}"));
        check(&model, output, &out, "output");
        for d in out["diagnostics"].as_array().into_iter().flatten() {
            with_location |= d.get("location").is_some();
            without_location |= d.get("location").is_none();
        }
    }
    assert!(
        with_location && without_location,
        "both diagnostic forms were checked"
    );
}

#[test]
fn validate_input_constraints_match_the_model() {
    let Some(model) = model() else { return };
    let op = &model["operations"]["ValidateStateMachineDefinition"];
    let input = shape(&model, op["input"]["shape"].as_str().expect("input shape"));
    let members: &Map<String, Value> = input["members"].as_object().expect("members");
    let mut seen: Vec<&str> = members.keys().map(String::as_str).collect();
    seen.sort_unstable();
    assert_eq!(seen, ["definition", "maxResults", "severity", "type"]);
    assert_eq!(input["required"], json!(["definition"]));
    let good = r#"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}"#;

    // Every enum value the model allows is accepted; anything else is a ValidationException.
    for member in ["type", "severity"] {
        let sh = shape(&model, members[member]["shape"].as_str().expect("shape"));
        for v in sh["enum"].as_array().expect("enum") {
            call(json!({"definition": good, member: v}))
                .unwrap_or_else(|e| panic!("{member}={v}: {e}"));
        }
        let e = call(json!({"definition": good, member: "NOPE"})).unwrap_err();
        assert_eq!(e.code, "ValidationException");
    }
    // maxResults: the model's bounds are accepted, one past them is not.
    let mr = shape(
        &model,
        members["maxResults"]["shape"].as_str().expect("shape"),
    );
    let (min, max) = (
        mr["min"].as_i64().expect("min"),
        mr["max"].as_i64().expect("max"),
    );
    call(json!({"definition": good, "maxResults": min})).expect("min accepted");
    call(json!({"definition": good, "maxResults": max})).expect("max accepted");
    for bad in [min - 1, max + 1] {
        let e = call(json!({"definition": good, "maxResults": bad})).unwrap_err();
        assert_eq!(e.code, "ValidationException", "maxResults={bad}");
    }
    // definition: the model's length bounds.
    let def = shape(
        &model,
        members["definition"]["shape"].as_str().expect("shape"),
    );
    assert_eq!(def["min"], 1);
    let e = call(json!({"definition": ""})).unwrap_err();
    assert_eq!(e.code, "ValidationException");
    let max_len = def["max"].as_u64().expect("max") as usize;
    let e = call(json!({"definition": " ".repeat(max_len + 1)})).unwrap_err();
    assert_eq!(e.code, "ValidationException");
    // The model lists ValidationException as this operation's error.
    assert!(op["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .any(|e| e["shape"] == "ValidationException"));
}

#[test]
fn unimplemented_actions_are_not_faked() {
    let svc = service();
    for (name, support) in ACTIONS {
        let r = dispatch(name, b"{}", &svc);
        match support {
            Support::NotYetImplemented => {
                let e = r.expect_err(name);
                assert_eq!(
                    (e.code.as_str(), e.status),
                    ("NotImplemented", 501),
                    "{name}"
                );
            }
            Support::Implemented => {}
        }
    }
}

/// Protocol-level codes any action may answer, whatever its model error list says.
const COMMON_ERRORS: [&str; 4] = [
    "ValidationException",
    "SerializationException",
    "InternalFailure",
    "UnknownOperationException",
];

struct Run<'a> {
    model: &'a Value,
    svc: std::sync::Arc<Service>,
    covered: std::collections::BTreeSet<String>,
}

impl Run<'_> {
    /// Calls `action`, checks the answer against its output shape, returns it.
    fn ok(&mut self, action: &str, body: Value) -> Value {
        let out = dispatch(action, body.to_string().as_bytes(), &self.svc)
            .unwrap_or_else(|e| panic!("{action} {body}: {e}"));
        let op = &self.model["operations"][action];
        let shape = op["output"]["shape"].as_str().expect("output shape");
        check(self.model, shape, &out, action);
        self.covered.insert(action.to_string());
        out
    }

    /// Calls `action` expecting error `code`, which the model must list for the action.
    fn err(&mut self, action: &str, body: Value, code: &str) -> String {
        let e = dispatch(action, body.to_string().as_bytes(), &self.svc)
            .expect_err(&format!("{action} {body} should fail with {code}"));
        assert_eq!(e.code, code, "{action} {body}: {e}");
        let listed = self.model["operations"][action]["errors"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|x| x["shape"] == code);
        assert!(
            listed || COMMON_ERRORS.contains(&code),
            "{action}: {code} is not among the model's errors"
        );
        if listed {
            assert_eq!(
                self.model["shapes"][code]["exception"],
                Value::Bool(true),
                "{code} is an exception shape in the model"
            );
        }
        assert!(e.status < 500, "{action}: {code} must be a client error");
        e.message
    }
}

const PASS: &str = r#"{"StartAt":"A","States":{"A":{"Type":"Pass","Result":{"x":1},"End":true}}}"#;
const ROLE: &str = "arn:aws:iam::123456789012:role/r";

#[test]
fn every_implemented_action_answers_in_the_model_shape() {
    let Some(model) = model() else { return };
    let mut r = Run {
        model: &model,
        svc: service(),
        covered: Default::default(),
    };
    let p = "arn:aws:states:us-east-1:123456789012";
    let sm = format!("{p}:stateMachine:m");

    // State machines and versions.
    let c = r.ok(
        "CreateStateMachine",
        json!({"name": "m", "definition": PASS, "roleArn": ROLE, "publish": true,
               "versionDescription": "first", "tags": [{"key": "k", "value": "v"}],
               "loggingConfiguration": {"level": "OFF"}, "tracingConfiguration": {"enabled": true}}),
    );
    assert_eq!(c["stateMachineVersionArn"], format!("{sm}:1"));
    r.err(
        "CreateStateMachine",
        json!({"name": "m", "definition": PASS.replace("1}", "2}"), "roleArn": ROLE}),
        "StateMachineAlreadyExists",
    );
    r.err(
        "CreateStateMachine",
        json!({"name": "bad name", "definition": PASS, "roleArn": ROLE}),
        "InvalidName",
    );
    r.err(
        "CreateStateMachine",
        json!({"name": "n", "definition": "{}", "roleArn": ROLE}),
        "InvalidDefinition",
    );
    r.err(
        "CreateStateMachine",
        json!({"name": "n", "definition": PASS, "roleArn": "nope"}),
        "InvalidArn",
    );
    r.err(
        "CreateStateMachine",
        json!({"name": "n", "definition": PASS, "roleArn": ROLE,
               "loggingConfiguration": {"level": "ALL"}}),
        "InvalidLoggingConfiguration",
    );
    r.ok(
        "CreateStateMachine",
        json!({"name": "x", "definition": PASS, "roleArn": ROLE, "type": "EXPRESS"}),
    );
    r.ok("DescribeStateMachine", json!({"stateMachineArn": sm}));
    r.ok(
        "DescribeStateMachine",
        json!({"stateMachineArn": format!("{sm}:1")}),
    );
    r.err(
        "DescribeStateMachine",
        json!({"stateMachineArn": format!("{sm}x")}),
        "StateMachineDoesNotExist",
    );
    r.err(
        "DescribeStateMachine",
        json!({"stateMachineArn": "x"}),
        "InvalidArn",
    );
    let u = r.ok(
        "UpdateStateMachine",
        json!({"stateMachineArn": sm, "definition": PASS.replace("1}", "2}"), "publish": true}),
    );
    assert_eq!(u["stateMachineVersionArn"], format!("{sm}:2"));
    r.err(
        "UpdateStateMachine",
        json!({"stateMachineArn": sm}),
        "MissingRequiredParameter",
    );
    r.ok("ListStateMachines", json!({"maxResults": 1}));
    let pv = r.ok("PublishStateMachineVersion", json!({"stateMachineArn": sm}));
    assert_eq!(
        pv["stateMachineVersionArn"],
        format!("{sm}:2"),
        "idempotent"
    );
    r.err(
        "PublishStateMachineVersion",
        json!({"stateMachineArn": sm, "revisionId": "other"}),
        "ConflictException",
    );
    r.ok("ListStateMachineVersions", json!({"stateMachineArn": sm}));

    // Aliases.
    r.ok(
        "CreateStateMachineAlias",
        json!({"name": "PROD", "description": "d", "routingConfiguration": [
            {"stateMachineVersionArn": format!("{sm}:1"), "weight": 50},
            {"stateMachineVersionArn": format!("{sm}:2"), "weight": 50}]}),
    );
    r.err(
        "CreateStateMachineAlias",
        json!({"name": "B", "routingConfiguration": [
            {"stateMachineVersionArn": format!("{sm}:1"), "weight": 60}]}),
        "ValidationException",
    );
    r.err(
        "CreateStateMachineAlias",
        json!({"name": "PROD", "routingConfiguration": [
            {"stateMachineVersionArn": format!("{sm}:1"), "weight": 100}]}),
        "ConflictException",
    );
    let alias = format!("{sm}:PROD");
    r.ok(
        "DescribeStateMachineAlias",
        json!({"stateMachineAliasArn": alias}),
    );
    r.ok(
        "UpdateStateMachineAlias",
        json!({"stateMachineAliasArn": alias, "routingConfiguration": [
            {"stateMachineVersionArn": format!("{sm}:2"), "weight": 100}]}),
    );
    r.err(
        "DescribeStateMachineAlias",
        json!({"stateMachineAliasArn": format!("{sm}:NOPE")}),
        "ResourceNotFound",
    );
    r.ok("ListStateMachineAliases", json!({"stateMachineArn": sm}));
    r.err(
        "DeleteStateMachineVersion",
        json!({"stateMachineVersionArn": format!("{sm}:2")}),
        "ConflictException",
    );
    r.ok(
        "DeleteStateMachineVersion",
        json!({"stateMachineVersionArn": format!("{sm}:1")}),
    );

    // Tags and activities.
    r.ok(
        "TagResource",
        json!({"resourceArn": sm, "tags": [{"key": "a", "value": "b"}]}),
    );
    r.ok(
        "UntagResource",
        json!({"resourceArn": sm, "tagKeys": ["a"]}),
    );
    let t = r.ok("ListTagsForResource", json!({"resourceArn": sm}));
    assert_eq!(t["tags"], json!([{"key": "k", "value": "v"}]));
    r.err(
        "TagResource",
        json!({"resourceArn": format!("{sm}:2"), "tags": []}),
        "ResourceNotFound",
    );
    let act = r.ok("CreateActivity", json!({"name": "act"}));
    let act = act["activityArn"].as_str().expect("arn").to_string();
    r.err("CreateActivity", json!({"name": "a/b"}), "InvalidName");
    r.ok("DescribeActivity", json!({"activityArn": act}));
    r.ok("ListActivities", json!({}));
    // The worker side: tasks of two executions, taken and answered.
    let wdef = json!({"StartAt": "W", "States": {"W": {"Type": "Task", "Resource": act,
        "End": true}}});
    r.ok(
        "CreateStateMachine",
        json!({"name": "w", "definition": wdef.to_string(), "roleArn": ROLE}),
    );
    let mut tokens = Vec::new();
    for _ in 0..2 {
        r.ok(
            "StartExecution",
            json!({"stateMachineArn": format!("{p}:stateMachine:w")}),
        );
        let task = r.ok(
            "GetActivityTask",
            json!({"activityArn": act, "workerName": "w"}),
        );
        tokens.push(task["taskToken"].as_str().expect("token").to_string());
    }
    r.ok("SendTaskHeartbeat", json!({"taskToken": tokens[0]}));
    r.ok(
        "SendTaskSuccess",
        json!({"taskToken": tokens[0], "output": "{}"}),
    );
    r.ok(
        "SendTaskFailure",
        json!({"taskToken": tokens[1], "error": "E", "cause": "C"}),
    );
    r.err(
        "SendTaskHeartbeat",
        json!({"taskToken": tokens[0]}),
        "TaskTimedOut",
    );
    r.err(
        "SendTaskFailure",
        json!({"taskToken": "no-such-token"}),
        "InvalidToken",
    );
    r.err(
        "SendTaskSuccess",
        json!({"taskToken": tokens[1], "output": "{"}),
        "InvalidOutput",
    );
    r.err(
        "GetActivityTask",
        json!({"activityArn": format!("{p}:activity:none")}),
        "ActivityDoesNotExist",
    );
    r.ok("DeleteActivity", json!({"activityArn": act}));
    r.err(
        "DescribeActivity",
        json!({"activityArn": act}),
        "ActivityDoesNotExist",
    );

    // Executions.
    let s = r.ok(
        "StartExecution",
        json!({"stateMachineArn": alias, "name": "e1", "input": "{\"a\": 1}"}),
    );
    let exec = s["executionArn"].as_str().expect("arn").to_string();
    r.err(
        "StartExecution",
        json!({"stateMachineArn": sm, "input": "{"}),
        "InvalidExecutionInput",
    );
    r.err(
        "StartExecution",
        json!({"stateMachineArn": sm, "name": "a b"}),
        "InvalidName",
    );
    r.err(
        "StartExecution",
        json!({"stateMachineArn": sm, "name": "e1", "input": "{}"}),
        "ExecutionAlreadyExists",
    );
    let start = std::time::Instant::now();
    loop {
        let d = r.ok("DescribeExecution", json!({"executionArn": exec}));
        if d["status"] != "RUNNING" {
            assert_eq!(d["status"], "SUCCEEDED", "{d}");
            assert_eq!(d["stateMachineAliasArn"], alias);
            break;
        }
        assert!(start.elapsed().as_secs() < 20, "execution did not finish");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let h = r.ok(
        "GetExecutionHistory",
        json!({"executionArn": exec, "reverseOrder": true, "includeExecutionData": false}),
    );
    assert_eq!(h["events"][0]["type"], "ExecutionSucceeded", "{h}");
    r.ok(
        "ListExecutions",
        json!({"stateMachineArn": sm, "statusFilter": "SUCCEEDED"}),
    );
    r.ok(
        "DescribeStateMachineForExecution",
        json!({"executionArn": exec}),
    );
    r.ok("StopExecution", json!({"executionArn": exec}));
    r.err(
        "DescribeExecution",
        json!({"executionArn": format!("{p}:execution:m:nope")}),
        "ExecutionDoesNotExist",
    );
    r.err(
        "StartSyncExecution",
        json!({"stateMachineArn": sm}),
        "StateMachineTypeNotSupported",
    );
    let sync = r.ok(
        "StartSyncExecution",
        json!({"stateMachineArn": format!("{p}:stateMachine:x"), "input": "{}"}),
    );
    assert_eq!(sync["status"], "SUCCEEDED", "{sync}");
    r.ok(
        "DeleteStateMachineAlias",
        json!({"stateMachineAliasArn": alias}),
    );
    r.ok("DeleteStateMachine", json!({"stateMachineArn": sm}));
    r.ok(
        "ValidateStateMachineDefinition",
        json!({"definition": PASS}),
    );
    let t = r.ok(
        "TestState",
        json!({"definition": "{\"Type\":\"Task\",\"Resource\":\"arn:aws:states:::lambda:invoke\",\"Retry\":[{\"ErrorEquals\":[\"E\"]}],\"End\":true}",
               "mock": {"errorOutput": {"error": "E", "cause": "C"}}, "inspectionLevel": "TRACE"}),
    );
    assert_eq!(t["status"], "RETRIABLE", "{t}");
    r.err("TestState", json!({"definition": "{"}), "InvalidDefinition");

    // Redrive: a failed execution is redriven (its Fail state runs again), a succeeded one is
    // refused.
    let fdef = r#"{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"E","Cause":"C"}}}"#;
    r.ok(
        "CreateStateMachine",
        json!({"name": "f", "definition": fdef, "roleArn": ROLE}),
    );
    let fx = r.ok(
        "StartExecution",
        json!({"stateMachineArn": format!("{p}:stateMachine:f"), "name": "fx"}),
    );
    let fx = fx["executionArn"].as_str().expect("arn").to_string();
    let done = |r: &mut Run, arn: &str| loop {
        let d = r.ok("DescribeExecution", json!({"executionArn": arn}));
        if d["status"] != "RUNNING" {
            return d;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    let d = done(&mut r, &fx);
    assert_eq!(
        (&d["status"], &d["redriveStatus"]),
        (&json!("FAILED"), &json!("REDRIVABLE"))
    );
    let rd = r.ok(
        "RedriveExecution",
        json!({"executionArn": fx, "clientToken": "t-1"}),
    );
    assert!(rd["redriveDate"].is_number(), "{rd}");
    let d = done(&mut r, &fx);
    assert_eq!(
        (&d["status"], &d["redriveCount"]),
        (&json!("FAILED"), &json!(1))
    );
    let l = r.ok(
        "ListExecutions",
        json!({"stateMachineArn": format!("{p}:stateMachine:f"), "redriveFilter": "REDRIVEN"}),
    );
    assert_eq!(l["executions"][0]["executionArn"], fx);
    let msg = r.err(
        "RedriveExecution",
        json!({"executionArn": exec}),
        "ExecutionNotRedrivable",
    );
    assert_eq!(msg, "Execution is SUCCEEDED and cannot be redriven");
    r.err(
        "RedriveExecution",
        json!({"executionArn": format!("{p}:execution:f:nope")}),
        "ExecutionDoesNotExist",
    );
    r.err(
        "RedriveExecution",
        json!({"executionArn": format!("{p}:stateMachine:f")}),
        "InvalidArn",
    );

    // Map runs: a distributed Map's run, its child executions, UpdateMapRun.
    let ddef = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "Label": "L",
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}, "End": true}}});
    r.ok(
        "CreateStateMachine",
        json!({"name": "d", "definition": ddef.to_string(), "roleArn": ROLE}),
    );
    let dx = r.ok(
        "StartExecution",
        json!({"stateMachineArn": format!("{p}:stateMachine:d"), "input": "[1, 2, 3]"}),
    );
    let dx = dx["executionArn"].as_str().expect("arn").to_string();
    assert_eq!(done(&mut r, &dx)["status"], "SUCCEEDED");
    let runs = r.ok("ListMapRuns", json!({"executionArn": dx, "maxResults": 1}));
    let run = runs["mapRuns"][0]["mapRunArn"]
        .as_str()
        .expect("a map run")
        .to_string();
    assert!(run.starts_with(&format!("{p}:mapRun:d/L:")), "{run}");
    let m = r.ok("DescribeMapRun", json!({"mapRunArn": run}));
    assert_eq!(m["status"], "SUCCEEDED", "{m}");
    assert_eq!(m["itemCounts"]["succeeded"], 3, "{m}");
    assert_eq!(m["executionCounts"]["total"], 3, "{m}");
    r.ok(
        "UpdateMapRun",
        json!({"mapRunArn": run, "maxConcurrency": 5, "toleratedFailurePercentage": 12.5,
               "toleratedFailureCount": 1}),
    );
    let m = r.ok("DescribeMapRun", json!({"mapRunArn": run}));
    assert_eq!(
        (&m["maxConcurrency"], &m["toleratedFailurePercentage"]),
        (&json!(5), &json!(12.5))
    );
    let kids = r.ok("ListExecutions", json!({"mapRunArn": run}));
    let kids = kids["executions"].as_array().expect("children").clone();
    assert_eq!(kids.len(), 3);
    assert_eq!(kids[0]["mapRunArn"], run);
    let kid = kids[0]["executionArn"].as_str().expect("arn").to_string();
    let k = r.ok("DescribeExecution", json!({"executionArn": kid}));
    assert_eq!(k["mapRunArn"], run);
    r.ok("GetExecutionHistory", json!({"executionArn": kid}));
    r.err(
        "DescribeMapRun",
        json!({"mapRunArn": format!("{run}0")}),
        "ResourceNotFound",
    );
    r.err(
        "UpdateMapRun",
        json!({"mapRunArn": format!("{run}0"), "maxConcurrency": 1}),
        "ResourceNotFound",
    );
    r.err(
        "UpdateMapRun",
        json!({"mapRunArn": run, "toleratedFailurePercentage": 101}),
        "ValidationException",
    );
    r.err("DescribeMapRun", json!({"mapRunArn": dx}), "InvalidArn");
    r.err(
        "ListMapRuns",
        json!({"executionArn": format!("{p}:execution:d:nope")}),
        "ExecutionDoesNotExist",
    );
    r.err(
        "ListMapRuns",
        json!({"executionArn": dx, "nextToken": "bad"}),
        "InvalidToken",
    );

    let implemented: Vec<&str> = ACTIONS
        .iter()
        .filter(|(_, s)| *s == Support::Implemented)
        .map(|(n, _)| *n)
        .collect();
    for name in implemented {
        assert!(
            r.covered.contains(name),
            "{name} is not covered by this test"
        );
    }
    r.svc.shutdown();
}
