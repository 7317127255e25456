//! Every task call names its execution, state machine and mock test case; the test case is
//! kept in the execution's record so an execution resumed after a restart keeps it; the
//! handler hears when an execution ends.

use futures::future::LocalBoxFuture;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use stepwise_asl::error::StateError;
use stepwise_engine::runtime::{Runtime, RuntimeConfig, StartRequest};
use stepwise_engine::{TaskHandler, TaskRequest};
use stepwise_store::{ExecutionStatus, SqliteStore, StateMachineRecord, StateMachineType, Store};

#[derive(Default)]
struct Seen {
    /// (state, execution ARN, state machine name, test case)
    calls: Vec<(String, String, String, Option<String>)>,
    ended: Vec<String>,
}

struct Recorder(Arc<Mutex<Seen>>);

impl TaskHandler for Recorder {
    fn invoke(&self, req: TaskRequest) -> LocalBoxFuture<'_, Result<Value, StateError>> {
        if let Ok(mut s) = self.0.lock() {
            s.calls.push((
                req.state_name.clone(),
                req.execution_arn.clone(),
                req.state_machine_name.clone(),
                req.test_case.clone(),
            ));
        }
        Box::pin(async { Ok(json!({"ok": true})) })
    }

    fn execution_ended(&self, execution_arn: &str) {
        if let Ok(mut s) = self.0.lock() {
            s.ended.push(execution_arn.to_string());
        }
    }
}

fn start(store: Arc<dyn Store>, seen: &Arc<Mutex<Seen>>) -> Runtime {
    let seen = seen.clone();
    Runtime::start_with_tasks(
        store,
        RuntimeConfig {
            workers: 1,
            region: "us-east-1".into(),
            account: "123456789012".into(),
        },
        Arc::new(move || Box::new(Recorder(seen.clone())) as Box<dyn TaskHandler>),
    )
    .expect("runtime")
}

#[test]
fn the_test_case_reaches_every_call_and_survives_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s.db");
    let definition = json!({"StartAt": "A", "States": {
        "A": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage", "Next": "W"},
        "W": {"Type": "Wait", "Seconds": 2, "Next": "B"},
        "B": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage", "End": true}}});
    let sm = StateMachineRecord {
        arn: "arn:aws:states:us-east-1:123456789012:stateMachine:orders".into(),
        name: "orders".into(),
        kind: StateMachineType::Standard,
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
    };
    let seen = Arc::new(Mutex::new(Seen::default()));
    let arn = {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).expect("open"));
        let rt = start(store.clone(), &seen);
        let arn = rt
            .start_execution(StartRequest {
                state_machine: sm,
                version_arn: None,
                alias_arn: None,
                name: "e1".into(),
                input: "{}".into(),
                trace_header: None,
                test_case: Some("HappyPath".into()),
                parent: None,
            })
            .expect("start")
            .execution_arn;
        let rec = store.get_execution(&arn).expect("record");
        assert_eq!(rec.test_case.as_deref(), Some("HappyPath"));
        // Stop while it waits: it stays RUNNING and resumes below.
        std::thread::sleep(Duration::from_millis(400));
        rt.shutdown();
        arn
    };
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).expect("reopen"));
    let rt = start(store.clone(), &seen);
    let deadline = Instant::now() + Duration::from_secs(20);
    while store.get_execution(&arn).expect("record").status != ExecutionStatus::Succeeded {
        assert!(Instant::now() < deadline, "not finished");
        std::thread::sleep(Duration::from_millis(20));
    }
    // The end is reported after the status is written: give it a moment.
    std::thread::sleep(Duration::from_millis(100));
    rt.shutdown();
    let seen = seen.lock().expect("lock");
    let expected = |state: &str| {
        (
            state.to_string(),
            arn.clone(),
            "orders".to_string(),
            Some("HappyPath".to_string()),
        )
    };
    assert_eq!(seen.calls, vec![expected("A"), expected("B")]);
    assert_eq!(seen.ended, vec![arn.clone()]);
}
