//! Parking: idle Standard executions (a long Wait or retry delay, an unanswered task token)
//! are unloaded and resumed by replay when a timer, an answer or a stop wakes them.

mod common;
use common::{config, event_kinds, history, machine_of_kind, request, start, wait_for};

use futures::future::LocalBoxFuture;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use stepwise_asl::error::StateError;
use stepwise_asl::StateMachine;
use stepwise_engine::run::{run_local, RunOptions, HISTORY_LIMIT, HISTORY_LIMIT_CAUSE};
use stepwise_engine::runtime::Runtime;
use stepwise_engine::{TaskHandler, TaskRequest};
use stepwise_store::{
    ActivityRecord, ExecutionStatus, HistoryEventRow, MemoryStore, SqliteStore, StateMachineType,
    Store,
};

const ACTIVITY: &str = "arn:aws:states:us-east-1:123456789012:activity:work";

/// Waits until `f` holds (the runtime's counters move on its worker threads).
fn until(what: &str, secs: u64, f: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn assert_well_formed(events: &[HistoryEventRow]) {
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e.id, i as u64 + 1, "gap-free ids: {events:?}");
    }
    let ends = events
        .iter()
        .filter(|e| e.kind.starts_with("Execution") && e.kind != "ExecutionStarted")
        .count();
    assert_eq!(ends, 1, "one terminal event: {events:?}");
}

/// The history's shape: kinds and previous ids, as an unparked run records them.
fn shape(events: &[HistoryEventRow]) -> Vec<(String, u64)> {
    events
        .iter()
        .map(|e| (e.kind.clone(), e.previous_event_id))
        .collect()
}

/// The same definition run in process (never parked), as the reference shape.
fn reference_shape(definition: &Value, input: Value) -> Vec<(String, u64)> {
    let sm = StateMachine::from_text(&definition.to_string(), &Default::default())
        .expect("valid definition");
    let opts = RunOptions {
        skip_waits: true,
        ..RunOptions::default()
    };
    run_local(&sm, input, &opts)
        .history
        .iter()
        .map(|e| (e.kind.to_string(), e.previous_event_id))
        .collect()
}

fn ts(events: &[HistoryEventRow], kind: &str) -> i64 {
    events
        .iter()
        .find(|e| e.kind == kind)
        .unwrap_or_else(|| panic!("no {kind}"))
        .timestamp
}

#[test]
fn a_five_second_wait_parks_wakes_and_records_the_same_history() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("s.db")).expect("db"));
    let rt = Runtime::start(store.clone(), config()).expect("runtime");
    let def = json!({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Parameters": {"id.$": "States.UUID()"}, "ResultPath": "$.a", "Next": "W"},
        "W": {"Type": "Wait", "Seconds": 5, "Next": "B"},
        "B": {"Type": "Pass", "Result": "done", "ResultPath": "$.b", "End": true}}});
    let sm = machine_of_kind("waits", StateMachineType::Standard, &def);
    let arn = start(&rt, &sm, "e", json!({"n": 1}));
    until("the execution to park", 10, || rt.parked_executions() == 1);
    assert_eq!(rt.live_executions(), 0, "its future is dropped");
    let timers = store.timers_for(&arn).expect("timers");
    assert_eq!(timers.len(), 1, "one durable wake-up: {timers:?}");
    let rec = wait_for(&*store, &arn, ExecutionStatus::Succeeded, 15);
    assert_eq!(rt.parked_executions(), 0);
    assert!(store.timers_for(&arn).expect("timers").is_empty());
    let events = history(&*store, &arn);
    assert_well_formed(&events);
    assert_eq!(shape(&events), reference_shape(&def, json!({"n": 1})));
    // The UUID drawn before parking is the one kept after the replay.
    let out: Value = serde_json::from_str(rec.output.as_deref().unwrap_or("null")).expect("json");
    let exited = events
        .iter()
        .find(|e| e.kind == "PassStateExited")
        .and_then(|e| e.details.clone())
        .unwrap_or_default();
    assert!(exited.contains(out["a"]["id"].as_str().unwrap_or("?")));
    let waited = ts(&events, "WaitStateExited") - ts(&events, "WaitStateEntered");
    println!(
        "wait of 5000 ms took {waited} ms (wake latency {} ms)",
        waited - 5000
    );
    assert!((5000..6500).contains(&waited), "waited {waited} ms");
    until("the future to go", 5, || rt.live_executions() == 0);
    rt.shutdown();
}

#[test]
fn short_waits_and_express_executions_stay_loaded() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let rt = Runtime::start(store.clone(), config()).expect("runtime");
    let short =
        json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 1, "End": true}}});
    let sm = machine_of_kind("short", StateMachineType::Standard, &short);
    let arn = start(&rt, &sm, "e", json!({}));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!((rt.live_executions(), rt.parked_executions()), (1, 0));
    wait_for(&*store, &arn, ExecutionStatus::Succeeded, 10);

    let long =
        json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3, "End": true}}});
    let express = machine_of_kind("express", StateMachineType::Express, &long);
    rt.set_park_after(Some(Duration::from_millis(100)));
    let rt2 = rt.clone();
    let sync =
        std::thread::spawn(move || rt2.start_sync_execution(request(&express, "x", &json!({}))));
    let rt3 = rt.clone();
    let express2 = machine_of_kind("express2", StateMachineType::Express, &long);
    rt3.start_execution(request(&express2, "y", &json!({})))
        .expect("async express");
    std::thread::sleep(Duration::from_millis(1000));
    assert_eq!((rt.live_executions(), rt.parked_executions()), (2, 0));
    let r = sync.join().expect("joined").expect("sync");
    assert_eq!(r.status, "SUCCEEDED");
    rt.shutdown();
}

#[test]
fn parallel_branches_and_retry_delays_park_as_a_whole() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let rt = Runtime::start_with_tasks(
        store.clone(),
        config(),
        Arc::new(move || Box::new(FailsOnce(c.clone()))),
    )
    .expect("runtime");
    rt.set_park_after(Some(Duration::from_millis(500)));
    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [
        {"StartAt": "W1", "States": {"W1": {"Type": "Wait", "Seconds": 2, "End": true}}},
        {"StartAt": "T", "States": {"T": {"Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName": "f"},
            "Retry": [{"ErrorEquals": ["Boom"], "IntervalSeconds": 3, "BackoffRate": 1.0}],
            "End": true}}}]}}});
    let sm = machine_of_kind("par", StateMachineType::Standard, &def);
    let arn = start(&rt, &sm, "e", json!({}));
    until("the execution to park", 10, || rt.parked_executions() == 1);
    assert_eq!(rt.live_executions(), 0);
    wait_for(&*store, &arn, ExecutionStatus::Succeeded, 15);
    // Called once, failed, parked through its retry delay, called again once.
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    let events = history(&*store, &arn);
    assert_well_formed(&events);
    let k: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(k.iter().filter(|k| **k == "TaskFailed").count(), 1);
    assert_eq!(k.iter().filter(|k| **k == "TaskScheduled").count(), 2);
    let failed = ts(&events, "TaskFailed");
    let again = events
        .iter()
        .filter(|e| e.kind == "TaskScheduled")
        .map(|e| e.timestamp)
        .max()
        .unwrap_or(0);
    assert!(
        (3000..4500).contains(&(again - failed)),
        "the retry delay counts from the failure: {} ms",
        again - failed
    );
    rt.shutdown();
}

/// Fails its first call with `Boom`, succeeds after.
struct FailsOnce(Arc<AtomicUsize>);

impl TaskHandler for FailsOnce {
    fn invoke(&self, _req: TaskRequest) -> LocalBoxFuture<'_, Result<Value, StateError>> {
        let n = self.0.fetch_add(1, Ordering::SeqCst);
        Box::pin(async move {
            if n == 0 {
                Err(StateError::new("Boom", "first call"))
            } else {
                Ok(json!({"ok": true}))
            }
        })
    }
}

/// Accepts every call (the "message was sent") and hands the token to the test.
struct Accepting {
    tokens: Arc<Mutex<Vec<String>>>,
    calls: Arc<AtomicUsize>,
}

impl TaskHandler for Accepting {
    fn invoke(&self, req: TaskRequest) -> LocalBoxFuture<'_, Result<Value, StateError>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if let Some(t) = req.task_token {
            self.tokens
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(t);
        }
        Box::pin(async { Ok(json!({"MessageId": "m-1"})) })
    }
}

type Accepted = (Runtime, Arc<Mutex<Vec<String>>>, Arc<AtomicUsize>);

fn accepting(store: Arc<dyn Store>) -> Accepted {
    let tokens: Arc<Mutex<Vec<String>>> = Arc::default();
    let calls: Arc<AtomicUsize> = Arc::default();
    let (t, c) = (tokens.clone(), calls.clone());
    let rt = Runtime::start_with_tasks(
        store,
        config(),
        Arc::new(move || {
            Box::new(Accepting {
                tokens: t.clone(),
                calls: c.clone(),
            })
        }),
    )
    .expect("runtime");
    (rt, tokens, calls)
}

fn take_tokens(tokens: &Mutex<Vec<String>>, n: usize) -> Vec<String> {
    until("tokens handed out", 600, || {
        tokens.lock().unwrap_or_else(|e| e.into_inner()).len() >= n
    });
    std::mem::take(&mut *tokens.lock().unwrap_or_else(|e| e.into_inner()))
}

fn callback_def(extra: Value) -> Value {
    let mut task = json!({"Type": "Task",
        "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {"QueueUrl.$": "$.QueueUrl",
            "MessageBody": {"Message.$": "$.Message", "TaskToken.$": "$$.Task.Token"}},
        "End": true});
    if let (Some(t), Some(e)) = (task.as_object_mut(), extra.as_object()) {
        t.extend(e.clone());
    }
    json!({"StartAt": "Send", "States": {"Send": task}})
}

fn activity_def() -> Value {
    json!({"StartAt": "Work", "States": {"Work": {"Type": "Task", "Resource": ACTIVITY, "End": true}}})
}

fn with_activity(store: &dyn Store) {
    store
        .create_activity(ActivityRecord {
            arn: ACTIVITY.into(),
            name: "work".into(),
            creation_date: 0,
            encryption_configuration: None,
        })
        .expect("activity");
}

const CALLBACK_KINDS: [&str; 8] = [
    "ExecutionStarted",
    "TaskStateEntered",
    "TaskScheduled",
    "TaskStarted",
    "TaskSubmitted",
    "TaskSucceeded",
    "TaskStateExited",
    "ExecutionSucceeded",
];

#[test]
fn a_callback_parks_and_its_answer_wakes_it() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let (rt, tokens, calls) = accepting(store.clone());
    rt.set_park_after(Some(Duration::from_millis(200)));
    let sm = machine_of_kind("cb", StateMachineType::Standard, &callback_def(json!({})));
    let arn = start(&rt, &sm, "e", json!({"QueueUrl": "q", "Message": "hi"}));
    let token = take_tokens(&tokens, 1).remove(0);
    until("the execution to park", 10, || rt.parked_executions() == 1);
    assert_eq!(rt.live_executions(), 0);
    let t0 = Instant::now();
    rt.send_task_success(&token, r#"{"answer":42}"#.into())
        .expect("success");
    let rec = wait_for(&*store, &arn, ExecutionStatus::Succeeded, 10);
    println!(
        "SendTaskSuccess to a parked execution: SUCCEEDED after {:.1} ms",
        t0.elapsed().as_secs_f64() * 1000.0
    );
    assert_eq!(rec.output.as_deref(), Some(r#"{"answer":42}"#));
    assert_eq!(event_kinds(&*store, &arn), CALLBACK_KINDS);
    assert_well_formed(&history(&*store, &arn));
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "the message is not sent again"
    );
    assert_eq!(rt.parked_executions(), 0);
    rt.shutdown();
}

#[test]
fn answers_racing_the_parking_are_never_lost() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let (rt, tokens, calls) = accepting(store.clone());
    rt.set_park_after(Some(Duration::from_millis(30)));
    let sm = machine_of_kind("race", StateMachineType::Standard, &callback_def(json!({})));
    let n = 100;
    // Each answered 0 to 60 ms after its token was handed out: before, while and after the
    // execution parks (30 ms after it began waiting, plus the write of its timer).
    let arns: Vec<String> = (0..n)
        .map(|i| {
            let arn = start(
                &rt,
                &sm,
                &format!("e{i}"),
                json!({"QueueUrl": "q", "Message": i}),
            );
            let t = take_tokens(&tokens, 1).remove(0);
            std::thread::sleep(Duration::from_micros((i as u64 * 7919) % 60_000));
            rt.send_task_success(&t, "{}".into()).expect("success");
            arn
        })
        .collect();
    for arn in &arns {
        wait_for(&*store, arn, ExecutionStatus::Succeeded, 30);
        assert_eq!(event_kinds(&*store, arn), CALLBACK_KINDS);
    }
    assert_eq!(calls.load(Ordering::SeqCst), n);
    until("nothing left parked or loaded", 10, || {
        rt.parked_executions() == 0 && rt.live_executions() == 0
    });
    rt.shutdown();
}

#[test]
fn an_activity_parks_while_scheduled_and_while_taken() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    with_activity(&*store);
    let rt = Runtime::start(store.clone(), config()).expect("runtime");
    rt.set_park_after(Some(Duration::from_millis(200)));
    let sm = machine_of_kind("act", StateMachineType::Standard, &activity_def());
    let arn = start(&rt, &sm, "e", json!({"n": 7}));
    until("the execution to park", 10, || rt.parked_executions() == 1);
    let task = rt
        .get_activity_task(ACTIVITY, Some("w1".into()), Duration::from_secs(5))
        .expect("poll")
        .expect("a task");
    assert_eq!(task.input, r#"{"n":7}"#);
    // Taking the task wakes it to record ActivityStarted; then it parks again.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !event_kinds(&*store, &arn)
        .iter()
        .any(|k| k == "ActivityStarted")
    {
        assert!(Instant::now() < deadline, "no ActivityStarted");
        std::thread::sleep(Duration::from_millis(10));
    }
    until("the execution to park again", 10, || {
        rt.parked_executions() == 1 && rt.live_executions() == 0
    });
    rt.send_task_success(&task.task_token, "\"ok\"".into())
        .expect("success");
    wait_for(&*store, &arn, ExecutionStatus::Succeeded, 10);
    assert_eq!(
        event_kinds(&*store, &arn),
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "ActivityScheduled",
            "ActivityStarted",
            "ActivitySucceeded",
            "TaskStateExited",
            "ExecutionSucceeded"
        ]
    );
    rt.shutdown();
}

#[test]
fn a_parked_heartbeat_times_out_on_time() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let (rt, tokens, _) = accepting(store.clone());
    rt.set_park_after(Some(Duration::from_millis(200)));
    let sm = machine_of_kind(
        "hb",
        StateMachineType::Standard,
        &callback_def(json!({"HeartbeatSeconds": 3})),
    );
    let arn = start(&rt, &sm, "e", json!({"QueueUrl": "q", "Message": "m"}));
    let token = take_tokens(&tokens, 1).remove(0);
    until("the execution to park", 10, || rt.parked_executions() == 1);
    // A heartbeat while parked moves the deadline: the execution wakes at the old one, finds
    // the new one in the token's record and parks again.
    std::thread::sleep(Duration::from_millis(1500));
    rt.send_task_heartbeat(&token).expect("heartbeat");
    let rec = wait_for(&*store, &arn, ExecutionStatus::Failed, 15);
    // AWS records a heartbeat timeout as States.Timeout (corpus: test_heartbeat_timeout).
    assert_eq!(rec.error.as_deref(), Some("States.Timeout"));
    let events = history(&*store, &arn);
    assert_well_formed(&events);
    let waited = ts(&events, "TaskTimedOut") - ts(&events, "TaskSubmitted");
    assert!(
        (4300..6500).contains(&waited),
        "timed out after {waited} ms"
    );
    rt.shutdown();
}

#[test]
fn stopping_a_parked_execution_aborts_it() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let rt = Runtime::start(store.clone(), config()).expect("runtime");
    let def =
        json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 600, "End": true}}});
    let sm = machine_of_kind("stop", StateMachineType::Standard, &def);
    let arn = start(&rt, &sm, "e", json!({}));
    until("the execution to park", 10, || rt.parked_executions() == 1);
    rt.stop_execution(&arn, Some("E".into()), Some("C".into()))
        .expect("stop");
    let rec = store.get_execution(&arn).expect("record");
    assert_eq!(rec.status, ExecutionStatus::Aborted);
    assert_eq!(
        event_kinds(&*store, &arn),
        ["ExecutionStarted", "WaitStateEntered", "ExecutionAborted"]
    );
    assert_eq!((rt.parked_executions(), rt.live_executions()), (0, 0));
    assert!(store.timers_for(&arn).expect("timers").is_empty());

    // A parked callback: its token closes with the stop.
    let (rt2, tokens, _) = accepting(store.clone());
    rt2.set_park_after(Some(Duration::from_millis(200)));
    let sm = machine_of_kind(
        "stopcb",
        StateMachineType::Standard,
        &callback_def(json!({})),
    );
    let arn = start(&rt2, &sm, "e", json!({"QueueUrl": "q", "Message": "m"}));
    let token = take_tokens(&tokens, 1).remove(0);
    until("the callback to park", 10, || rt2.parked_executions() == 1);
    rt2.stop_execution(&arn, None, None).expect("stop");
    assert_eq!(
        rt2.send_task_success(&token, "1".into()),
        Err(stepwise_engine::tokens::TokenError::TaskTimedOut)
    );
    assert_eq!(
        store.get_execution(&arn).expect("record").status,
        ExecutionStatus::Aborted
    );
    rt.shutdown();
    rt2.shutdown();
}

#[test]
fn parked_executions_survive_a_restart_without_being_loaded() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s.db");
    let wait = json!({"StartAt": "W", "States": {
        "W": {"Type": "Wait", "Seconds": 4, "Next": "P"},
        "P": {"Type": "Pass", "End": true}}});
    let wait_sm = machine_of_kind("w", StateMachineType::Standard, &wait);
    let cb_sm = machine_of_kind("cb", StateMachineType::Standard, &callback_def(json!({})));
    let act_sm = machine_of_kind("act", StateMachineType::Standard, &activity_def());
    let input = json!({"QueueUrl": "q", "Message": "m"});
    let (waiting, cbs, act, tokens) = {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).expect("open"));
        with_activity(&*store);
        let (rt, tokens, _) = accepting(store.clone());
        rt.set_park_after(Some(Duration::from_millis(300)));
        let waiting = start(&rt, &wait_sm, "w", json!({}));
        let cbs = [
            start(&rt, &cb_sm, "answered-later", input.clone()),
            start(&rt, &cb_sm, "answered-while-down", input.clone()),
        ];
        let act = start(&rt, &act_sm, "a", json!({}));
        let tokens = take_tokens(&tokens, 2);
        until("all four to park", 10, || rt.parked_executions() == 4);
        rt.shutdown();
        (waiting, cbs, act, tokens)
    };
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).expect("reopen"));
    // One callback's answer reaches the store while the server is down.
    let token_of = |arn: &str| {
        tokens
            .iter()
            .find(|t| store.get_task_token(t).map(|r| r.execution_arn) == Ok(arn.to_string()))
            .cloned()
            .expect("token")
    };
    let mut rec = store
        .get_task_token(&token_of(&cbs[1]))
        .expect("token stored");
    rec.status = stepwise_store::TaskTokenStatus::Succeeded;
    rec.output = Some("42".into());
    store.update_task_token(rec, vec![]).expect("answer");
    let (rt, _, calls) = accepting(store.clone());
    rt.set_park_after(Some(Duration::from_millis(300)));
    // Three are adopted without being loaded; the answered one runs to its end.
    wait_for(&*store, &cbs[1], ExecutionStatus::Succeeded, 10);
    until("three adopted", 10, || {
        rt.parked_executions() == 3 && rt.live_executions() == 0
    });
    rt.send_task_success(&token_of(&cbs[0]), "1".into())
        .expect("the token survived");
    wait_for(&*store, &cbs[0], ExecutionStatus::Succeeded, 10);
    let task = rt
        .get_activity_task(ACTIVITY, None, Duration::from_secs(5))
        .expect("poll")
        .expect("the activity task survived");
    rt.send_task_success(&task.task_token, "2".into())
        .expect("success");
    wait_for(&*store, &act, ExecutionStatus::Succeeded, 10);
    wait_for(&*store, &waiting, ExecutionStatus::Succeeded, 15);
    assert_eq!(calls.load(Ordering::SeqCst), 0, "no message sent twice");
    for arn in [&waiting, &cbs[0], &cbs[1], &act] {
        assert_well_formed(&history(&*store, arn));
    }
    for arn in &cbs {
        assert_eq!(event_kinds(&*store, arn), CALLBACK_KINDS);
    }
    assert_eq!((rt.parked_executions(), rt.live_executions()), (0, 0));
    rt.shutdown();
}

fn counting_loop(limit: u64) -> Value {
    json!({"StartAt": "Inc", "States": {
        "Inc": {"Type": "Pass", "Parameters": {"i.$": "States.MathAdd($.i, 1)"}, "Next": "Loop"},
        "Loop": {"Type": "Choice", "Default": "Done",
            "Choices": [{"Variable": "$.i", "NumericLessThan": limit, "Next": "Inc"}]},
        "Done": {"Type": "Succeed"}}})
}

#[test]
fn a_history_stops_at_25000_events() {
    // 4 events per turn: 7,000 turns need 28,000.
    let sm = StateMachine::from_text(&counting_loop(7000).to_string(), &Default::default())
        .expect("valid");
    let out = run_local(&sm, json!({"i": 0}), &RunOptions::default());
    assert_eq!(out.history.len() as u64, HISTORY_LIMIT);
    let last = out.history.last().expect("events");
    assert_eq!((last.id, last.kind), (HISTORY_LIMIT, "ExecutionFailed"));
    assert_eq!(out.error.as_deref(), Some("States.Runtime"));
    assert_eq!(out.cause.as_deref(), Some(HISTORY_LIMIT_CAUSE));
    let ids: Vec<u64> = out.history.iter().map(|e| e.id).collect();
    assert!(ids.windows(2).all(|w| w[1] == w[0] + 1));

    // ExecutionStarted, 4 events per turn, the Succeed state's 2 and ExecutionSucceeded:
    // 6,249 turns end exactly at event 25,000 (allowed: it is ExecutionSucceeded); one more
    // turn would put ChoiceStateEntered there.
    let run = |turns: u64| {
        let sm = StateMachine::from_text(&counting_loop(turns).to_string(), &Default::default())
            .expect("valid");
        run_local(&sm, json!({"i": 0}), &RunOptions::default())
    };
    let out = run(6249);
    assert_eq!((out.error.as_deref(), out.history.len()), (None, 25_000));
    assert_eq!(out.history[24_999].kind, "ExecutionSucceeded");
    let out = run(6250);
    assert_eq!(out.history.len(), 25_000);
    assert_eq!(out.history[24_998].kind, "PassStateExited");
    assert_eq!(out.history[24_999].kind, "ExecutionFailed");
    assert_eq!(out.cause.as_deref(), Some(HISTORY_LIMIT_CAUSE));

    // Express executions have no such limit.
    let opts = RunOptions {
        express: true,
        record_history: false,
        ..RunOptions::default()
    };
    let sm = StateMachine::from_text(&counting_loop(7000).to_string(), &Default::default())
        .expect("valid");
    let out = run_local(&sm, json!({"i": 0}), &opts);
    assert_eq!(out.error, None);
    assert_eq!(out.output.as_deref(), Some(r#"{"i":7000}"#));
}

#[test]
fn a_stored_history_stops_at_25000_events() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let rt = Runtime::start(store.clone(), config()).expect("runtime");
    let sm = machine_of_kind("long", StateMachineType::Standard, &counting_loop(7000));
    let arn = start(&rt, &sm, "e", json!({"i": 0}));
    let rec = wait_for(&*store, &arn, ExecutionStatus::Failed, 120);
    assert_eq!(rec.error.as_deref(), Some("States.Runtime"));
    assert_eq!(rec.cause.as_deref(), Some(HISTORY_LIMIT_CAUSE));
    assert_eq!(rec.last_event_id, HISTORY_LIMIT);
    rt.shutdown();
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        })
        .unwrap_or(0)
}

/// Resident memory of 10,000 `.waitForTaskToken` executions parked (`cargo test -p
/// stepwise-engine --test parking memory -- --ignored --nocapture`; STEPWISE_PARKED sets the
/// count). The test keeps neither ARNs nor tokens: what grows is the runtime's (and SQLite's).
#[test]
#[ignore]
fn parked_callbacks_memory() {
    let n: usize = std::env::var("STEPWISE_PARKED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
    let dir = tempfile::tempdir().expect("tempdir");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("s.db")).expect("open"));
    let calls: Arc<AtomicUsize> = Arc::default();
    let c = calls.clone();
    let rt = Runtime::start_with_tasks(
        store.clone(),
        config(),
        Arc::new(move || Box::new(Counting(c.clone()))),
    )
    .expect("runtime");
    rt.set_park_after(Some(Duration::from_millis(500)));
    let sm = machine_of_kind(
        "fanout",
        StateMachineType::Standard,
        &callback_def(json!({})),
    );
    let input = json!({"QueueUrl": "https://sqs.us-east-1.amazonaws.com/1/q",
        "Message": "x".repeat(200)});
    let arn = |name: &str| format!("arn:aws:states:us-east-1:123456789012:execution:fanout:{name}");
    // Warm up (allocator arenas, SQLite cache, compiled definition) before measuring.
    for i in 0..500 {
        start(&rt, &sm, &format!("warm{i}"), input.clone());
    }
    until("warm-up parked", 120, || rt.parked_executions() == 500);
    let before = rss_kib();
    let t0 = Instant::now();
    for i in 0..n {
        start(&rt, &sm, &format!("p{i}"), input.clone());
    }
    until("all parked", 600, || rt.parked_executions() == n + 500);
    let secs = t0.elapsed().as_secs_f64();
    let parked = rss_kib();
    let per = |kib: u64| (kib.saturating_sub(before)) as f64 * 1024.0 / n as f64;
    println!(
        "{n} callbacks parked in {secs:.1} s (live {}, parked {}): RSS {before} -> {parked} KiB \
         = {:.0} bytes per parked execution",
        rt.live_executions(),
        rt.parked_executions(),
        per(parked),
    );
    assert_eq!(calls.load(Ordering::SeqCst), n + 500);
    let t1 = Instant::now();
    for i in 0..n {
        let tokens = store
            .task_tokens_for(&arn(&format!("p{i}")))
            .expect("tokens");
        rt.send_task_success(&tokens[0].token, "{}".into())
            .expect("success");
    }
    for i in 0..n {
        wait_for(
            &*store,
            &arn(&format!("p{i}")),
            ExecutionStatus::Succeeded,
            600,
        );
    }
    println!(
        "{n} answers to parked executions: all SUCCEEDED in {:.1} s",
        t1.elapsed().as_secs_f64()
    );
    rt.shutdown();
}

/// Accepts every call without keeping anything.
struct Counting(Arc<AtomicUsize>);

impl TaskHandler for Counting {
    fn invoke(&self, _req: TaskRequest) -> LocalBoxFuture<'_, Result<Value, StateError>> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Box::pin(async { Ok(json!({"MessageId": "m-1"})) })
    }
}
