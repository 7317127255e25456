//! TestState through the engine's public API: JSONata states, Map and Parallel with mocks,
//! variables, and the wire form of the answer.

use serde_json::{json, Value};
use stepwise_engine::test_state::{
    test_state, InspectionLevel, Mock, MockError, StateConfiguration, TestStateRequest, TestStatus,
};

fn request(def: Value, input: Value) -> TestStateRequest {
    TestStateRequest {
        definition: def.to_string(),
        input: Some(input.to_string()),
        inspection_level: InspectionLevel::Trace,
        ..Default::default()
    }
}

fn mock_result(v: Value) -> Option<Mock> {
    Some(Mock {
        result: Some(v.to_string()),
        ..Default::default()
    })
}

#[test]
fn jsonata_map_over_its_tolerance_is_retriable_then_caught() {
    let def = json!({"Type": "Map", "QueryLanguage": "JSONata", "Items": "{% $states.input.v %}",
        "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "P",
            "States": {"P": {"Type": "Pass", "End": true}}},
        "ToleratedFailureCount": 1,
        "Retry": [{"ErrorEquals": ["States.ExceedToleratedFailureThreshold"], "MaxAttempts": 1}],
        "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Handle", "Output": "{% $states.errorOutput %}"}],
        "End": true});
    let mut r = request(def, json!({"v": [1, 2, 3]}));
    r.mock = mock_result(json!([0, 0, 1]));
    r.state_configuration = Some(StateConfiguration {
        map_iteration_failure_count: Some(2),
        ..Default::default()
    });
    let a = test_state(&r).expect("answer");
    assert_eq!(a.status, TestStatus::Retriable);
    let d = a.inspection_data.expect("inspection");
    assert_eq!(d.max_concurrency, Some(0));
    assert_eq!(d.tolerated_failure_count, Some(1));
    r.state_configuration = Some(StateConfiguration {
        map_iteration_failure_count: Some(2),
        retrier_retry_count: Some(1),
        ..Default::default()
    });
    let a = test_state(&r).expect("answer");
    assert_eq!(a.status, TestStatus::CaughtError);
    assert_eq!(a.next_state.as_deref(), Some("Handle"));
    assert_eq!(
        a.output,
        Some(json!({"Error": "States.ExceedToleratedFailureThreshold",
            "Cause": "The specified tolerated failure threshold was exceeded"}))
    );
    let details = a
        .inspection_data
        .and_then(|d| d.error_details)
        .expect("details");
    assert_eq!(
        (details.retry_index, details.catch_index),
        (Some(0), Some(0))
    );
}

#[test]
fn map_mock_must_be_an_array_and_cover_the_failures() {
    let def = json!({"Type": "Map", "ItemProcessor": {"StartAt": "P",
        "States": {"P": {"Type": "Pass", "End": true}}}, "End": true});
    let mut r = request(def, json!([1]));
    r.mock = mock_result(json!({"a": 1}));
    assert_eq!(
        test_state(&r).unwrap_err().message,
        "Mocked result must be an array."
    );
    r.mock = mock_result(json!([1]));
    r.state_configuration = Some(StateConfiguration {
        map_iteration_failure_count: Some(2),
        ..Default::default()
    });
    assert_eq!(test_state(&r).unwrap_err().code, "ValidationException");
}

#[test]
fn parallel_mock_goes_through_result_path() {
    let def = json!({"Type": "Parallel", "ResultPath": "$.r", "Branches": [
        {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}], "Next": "After"});
    let mut r = request(def, json!({"k": 1}));
    r.mock = mock_result(json!([{"b": 1}]));
    let a = test_state(&r).expect("answer");
    assert_eq!(a.output, Some(json!({"k": 1, "r": [{"b": 1}]})));
    assert_eq!(a.next_state.as_deref(), Some("After"));
    let wire = a.to_json();
    assert_eq!(wire["output"], r#"{"k":1,"r":[{"b":1}]}"#);
    assert_eq!(
        wire["inspectionData"]["afterResultSelector"],
        r#"[{"b":1}]"#
    );
    assert!(wire["inspectionData"].get("afterInputPath").is_none());
}

#[test]
fn variables_are_read_and_shown() {
    let def = json!({"StartAt": "S", "States": {"S": {"Type": "Pass", "QueryLanguage": "JSONata",
        "Assign": {"y": "{% $x + 1 %}"}, "Output": "{% $x %}", "End": true}}});
    let mut r = request(def, json!({}));
    r.state_name = Some("S".into());
    r.variables = Some(r#"{"x": 41}"#.into());
    let a = test_state(&r).expect("answer");
    assert_eq!(a.output, Some(json!(41)));
    assert_eq!(
        a.inspection_data.and_then(|d| d.variables),
        Some(json!({"x": 41, "y": 42}))
    );
}

#[test]
fn mock_error_fails_a_task_without_handlers() {
    let def = json!({"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage", "End": true});
    let mut r = request(def, json!({}));
    r.mock = Some(Mock {
        error_output: Some(MockError {
            error: Some("Boom".into()),
            cause: Some("why".into()),
        }),
        ..Default::default()
    });
    let a = test_state(&r).expect("answer");
    assert_eq!(a.status, TestStatus::Failed);
    assert_eq!(
        (a.error.as_deref(), a.cause.as_deref()),
        (Some("Boom"), Some("why"))
    );
    assert!(a.output.is_none());
}

#[test]
fn wait_answers_at_once() {
    let r = request(
        json!({"Type": "Wait", "Seconds": 3600, "Next": "N"}),
        json!({"a": 1}),
    );
    let start = std::time::Instant::now();
    let a = test_state(&r).expect("answer");
    assert!(start.elapsed().as_secs() < 5);
    assert_eq!(a.next_state.as_deref(), Some("N"));
    assert_eq!(a.output, Some(json!({"a": 1})));
}
