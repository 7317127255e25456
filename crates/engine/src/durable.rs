//! History events to and from the store's rows, and the sink that writes a Standard execution's
//! events durably (group-committed by the store) before the effects they enable.

use crate::history::{Details, HistoryEvent};
use crate::run::{EventSink, MapRunLive};
use chrono::{DateTime, TimeZone, Utc};
use futures::future::LocalBoxFuture;
use serde_json::Value;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::{Rc, Weak};
use std::sync::Arc;
use stepwise_store::{
    ExecutionFilter, ExecutionRecord, ExecutionStatus, ExecutionUpdate, HistoryEventRow,
    MapRunStatus, PageRequest, Store, WriteOp,
};

/// The Map Runs running on one worker thread, by ARN: where UpdateMapRun finds them.
pub type MapRunRegistry = Rc<RefCell<HashMap<String, Weak<MapRunLive>>>>;

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

/// The execution's new state when `e` ends it (its redrive fields are the sink's).
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
    /// The execution's redrive count and date, kept by its terminal update.
    redrive: Cell<(u32, Option<i64>)>,
    /// Map Runs whose record changed since the last flush.
    map_runs: RefCell<Vec<Rc<MapRunLive>>>,
    /// Finished child executions not yet written.
    children: RefCell<Vec<WriteOp>>,
    registry: Option<MapRunRegistry>,
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
            redrive: Cell::new((0, None)),
            map_runs: RefCell::default(),
            children: RefCell::default(),
            registry: None,
        }
    }

    /// The execution's redrive count and date (its terminal update keeps them).
    pub fn with_redrive(self, count: u32, date: Option<i64>) -> StoreSink {
        self.redrive.set((count, date));
        self
    }

    /// Where running Map Runs are published for UpdateMapRun.
    pub fn with_registry(mut self, registry: MapRunRegistry) -> StoreSink {
        self.registry = Some(registry);
        self
    }

    /// Whether everything recorded is stored and no write is under way: only then may the
    /// execution be parked (dropped and later replayed from the store).
    pub fn is_settled(&self) -> bool {
        self.pending.borrow().is_empty()
            && self.update.borrow().is_none()
            && self.children.borrow().is_empty()
            && self.map_runs.borrow().is_empty()
            && self.flushing.try_lock().is_ok()
    }

    /// The storage error that stopped this execution's writes, if any.
    pub fn failure(&self) -> Option<String> {
        self.failed.borrow().clone()
    }
}

impl EventSink for StoreSink {
    fn record(&self, event: &HistoryEvent) {
        self.pending.borrow_mut().push(to_row(event));
        if let Some(mut u) = terminal_update(event) {
            (u.redrive_count, u.redrive_date) = self.redrive.get();
            *self.update.borrow_mut() = Some(u);
        }
    }

    fn flush(&self) -> LocalBoxFuture<'_, ()> {
        Box::pin(async move {
            let _guard = self.flushing.lock().await;
            let rows = std::mem::take(&mut *self.pending.borrow_mut());
            let update = self.update.borrow_mut().take();
            let mut ops = std::mem::take(&mut *self.children.borrow_mut());
            for run in std::mem::take(&mut *self.map_runs.borrow_mut()) {
                let record = run.record.borrow().clone();
                if let Some(reg) = &self.registry {
                    if record.status == MapRunStatus::Running {
                        reg.borrow_mut()
                            .insert(record.arn.clone(), Rc::downgrade(&run));
                    } else {
                        reg.borrow_mut().remove(&record.arn);
                    }
                }
                ops.push(WriteOp::PutMapRun(record));
            }
            if rows.is_empty() && update.is_none() && ops.is_empty() {
                return;
            }
            let store = self.store.clone();
            let arn = self.execution_arn.clone();
            // Children and Map Runs first: the execution's end comes after its Map Runs'.
            let result = tokio::task::spawn_blocking(move || {
                if !ops.is_empty() {
                    for r in store.write_batch(ops)? {
                        match r {
                            // A child recorded before a crash is recorded again on replay.
                            Ok(_)
                            | Err(stepwise_store::Error::AlreadyExists { .. })
                            | Err(stepwise_store::Error::Conflict(_)) => {}
                            Err(e) => return Err(e),
                        }
                    }
                }
                if rows.is_empty() && update.is_none() {
                    return Ok(());
                }
                store.append_events(&arn, rows, update)
            })
            .await;
            let err = match result {
                Ok(Ok(())) => return,
                Ok(Err(e)) => e.to_string(),
                Err(e) => e.to_string(),
            };
            tracing::error!(execution = %self.execution_arn, error = %err, "cannot persist history");
            *self.failed.borrow_mut() = Some(err);
        })
    }

    fn map_run(&self, run: &Rc<MapRunLive>) {
        let mut runs = self.map_runs.borrow_mut();
        if !runs.iter().any(|r| Rc::ptr_eq(r, run)) {
            runs.push(run.clone());
        }
    }

    fn child_execution(&self, record: ExecutionRecord, events: Vec<HistoryEvent>, redriven: bool) {
        let arn = record.arn.clone();
        let update = events.last().and_then(terminal_update).map(|mut u| {
            u.redrive_count = record.redrive_count;
            u.redrive_date = record.redrive_date;
            u
        });
        let rows = events.iter().map(to_row).collect();
        let append = WriteOp::AppendEvents {
            execution_arn: arn,
            events: rows,
            update,
        };
        if redriven {
            self.children.borrow_mut().push(append);
            return;
        }
        // Created with its history and end in one step: never RUNNING for long enough to be
        // seen, so recovery never tries to resume it.
        self.children.borrow_mut().push(WriteOp::Group(vec![
            WriteOp::CreateExecution(record),
            append,
        ]));
    }

    fn finished_children(
        &self,
        map_run_arn: &str,
    ) -> LocalBoxFuture<'_, HashMap<String, ExecutionRecord>> {
        let store = self.store.clone();
        let filter = ExecutionFilter {
            parent_arn: Some(map_run_arn.to_string()),
            ..Default::default()
        };
        Box::pin(async move {
            let read = tokio::task::spawn_blocking(move || {
                let mut out = HashMap::new();
                let mut page = PageRequest::first(1000);
                loop {
                    let p = store.list_executions(&filter, &page)?;
                    for e in p.items {
                        out.insert(e.arn.clone(), e);
                    }
                    match p.next_token {
                        Some(t) => page.next_token = Some(t),
                        None => return Ok::<_, stepwise_store::Error>(out),
                    }
                }
            })
            .await;
            match read {
                Ok(Ok(m)) => m,
                _ => HashMap::new(),
            }
        })
    }
}
