//! Shared set-up for the tests that drive the server runtime: its configuration, state machine
//! records, starting executions and reading their histories back from the store.
#![allow(dead_code)] // each test binary uses part of it

use serde_json::Value;
use std::time::{Duration, Instant};
use stepwise_engine::runtime::{Runtime, RuntimeConfig, StartRequest};
use stepwise_store::{
    ExecutionRecord, ExecutionStatus, HistoryEventRow, PageRequest, StateMachineRecord,
    StateMachineType, Store,
};

pub fn config() -> RuntimeConfig {
    RuntimeConfig {
        workers: 2,
        region: "us-east-1".into(),
        account: "123456789012".into(),
    }
}

/// A state machine record of `kind` (what CreateStateMachine would have stored).
pub fn machine_of_kind(
    name: &str,
    kind: StateMachineType,
    definition: &Value,
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

/// A Standard state machine record.
pub fn machine(name: &str, definition: Value) -> StateMachineRecord {
    machine_of_kind(name, StateMachineType::Standard, &definition)
}

pub fn request(sm: &StateMachineRecord, name: &str, input: &Value) -> StartRequest {
    StartRequest {
        state_machine: sm.clone(),
        version_arn: None,
        alias_arn: None,
        name: name.into(),
        input: input.to_string(),
        trace_header: None,
        test_case: None,
        parent: None,
    }
}

/// Starts an execution; its ARN.
pub fn start(rt: &Runtime, sm: &StateMachineRecord, name: &str, input: Value) -> String {
    rt.start_execution(request(sm, name, &input))
        .expect("start")
        .execution_arn
}

pub fn history(store: &dyn Store, arn: &str) -> Vec<HistoryEventRow> {
    store
        .read_events(arn, &PageRequest::first(1000), false)
        .expect("events")
        .items
}

/// The history's event types.
pub fn event_kinds(store: &dyn Store, arn: &str) -> Vec<String> {
    history(store, arn).into_iter().map(|e| e.kind).collect()
}

/// Waits up to `secs` for the execution to reach `status`; its record.
pub fn wait_for(
    store: &dyn Store,
    arn: &str,
    status: ExecutionStatus,
    secs: u64,
) -> ExecutionRecord {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let rec = store.get_execution(arn).expect("execution recorded");
        if rec.status == status {
            return rec;
        }
        assert!(
            Instant::now() < deadline,
            "{arn} still {:?}: {:?}",
            rec.status,
            event_kinds(store, arn)
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}
