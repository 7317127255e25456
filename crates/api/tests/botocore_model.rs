//! Checks our dispatch table and the ValidateStateMachineDefinition answer against botocore's
//! copy of the service model (stepfunctions/2016-11-23/service-2.json), the contract every
//! SDK is generated from. Skipped, with a message, where botocore is not installed.

mod common;

use serde_json::{json, Map, Value};
use std::process::Command;
use stepwise_api::actions::{dispatch, Support, ACTIONS};
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
        other => panic!("{at}: shape type {other} not expected in our answers"),
    }
}

fn call(body: Value) -> Result<Value, stepwise_api::error::ApiError> {
    dispatch(
        "ValidateStateMachineDefinition",
        body.to_string().as_bytes(),
        &Config::default(),
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
    for (name, support) in ACTIONS {
        let r = dispatch(name, b"{}", &Config::default());
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
