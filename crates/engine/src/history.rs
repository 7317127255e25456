//! History events in the shape GetExecutionHistory returns them.
//!
//! Events are kept typed and compact (JSON payloads as text, as AWS stores them) and only turned
//! into the API's JSON when read: a Map of 10,000 items records 40,000 events, and each one as a
//! JSON tree would cost about a kilobyte.

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// One event of an execution's history.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEvent {
    pub id: u64,
    pub previous_event_id: u64,
    pub timestamp: DateTime<Utc>,
    /// The event type as AWS names it (`PassStateEntered`, `ExecutionSucceeded`, …).
    pub kind: &'static str,
    pub details: Details,
    /// Which line of execution emitted it ("" for the main flow; branches and iterations have
    /// their own keys) and its position there. Not part of the API's answer: replay matches
    /// recorded events by (thread, seq), which stays stable however branches interleave.
    pub thread: Arc<str>,
    pub seq: u32,
}

/// The details member of an event. JSON payloads are held as the text AWS shows.
#[derive(Debug, Clone, PartialEq)]
pub enum Details {
    None,
    ExecutionStarted {
        input: String,
        role_arn: String,
    },
    ExecutionSucceeded {
        output: String,
    },
    /// ExecutionFailed, ExecutionTimedOut, ExecutionAborted: error and cause, each optional.
    ExecutionEnded {
        error: Option<String>,
        cause: Option<String>,
    },
    StateEntered {
        name: String,
        input: String,
    },
    StateExited {
        name: String,
        output: String,
        assigned: Option<Vec<(String, String)>>,
    },
    MapStateStarted {
        length: usize,
    },
    /// MapIterationStarted/Succeeded/Failed/Aborted.
    MapIteration {
        name: String,
        index: usize,
    },
    MapRunStarted {
        map_run_arn: String,
    },
    /// Anything rarer (task and Lambda events): the details member's JSON as is.
    Json(Value),
}

/// The details member's name for an event type (`stateEnteredEventDetails`, …).
fn details_key(kind: &str) -> Option<String> {
    let key = if kind.ends_with("StateEntered") {
        "stateEnteredEventDetails".to_string()
    } else if kind.ends_with("StateExited") {
        "stateExitedEventDetails".to_string()
    } else {
        let mut k = String::with_capacity(kind.len() + 12);
        let mut chars = kind.chars();
        let first = chars.next()?;
        k.extend(first.to_lowercase());
        k.extend(chars);
        k.push_str("EventDetails");
        k
    };
    Some(key)
}

fn not_truncated() -> Value {
    json!({"truncated": false})
}

impl Details {
    fn to_json(&self) -> Option<Value> {
        let mut m = Map::new();
        match self {
            Details::None => return None,
            Details::ExecutionStarted { input, role_arn } => {
                m.insert("input".into(), Value::from(input.as_str()));
                m.insert("inputDetails".into(), not_truncated());
                m.insert("roleArn".into(), Value::from(role_arn.as_str()));
            }
            Details::ExecutionSucceeded { output } => {
                m.insert("output".into(), Value::from(output.as_str()));
                m.insert("outputDetails".into(), not_truncated());
            }
            Details::ExecutionEnded { error, cause } => {
                if let Some(e) = error {
                    m.insert("error".into(), Value::from(e.as_str()));
                }
                if let Some(c) = cause {
                    m.insert("cause".into(), Value::from(c.as_str()));
                }
            }
            Details::StateEntered { name, input } => {
                m.insert("name".into(), Value::from(name.as_str()));
                m.insert("input".into(), Value::from(input.as_str()));
                m.insert("inputDetails".into(), not_truncated());
            }
            Details::StateExited {
                name,
                output,
                assigned,
            } => {
                if let Some(vars) = assigned {
                    let v: Map<String, Value> = vars
                        .iter()
                        .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
                        .collect();
                    m.insert("assignedVariables".into(), Value::Object(v));
                    m.insert("assignedVariablesDetails".into(), not_truncated());
                }
                m.insert("name".into(), Value::from(name.as_str()));
                m.insert("output".into(), Value::from(output.as_str()));
                m.insert("outputDetails".into(), not_truncated());
            }
            Details::MapStateStarted { length } => {
                m.insert("length".into(), Value::from(*length));
            }
            Details::MapIteration { name, index } => {
                m.insert("name".into(), Value::from(name.as_str()));
                m.insert("index".into(), Value::from(*index));
            }
            Details::MapRunStarted { map_run_arn } => {
                m.insert("mapRunArn".into(), Value::from(map_run_arn.as_str()));
            }
            Details::Json(v) => return Some(v.clone()),
        }
        Some(Value::Object(m))
    }
}

impl HistoryEvent {
    /// The details member as JSON (what GetExecutionHistory shows under `…EventDetails`).
    pub fn details_json(&self) -> Option<Value> {
        self.details.to_json()
    }

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
        if let (Some(key), Some(details)) = (details_key(self.kind), self.details.to_json()) {
            m.insert(key, details);
        }
        Value::Object(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_keys_follow_aws_names() {
        assert_eq!(
            details_key("PassStateEntered").unwrap(),
            "stateEnteredEventDetails"
        );
        assert_eq!(
            details_key("MapStateExited").unwrap(),
            "stateExitedEventDetails"
        );
        assert_eq!(
            details_key("ExecutionFailed").unwrap(),
            "executionFailedEventDetails"
        );
        assert_eq!(
            details_key("MapIterationStarted").unwrap(),
            "mapIterationStartedEventDetails"
        );
        assert_eq!(
            details_key("LambdaFunctionScheduled").unwrap(),
            "lambdaFunctionScheduledEventDetails"
        );
    }

    #[test]
    fn execution_failed_omits_missing_fields() {
        let e = HistoryEvent {
            id: 3,
            previous_event_id: 2,
            timestamp: DateTime::<Utc>::default(),
            kind: "ExecutionFailed",
            details: Details::ExecutionEnded {
                error: Some("E".into()),
                cause: None,
            },
            thread: Arc::from(""),
            seq: 1,
        };
        assert_eq!(
            e.to_json()["executionFailedEventDetails"],
            json!({"error": "E"})
        );
    }
}
