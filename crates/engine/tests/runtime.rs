//! The server runtime on a real SQLite store: background Standard executions, stop, Express
//! sync, idempotent starts, and resuming after the runtime goes away mid-execution.

use std::sync::Arc;
use std::time::{Duration, Instant};
use stepwise_engine::runtime::{Runtime, RuntimeConfig, RuntimeError, StartRequest};
use stepwise_store::{
    ExecutionStatus, PageRequest, SqliteStore, StateMachineRecord, StateMachineType, Store,
};

fn config() -> RuntimeConfig {
    RuntimeConfig {
        workers: 2,
        region: "us-east-1".into(),
        account: "123456789012".into(),
    }
}

fn machine(
    name: &str,
    kind: StateMachineType,
    definition: serde_json::Value,
) -> StateMachineRecord {
    StateMachineRecord {
        arn: format!("arn:aws:states:us-east-1:123456789012:stateMachine:{name}"),
        name: name.into(),
        kind,
        definition: definition.to_string(),
        role_arn: "arn:aws:iam::123456789012:role/test".into(),
        creation_date: 0,
        revision_id: "r1".into(),
        status: "ACTIVE".into(),
        description: None,
        label: None,
        logging_configuration: None,
        tracing_configuration: None,
        encryption_configuration: None,
    }
}

fn start(sm: &StateMachineRecord, name: &str, input: &str) -> StartRequest {
    StartRequest {
        state_machine: sm.clone(),
        version_arn: None,
        alias_arn: None,
        name: name.into(),
        input: input.into(),
        trace_header: None,
        test_case: None,
        parent: None,
    }
}

fn wait_for(
    store: &dyn Store,
    arn: &str,
    status: ExecutionStatus,
    secs: u64,
) -> stepwise_store::ExecutionRecord {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let rec = store.get_execution(arn).expect("execution recorded");
        if rec.status == status {
            return rec;
        }
        assert!(Instant::now() < deadline, "{arn} still {:?}", rec.status);
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn history(store: &dyn Store, arn: &str) -> Vec<stepwise_store::HistoryEventRow> {
    store
        .read_events(
            arn,
            &PageRequest {
                max_results: 1000,
                next_token: None,
            },
            false,
        )
        .expect("events")
        .items
}

fn assert_well_formed(events: &[stepwise_store::HistoryEventRow]) {
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e.id, i as u64 + 1, "gap-free ids: {events:?}");
    }
    assert_eq!(
        events
            .iter()
            .filter(|e| e.kind == "ExecutionStarted")
            .count(),
        1
    );
    let terminal = events
        .iter()
        .filter(|e| e.kind.starts_with("Execution") && e.kind != "ExecutionStarted");
    assert_eq!(
        terminal.count(),
        1,
        "exactly one terminal event: {events:?}"
    );
}

fn wait_def(seconds: u64) -> serde_json::Value {
    serde_json::json!({"StartAt": "W", "States": {
        "W": {"Type": "Wait", "Seconds": seconds, "Next": "P"},
        "P": {"Type": "Pass", "Result": {"done": true}, "ResultPath": "$.r", "End": true}}})
}

#[test]
fn a_standard_execution_runs_in_the_background_and_is_recorded() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("s.db")).expect("open"));
    let rt = Runtime::start(store.clone(), config()).expect("runtime");
    let sm = machine("waiter", StateMachineType::Standard, wait_def(1));
    let started = rt
        .start_execution(start(&sm, "e1", r#"{"a":1}"#))
        .expect("start");
    assert!(started.execution_arn.ends_with(":execution:waiter:e1"));
    let rec = wait_for(
        &*store,
        &started.execution_arn,
        ExecutionStatus::Succeeded,
        10,
    );
    assert_eq!(rec.output.as_deref(), Some(r#"{"a":1,"r":{"done":true}}"#));
    let events = history(&*store, &started.execution_arn);
    assert_well_formed(&events);
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "ExecutionStarted",
            "WaitStateEntered",
            "WaitStateExited",
            "PassStateEntered",
            "PassStateExited",
            "ExecutionSucceeded"
        ]
    );
    assert!(
        events[2].timestamp - events[1].timestamp >= 1000,
        "the wait took a second"
    );
    rt.shutdown();
}

#[test]
fn starting_again_with_the_same_name_is_idempotent_or_refused() {
    let store: Arc<dyn Store> = Arc::new(stepwise_store::MemoryStore::new());
    let rt = Runtime::start(store, config()).expect("runtime");
    let sm = machine("slow", StateMachineType::Standard, wait_def(30));
    let a = rt.start_execution(start(&sm, "same", "{}")).expect("start");
    let b = rt
        .start_execution(start(&sm, "same", "{}"))
        .expect("idempotent start");
    assert_eq!(a, b);
    match rt.start_execution(start(&sm, "same", r#"{"other":1}"#)) {
        Err(RuntimeError::ExecutionAlreadyExists(arn)) => assert_eq!(arn, a.execution_arn),
        other => panic!("expected ExecutionAlreadyExists, got {other:?}"),
    }
    rt.shutdown();
}

#[test]
fn stop_aborts_a_running_execution() {
    let store: Arc<dyn Store> = Arc::new(stepwise_store::MemoryStore::new());
    let rt = Runtime::start(store.clone(), config()).expect("runtime");
    let sm = machine("slow", StateMachineType::Standard, wait_def(60));
    let s = rt.start_execution(start(&sm, "e", "{}")).expect("start");
    // Let it reach the Wait (its events are flushed before it sleeps).
    let deadline = Instant::now() + Duration::from_secs(5);
    while history(&*store, &s.execution_arn).len() < 2 {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(10));
    }
    rt.stop_execution(
        &s.execution_arn,
        Some("Stopped".into()),
        Some("by the test".into()),
    )
    .expect("stop");
    let rec = store.get_execution(&s.execution_arn).expect("record");
    assert_eq!(rec.status, ExecutionStatus::Aborted);
    assert_eq!(rec.error.as_deref(), Some("Stopped"));
    let events = history(&*store, &s.execution_arn);
    assert_well_formed(&events);
    assert_eq!(
        events.last().map(|e| e.kind.as_str()),
        Some("ExecutionAborted")
    );
    assert!(matches!(
        rt.stop_execution(
            "arn:aws:states:us-east-1:123456789012:execution:slow:nope",
            None,
            None
        ),
        Err(RuntimeError::ExecutionDoesNotExist(_))
    ));
    rt.shutdown();
}

#[test]
fn express_sync_returns_the_result() {
    let store: Arc<dyn Store> = Arc::new(stepwise_store::MemoryStore::new());
    let rt = Runtime::start(store.clone(), config()).expect("runtime");
    let sm = machine(
        "fast",
        StateMachineType::Express,
        serde_json::json!({"StartAt": "P", "States": {
        "P": {"Type": "Pass", "Parameters": {"sum.$": "States.MathAdd($.a, $.b)"}, "End": true}}}),
    );
    let r = rt
        .start_sync_execution(start(&sm, "x", r#"{"a":2,"b":3}"#))
        .expect("sync");
    assert_eq!(r.status, "SUCCEEDED");
    assert_eq!(r.output.as_deref(), Some(r#"{"sum":5}"#));
    assert!(r.execution_arn.contains(":express:fast:x:"));
    assert!(r.billed_duration_ms >= 100);
    // Express executions are not stored.
    assert!(store.get_execution(&r.execution_arn).is_err());
    rt.shutdown();
}

#[test]
fn executions_resume_after_the_runtime_goes_away() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s.db");
    let sm = machine(
        "resumable",
        StateMachineType::Standard,
        serde_json::json!({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Parameters": {"id.$": "States.UUID()"}, "ResultPath": "$.a", "Next": "W"},
        "W": {"Type": "Wait", "Seconds": 2, "Next": "M"},
        "M": {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": {"StartAt": "I", "States": {
            "I": {"Type": "Wait", "Seconds": 1, "Next": "J"},
            "J": {"Type": "Pass", "End": true}}}, "ResultPath": "$.m", "End": true}}}),
    );
    let arns: Vec<String> = {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).expect("open"));
        let rt = Runtime::start(store.clone(), config()).expect("runtime");
        let arns = (0..20)
            .map(|i| {
                rt.start_execution(start(&sm, &format!("e{i}"), r#"{"items":[1,2,3]}"#))
                    .expect("start")
                    .execution_arn
            })
            .collect::<Vec<_>>();
        // Stop the runtime while the executions wait: they stay RUNNING in the store.
        std::thread::sleep(Duration::from_millis(300));
        rt.shutdown();
        arns
    };
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).expect("reopen"));
    for arn in &arns {
        assert_eq!(
            store.get_execution(arn).expect("record").status,
            ExecutionStatus::Running
        );
    }
    let rt = Runtime::start(store.clone(), config()).expect("runtime again");
    for arn in &arns {
        let rec = wait_for(&*store, arn, ExecutionStatus::Succeeded, 20);
        let out: serde_json::Value =
            serde_json::from_str(rec.output.as_deref().unwrap_or("null")).expect("json");
        assert_eq!(out["m"], serde_json::json!([1, 2, 3]));
        let events = history(&*store, arn);
        assert_well_formed(&events);
        // The UUID drawn before the restart is the one the execution kept.
        let exited = events
            .iter()
            .find(|e| e.kind == "PassStateExited")
            .expect("A exited");
        assert!(exited
            .details
            .as_deref()
            .unwrap_or("")
            .contains(out["a"]["id"].as_str().unwrap_or("?")));
    }
    rt.shutdown();
}
