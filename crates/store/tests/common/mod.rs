//! Record builders and a temporary directory shared by the suite and the benchmark.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use stepwise_store::*;

/// A directory removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        static N: AtomicU64 = AtomicU64::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("stepwise-store-{}-{name}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }

    pub fn db(&self) -> PathBuf {
        self.0.join("stepwise.db")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub const REGION: &str = "arn:aws:states:us-east-1:123456789012";

pub fn sm_arn(name: &str) -> String {
    format!("{REGION}:stateMachine:{name}")
}

pub fn state_machine(name: &str, definition: &str) -> StateMachineRecord {
    StateMachineRecord {
        arn: sm_arn(name),
        name: name.into(),
        kind: StateMachineType::Standard,
        definition: definition.into(),
        role_arn: "arn:aws:iam::123456789012:role/r".into(),
        creation_date: 1_700_000_000_000,
        revision_id: "rev-1".into(),
        status: "ACTIVE".into(),
        description: None,
        label: None,
        logging_configuration: Some(r#"{"level":"OFF"}"#.into()),
        tracing_configuration: None,
        encryption_configuration: None,
    }
}

pub fn execution(sm: &str, name: &str, input: &str) -> ExecutionRecord {
    ExecutionRecord {
        arn: format!("{REGION}:execution:{sm}:{name}"),
        state_machine_arn: sm_arn(sm),
        version_arn: None,
        alias_arn: None,
        name: name.into(),
        status: ExecutionStatus::Running,
        input: input.into(),
        output: None,
        error: None,
        cause: None,
        start_date: 1_700_000_000_123,
        stop_date: None,
        redrive_count: 0,
        redrive_date: None,
        parent_arn: None,
        definition: r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#.into(),
        role_arn: "arn:aws:iam::123456789012:role/r".into(),
        revision_id: "rev-1".into(),
        last_event_id: 0,
        test_case: None,
        parent_task: None,
    }
}

pub fn event(id: u64) -> HistoryEventRow {
    HistoryEventRow {
        id,
        previous_event_id: id.saturating_sub(1),
        timestamp: 1_700_000_000_000 + id as i64,
        kind: if id == 1 {
            "ExecutionStarted".into()
        } else {
            "PassStateEntered".into()
        },
        details: Some(format!(r#"{{"name":"P","input":"{{\"n\":{id}}}"}}"#)),
        thread: String::new(),
        seq: id as u32,
    }
}

pub fn events(ids: std::ops::RangeInclusive<u64>) -> Vec<HistoryEventRow> {
    ids.map(event).collect()
}

pub fn closed(status: ExecutionStatus) -> ExecutionUpdate {
    ExecutionUpdate {
        status,
        output: Some("{}".into()),
        error: None,
        cause: None,
        stop_date: Some(1_700_000_001_000),
        redrive_count: 0,
        redrive_date: None,
    }
}

pub fn activity(name: &str) -> ActivityRecord {
    ActivityRecord {
        arn: format!("{REGION}:activity:{name}"),
        name: name.into(),
        creation_date: 1_700_000_000_000,
        encryption_configuration: None,
    }
}

pub fn token(token: &str, execution_arn: &str, activity_arn: Option<&str>) -> TaskTokenRecord {
    TaskTokenRecord {
        token: token.into(),
        execution_arn: execution_arn.into(),
        state_name: "Work".into(),
        activity_arn: activity_arn.map(str::to_string),
        input: Some(r#"{"job":1}"#.into()),
        status: if activity_arn.is_some() {
            TaskTokenStatus::Scheduled
        } else {
            TaskTokenStatus::Started
        },
        worker_name: None,
        created: 1_700_000_000_000,
        heartbeat_seconds: Some(30),
        heartbeat_deadline: None,
        timeout_deadline: Some(1_700_000_100_000),
        output: None,
        error: None,
        cause: None,
    }
}
