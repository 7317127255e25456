//! Engine behaviour on the manual clock: waits, backoff, timeouts and fan-out are checked through
//! the history's timestamps and ids, without any test sleeping for real.

use futures::future::LocalBoxFuture;
use serde_json::{json, Value};
use std::time::Instant;
use stepwise_asl::error::StateError;
use stepwise_asl::StateMachine;
use stepwise_engine::{
    run_local, run_local_with, CannedTasks, ExecutionOutcome, ExecutionStatus, HistoryEvent,
    RunOptions, TaskHandler, TaskRequest,
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

fn run_tasks(def: Value, input: Value, tasks: Value) -> ExecutionOutcome {
    let canned = CannedTasks::from_json(&tasks).expect("canned responses");
    run_local_with(&machine(def), input, &opts(), &canned)
}

fn types(h: &[HistoryEvent]) -> Vec<&'static str> {
    h.iter().map(|e| e.kind).collect()
}

fn times_of<'a>(h: &'a [HistoryEvent], kind: &str) -> Vec<&'a HistoryEvent> {
    h.iter().filter(|e| e.kind == kind).collect()
}

fn secs_between(a: &HistoryEvent, b: &HistoryEvent) -> f64 {
    (b.timestamp - a.timestamp).num_milliseconds() as f64 / 1000.0
}

/// Ids are 1..n without gaps, each previous id points backwards, one terminal event.
fn assert_well_formed(h: &[HistoryEvent]) {
    for (i, e) in h.iter().enumerate() {
        assert_eq!(e.id, i as u64 + 1, "ids must be gap-free");
        assert!(
            e.previous_event_id < e.id,
            "previousEventId must point back: {e:?}"
        );
    }
    let terminal = h
        .iter()
        .filter(|e| e.kind.starts_with("Execution") && e.kind != "ExecutionStarted");
    assert_eq!(terminal.count(), 1, "exactly one terminal event");
}

#[test]
fn an_hour_long_wait_takes_no_wall_time_but_an_hour_of_history_time() {
    let started = Instant::now();
    let out = run(
        json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": true}}}),
        json!({"a": 1}),
    );
    assert!(started.elapsed().as_secs() < 10);
    assert_eq!(out.status, ExecutionStatus::Succeeded);
    assert_eq!(out.output.as_deref(), Some(r#"{"a":1}"#));
    let h = &out.history;
    assert_well_formed(h);
    let entered = times_of(h, "WaitStateEntered")[0];
    let exited = times_of(h, "WaitStateExited")[0];
    assert_eq!(secs_between(entered, exited), 3600.0);
}

#[test]
fn retry_backoff_follows_interval_rate_and_cap() {
    let def = json!({"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Retry": [{"ErrorEquals": ["Boom"], "IntervalSeconds": 2, "BackoffRate": 3, "MaxAttempts": 3, "MaxDelaySeconds": 10}],
        "End": true}}});
    let boom = json!({"Throw": {"Error": "Boom", "Cause": "c"}});
    let out = run_tasks(
        def,
        json!({}),
        json!({"T": [boom.clone(), boom.clone(), boom, {"Return": {"ok": true}}]}),
    );
    assert_eq!(out.status, ExecutionStatus::Succeeded, "{:?}", out.cause);
    assert_eq!(out.output.as_deref(), Some(r#"{"ok":true}"#));
    let scheduled = times_of(&out.history, "TaskScheduled");
    assert_eq!(scheduled.len(), 4);
    // 2 s, then 2*3 = 6 s, then 18 s capped at 10 s.
    let gaps: Vec<f64> = scheduled
        .windows(2)
        .map(|w| secs_between(w[0], w[1]))
        .collect();
    assert_eq!(gaps, vec![2.0, 6.0, 10.0]);
    assert_well_formed(&out.history);
}

#[test]
fn max_attempts_zero_never_retries_and_the_error_propagates() {
    let def = json!({"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 0}], "End": true}}});
    let out = run_tasks(
        def,
        json!({}),
        json!({"T": {"Throw": {"Error": "Boom", "Cause": "why"}}}),
    );
    assert_eq!(out.status, ExecutionStatus::Failed);
    assert_eq!(
        (out.error.as_deref(), out.cause.as_deref()),
        (Some("Boom"), Some("why"))
    );
    assert_eq!(times_of(&out.history, "TaskScheduled").len(), 1);
}

#[test]
fn full_jitter_is_bounded_and_reproducible_with_a_seed() {
    let def = json!({"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Retry": [{"ErrorEquals": ["Boom"], "IntervalSeconds": 8, "MaxAttempts": 1, "JitterStrategy": "FULL"}],
        "End": true}}});
    let tasks = json!({"T": [{"Throw": {"Error": "Boom", "Cause": ""}}, {"Return": 1}]});
    let gap = || {
        let out = run_tasks(def.clone(), json!({}), tasks.clone());
        let s = times_of(&out.history, "TaskScheduled");
        secs_between(s[0], s[1])
    };
    let (a, b) = (gap(), gap());
    assert_eq!(a, b, "same seed, same jitter");
    assert!(
        (0.0..=8.0).contains(&a),
        "full jitter stays within the interval: {a}"
    );
}

#[test]
fn catch_puts_the_error_output_at_result_path_and_goes_on() {
    let def = json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
              "Catch": [{"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.error", "Next": "Handled"}],
              "End": true},
        "Handled": {"Type": "Pass", "End": true}}});
    let out = run_tasks(
        def,
        json!({"order": 1}),
        json!({"T": {"Throw": {"Error": "Card.Declined", "Cause": "no funds"}}}),
    );
    assert_eq!(out.status, ExecutionStatus::Succeeded);
    let output: Value =
        serde_json::from_str(out.output.as_deref().unwrap_or("null")).unwrap_or_default();
    assert_eq!(
        output,
        json!({"order": 1, "error": {"Error": "Card.Declined", "Cause": "no funds"}})
    );
    assert_eq!(
        types(&out.history),
        vec![
            "ExecutionStarted",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
            "TaskFailed",
            "TaskStateExited",
            "PassStateEntered",
            "PassStateExited",
            "ExecutionSucceeded"
        ]
    );
}

#[test]
fn runtime_errors_are_not_caught_by_states_all() {
    let def = json!({"StartAt": "P", "States": {
        "P": {"Type": "Pass", "InputPath": "$.missing", "End": true}}});
    let out = run(def, json!({}));
    assert_eq!(out.status, ExecutionStatus::Failed);
    assert_eq!(out.error.as_deref(), Some("States.Runtime"));
    assert_eq!(
        out.cause.as_deref(),
        Some("An error occurred while executing the state 'P' (entered at the event id #2). Invalid path '$.missing' : No results for path: $['missing']")
    );
    assert_eq!(
        types(&out.history),
        vec!["ExecutionStarted", "PassStateEntered", "ExecutionFailed"]
    );
}

#[test]
fn a_missing_intermediate_property_is_worded_as_jayway_does() {
    let def = json!({"StartAt": "P", "States": {
        "P": {"Type": "Pass", "OutputPath": "$.no.such.result.path", "End": true}}});
    let out = run(def, json!({"x": 1}));
    assert_eq!(out.error.as_deref(), Some("States.Runtime"));
    assert_eq!(
        out.cause.as_deref(),
        Some("An error occurred while executing the state 'P' (entered at the event id #2). Invalid path '$.no.such.result.path' : Missing property in path $['no']")
    );
}

/// A task that never answers: only a timeout ends it.
struct Never;
impl TaskHandler for Never {
    fn invoke(&self, _req: TaskRequest) -> LocalBoxFuture<'_, Result<Value, StateError>> {
        Box::pin(futures::future::pending())
    }
}

/// Even under skip-waits a call's time limit is real time while the call is in flight (the
/// paused clock would otherwise jump past it while real IO runs elsewhere).
#[test]
fn task_timeout_raises_states_timeout_at_the_deadline() {
    let def = json!({"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage", "TimeoutSeconds": 1, "End": true}}});
    let out = run_local_with(&machine(def), json!({}), &opts(), &Never);
    assert_eq!(out.status, ExecutionStatus::Failed);
    assert_eq!(out.error.as_deref(), Some("States.Timeout"));
    let started = times_of(&out.history, "TaskStarted")[0];
    let timed_out = times_of(&out.history, "TaskTimedOut")[0];
    let waited = secs_between(started, timed_out);
    assert!((1.0..1.5).contains(&waited), "{waited}");
}

#[test]
fn top_level_timeout_ends_the_execution_as_timed_out() {
    let def = json!({"StartAt": "W", "TimeoutSeconds": 5, "States": {"W": {"Type": "Wait", "Seconds": 60, "End": true}}});
    let out = run(def, json!({}));
    assert_eq!(out.status, ExecutionStatus::TimedOut);
    assert_eq!(out.error.as_deref(), Some("States.Timeout"));
    assert_eq!(
        out.history.last().map(|e| e.kind),
        Some("ExecutionTimedOut")
    );
    assert_well_formed(&out.history);
}

#[test]
fn parallel_branches_wait_concurrently() {
    // State names are unique across branches, as AWS requires.
    let wait = |s: u64| {
        let name = format!("W{s}");
        json!({"StartAt": name, "States": {name.clone(): {"Type": "Wait", "Seconds": s, "End": true}}})
    };
    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "Branches": [wait(10), wait(20)], "End": true}}});
    let out = run(def, json!(1));
    assert_eq!(out.status, ExecutionStatus::Succeeded);
    assert_eq!(out.output.as_deref(), Some("[1,1]"));
    let h = &out.history;
    let total = secs_between(&h[0], h.last().expect("events"));
    assert_eq!(
        total, 20.0,
        "branches overlap: the Parallel takes the longest branch's time"
    );
    assert_well_formed(h);
}

#[test]
fn map_iteration_ids_follow_aws_threads() {
    let def = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "MaxConcurrency": 1,
        "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}, "End": true}}});
    let out = run(def, json!([1, 2]));
    let pairs: Vec<(u64, u64, &str)> = out
        .history
        .iter()
        .map(|e| (e.id, e.previous_event_id, e.kind))
        .collect();
    assert_eq!(
        pairs,
        vec![
            (1, 0, "ExecutionStarted"),
            (2, 0, "MapStateEntered"),
            (3, 2, "MapStateStarted"),
            (4, 3, "MapIterationStarted"),
            (5, 4, "PassStateEntered"),
            (6, 5, "PassStateExited"),
            (7, 6, "MapIterationSucceeded"),
            (8, 6, "MapIterationStarted"),
            (9, 8, "PassStateEntered"),
            (10, 9, "PassStateExited"),
            (11, 10, "MapIterationSucceeded"),
            (12, 11, "MapStateSucceeded"),
            (13, 11, "MapStateExited"),
            (14, 13, "ExecutionSucceeded"),
        ]
    );
}

#[test]
fn map_tolerates_failures_up_to_its_count() {
    let def = |count: u64| {
        json!({"StartAt": "M", "States": {"M": {"Type": "Map", "ToleratedFailureCount": count,
        "ItemProcessor": {"StartAt": "C", "States": {
            "C": {"Type": "Choice", "Choices": [{"Variable": "$", "NumericEquals": 0, "Next": "F"}], "Default": "P"},
            "F": {"Type": "Fail", "Error": "Zero", "Cause": "zero item"},
            "P": {"Type": "Pass", "End": true}}}, "End": true}}})
    };
    let ok = run(def(1), json!([1, 0, 2]));
    assert_eq!(ok.status, ExecutionStatus::Succeeded);
    let over = run(def(0), json!([1, 0, 2]));
    assert_eq!(over.status, ExecutionStatus::Failed);
    assert_eq!(
        over.error.as_deref(),
        Some("States.ExceedToleratedFailureThreshold")
    );
}

#[test]
fn outputs_over_256_kib_fail_with_data_limit_exceeded_with_or_without_history() {
    let big = "x".repeat(300 * 1024);
    let def =
        json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": big, "End": true}}});
    for record_history in [true, false] {
        let o = RunOptions {
            record_history,
            ..opts()
        };
        let out = run_local(&machine(def.clone()), json!({}), &o);
        assert_eq!(out.status, ExecutionStatus::Failed);
        assert_eq!(out.error.as_deref(), Some("States.DataLimitExceeded"));
    }
}

#[test]
fn retry_count_in_the_context_object_counts_attempts() {
    let def = json!({"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"attempt.$": "$$.State.RetryCount"},
        "Retry": [{"ErrorEquals": ["Boom"], "MaxAttempts": 2}], "End": true}}});
    let boom = json!({"Throw": {"Error": "Boom", "Cause": ""}});
    let out = run_tasks(
        def,
        json!({}),
        json!({"T": [boom.clone(), boom, {"Return": "done"}]}),
    );
    assert_eq!(out.status, ExecutionStatus::Succeeded);
    let params: Vec<String> = out
        .history
        .iter()
        .filter(|e| e.kind == "TaskScheduled")
        .map(|e| {
            e.to_json()["taskScheduledEventDetails"]["parameters"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    assert_eq!(
        params,
        vec![r#"{"attempt":0}"#, r#"{"attempt":1}"#, r#"{"attempt":2}"#]
    );
}

/// Collects what the engine hands to storage, noting where flush barriers fall.
#[derive(Default)]
struct Recorder {
    log: std::cell::RefCell<Vec<String>>,
}

impl stepwise_engine::EventSink for Recorder {
    fn record(&self, event: &HistoryEvent) {
        self.log
            .borrow_mut()
            .push(format!("{}:{}", event.id, event.kind));
    }
    fn flush(&self) -> LocalBoxFuture<'_, ()> {
        self.log.borrow_mut().push("flush".into());
        Box::pin(async {})
    }
}

#[test]
fn events_reach_the_sink_and_are_flushed_before_the_task_runs() {
    let def = json!({"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true}}});
    let m = machine(def);
    let canned = CannedTasks::from_json(&json!({"T": {"Return": 1}})).expect("canned");
    let sink = Recorder::default();
    let o = RunOptions {
        record_history: false,
        ..opts()
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime");
    let out = rt.block_on(stepwise_engine::execute(
        &m,
        json!({}),
        &o,
        &canned,
        &stepwise_engine::ReplayLog::default(),
        Some(&sink),
    ));
    assert_eq!(out.status, ExecutionStatus::Succeeded);
    assert!(
        out.history.is_empty(),
        "history off: nothing kept in memory"
    );
    assert_eq!(
        sink.log.into_inner(),
        vec![
            "1:ExecutionStarted",
            "2:TaskStateEntered",
            "3:TaskScheduled",
            "4:TaskStarted",
            "flush",
            "5:TaskSucceeded",
            "6:TaskStateExited",
            "7:ExecutionSucceeded",
            "flush"
        ]
    );
}
