//! History events in the shape GetExecutionHistory returns them.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

/// One event of an execution's history.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEvent {
    pub id: u64,
    pub previous_event_id: u64,
    pub timestamp: DateTime<Utc>,
    /// The event type as AWS names it (`PassStateEntered`, `ExecutionSucceeded`, …).
    pub kind: &'static str,
    /// The details member's name (`stateEnteredEventDetails`, …) and its value, if any.
    pub details: Option<(&'static str, Value)>,
}

impl HistoryEvent {
    /// The event as GetExecutionHistory's JSON (`timestamp` as epoch seconds with millis, as
    /// the AWS JSON protocol sends it).
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert(
            "timestamp".into(),
            Value::from(self.timestamp.timestamp_millis() as f64 / 1000.0),
        );
        m.insert("type".into(), Value::from(self.kind));
        m.insert("id".into(), Value::from(self.id));
        m.insert(
            "previousEventId".into(),
            Value::from(self.previous_event_id),
        );
        if let Some((name, details)) = &self.details {
            m.insert((*name).into(), details.clone());
        }
        Value::Object(m)
    }
}
