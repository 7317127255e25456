//! Live execution updates as server-sent events, read from the store's history.

use crate::{error, required_arn, AppState, AppStateRef, ArnQuery};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use std::convert::Infallible;
use std::sync::Arc;
use stepwise_store::{Error as StoreError, ExecutionRecord, ExecutionStatus, HistoryEventRow};

/// One stored event in GetExecutionHistory's shape, plus the engine's `thread` key.
pub fn event_json(row: &HistoryEventRow) -> Value {
    let mut v = match stepwise_engine::durable::from_row(row) {
        Ok(e) => e.to_json(),
        // A type this build does not know (newer data): show what the row holds.
        Err(_) => json!({
            "timestamp": row.timestamp as f64 / 1000.0,
            "type": row.kind,
            "id": row.id,
            "previousEventId": row.previous_event_id,
            "details": row.details.as_deref().and_then(|d| serde_json::from_str::<Value>(d).ok()),
        }),
    };
    v["thread"] = Value::from(row.thread.as_str());
    v
}

/// DescribeExecution's fields (times as epoch seconds, as the API sends them).
pub fn execution_json(e: &ExecutionRecord) -> Value {
    json!({
        "executionArn": e.arn,
        "stateMachineArn": e.state_machine_arn,
        "name": e.name,
        "status": e.status.as_str(),
        "startDate": e.start_date as f64 / 1000.0,
        "stopDate": e.stop_date.map(|d| d as f64 / 1000.0),
        "input": e.input,
        "output": e.output,
        "error": e.error,
        "cause": e.cause,
        "redriveCount": e.redrive_count,
        "lastEventId": e.last_event_id,
    })
}

struct Cursor {
    after: u64,
    status: Option<ExecutionStatus>,
    done: bool,
}

/// What one look at the store found: the next message, or nothing new yet.
fn poll(state: &AppState, arn: &str, cur: &mut Cursor) -> Result<Option<Value>, StoreError> {
    // Execution first: if it ended after this read, the events read next include its end.
    let exec = state.store.get_execution(arn)?;
    let rows = state
        .store
        .events_after(arn, cur.after, state.config.stream_batch.max(1))?;
    let changed = cur.status != Some(exec.status);
    if rows.is_empty() && !changed {
        return Ok(None);
    }
    if let Some(last) = rows.last() {
        cur.after = last.id;
    }
    let full = rows.len() >= state.config.stream_batch.max(1);
    let done = exec.status != ExecutionStatus::Running && !full && cur.after >= exec.last_event_id;
    cur.done = done;
    cur.status = Some(exec.status);
    let events: Vec<Value> = rows.iter().map(event_json).collect();
    Ok(Some(json!({
        "events": events,
        "execution": if changed { execution_json(&exec) } else { Value::Null },
        "done": done,
    })))
}

pub async fn stream(state: AppStateRef, uri: Uri, headers: HeaderMap) -> Response {
    let q = ArnQuery::from_uri(&uri);
    let arn = match required_arn(&q) {
        Ok(a) => a,
        Err(r) => return r.into_response(),
    };
    // EventSource resends the last `id` when it reconnects.
    let resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let after = resume.or(q.after).unwrap_or(0);
    let state: Arc<AppState> = state.0;
    {
        let (s, a) = (state.clone(), arn.clone());
        match tokio::task::spawn_blocking(move || s.store.get_execution(&a)).await {
            Ok(Ok(_)) => {}
            Ok(Err(StoreError::NotFound(_))) => {
                return error(
                    StatusCode::NOT_FOUND,
                    "ExecutionDoesNotExist",
                    format!("Execution Does Not Exist: '{arn}'"),
                )
            }
            Ok(Err(e)) => {
                return error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "InternalFailure",
                    e.to_string(),
                )
            }
            Err(_) => return error(StatusCode::INTERNAL_SERVER_ERROR, "InternalFailure", ""),
        }
    }
    let cursor = Cursor {
        after,
        status: None,
        done: false,
    };
    let events =
        futures::stream::unfold((cursor, state, arn), |(mut cur, state, arn)| async move {
            if cur.done {
                return None;
            }
            loop {
                let (s, a) = (state.clone(), arn.clone());
                let res = tokio::task::spawn_blocking(move || {
                    let mut c = cur;
                    let r = poll(&s, &a, &mut c);
                    (c, r)
                })
                .await;
                let Ok((c, r)) = res else { return None };
                cur = c;
                match r {
                    Ok(Some(msg)) => {
                        let ev = Event::default()
                            .event("update")
                            .id(cur.after.to_string())
                            .data(msg.to_string());
                        return Some((Ok::<_, Infallible>(ev), (cur, state, arn)));
                    }
                    Ok(None) => tokio::time::sleep(state.config.poll_interval).await,
                    Err(e) => {
                        let ev = Event::default().event("failure").data(
                            json!({"__type": "InternalFailure", "message": e.to_string()})
                                .to_string(),
                        );
                        cur.done = true;
                        return Some((Ok(ev), (cur, state, arn)));
                    }
                }
            }
        });
    Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response()
}
