//! JSONata states in the engine: data flow through `$states`, the order in which Assign and
//! Output see variables, variable scoping across Parallel branches and Map iterations, and the
//! `EvaluationFailed` events AWS records for expression errors.

use serde_json::{json, Value};
use stepwise_asl::StateMachine;
use stepwise_engine::{
    run_local, run_local_with, CannedTasks, ExecutionOutcome, ExecutionStatus, HistoryEvent,
    RunOptions,
};

fn machine(def: Value) -> StateMachine {
    StateMachine::from_value(&def).unwrap_or_else(|d| panic!("invalid definition: {d:?}"))
}

fn opts() -> RunOptions {
    RunOptions {
        skip_waits: true,
        seed: 7,
        ..RunOptions::default()
    }
}

fn run(def: Value, input: Value) -> ExecutionOutcome {
    run_local(&machine(def), input, &opts())
}

fn output(out: &ExecutionOutcome) -> Value {
    serde_json::from_str(out.output.as_deref().unwrap_or("null")).unwrap_or_default()
}

fn types(h: &[HistoryEvent]) -> Vec<&'static str> {
    h.iter().map(|e| e.kind).collect()
}

/// The variables a state's exited event recorded, decoded.
fn assigned(h: &[HistoryEvent], state: &str) -> Value {
    h.iter()
        .filter_map(|e| e.details_json())
        .find(|d| d.get("name") == Some(&json!(state)) && d.get("assignedVariables").is_some())
        .map(|d| {
            let vars = d["assignedVariables"]
                .as_object()
                .cloned()
                .unwrap_or_default();
            vars.into_iter()
                .map(|(k, v)| {
                    (
                        k,
                        serde_json::from_str(v.as_str().unwrap_or("null")).unwrap(),
                    )
                })
                .collect::<serde_json::Map<String, Value>>()
                .into()
        })
        .unwrap_or(Value::Null)
}

#[test]
fn assign_and_output_both_see_the_variables_from_before_the_state() {
    let def = json!({"QueryLanguage": "JSONata", "StartAt": "A", "States": {
        "A": {"Type": "Pass", "Assign": {"x": 1}, "Next": "B"},
        "B": {"Type": "Pass",
              "Assign": {"x": "{% $x + 1 %}", "y": "{% $x %}"},
              "Output": {"x": "{% $x %}"},
              "Next": "C"},
        "C": {"Type": "Pass", "Output": {"x": "{% $x %}", "y": "{% $y %}"}, "End": true}}});
    let out = run(def, json!({}));
    assert_eq!(out.status, ExecutionStatus::Succeeded, "{:?}", out.cause);
    assert_eq!(assigned(&out.history, "B"), json!({"x": 2, "y": 1}));
    let b_out = out
        .history
        .iter()
        .filter_map(|e| e.details_json())
        .find(|d| d.get("name") == Some(&json!("B")) && d.get("output").is_some())
        .unwrap();
    assert_eq!(b_out["output"], json!("{\"x\":1}"));
    assert_eq!(output(&out), json!({"x": 2, "y": 1}));
}

#[test]
fn task_arguments_result_and_output() {
    let def = json!({"QueryLanguage": "JSONata", "StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
              "Arguments": {"n": "{% $states.input.n * 2 %}"},
              "Assign": {"seen": "{% $states.result.v %}"},
              "Output": {"in": "{% $states.input.n %}", "res": "{% $states.result.v %}"},
              "End": true}}});
    let tasks = CannedTasks::from_json(&json!({"T": {"Return": {"v": 5}}})).unwrap();
    let out = run_local_with(&machine(def), json!({"n": 3}), &opts(), &tasks);
    assert_eq!(out.status, ExecutionStatus::Succeeded, "{:?}", out.cause);
    assert_eq!(output(&out), json!({"in": 3, "res": 5}));
    let scheduled = out
        .history
        .iter()
        .find(|e| e.kind == "TaskScheduled")
        .and_then(|e| e.details_json())
        .unwrap();
    assert_eq!(scheduled["parameters"], json!("{\"n\":6}"));
    assert_eq!(assigned(&out.history, "T"), json!({"seen": 5}));
}

#[test]
fn catch_output_and_assign_read_the_error_output() {
    let def = json!({"QueryLanguage": "JSONata", "StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
              "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "H",
                         "Assign": {"err": "{% $states.errorOutput.Error %}"},
                         "Output": {"was": "{% $states.input %}", "cause": "{% $states.errorOutput.Cause %}"}}],
              "End": true},
        "H": {"Type": "Pass", "Output": {"err": "{% $err %}", "prev": "{% $states.input %}"}, "End": true}}});
    let tasks = CannedTasks::from_json(&json!({"T": {"Throw": {"Error": "Boom", "Cause": "bad"}}}))
        .unwrap();
    let out = run_local_with(&machine(def), json!({"k": 1}), &opts(), &tasks);
    assert_eq!(out.status, ExecutionStatus::Succeeded, "{:?}", out.cause);
    assert_eq!(
        output(&out),
        json!({"err": "Boom", "prev": {"was": {"k": 1}, "cause": "bad"}})
    );
}

#[test]
fn variables_are_readable_inside_parallel_and_map_but_do_not_leak_out() {
    let def = json!({"QueryLanguage": "JSONata", "StartAt": "Init", "States": {
        "Init": {"Type": "Pass", "Assign": {"outer": 7}, "Next": "Par"},
        "Par": {"Type": "Parallel", "Next": "Map", "Branches": [
            {"StartAt": "B", "States": {"B": {"Type": "Pass",
                "Assign": {"inner": "{% $outer + 1 %}"},
                "Output": "{% $outer %}", "End": true}}}]},
        "Map": {"Type": "Map", "Items": "{% [1, 2] %}",
            "ItemSelector": {"v": "{% $states.context.Map.Item.Value %}", "o": "{% $outer %}"},
            "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass",
                "Assign": {"inner": 1},
                "Output": "{% $states.input.v + $states.input.o %}", "End": true}}},
            "Output": {"par": "{% $states.input %}", "map": "{% $states.result %}"},
            "Next": "Check"},
        "Check": {"Type": "Pass",
            "Output": {"r": "{% $states.input %}", "leaked": "{% $exists($inner) %}"},
            "End": true}}});
    let out = run(def, json!({}));
    assert_eq!(out.status, ExecutionStatus::Succeeded, "{:?}", out.cause);
    assert_eq!(
        output(&out),
        json!({"r": {"par": [7], "map": [8, 9]}, "leaked": false})
    );
}

#[test]
fn choice_rule_assign_and_output_override_the_states_own() {
    let def = json!({"QueryLanguage": "JSONata", "StartAt": "C", "States": {
        "C": {"Type": "Choice", "Assign": {"a": "state", "b": "state"}, "Output": "state",
              "Choices": [{"Condition": "{% $states.input.go %}", "Next": "Done",
                           "Assign": {"a": "rule"}, "Output": "rule"}],
              "Default": "Done"},
        "Done": {"Type": "Pass", "Output": {"in": "{% $states.input %}", "a": "{% $a %}", "b": "{% $b %}"}, "End": true}}});
    let out = run(def.clone(), json!({"go": true}));
    assert_eq!(
        output(&out),
        json!({"in": "rule", "a": "rule", "b": "state"})
    );
    let out = run(def, json!({"go": false}));
    assert_eq!(
        output(&out),
        json!({"in": "state", "a": "state", "b": "state"})
    );
}

#[test]
fn expression_errors_record_evaluation_failed_before_the_execution_fails() {
    let def = json!({"QueryLanguage": "JSONata", "StartAt": "S0", "States": {
        "S0": {"Type": "Pass", "Next": "S1"},
        "S1": {"Type": "Pass", "Output": {"result": "{% $doesNotExist %}"}, "End": true}}});
    let out = run(def, json!({}));
    assert_eq!(out.status, ExecutionStatus::Failed);
    assert_eq!(out.error.as_deref(), Some("States.QueryEvaluationError"));
    let cause = "An error occurred while executing the state 'S1' (entered at the event id #4). The JSONata expression '$doesNotExist' specified for the field 'Output/result' returned nothing (undefined).";
    assert_eq!(out.cause.as_deref(), Some(cause));
    assert_eq!(
        types(&out.history),
        vec![
            "ExecutionStarted",
            "PassStateEntered",
            "PassStateExited",
            "PassStateEntered",
            "EvaluationFailed",
            "ExecutionFailed"
        ]
    );
    let ev = &out.history[4];
    assert_eq!(
        ev.previous_event_id, 3,
        "follows what the state's entry followed"
    );
    assert_eq!(
        ev.details_json().unwrap(),
        json!({"cause": cause, "error": "States.QueryEvaluationError",
               "location": "Output/result", "state": "S1"})
    );
    assert_eq!(out.history[5].previous_event_id, 5);
}

#[test]
fn a_map_whose_items_are_not_an_array_fails_the_map_state() {
    let def = json!({"QueryLanguage": "JSONata", "StartAt": "M", "States": {
        "M": {"Type": "Map", "Items": "{% 1 %}", "End": true,
              "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}}}});
    let out = run(def, json!({}));
    assert_eq!(
        types(&out.history),
        vec![
            "ExecutionStarted",
            "MapStateEntered",
            "EvaluationFailed",
            "MapStateFailed",
            "ExecutionFailed"
        ]
    );
}

#[test]
fn query_errors_in_a_task_can_be_caught() {
    let def = json!({"QueryLanguage": "JSONata", "StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
              "Arguments": "{% $nope %}",
              "Catch": [{"ErrorEquals": ["States.QueryEvaluationError"], "Next": "H"}],
              "End": true},
        "H": {"Type": "Pass", "Output": "{% $states.input.Error %}", "End": true}}});
    let out = run(def, json!({}));
    assert_eq!(out.status, ExecutionStatus::Succeeded, "{:?}", out.cause);
    assert_eq!(output(&out), json!("States.QueryEvaluationError"));
}

#[test]
fn jsonpath_states_read_variables_assigned_by_jsonata_states() {
    let def = json!({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "QueryLanguage": "JSONata",
              "Assign": {"v": "{% $states.input.n * 10 %}"}, "Next": "B"},
        "B": {"Type": "Pass", "Parameters": {"v.$": "$v"}, "End": true}}});
    let out = run(def, json!({"n": 4}));
    assert_eq!(output(&out), json!({"v": 40}));
}
