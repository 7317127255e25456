//! Tests of the harness itself on real recorded data: a backend that replays the recording
//! must pass every in-scope case, normalisation is idempotent on the recorded form, and
//! differences are reported with their JSON path.

use std::sync::Arc;

use serde_json::{json, Value};
use stepwise_conformance::compare::{compare_history, diff};
use stepwise_conformance::normalize::Normaliser;
use stepwise_conformance::run::{
    exec_request, judge_execution, DiagnosticInfo, ExecRequest, RunOutput,
};
use stepwise_conformance::{corpus_dir, load_corpus, run_corpus, Backend, Case, Scope, Selection};

fn corpus() -> Option<Vec<Case>> {
    let dir = corpus_dir();
    if !dir.join("cases").is_dir() {
        eprintln!(
            "conformance corpus not found at {}, skipping",
            dir.display()
        );
        return None;
    }
    Some(load_corpus(&dir).expect("corpus loads").0)
}

/// Turns a recorded (decoded) event back into raw GetExecutionHistory form: the members that
/// were JSON text become text again.
fn encode_event(e: &Value) -> Value {
    let mut e = e.clone();
    if let Value::Object(m) = &mut e {
        for (k, details) in m.iter_mut() {
            if !k.ends_with("EventDetails") {
                continue;
            }
            if let Value::Object(d) = details {
                for (dk, dv) in d.iter_mut() {
                    if dk == "assignedVariables" {
                        if let Value::Object(vars) = dv {
                            for (_, v) in vars.iter_mut() {
                                if v.is_object() {
                                    *v = Value::String(v.to_string());
                                }
                            }
                        }
                    } else if !dk.ends_with("Details") && dv.is_object() {
                        *dv = Value::String(dv.to_string());
                    }
                }
            }
        }
    }
    e
}

/// Replays each case's own recording (looked up by the execution's input and definition).
struct Replay {
    cases: Vec<Case>,
}

impl Replay {
    fn find(&self, req: &ExecRequest) -> Option<&Case> {
        self.cases.iter().find(|c| {
            c.definition == req.definition
                && c.input == req.input
                && exec_request(c).execution_arn == req.execution_arn
        })
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl Backend for Replay {
    fn run(&self, req: &ExecRequest) -> Result<RunOutput, String> {
        let c = self.find(req).ok_or("no recording")?;
        let e = &c.expected;
        Ok(RunOutput {
            status: c.expected_status().unwrap_or("").to_string(),
            output: e.get("output").map(|o| o.to_string()),
            error: e.get("error").map(text),
            cause: e.get("cause").map(text),
            history: c
                .expected_history()
                .map(|h| h.iter().map(encode_event).collect())
                .unwrap_or_default(),
        })
    }

    fn validate(&self, text: &str, express: bool) -> Option<Vec<DiagnosticInfo>> {
        let c = self
            .cases
            .iter()
            .find(|c| c.definition_text() == text && c.is_express() == express)?;
        if c.kind == "validate_definition" {
            let d = c.expected.get("diagnostics")?.as_array()?;
            return Some(
                d.iter()
                    .map(|d| {
                        let s =
                            |k: &str| d.get(k).and_then(Value::as_str).unwrap_or("").to_string();
                        DiagnosticInfo {
                            is_error: s("severity") == "ERROR",
                            code: s("code"),
                            message: s("message"),
                            location: s("location"),
                            aws_text: String::new(),
                        }
                    })
                    .collect(),
            );
        }
        let msg = c.expected.get("api_error")?.get("message")?.as_str()?;
        let inner = msg
            .strip_prefix("Invalid State Machine Definition: '")
            .and_then(|s| s.strip_suffix('\''));
        let (code, aws_text) = match inner.and_then(|t| t.split_once(": ").map(|(c, _)| (c, t))) {
            Some((code, t)) => (code.to_string(), t.to_string()),
            None => ("SCHEMA_VALIDATION_FAILED".to_string(), msg.to_string()),
        };
        Some(vec![DiagnosticInfo {
            is_error: true,
            code,
            message: String::new(),
            location: String::new(),
            aws_text,
        }])
    }
}

#[test]
fn replaying_the_recording_passes_every_case() {
    let Some(cases) = corpus() else { return };
    let dir = corpus_dir();
    let run =
        run_corpus(&dir, &Selection::default(), Arc::new(Replay { cases })).expect("corpus runs");
    let mut bad = Vec::new();
    for r in &run.results {
        if matches!(r.scope, Scope::Skip(_)) {
            continue;
        }
        if !r.failing().is_empty() {
            bad.push(r.failure_text());
        }
    }
    assert!(
        bad.is_empty(),
        "{} false failures, e.g.:\n{}",
        bad.len(),
        bad.iter().take(5).cloned().collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn normalising_the_recorded_form_is_idempotent() {
    let Some(cases) = corpus() else { return };
    let sel = Selection::default();
    let mut checked = 0;
    for c in cases.iter().filter(|c| sel.scope(c) == Scope::Execution) {
        let Some(h) = c.expected_history() else {
            continue;
        };
        let mut doc = json!({ "events": h });
        let mut n = Normaliser::new(c);
        n.apply(&mut doc);
        assert_eq!(doc["events"], Value::Array(h.clone()), "case {}", c.id);
        checked += 1;
    }
    assert!(checked > 100, "only {checked} histories checked");
}

fn fail_path_case(cases: &[Case]) -> Option<&Case> {
    cases
        .iter()
        .find(|c| c.id == "v2__base__test_base__TestSnfBase__test_state_fail_path")
}

#[test]
fn a_difference_is_reported_with_its_path() {
    let Some(cases) = corpus() else { return };
    let Some(c) = fail_path_case(&cases) else {
        return;
    };
    let recorded = c.expected_history().expect("history recorded");
    let mut ours: Vec<Value> = recorded.iter().map(encode_event).collect();
    ours[1]["stateEnteredEventDetails"]["name"] = json!("OtherState");
    ours[2]["timestamp"] = json!(1707313776.5);
    let mut n = Normaliser::new(c);
    let d = compare_history(recorded, &n.history(ours), false);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].path, "history[1].stateEnteredEventDetails.name");
    assert_eq!(d[0].expected, "\"FailState\"");
    assert_eq!(d[0].actual, "\"OtherState\"");
}

#[test]
fn recorded_placeholders_are_wildcards() {
    let Some(cases) = corpus() else { return };
    let Some(c) = fail_path_case(&cases) else {
        return;
    };
    let recorded = &c.expected_history().expect("history recorded")[0];
    let mut ours = encode_event(recorded);
    ours["timestamp"] = json!(1707313776.123);
    ours["executionStartedEventDetails"]["roleArn"] = json!(c
        .replacement_source("snf_role_arn")
        .expect("role in normalize"));
    let mut n = Normaliser::new(c);
    let ours = n.history(vec![ours]);
    assert!(diff(recorded, &ours[0], "$").is_empty());
    // Without normalisation the role ARN is a real difference.
    assert!(!diff(&recorded["executionStartedEventDetails"], &json!({"input": {"Error": "error string", "Cause": "cause string"}, "inputDetails": {"truncated": false}, "roleArn": "arn:aws:iam::1:role/x"}), "$").is_empty());
}

#[test]
fn a_wrong_status_fails_the_result_check() {
    let Some(cases) = corpus() else { return };
    let Some(c) = fail_path_case(&cases) else {
        return;
    };
    let out = RunOutput {
        status: "SUCCEEDED".into(),
        output: Some("{}".into()),
        ..RunOutput::default()
    };
    let checks = judge_execution(c, &out);
    let r = &checks[&stepwise_conformance::Check::Result];
    match r {
        stepwise_conformance::Outcome::Fail(d) => assert!(
            d.starts_with("status: expected FAILED got SUCCEEDED"),
            "{d}"
        ),
        other => panic!("expected a failure, got {other:?}"),
    }
}
