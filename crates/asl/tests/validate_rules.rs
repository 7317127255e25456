//! Rule-by-rule validation tests. Expected codes/messages/locations are AWS's where known
//! (conformance corpus, or publicly measured AWS responses).

use proptest::prelude::*;
use serde_json::{json, Value};
use stepwise_asl::locate::locate;
use stepwise_asl::validate::{validate_text, validate_value, MachineType, ValidateOptions};

fn std_opts() -> ValidateOptions {
    ValidateOptions::default()
}

/// (code, message, location) triples.
fn check(def: Value) -> Vec<(String, String, String)> {
    check_with(def, std_opts())
}

fn check_with(def: Value, opts: ValidateOptions) -> Vec<(String, String, String)> {
    validate_value(&def, &opts)
        .into_iter()
        .map(|d| (d.code, d.message, d.location))
        .collect()
}

fn d(code: &str, msg: &str, loc: &str) -> (String, String, String) {
    (code.into(), msg.into(), loc.into())
}

const SVF: &str = "SCHEMA_VALIDATION_FAILED";
const MTT: &str = "MISSING_TRANSITION_TARGET";

/// A one-state machine around `state` named "S".
fn one(state: Value) -> Value {
    json!({"StartAt": "S", "States": {"S": state}})
}

fn first_msg(def: Value) -> String {
    check(def).first().map(|x| x.1.clone()).unwrap_or_default()
}

#[test]
fn root_shape() {
    assert_eq!(
        check(json!({})),
        vec![d(SVF, "These fields are required: [States, StartAt]", "/")]
    );
    assert_eq!(
        check(json!({"StartAt": "A"})),
        vec![d(SVF, "These fields are required: [States]", "/")]
    );
    assert_eq!(
        check(json!([1])),
        vec![d(SVF, "Definition must be a valid JSON object", "")]
    );
    let t = validate_text(" ", &std_opts());
    assert_eq!((t[0].code.as_str(), t[0].location.as_str()), (SVF, ""));
    let t = validate_text("not a definition", &std_opts());
    assert_eq!(t[0].code, "INVALID_JSON_DESCRIPTION");
    assert_eq!(
        t[0].location,
        "[Source: (String)\"not a definition\"; line: 1, column: 4]"
    );
    assert!(check(
        json!({"StartAt": "S", "States": {"S": {"Type": "Pass", "End": true}}, "Bogus": 1})
    )
    .contains(&d(SVF, "Field 'Bogus' is not supported", "/")));
    // Jackson ignores content after the root value; so does AWS.
    assert!(validate_text(
        r#"{"StartAt":"S","States":{"S":{"Type":"Succeed"}}} x"#,
        &std_opts()
    )
    .is_empty());
}

#[test]
fn transitions_and_reachability() {
    // AWS's answer for this exact definition (CreateStateMachine, two diagnostics in order).
    let def = json!({"StartAt": "pass1", "States": {
        "pass1": {"Type": "Pass", "Next": "pass3"},
        "pass2": {"Type": "Pass", "End": true}}});
    assert_eq!(
        check(def),
        vec![
            d(MTT, "Missing 'Next' target: pass3", "/States/pass1/Next"),
            d(MTT, "State \"pass2\" is not reachable.", "/States/pass2"),
        ]
    );
    let lp = json!({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "Next": "A"}}});
    assert_eq!(
        check(lp.clone()),
        vec![d("MISSING_END_STATE", "Workflow has no terminal state", "")]
    );
    let mut with_c = lp;
    with_c["States"]["C"] = json!({"Type": "Pass", "End": true});
    assert_eq!(
        check(with_c),
        vec![d(MTT, "State \"C\" is not reachable.", "/States/C")]
    );
    assert_eq!(
        check(json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "NOPE"}}})),
        vec![
            d(MTT, "Missing 'Next' target: NOPE", "/States/A/Next"),
            d("MISSING_END_STATE", "Workflow has no terminal state", ""),
        ]
    );
    let def = json!({"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [{"Variable": "$.x", "IsPresent": true, "Next": "X1"}], "Default": "X2"},
        "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true,
              "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "X3"}]}}});
    let locs: Vec<String> = check(def)
        .into_iter()
        .filter(|x| x.1.starts_with("Missing"))
        .map(|x| x.2)
        .collect();
    assert_eq!(
        locs,
        [
            "/States/C/Choices[0]/Next",
            "/States/C/Default",
            "/States/T/Catch[0]/Next"
        ]
    );
    // Nested containers are checked on their own.
    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [
        {"StartAt": "Q", "States": {"Q": {"Type": "Pass", "Next": "Z"}, "R": {"Type": "Succeed"}}}]}}});
    assert_eq!(
        check(def),
        vec![
            d(
                MTT,
                "Missing 'Next' target: Z",
                "/States/P/Branches[0]/States/Q/Next"
            ),
            d(
                MTT,
                "State \"R\" is not reachable.",
                "/States/P/Branches[0]/States/R"
            ),
        ]
    );
}

#[test]
fn names() {
    let long = "This is an exceptionally long state name that I know will fail when I try to deploy to AWS";
    let def = json!({"StartAt": "Hello", "States": {
        "Hello": {"Type": "Pass", "Next": long}, long: {"Type": "Pass", "End": true}}});
    assert_eq!(
        check(def),
        vec![d(
            "INVALID_STATE_NAME",
            &format!("Invalid State name: State '{long}' exceeds the 80-character limit allowed by the service"),
            &format!("/States/{long}")
        )]
    );
    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "Next": "A", "Branches": [
        {"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}]}, "A": {"Type": "Succeed"}}});
    assert_eq!(check(def)[0].0, "DUPLICATE_STATE_NAME");
}

#[test]
fn fields_per_state_type() {
    for ty in [
        "Pass", "Wait", "Choice", "Succeed", "Fail", "Map", "Parallel",
    ] {
        let mut s = json!({"Type": ty, "TimeoutSeconds": 5});
        s.as_object_mut().unwrap().insert("Retry".into(), json!([]));
        let got = check(one(s));
        assert!(
            got.contains(&d(
                SVF,
                "Field 'TimeoutSeconds' is not supported",
                "/States/S"
            )),
            "{ty}: {got:?}"
        );
        if !matches!(ty, "Map" | "Parallel") {
            assert!(
                got.contains(&d(SVF, "Field 'Retry' is not supported", "/States/S")),
                "{ty}"
            );
        }
    }
    assert_eq!(
        first_msg(one(
            json!({"Type": "Choice", "Choices": [{"Variable": "$.a", "IsNull": true, "Next": "S"}], "End": true})
        )),
        "Field 'End' is not supported"
    );
    assert_eq!(
        check(one(json!({"End": true}))),
        vec![d(SVF, "These fields are required: [Type]", "/States/S")]
    );
    assert_eq!(
        check(one(json!({"Type": "Pass"})))[0].1,
        "These fields are required: [Next or End]"
    );
    assert_eq!(
        check(one(json!({"Type": "Task", "End": true})))[0].1,
        "These fields are required: [Resource]"
    );
}

#[test]
fn wait_rules() {
    for ts in [
        "2016-12-05 21:29:29Z",
        "2016-12-05T21:29:29",
        "2016-13-05T21:29:29Z",
        "{% '2016-03-14T01:59:00Z' %}",
    ] {
        assert_eq!(
            check(one(json!({"Type": "Wait", "Timestamp": ts, "End": true}))),
            vec![d(
                SVF,
                "String does not match RFC3339 timestamp",
                "/States/S/Timestamp"
            )]
        );
    }
    assert!(check(one(
        json!({"Type": "Wait", "Timestamp": "2016-03-14T01:59:00Z", "End": true})
    ))
    .is_empty());
    let jsonata = json!({"QueryLanguage": "JSONata", "StartAt": "S", "States": {"S":
        {"Type": "Wait", "Timestamp": "{% $states.input.t %}", "End": true}}});
    assert!(check(jsonata).is_empty());
    assert_eq!(check(one(json!({"Type": "Wait", "End": true}))).len(), 1);
    assert_eq!(
        first_msg(one(json!({"Type": "Wait", "Seconds": 1, "SecondsPath": "$.s", "End": true}))),
        "There should only be one of the following fields: [Seconds, Timestamp, SecondsPath, TimestampPath]"
    );
    assert_eq!(
        first_msg(one(json!({"Type": "Wait", "Seconds": -1, "End": true}))),
        "Minimum value is 0"
    );
}

#[test]
fn fail_and_task_exclusivity() {
    assert_eq!(
        check(one(
            json!({"Type": "Fail", "Error": "E", "ErrorPath": "$.e"})
        )),
        vec![d(
            SVF,
            "There should only be one of the following fields: [Error, ErrorPath]",
            "/States/S"
        )]
    );
    assert!(check(one(
        json!({"Type": "Fail", "ErrorPath": "States.Format('{}', $.a)", "CausePath": "$.c"})
    ))
    .is_empty());
    let t = |extra: Value| {
        let mut s =
            json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true});
        s.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        check(one(s))
    };
    assert_eq!(
        t(json!({"TimeoutSeconds": 5, "TimeoutSecondsPath": "$.t"}))[0].1,
        "There should only be one of the following fields: [TimeoutSeconds, TimeoutSecondsPath]"
    );
    assert_eq!(
        t(json!({"TimeoutSeconds": 5, "HeartbeatSeconds": 5}))[0].2,
        "/States/S/HeartbeatSeconds"
    );
    assert_eq!(t(json!({"TimeoutSeconds": 0}))[0].1, "Minimum value is 1");
    assert!(t(json!({"TimeoutSeconds": 10, "HeartbeatSeconds": 5})).is_empty());
}

#[test]
fn retry_and_catch() {
    let r = |retry: Value| {
        check(one(
            json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true, "Retry": retry}),
        ))
    };
    assert_eq!(
        r(json!([{"ErrorEquals": []}])),
        vec![d(
            SVF,
            "Value cannot be empty",
            "/States/S/Retry[0]/ErrorEquals"
        )]
    );
    assert_eq!(r(json!([{"ErrorEquals": ["States.ALL", "X"]}])).len(), 1);
    assert_eq!(
        r(json!([{"ErrorEquals": ["States.ALL"]}, {"ErrorEquals": ["X"]}])).len(),
        1
    );
    assert_eq!(
        r(json!([{"ErrorEquals": ["X"], "MaxAttempts": -1}]))[0].1,
        "Minimum value is 0"
    );
    assert_eq!(
        r(json!([{"ErrorEquals": ["X"], "BackoffRate": 0.5}]))[0].1,
        "Minimum value is 1.0"
    );
    assert_eq!(
        r(json!([{"ErrorEquals": ["X"], "IntervalSeconds": 0}]))[0].1,
        "Minimum value is 1"
    );
    assert_eq!(
        r(json!([{"ErrorEquals": ["X"], "JitterStrategy": "HALF"}]))[0].2,
        "/States/S/Retry[0]/JitterStrategy"
    );
    assert_eq!(
        r(json!([{}]))[0].1,
        "These fields are required: [ErrorEquals]"
    );
    assert!(r(
        json!([{"ErrorEquals": ["X"], "MaxAttempts": 0, "BackoffRate": 1.5, "IntervalSeconds": 1,
        "MaxDelaySeconds": 5, "JitterStrategy": "FULL"}])
    )
    .is_empty());
    let c = check(one(
        json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true,
        "Catch": [{"ErrorEquals": ["X"]}]}),
    ));
    assert_eq!(
        c[0],
        d(
            SVF,
            "These fields are required: [Next]",
            "/States/S/Catch[0]"
        )
    );
}

#[test]
fn parallel_and_map() {
    assert_eq!(
        check(one(
            json!({"Type": "Parallel", "Branches": [], "End": true})
        )),
        vec![d(SVF, "Value cannot be empty", "/States/S/Branches")]
    );
    let inner = json!({"StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}});
    let map = |extra: Value| {
        let mut s = json!({"Type": "Map", "ItemProcessor": inner, "End": true});
        s.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        check(one(s))
    };
    assert!(map(json!({"MaxConcurrency": 0, "Label": "ok_label-1"})).is_empty());
    assert_eq!(
        map(json!({"Iterator": inner}))[0].1,
        "There should only be one of the following fields: [ItemProcessor, Iterator]"
    );
    assert_eq!(
        map(json!({"MaxConcurrency": -1}))[0],
        d(SVF, "Minimum value is 0", "/States/S/MaxConcurrency")
    );
    assert_eq!(
        map(json!({"ToleratedFailurePercentage": 101}))[0].1,
        "Maximum value is 100.0"
    );
    assert_eq!(map(json!({"ToleratedFailureCount": 1, "ToleratedFailureCountPath": "$.n"}))[0].1,
        "There should only be one of the following fields: [ToleratedFailureCount, ToleratedFailureCountPath]");
    assert_eq!(
        map(json!({"MaxConcurrencyPath": "$$.Execution.Input.n"}))[0].1,
        "Value is not a Reference Path"
    );
    for bad in ["label ", "a?b", "x/y", "tab\t", "\u{85}", ""] {
        assert_eq!(
            map(json!({"Label": bad}))[0].2,
            "/States/S/Label",
            "{bad:?}"
        );
    }
    assert_eq!(map(json!({"Label": "x".repeat(41)})).len(), 1);
    let mut bad_mode = inner.clone();
    bad_mode["ProcessorConfig"] = json!({"Mode": "SIDEWAYS"});
    assert_eq!(
        check(one(
            json!({"Type": "Map", "ItemProcessor": bad_mode, "End": true})
        ))[0]
            .2,
        "/States/S/ItemProcessor/ProcessorConfig/Mode"
    );
    assert_eq!(
        check(one(json!({"Type": "Map", "End": true})))[0].1,
        "These fields are required: [ItemProcessor]"
    );
}

#[test]
fn resources_and_express() {
    let task = |res: &str| json!({"StartAt": "S", "States": {"S": {"Type": "Task", "Resource": res, "End": true}}});
    assert_eq!(
        check(task("arn:aws:states:::dynamodb:query")),
        vec![d(SVF, "The resource provided arn:aws:states:::dynamodb:query is not recognized. The value is \
            not a valid resource ARN, or the resource is not available in this region.", "/States/S/Resource")]
    );
    let express = ValidateOptions {
        machine_type: MachineType::Express,
    };
    assert_eq!(
        check_with(
            task("arn:aws:states:::sns:publish.waitForTaskToken"),
            express
        )[0]
        .1,
        "Express state machine does not support '.waitForTaskToken' service integration "
    );
    assert_eq!(
        check_with(task("arn:aws:states:::states:startExecution.sync"), express)[0].1,
        "Express state machine does not support '.sync' service integration"
    );
    assert_eq!(
        check_with(
            task("arn:aws:states:us-east-1:111111111111:activity:a"),
            express
        )[0]
        .1,
        "Express state machine does not support Activity ARN"
    );
    assert!(check(task("arn:aws:states:us-east-1:111111111111:activity:a")).is_empty());
    assert!(check_with(task("arn:aws:states:::aws-sdk:s3:listBuckets"), express).is_empty());
}

#[test]
fn paths_and_templates() {
    assert_eq!(
        check(one(
            json!({"Type": "Pass", "OutputPath": "Test", "End": true})
        )),
        vec![d(
            SVF,
            "Value must be a valid JSONPath.",
            "/States/S/OutputPath"
        )]
    );
    assert_eq!(
        first_msg(one(
            json!({"Type": "Pass", "ResultPath": "$$.x", "End": true})
        )),
        "Value is not a Reference Path"
    );
    assert!(check(one(
        json!({"Type": "Pass", "ResultPath": null, "InputPath": "$$.Execution.Id", "End": true})
    ))
    .is_empty());
    assert_eq!(
        check(one(json!({"Type": "Pass", "Parameters": {"foo": "bar", "lorem.$": "ipsum", "dolor.$": "$.sit"}, "End": true}))),
        vec![d(SVF, "The value for the field 'lorem.$' must be a valid JSONPath or a valid intrinsic function call", "/States/S/Parameters")]
    );
    assert_eq!(
        check(one(
            json!({"Type": "Pass", "Assign": {"Variable.$": "nope"}, "End": true})
        ))[0]
            .2,
        "/States/S/Assign"
    );
    assert!(check(one(json!({"Type": "Pass", "Parameters": {"a": {"b.$": "States.StringToJson($.x)"}, "c.$": "$$"},
        "Assign": {"v.$": "$x"}, "End": true}))).is_empty());
}

#[test]
fn query_language() {
    let def = json!({"StartAt": "Pass", "QueryLanguage": "JSONata", "States": {"Pass": {"Type": "Pass", "End": true, "QueryLanguage": "JSONPath"}}});
    assert_eq!(
        check(def),
        vec![d(
            SVF,
            "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine",
            "/States/Pass"
        )]
    );
    assert_eq!(
        first_msg(one(json!({"Type": "Pass", "Output": 1, "End": true}))),
        "The QueryLanguage is set to 'JSONPath', but field 'Output' is only supported for the 'JSONata' QueryLanguage"
    );
    let def = json!({"QueryLanguage": "JSONata", "StartAt": "S", "States": {"S": {"Type": "Pass", "InputPath": "$", "End": true}}});
    assert_eq!(first_msg(def),
        "The QueryLanguage is set to 'JSONata', but field 'InputPath' is only supported for the 'JSONPath' QueryLanguage");
    // Nested states inherit the machine's language, not the Map's.
    let def = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "QueryLanguage": "JSONata", "End": true,
        "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "Output": 1, "End": true}}}}}});
    assert_eq!(check(def)[0].2, "/States/M/ItemProcessor/States/P");
    let def = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true,
        "ItemProcessor": {"QueryLanguage": "JSONata", "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}}}});
    assert_eq!(
        check(def),
        vec![d(
            SVF,
            "Field 'QueryLanguage' is not supported",
            "/States/M/ItemProcessor"
        )]
    );
}

#[test]
fn a_rich_valid_definition_is_clean() {
    let def = json!({
        "Comment": "everything", "StartAt": "T", "TimeoutSeconds": 60,
        "States": {
            "T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:111111111111:function:f", "Next": "C",
                  "TimeoutSecondsPath": "$.t", "HeartbeatSeconds": 3, "ResultSelector": {"p.$": "$.Payload"},
                  "Retry": [{"ErrorEquals": ["A", "B"], "MaxAttempts": 2}, {"ErrorEquals": ["States.ALL"]}],
                  "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.err", "Next": "F"}]},
            "C": {"Type": "Choice", "Choices": [{"Variable": "$.x", "NumericEquals": 1, "Next": "W"}], "Default": "P"},
            "W": {"Type": "Wait", "SecondsPath": "$.s", "Next": "P"},
            "P": {"Type": "Parallel", "Next": "M", "Branches": [
                {"StartAt": "B1", "States": {"B1": {"Type": "Succeed"}}}]},
            "M": {"Type": "Map", "ItemsPath": "$.items", "ItemSelector": {"v.$": "$$.Map.Item.Value"}, "Next": "J",
                  "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
                      "StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}},
                  "Label": "my-label", "ToleratedFailurePercentage": 5.5, "MaxConcurrencyPath": "$.mc"},
            "J": {"Type": "Pass", "QueryLanguage": "JSONata", "Output": "{% $states.input %}", "Next": "F"},
            "F": {"Type": "Fail", "Error": "E", "CausePath": "$.c"}
        }
    });
    assert_eq!(check(def), vec![]);
}

#[test]
fn locate_finds_diagnostic_locations() {
    let text =
        "{\"StartAt\": \"A\",\n \"States\": {\n  \"A\": {\"Type\": \"Pass\", \"Next\": \"B\"}}}";
    let diags = validate_text(text, &std_opts());
    assert_eq!(diags[0].location, "/States/A/Next");
    assert_eq!(locate(text, &diags[0].location), Some((3, 33)));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    /// Arbitrary text never panics either the validator or the locator.
    #[test]
    fn no_panics_on_any_text(s in "[ -~\\n{}\\[\\]\":,\\\\]{0,60}") {
        let diags = validate_text(&s, &std_opts());
        for d in diags {
            let _ = locate(&s, &d.location);
        }
    }

    #[test]
    fn no_panics_on_state_shapes(ty in "(Pass|Task|Choice|Wait|Succeed|Fail|Parallel|Map|X)",
                                 k in "(Next|End|Resource|Branches|ItemProcessor|Seconds|Retry|Catch|Choices|Label)",
                                 v in prop_oneof![Just(json!(null)), Just(json!(1)), Just(json!("$")), Just(json!([])), Just(json!({})), Just(json!(true))]) {
        let def = json!({"StartAt": "S", "States": {"S": {"Type": ty, k: v}}});
        let _ = validate_value(&def, &std_opts());
    }
}
