//! Activities and `.waitForTaskToken` callbacks on the server runtime: workers take tasks and
//! answer them, timeouts and heartbeats, stale tokens, and restarts while an execution waits.

mod common;
use common::{config, event_kinds, history, machine, start, wait_for};

use futures::future::LocalBoxFuture;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use stepwise_asl::error::StateError;
use stepwise_engine::runtime::Runtime;
use stepwise_engine::tokens::TokenError;
use stepwise_engine::{TaskHandler, TaskRequest};
use stepwise_store::{
    ActivityRecord, ExecutionStatus, HistoryEventRow, MemoryStore, SqliteStore, Store,
};

const ACTIVITY: &str = "arn:aws:states:us-east-1:123456789012:activity:work";

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

fn activity_def(extra: Value) -> Value {
    let mut task = json!({"Type": "Task", "Resource": ACTIVITY, "End": true});
    if let (Some(t), Some(e)) = (task.as_object_mut(), extra.as_object()) {
        t.extend(e.clone());
    }
    json!({"StartAt": "Work", "States": {"Work": task}})
}

fn details(store: &dyn Store, arn: &str, kind: &str) -> Value {
    let e = history(store, arn)
        .into_iter()
        .find(|e| e.kind == kind)
        .unwrap_or_else(|| panic!("no {kind} in {:?}", event_kinds(store, arn)));
    serde_json::from_str(e.details.as_deref().unwrap_or("null")).expect("details")
}

fn wait_for_event(store: &dyn Store, arn: &str, kind: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !event_kinds(store, arn).iter().any(|k| k == kind) {
        assert!(
            Instant::now() < deadline,
            "no {kind}: {:?}",
            event_kinds(store, arn)
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn assert_well_formed(events: &[HistoryEventRow]) {
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e.id, i as u64 + 1, "gap-free ids: {events:?}");
    }
}

fn poll(rt: &Runtime, worker: Option<&str>) -> (String, Value) {
    let task = rt
        .get_activity_task(
            ACTIVITY,
            worker.map(str::to_string),
            Duration::from_secs(10),
        )
        .expect("poll")
        .expect("a task within 10 s");
    (
        task.task_token,
        serde_json::from_str(&task.input).expect("input"),
    )
}

fn memory() -> Arc<dyn Store> {
    Arc::new(MemoryStore::new())
}

#[test]
fn an_activity_worker_takes_the_task_and_succeeds() {
    let store = memory();
    with_activity(&*store);
    let rt = Runtime::start(store.clone(), config()).expect("runtime");
    let sm = machine(
        "act",
        activity_def(json!({"TimeoutSeconds": 60, "HeartbeatSeconds": 10})),
    );
    let arn = start(&rt, &sm, "e1", json!({"Value1": "HelloWorld"}));
    let (token, input) = poll(&rt, Some("worker-1"));
    assert_eq!(input, json!({"Value1": "HelloWorld"}));
    rt.send_task_heartbeat(&token).expect("heartbeat");
    rt.send_task_success(&token, r#"{"done":1}"#.into())
        .expect("success");
    let rec = wait_for(&*store, &arn, ExecutionStatus::Succeeded, 10);
    assert_eq!(rec.output.as_deref(), Some(r#"{"done":1}"#));
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
    let events = history(&*store, &arn);
    assert_well_formed(&events);
    let prev: Vec<u64> = events.iter().map(|e| e.previous_event_id).collect();
    assert_eq!(prev, [0, 0, 2, 3, 4, 5, 6]);
    assert_eq!(
        details(&*store, &arn, "ActivityScheduled"),
        json!({"resource": ACTIVITY, "input": "{\"Value1\":\"HelloWorld\"}",
            "inputDetails": {"truncated": false}, "timeoutInSeconds": 60, "heartbeatInSeconds": 10})
    );
    assert_eq!(
        details(&*store, &arn, "ActivityStarted"),
        json!({"workerName": "worker-1"})
    );
    assert_eq!(
        details(&*store, &arn, "ActivitySucceeded"),
        json!({"output": "{\"done\":1}", "outputDetails": {"truncated": false}})
    );
    // The token is spent.
    assert_eq!(
        rt.send_task_success(&token, "1".into()),
        Err(TokenError::TaskTimedOut)
    );
    assert_eq!(
        rt.send_task_heartbeat(&token),
        Err(TokenError::TaskTimedOut)
    );
    assert_eq!(
        rt.send_task_failure("not-a-token", None, None),
        Err(TokenError::InvalidToken)
    );
    rt.shutdown();
}

#[test]
fn an_activity_without_worker_name_and_a_failing_one() {
    let store = memory();
    with_activity(&*store);
    let rt = Runtime::start(store.clone(), config()).expect("runtime");
    let sm = machine("act", activity_def(json!({})));
    let arn = start(&rt, &sm, "ok", json!({"a": 1}));
    let (token, _) = poll(&rt, None);
    rt.send_task_success(&token, "[1]".into()).expect("success");
    wait_for(&*store, &arn, ExecutionStatus::Succeeded, 10);
    assert_eq!(details(&*store, &arn, "ActivityStarted"), json!({}));

    let arn = start(&rt, &sm, "bad", json!({"Value1": "HelloWorld"}));
    let (token, input) = poll(&rt, Some("w"));
    rt.send_task_failure(
        &token,
        Some("Programmatic Error".into()),
        Some(input.to_string()),
    )
    .expect("failure");
    let rec = wait_for(&*store, &arn, ExecutionStatus::Failed, 10);
    assert_eq!(rec.error.as_deref(), Some("Programmatic Error"));
    assert_eq!(
        event_kinds(&*store, &arn),
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "ActivityScheduled",
            "ActivityStarted",
            "ActivityFailed",
            "ExecutionFailed"
        ]
    );
    assert_eq!(
        details(&*store, &arn, "ActivityFailed"),
        json!({"error": "Programmatic Error", "cause": "{\"Value1\":\"HelloWorld\"}"})
    );
    rt.shutdown();
}

#[test]
fn activity_timeouts_and_heartbeats() {
    let store = memory();
    with_activity(&*store);
    let rt = Runtime::start(store.clone(), config()).expect("runtime");
    // Taken by a worker that never answers: ActivityTimedOut after TimeoutSeconds.
    let sm = machine("t", activity_def(json!({"TimeoutSeconds": 1})));
    let arn = start(&rt, &sm, "taken", json!({}));
    let (token, _) = poll(&rt, Some("slow"));
    let rec = wait_for(&*store, &arn, ExecutionStatus::Failed, 10);
    assert_eq!(rec.error.as_deref(), Some("States.Timeout"));
    assert_eq!(
        event_kinds(&*store, &arn)[2..],
        [
            "ActivityScheduled",
            "ActivityStarted",
            "ActivityTimedOut",
            "ExecutionFailed"
        ]
    );
    assert_eq!(
        details(&*store, &arn, "ActivityTimedOut"),
        json!({"error": "States.Timeout"})
    );
    assert_eq!(
        rt.send_task_success(&token, "{}".into()),
        Err(TokenError::TaskTimedOut)
    );
    // Never taken: it times out too, and no worker gets it afterwards.
    let arn = start(&rt, &sm, "untaken", json!({}));
    wait_for(&*store, &arn, ExecutionStatus::Failed, 10);
    assert_eq!(
        event_kinds(&*store, &arn)[2..],
        ["ActivityScheduled", "ActivityTimedOut", "ExecutionFailed"]
    );
    assert_eq!(
        rt.get_activity_task(ACTIVITY, None, Duration::from_millis(50))
            .expect("poll"),
        None
    );

    // Heartbeats keep a task alive past HeartbeatSeconds; without them it times out.
    let sm = machine(
        "hb",
        activity_def(json!({"TimeoutSeconds": 30, "HeartbeatSeconds": 1})),
    );
    let arn = start(&rt, &sm, "beating", json!({}));
    let (token, _) = poll(&rt, None);
    for _ in 0..4 {
        std::thread::sleep(Duration::from_millis(400));
        rt.send_task_heartbeat(&token).expect("heartbeat");
    }
    rt.send_task_success(&token, "{}".into()).expect("success");
    wait_for(&*store, &arn, ExecutionStatus::Succeeded, 10);

    let arn = start(&rt, &sm, "silent", json!({}));
    let t0 = Instant::now();
    let _ = poll(&rt, None);
    let rec = wait_for(&*store, &arn, ExecutionStatus::Failed, 10);
    assert!(t0.elapsed() < Duration::from_secs(5));
    assert_eq!(rec.error.as_deref(), Some("States.Timeout"));
    assert!(event_kinds(&*store, &arn).contains(&"ActivityTimedOut".to_string()));
    rt.shutdown();
}

#[test]
fn a_deleted_activity_fails_the_execution_as_aws_records_it() {
    let store = memory();
    let rt = Runtime::start(store.clone(), config()).expect("runtime");
    let sm = machine(
        "gone",
        activity_def(json!({"Catch": [
        {"ErrorEquals": ["States.ALL"], "Next": "Caught"}]})),
    );
    let mut def: Value = serde_json::from_str(&sm.definition).expect("json");
    def["States"]["Caught"] = json!({"Type": "Pass", "End": true});
    def["States"]["Work"]
        .as_object_mut()
        .map(|m| m.remove("End"));
    def["States"]["Work"]["Next"] = json!("Caught");
    let sm = machine("gone", def);
    let arn = start(&rt, &sm, "e", json!({}));
    let rec = wait_for(&*store, &arn, ExecutionStatus::Failed, 10);
    assert_eq!(rec.error.as_deref(), Some("States.Runtime"));
    assert_eq!(
        rec.cause.as_deref(),
        Some(
            "An error occurred while executing the state 'Work' (entered at the event id #2). \
             The activity arn:aws:states:us-east-1:123456789012:activity:work does not exist."
        )
    );
    assert_eq!(
        event_kinds(&*store, &arn),
        ["ExecutionStarted", "TaskStateEntered", "ExecutionFailed"]
    );
    rt.shutdown();
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

fn accepting(store: Arc<dyn Store>) -> (Runtime, Arc<Mutex<Vec<String>>>, Arc<AtomicUsize>) {
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

fn take_token(tokens: &Mutex<Vec<String>>) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(t) = tokens.lock().unwrap_or_else(|e| e.into_inner()).pop() {
            return t;
        }
        assert!(Instant::now() < deadline, "no token handed out");
        std::thread::sleep(Duration::from_millis(10));
    }
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

#[test]
fn a_callback_waits_for_its_token() {
    let store = memory();
    let (rt, tokens, _) = accepting(store.clone());
    let sm = machine("cb", callback_def(json!({})));
    let arn = start(&rt, &sm, "e", json!({"QueueUrl": "q", "Message": "hi"}));
    let token = take_token(&tokens);
    wait_for_event(&*store, &arn, "TaskSubmitted");
    let scheduled = details(&*store, &arn, "TaskScheduled");
    let params: Value =
        serde_json::from_str(scheduled["parameters"].as_str().unwrap_or("")).expect("params");
    assert_eq!(params["MessageBody"]["TaskToken"], json!(token));
    assert_eq!(scheduled["resource"], "sendMessage.waitForTaskToken");
    assert_eq!(scheduled["resourceType"], "sqs");
    assert_eq!(
        details(&*store, &arn, "TaskSubmitted"),
        json!({"resourceType": "sqs", "resource": "sendMessage.waitForTaskToken",
            "output": "{\"MessageId\":\"m-1\"}", "outputDetails": {"truncated": false}})
    );
    rt.send_task_success(&token, "\"string-literal\"".into())
        .expect("success");
    let rec = wait_for(&*store, &arn, ExecutionStatus::Succeeded, 10);
    assert_eq!(rec.output.as_deref(), Some("\"string-literal\""));
    assert_eq!(
        event_kinds(&*store, &arn),
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
    assert_well_formed(&history(&*store, &arn));
    assert_eq!(
        rt.send_task_success(&token, "1".into()),
        Err(TokenError::TaskTimedOut)
    );
    rt.shutdown();
}

#[test]
fn callback_failures_and_timeouts() {
    let store = memory();
    let (rt, tokens, _) = accepting(store.clone());
    let sm = machine(
        "cbf",
        json!({"StartAt": "Send", "States": {
            "Send": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "Parameters": {"QueueUrl": "q", "MessageBody": {"TaskToken.$": "$$.Task.Token"}},
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.err", "Next": "Caught"}],
                "End": true},
            "Caught": {"Type": "Pass", "End": true}}}),
    );
    // SendTaskFailure without error or cause: AWS records neither, and catches nulls.
    let arn = start(&rt, &sm, "noerr", json!({"x": 1}));
    let token = take_token(&tokens);
    rt.send_task_failure(&token, None, None).expect("failure");
    let rec = wait_for(&*store, &arn, ExecutionStatus::Succeeded, 10);
    assert_eq!(
        serde_json::from_str::<Value>(rec.output.as_deref().unwrap_or("")).expect("json"),
        json!({"x": 1, "err": {"Error": null, "Cause": null}})
    );
    assert_eq!(
        details(&*store, &arn, "TaskFailed"),
        json!({"resourceType": "sqs", "resource": "sendMessage.waitForTaskToken"})
    );
    // With error and cause.
    let arn = start(&rt, &sm, "err", json!({}));
    let token = take_token(&tokens);
    rt.send_task_failure(
        &token,
        Some("Failure error".into()),
        Some("Failure cause".into()),
    )
    .expect("failure");
    let rec = wait_for(&*store, &arn, ExecutionStatus::Succeeded, 10);
    assert!(rec
        .output
        .as_deref()
        .unwrap_or("")
        .contains(r#""err":{"Error":"Failure error","Cause":"Failure cause"}"#));

    // Heartbeat timeout: AWS records States.Timeout in TaskTimedOut.
    let sm = machine(
        "cbt",
        callback_def(json!({"TimeoutSeconds": 30, "HeartbeatSeconds": 1})),
    );
    let arn = start(&rt, &sm, "hb", json!({"QueueUrl": "q", "Message": "m"}));
    let token = take_token(&tokens);
    let rec = wait_for(&*store, &arn, ExecutionStatus::Failed, 10);
    assert_eq!(rec.error.as_deref(), Some("States.Timeout"));
    assert_eq!(
        details(&*store, &arn, "TaskTimedOut"),
        json!({"resourceType": "sqs", "resource": "sendMessage.waitForTaskToken",
            "error": "States.Timeout"})
    );
    assert_eq!(
        rt.send_task_heartbeat(&token),
        Err(TokenError::TaskTimedOut)
    );
    rt.shutdown();
}

#[test]
fn an_unconfigured_integration_fails_with_a_clear_message() {
    let store = memory();
    let rt = Runtime::start(store.clone(), config()).expect("runtime");
    let sm = machine("none", callback_def(json!({})));
    let arn = start(&rt, &sm, "e", json!({"QueueUrl": "q", "Message": "m"}));
    let rec = wait_for(&*store, &arn, ExecutionStatus::Failed, 10);
    let cause = rec.cause.unwrap_or_default();
    assert!(
        cause.contains("No integration is configured for resource 'arn:aws:states:::sqs:sendMessage.waitForTaskToken'"),
        "{cause}"
    );
    // The token it would have handed out is closed.
    let scheduled = details(&*store, &arn, "TaskScheduled");
    let params: Value =
        serde_json::from_str(scheduled["parameters"].as_str().unwrap_or("")).expect("params");
    let token = params["MessageBody"]["TaskToken"]
        .as_str()
        .unwrap_or("")
        .to_string();
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(
        rt.send_task_success(&token, "{}".into()),
        Err(TokenError::TaskTimedOut)
    );
    rt.shutdown();
}

#[test]
fn stopping_an_execution_closes_its_tokens() {
    let store = memory();
    with_activity(&*store);
    let rt = Runtime::start(store.clone(), config()).expect("runtime");
    let sm = machine("stop", activity_def(json!({})));
    let arn = start(&rt, &sm, "e", json!({}));
    wait_for_event(&*store, &arn, "ActivityScheduled");
    std::thread::sleep(Duration::from_millis(50));
    rt.stop_execution(&arn, None, None).expect("stop");
    assert_eq!(
        rt.get_activity_task(ACTIVITY, None, Duration::from_millis(50))
            .expect("poll"),
        None
    );
    rt.shutdown();
}

#[test]
fn an_activity_task_survives_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s.db");
    let sm = machine("durable", activity_def(json!({"TimeoutSeconds": 60})));
    let (waiting, taken, token) = {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).expect("open"));
        with_activity(&*store);
        let rt = Runtime::start(store.clone(), config()).expect("runtime");
        // One execution's task is taken before the restart and answered after it; another's
        // is still waiting for a worker.
        let taken = start(&rt, &sm, "taken", json!({"n": 2}));
        let (token, input) = poll(&rt, Some("before"));
        assert_eq!(input, json!({"n": 2}));
        let waiting = start(&rt, &sm, "waiting", json!({"n": 1}));
        wait_for_event(&*store, &waiting, "ActivityScheduled");
        wait_for_event(&*store, &taken, "ActivityStarted");
        rt.shutdown();
        (waiting, taken, token)
    };
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).expect("reopen"));
    let rt = Runtime::start(store.clone(), config()).expect("runtime again");
    rt.send_task_success(&token, r#"{"from":"before"}"#.into())
        .expect("the token survived");
    let (t2, input) = poll(&rt, Some("after"));
    assert_eq!(input, json!({"n": 1}));
    rt.send_task_success(&t2, r#"{"from":"after"}"#.into())
        .expect("success");
    for (arn, from) in [(&waiting, "after"), (&taken, "before")] {
        let rec = wait_for(&*store, arn, ExecutionStatus::Succeeded, 10);
        assert_eq!(rec.output, Some(format!(r#"{{"from":"{from}"}}"#)));
        let events = history(&*store, arn);
        assert_well_formed(&events);
        let k: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(
            k,
            [
                "ExecutionStarted",
                "TaskStateEntered",
                "ActivityScheduled",
                "ActivityStarted",
                "ActivitySucceeded",
                "TaskStateExited",
                "ExecutionSucceeded"
            ],
            "{arn}"
        );
        assert_eq!(
            details(&*store, arn, "ActivityStarted"),
            json!({"workerName": from})
        );
    }
    rt.shutdown();
}

#[test]
fn a_callback_survives_a_restart_without_sending_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s.db");
    let sm = machine("cbdurable", callback_def(json!({"TimeoutSeconds": 60})));
    let (arn, token) = {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).expect("open"));
        let (rt, tokens, calls) = accepting(store.clone());
        let arn = start(&rt, &sm, "e", json!({"QueueUrl": "q", "Message": "m"}));
        let token = take_token(&tokens);
        wait_for_event(&*store, &arn, "TaskSubmitted");
        rt.shutdown();
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        (arn, token)
    };
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).expect("reopen"));
    let (rt, _, calls) = accepting(store.clone());
    std::thread::sleep(Duration::from_millis(100));
    rt.send_task_success(&token, r#"{"ok":true}"#.into())
        .expect("the token survived");
    let rec = wait_for(&*store, &arn, ExecutionStatus::Succeeded, 10);
    assert_eq!(rec.output.as_deref(), Some(r#"{"ok":true}"#));
    assert_eq!(
        calls.load(Ordering::SeqCst),
        0,
        "the message is not sent twice"
    );
    let events = history(&*store, &arn);
    assert_well_formed(&events);
    assert_eq!(
        events.iter().filter(|e| e.kind == "TaskSubmitted").count(),
        1
    );
    rt.shutdown();
}

#[test]
fn an_answer_given_while_the_server_is_down_is_found_on_restart() {
    // The answer reaches the store but not the history (the server stopped in between).
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s.db");
    let sm = machine("offline", callback_def(json!({})));
    let (arn, token) = {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).expect("open"));
        let (rt, tokens, _) = accepting(store.clone());
        let arn = start(&rt, &sm, "e", json!({"QueueUrl": "q", "Message": "m"}));
        let token = take_token(&tokens);
        wait_for_event(&*store, &arn, "TaskSubmitted");
        rt.shutdown();
        (arn, token)
    };
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).expect("reopen"));
    let mut rec = store.get_task_token(&token).expect("token stored");
    rec.status = stepwise_store::TaskTokenStatus::Succeeded;
    rec.output = Some("42".into());
    store.update_task_token(rec, vec![]).expect("answer");
    let (rt, _, _) = accepting(store.clone());
    let rec = wait_for(&*store, &arn, ExecutionStatus::Succeeded, 10);
    assert_eq!(rec.output.as_deref(), Some("42"));
    assert_well_formed(&history(&*store, &arn));
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

/// Resident memory of many executions parked on callback tokens (`cargo test -p
/// stepwise-engine --test tokens parked -- --ignored --nocapture`; STEPWISE_PARKED sets the
/// count, 10,000 by default).
#[test]
#[ignore]
fn parked_executions_memory() {
    let n: usize = std::env::var("STEPWISE_PARKED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
    let dir = tempfile::tempdir().expect("tempdir");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("s.db")).expect("open"));
    let (rt, tokens, _) = accepting(store.clone());
    let sm = machine("fanout", callback_def(json!({})));
    let input = json!({"QueueUrl": "https://sqs.us-east-1.amazonaws.com/1/q",
        "Message": "x".repeat(200)});
    let before = rss_kib();
    let t0 = Instant::now();
    let arns: Vec<String> = (0..n)
        .map(|i| start(&rt, &sm, &format!("p{i}"), input.clone()))
        .collect();
    let deadline = Instant::now() + Duration::from_secs(600);
    while tokens.lock().unwrap_or_else(|e| e.into_inner()).len() < n {
        assert!(Instant::now() < deadline, "not all parked");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(500));
    let parked = rss_kib();
    println!(
        "{n} executions parked in {:.1} s: RSS {} -> {} KiB ({:.1} KiB per parked execution)",
        t0.elapsed().as_secs_f64(),
        before,
        parked,
        (parked.saturating_sub(before)) as f64 / n as f64
    );
    let all: Vec<String> = tokens.lock().unwrap_or_else(|e| e.into_inner()).clone();
    for t in &all {
        rt.send_task_success(t, "{}".into()).expect("success");
    }
    for arn in arns.iter().take(10) {
        wait_for(&*store, arn, ExecutionStatus::Succeeded, 60);
    }
    rt.shutdown();
}

/// The same with executions parked in a long Wait, for comparison.
#[test]
#[ignore]
fn waiting_executions_memory() {
    let n: usize = std::env::var("STEPWISE_PARKED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
    let dir = tempfile::tempdir().expect("tempdir");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("s.db")).expect("open"));
    let rt = Runtime::start(store.clone(), config()).expect("runtime");
    let sm = machine(
        "waits",
        json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": true}}}),
    );
    let input = json!({"QueueUrl": "https://sqs.us-east-1.amazonaws.com/1/q",
        "Message": "x".repeat(200)});
    let before = rss_kib();
    let arns: Vec<String> = (0..n)
        .map(|i| start(&rt, &sm, &format!("w{i}"), input.clone()))
        .collect();
    if let Some(last) = arns.last() {
        wait_for_event(&*store, last, "WaitStateEntered");
    }
    std::thread::sleep(Duration::from_millis(1000));
    let parked = rss_kib();
    println!(
        "{n} executions in a Wait: RSS {before} -> {parked} KiB ({:.1} KiB each)",
        (parked.saturating_sub(before)) as f64 / n as f64
    );
    rt.shutdown();
}

#[test]
fn jsonata_callbacks_read_the_token_from_states_context() {
    let store = memory();
    let (rt, tokens, _) = accepting(store.clone());
    let sm = machine(
        "jsonata",
        json!({"QueryLanguage": "JSONata", "StartAt": "Send", "States": {"Send": {
            "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            "Arguments": {"QueueUrl": "q", "MessageBody": {"t": "{% $states.context.Task.Token %}"}},
            "Output": {"answer": "{% $states.result %}"},
            "End": true}}}),
    );
    let arn = start(&rt, &sm, "e", json!({}));
    let token = take_token(&tokens);
    wait_for_event(&*store, &arn, "TaskSubmitted");
    let scheduled = details(&*store, &arn, "TaskScheduled");
    assert!(scheduled["parameters"]
        .as_str()
        .unwrap_or("")
        .contains(&token));
    rt.send_task_success(&token, "[1,2]".into())
        .expect("success");
    let rec = wait_for(&*store, &arn, ExecutionStatus::Succeeded, 10);
    assert_eq!(rec.output.as_deref(), Some(r#"{"answer":[1,2]}"#));
    rt.shutdown();
}

#[test]
fn releasing_pollers_ends_long_polls() {
    let store = memory();
    with_activity(&*store);
    let rt = Runtime::start(store.clone(), config()).expect("runtime");
    let rt2 = rt.clone();
    let t0 = Instant::now();
    let poll =
        std::thread::spawn(move || rt2.get_activity_task(ACTIVITY, None, Duration::from_secs(60)));
    std::thread::sleep(Duration::from_millis(100));
    rt.release_pollers();
    assert_eq!(poll.join().expect("joined").expect("poll"), None);
    assert!(t0.elapsed() < Duration::from_secs(5));
    rt.shutdown();
}

#[test]
fn a_timeout_counts_the_time_the_server_was_down() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s.db");
    let sm = machine("late", activity_def(json!({"TimeoutSeconds": 2})));
    let arn = {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).expect("open"));
        with_activity(&*store);
        let rt = Runtime::start(store.clone(), config()).expect("runtime");
        let arn = start(&rt, &sm, "e", json!({}));
        wait_for_event(&*store, &arn, "ActivityScheduled");
        rt.shutdown();
        arn
    };
    // Down for longer than the timeout: it is overdue when the server comes back.
    std::thread::sleep(Duration::from_millis(2500));
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).expect("reopen"));
    let rt = Runtime::start(store.clone(), config()).expect("runtime again");
    let t0 = Instant::now();
    let rec = wait_for(&*store, &arn, ExecutionStatus::Failed, 10);
    assert!(
        t0.elapsed() < Duration::from_millis(1500),
        "{:?}",
        t0.elapsed()
    );
    assert_eq!(rec.error.as_deref(), Some("States.Timeout"));
    let events = history(&*store, &arn);
    assert_well_formed(&events);
    // Timestamps never go back, and the timeout is stamped after the downtime.
    assert!(events.windows(2).all(|w| w[0].timestamp <= w[1].timestamp));
    let scheduled = events
        .iter()
        .find(|e| e.kind == "ActivityScheduled")
        .map(|e| e.timestamp);
    let timed_out = events
        .iter()
        .find(|e| e.kind == "ActivityTimedOut")
        .map(|e| e.timestamp);
    assert!(timed_out.unwrap_or(0) - scheduled.unwrap_or(0) >= 2000);
    rt.shutdown();
}
