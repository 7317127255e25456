//! Resuming from any prefix of a recorded history gives the very same history: the property
//! durable executions rest on (after a crash, the engine re-runs the definition against what
//! was stored and carries on).

use futures::future::LocalBoxFuture;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use stepwise_asl::error::StateError;
use stepwise_asl::StateMachine;
use stepwise_engine::{
    resume_local, run_local_with, ExecutionOutcome, HistoryEvent, ReplayLog, RunOptions,
    TaskHandler, TaskRequest,
};

/// Answers from the request alone (so a resumed run gets the same answers): fails while the
/// parameters' `attempt` is below `fails`, then echoes the parameters after a `delay`.
struct Flaky;
impl TaskHandler for Flaky {
    fn invoke(&self, req: TaskRequest) -> LocalBoxFuture<'_, Result<Value, StateError>> {
        Box::pin(async move {
            let p = &req.parameters;
            let delay = p.get("delay").and_then(Value::as_u64).unwrap_or(0);
            tokio::time::sleep(std::time::Duration::from_secs(delay)).await;
            let attempt = p.get("attempt").and_then(Value::as_u64).unwrap_or(0);
            let fails = p.get("fails").and_then(Value::as_u64).unwrap_or(0);
            if attempt < fails {
                Err(StateError::new("Flaky", format!("attempt {attempt}")))
            } else {
                Ok(json!({"echo": p}))
            }
        })
    }
}

fn opts() -> RunOptions {
    let start = chrono::DateTime::parse_from_rfc3339("2026-01-02T03:04:05.678Z")
        .map(|t| t.with_timezone(&chrono::Utc))
        .unwrap_or_default();
    RunOptions {
        skip_waits: true,
        seed: 11,
        start_time: start,
        ..RunOptions::default()
    }
}

fn comparable(h: &[HistoryEvent]) -> Vec<Value> {
    h.iter().map(|e| e.to_json()).collect()
}

/// Each thread's own events (type and details) in order: what a resumed run must reproduce
/// whatever the interleaving of concurrent branches.
fn per_thread(h: &[HistoryEvent]) -> BTreeMap<String, Vec<(String, Option<Value>)>> {
    let mut m: BTreeMap<String, Vec<(String, Option<Value>)>> = BTreeMap::new();
    for e in h {
        m.entry(e.thread.to_string())
            .or_default()
            .push((e.kind.to_string(), e.details_json()));
    }
    m
}

fn well_formed(h: &[HistoryEvent]) {
    for (i, e) in h.iter().enumerate() {
        assert_eq!(e.id, i as u64 + 1, "ids gap-free");
        assert!(e.previous_event_id < e.id);
    }
    let terminal = h
        .iter()
        .filter(|e| e.kind.starts_with("Execution") && e.kind != "ExecutionStarted");
    assert_eq!(terminal.count(), 1, "one terminal event");
    assert!(
        h.windows(2).all(|w| w[0].timestamp <= w[1].timestamp),
        "time never goes back"
    );
}

/// Resumes from every prefix. With `exact`, the whole history must come out identical (a
/// single line of execution); otherwise concurrent branches may finish in another order after
/// the resume, as on AWS, and only each thread's own sequence must match.
fn check_every_prefix(def: Value, input: Value, exact: bool) {
    let machine = StateMachine::from_value(&def).unwrap_or_else(|d| panic!("{d:?}"));
    let full: ExecutionOutcome = run_local_with(&machine, input.clone(), &opts(), &Flaky);
    let expected = comparable(&full.history);
    assert!(expected.len() > 3, "a non-trivial history");
    for cut in 1..full.history.len() {
        let log = ReplayLog::new(full.history[..cut].iter().cloned());
        let resumed = resume_local(&machine, input.clone(), &opts(), &Flaky, &log);
        assert_eq!(
            resumed.status, full.status,
            "status after resuming at event {cut}"
        );
        assert_eq!(
            resumed.output, full.output,
            "output after resuming at event {cut}"
        );
        well_formed(&resumed.history);
        let got = comparable(&resumed.history);
        assert_eq!(
            got[..cut],
            expected[..cut],
            "the recorded prefix is kept as it was (cut {cut})"
        );
        if exact {
            if let Some(i) =
                (0..expected.len().max(got.len())).find(|&i| expected.get(i) != got.get(i))
            {
                panic!(
                    "history after resuming at event {cut} differs at index {i}:\n expected {}\n      got {}",
                    expected.get(i).map(|v| v.to_string()).unwrap_or_default(),
                    got.get(i).map(|v| v.to_string()).unwrap_or_default()
                );
            }
        } else {
            assert_eq!(
                per_thread(&resumed.history),
                per_thread(&full.history),
                "per-thread events (cut {cut})"
            );
        }
    }
}

#[test]
fn waits_and_choices() {
    check_every_prefix(
        json!({"StartAt": "W", "States": {
            "W": {"Type": "Wait", "Seconds": 10, "Next": "C"},
            "C": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericGreaterThan": 1, "Next": "Big"}], "Default": "Small"},
            "Big": {"Type": "Pass", "Parameters": {"id.$": "States.UUID()"}, "Next": "W2"},
            "Small": {"Type": "Pass", "End": true},
            "W2": {"Type": "Wait", "Seconds": 5, "End": true}}}),
        json!({"n": 2}),
        true,
    );
}

#[test]
fn task_retries_with_backoff_and_jitter() {
    check_every_prefix(
        json!({"StartAt": "T", "States": {"T": {
            "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"attempt.$": "$$.State.RetryCount", "fails": 2, "delay": 3},
            "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 2, "JitterStrategy": "FULL"}],
            "End": true}}}),
        json!({}),
        true,
    );
}

#[test]
fn parallel_branches_with_different_waits_and_tasks() {
    let branch = |name: &str, wait: u64| {
        json!({"StartAt": format!("{name}W"), "States": {
            format!("{name}W"): {"Type": "Wait", "Seconds": wait, "Next": format!("{name}T")},
            format!("{name}T"): {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage",
                "Parameters": {"b": name, "delay": wait}, "End": true}}})
    };
    check_every_prefix(
        json!({"StartAt": "P", "States": {"P": {"Type": "Parallel",
            "Branches": [branch("A", 7), branch("B", 3), branch("C", 5)], "End": true}}}),
        json!({}),
        false,
    );
}

#[test]
fn map_iterations_with_waits_and_tasks() {
    check_every_prefix(
        json!({"StartAt": "M", "States": {
            "M": {"Type": "Map", "MaxConcurrency": 2, "ItemsPath": "$.items",
                "ItemProcessor": {"StartAt": "W", "States": {
                    "W": {"Type": "Wait", "SecondsPath": "$.w", "Next": "T"},
                    "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                          "Parameters": {"fails.$": "$.fails", "attempt": 0, "delay.$": "$.w"}, "End": true}}},
                "Next": "Done"},
            "Done": {"Type": "Pass", "End": true}}}),
        json!({"items": [{"w": 4, "fails": 0}, {"w": 1, "fails": 0}, {"w": 3, "fails": 0}, {"w": 2, "fails": 0}]}),
        false,
    );
}
