//! History events to and from the store's rows, and the sink that writes a Standard execution's
//! events durably (group-committed by the store) before the effects they enable.

use crate::history::{Details, HistoryEvent};
use crate::run::EventSink;
use chrono::{DateTime, TimeZone, Utc};
use futures::future::LocalBoxFuture;
use serde_json::Value;
use std::cell::RefCell;
use std::sync::Arc;
use stepwise_store::{ExecutionStatus, ExecutionUpdate, HistoryEventRow, Store};

/// Every event type GetExecutionHistory knows (botocore's `HistoryEventType`).
const EVENT_TYPES: &[&str] = &[
    "ActivityFailed",
    "ActivityScheduled",
    "ActivityScheduleFailed",
    "ActivityStarted",
    "ActivitySucceeded",
    "ActivityTimedOut",
    "ChoiceStateEntered",
    "ChoiceStateExited",
    "ExecutionAborted",
    "ExecutionFailed",
    "ExecutionStarted",
    "ExecutionSucceeded",
    "ExecutionTimedOut",
    "FailStateEntered",
    "LambdaFunctionFailed",
    "LambdaFunctionScheduled",
    "LambdaFunctionScheduleFailed",
    "LambdaFunctionStarted",
    "LambdaFunctionStartFailed",
    "LambdaFunctionSucceeded",
    "LambdaFunctionTimedOut",
    "MapIterationAborted",
    "MapIterationFailed",
    "MapIterationStarted",
    "MapIterationSucceeded",
    "MapStateAborted",
    "MapStateEntered",
    "MapStateExited",
    "MapStateFailed",
    "MapStateStarted",
    "MapStateSucceeded",
    "ParallelStateAborted",
    "ParallelStateEntered",
    "ParallelStateExited",
    "ParallelStateFailed",
    "ParallelStateStarted",
    "ParallelStateSucceeded",
    "PassStateEntered",
    "PassStateExited",
    "SucceedStateEntered",
    "SucceedStateExited",
    "TaskFailed",
    "TaskScheduled",
    "TaskStarted",
    "TaskStartFailed",
    "TaskStateAborted",
    "TaskStateEntered",
    "TaskStateExited",
    "TaskSubmitFailed",
    "TaskSubmitted",
    "TaskSucceeded",
    "TaskTimedOut",
    "WaitStateAborted",
    "WaitStateEntered",
    "WaitStateExited",
    "MapRunAborted",
    "MapRunFailed",
    "MapRunStarted",
    "MapRunSucceeded",
    "ExecutionRedriven",
    "MapRunRedriven",
    "EvaluationFailed",
];

/// The static name for a stored event type; unknown names (a newer schema) are an error.
pub fn event_kind(name: &str) -> Option<&'static str> {
    EVENT_TYPES.iter().copied().find(|k| *k == name)
}

pub fn millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub fn from_millis(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

pub fn to_row(e: &HistoryEvent) -> HistoryEventRow {
    HistoryEventRow {
        id: e.id,
        previous_event_id: e.previous_event_id,
        timestamp: millis(e.timestamp),
        kind: e.kind.to_string(),
        details: e.details_json().map(|d| d.to_string()),
        thread: e.thread.to_string(),
        seq: e.seq,
    }
}

/// A stored row as an event. Details come back as JSON (they are only read, never rebuilt).
pub fn from_row(r: &HistoryEventRow) -> Result<HistoryEvent, String> {
    let kind = event_kind(&r.kind).ok_or_else(|| format!("unknown event type {}", r.kind))?;
    let details = match &r.details {
        None => Details::None,
        Some(text) => Details::Json(
            serde_json::from_str::<Value>(text)
                .map_err(|e| format!("event {} has invalid details: {e}", r.id))?,
        ),
    };
    Ok(HistoryEvent {
        id: r.id,
        previous_event_id: r.previous_event_id,
        timestamp: from_millis(r.timestamp),
        kind,
        details,
        thread: Arc::from(r.thread.as_str()),
        seq: r.seq,
    })
}

/// The execution's new state when `e` ends it.
fn terminal_update(e: &HistoryEvent) -> Option<ExecutionUpdate> {
    let status = match e.kind {
        "ExecutionSucceeded" => ExecutionStatus::Succeeded,
        "ExecutionFailed" => ExecutionStatus::Failed,
        "ExecutionTimedOut" => ExecutionStatus::TimedOut,
        "ExecutionAborted" => ExecutionStatus::Aborted,
        _ => return None,
    };
    let d = e.details_json().unwrap_or(Value::Null);
    let text = |k: &str| d.get(k).and_then(Value::as_str).map(str::to_string);
    Some(ExecutionUpdate {
        status,
        output: text("output"),
        error: text("error"),
        cause: text("cause"),
        stop_date: Some(millis(e.timestamp)),
        redrive_count: 0,
        redrive_date: None,
    })
}

/// Buffers an execution's new events and appends them at each barrier, in id order (one flush
/// at a time), with the terminal status in the same write as the terminal event.
pub struct StoreSink {
    store: Arc<dyn Store>,
    execution_arn: String,
    pending: RefCell<Vec<HistoryEventRow>>,
    update: RefCell<Option<ExecutionUpdate>>,
    flushing: tokio::sync::Mutex<()>,
    failed: RefCell<Option<String>>,
}

impl StoreSink {
    pub fn new(store: Arc<dyn Store>, execution_arn: String) -> StoreSink {
        StoreSink {
            store,
            execution_arn,
            pending: RefCell::default(),
            update: RefCell::default(),
            flushing: tokio::sync::Mutex::new(()),
            failed: RefCell::default(),
        }
    }

    /// The storage error that stopped this execution's writes, if any.
    pub fn failure(&self) -> Option<String> {
        self.failed.borrow().clone()
    }
}

impl EventSink for StoreSink {
    fn record(&self, event: &HistoryEvent) {
        self.pending.borrow_mut().push(to_row(event));
        if let Some(u) = terminal_update(event) {
            *self.update.borrow_mut() = Some(u);
        }
    }

    fn flush(&self) -> LocalBoxFuture<'_, ()> {
        Box::pin(async move {
            let _guard = self.flushing.lock().await;
            let rows = std::mem::take(&mut *self.pending.borrow_mut());
            let update = self.update.borrow_mut().take();
            if rows.is_empty() && update.is_none() {
                return;
            }
            let store = self.store.clone();
            let arn = self.execution_arn.clone();
            let result =
                tokio::task::spawn_blocking(move || store.append_events(&arn, rows, update)).await;
            let err = match result {
                Ok(Ok(())) => return,
                Ok(Err(e)) => e.to_string(),
                Err(e) => e.to_string(),
            };
            tracing::error!(execution = %self.execution_arn, error = %err, "cannot persist history");
            *self.failed.borrow_mut() = Some(err);
        })
    }
}
