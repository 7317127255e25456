//! Step Functions calling itself: the optimized integration
//! (`arn:aws:states:::states:startExecution`, `.sync`, `.sync:2`, `.waitForTaskToken`) and the
//! SDK integration (`arn:aws:states:::aws-sdk:sfn:<action>`) run this server's own API actions
//! in process, so nested workflows, activity workers written as state machines and
//! `SendTask*` from a workflow all work without AWS.
//!
//! A `.sync` call starts the child with a link to the parent's task token; the runtime answers
//! that token when the child ends (see `stepwise_engine::runtime`), and the parent waits for it
//! durably like a callback.

use std::sync::{Arc, OnceLock, Weak};

use chrono::{DateTime, SecondsFormat, Utc};
use futures::future::LocalBoxFuture;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use stepwise_asl::error::{names, StateError};
use stepwise_engine::runtime::ParentLink;
use stepwise_resources::arn::{self, Pattern, Resource};
use stepwise_resources::{Invocation, ServiceIntegration};
use stepwise_store::ParentTask;

use crate::error::ApiError;
use crate::handlers::executions;
use crate::input::Input;
use crate::service::Service;

/// The service, once it exists (it owns the runtime that owns this integration).
pub type ServiceSlot = Arc<OnceLock<Weak<Service>>>;

/// See the module documentation.
pub struct StepFunctions {
    service: ServiceSlot,
}

impl StepFunctions {
    pub fn new(service: ServiceSlot) -> StepFunctions {
        StepFunctions { service }
    }

    fn service(&self) -> Result<Arc<Service>, StateError> {
        self.service
            .get()
            .and_then(Weak::upgrade)
            .ok_or_else(|| StateError::runtime("the Step Functions service is shutting down"))
    }
}

/// Which call a resource names.
enum Call {
    /// `states:startExecution[.pattern]`.
    Start(Pattern),
    /// `aws-sdk:sfn:<action>` (request-response only).
    Sdk(String),
}

fn classify(resource: &str) -> Option<Call> {
    match arn::parse(resource) {
        Resource::Service {
            service,
            action,
            pattern,
            sdk: false,
        } if service == "states" && action == "startExecution" => Some(Call::Start(pattern)),
        Resource::Service {
            service,
            action,
            pattern: Pattern::RequestResponse,
            sdk: true,
        } if service == "sfn" => Some(Call::Sdk(action)),
        _ => None,
    }
}

impl ServiceIntegration for StepFunctions {
    fn handles(&self, resource: &str) -> bool {
        classify(resource).is_some()
    }

    fn completes_by_token(&self, resource: &str) -> bool {
        matches!(
            classify(resource),
            Some(Call::Start(Pattern::Sync | Pattern::Sync2))
        )
    }

    fn call<'a>(&'a self, inv: &'a Invocation) -> LocalBoxFuture<'a, Result<Value, StateError>> {
        Box::pin(async move {
            let svc = self.service()?;
            match classify(&inv.resource) {
                Some(Call::Start(pattern)) => start_execution(svc, inv, pattern).await,
                Some(Call::Sdk(action)) => sdk_call(svc, &action, &inv.parameters).await,
                None => Err(StateError::runtime(format!(
                    "'{}' is not a Step Functions integration",
                    inv.resource
                ))),
            }
        })
    }
}

/// Runs `f` off the engine's worker thread: API actions block (StopExecution waits for the
/// worker that runs the execution; GetActivityTask long-polls).
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| Err(ApiError::new("InternalFailure", e.to_string(), 500)))
}

/// `states:startExecution`: StartExecution with the Task's `StateMachineArn`, `Input` (JSON
/// or JSON text; absent or null starts with `{}`) and `Name`.
async fn start_execution(
    svc: Arc<Service>,
    inv: &Invocation,
    pattern: Pattern,
) -> Result<Value, StateError> {
    let p = &inv.parameters;
    let mut body = Map::new();
    if let Some(a) = p.get("StateMachineArn") {
        body.insert("stateMachineArn".into(), a.clone());
    }
    match p.get("Input") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => {
            body.insert("input".into(), Value::from(s.clone()));
        }
        Some(other) => {
            body.insert("input".into(), Value::from(other.to_string()));
        }
    }
    let sync = matches!(pattern, Pattern::Sync | Pattern::Sync2);
    let token = inv.task_token.clone().filter(|_| sync);
    match p.get("Name") {
        Some(n) => {
            body.insert("name".into(), n.clone());
        }
        // A replayed call (after a crash before its answer was recorded) must find the child
        // it already started: a name derived from the task token makes the start idempotent.
        None => {
            if let Some(t) = &token {
                body.insert("name".into(), Value::from(name_from_token(t)));
            }
        }
    }
    let parent = inv
        .context
        .execution_arn
        .clone()
        .filter(|a| !a.is_empty())
        .map(|execution_arn| ParentLink {
            execution_arn,
            task: token.map(|token| ParentTask {
                token,
                json: matches!(pattern, Pattern::Sync2),
            }),
        });
    let started = blocking(move || executions::start_linked(&svc, Input::from_map(body), parent))
        .await
        .map_err(optimized_error)?;
    let answer = json!({
        "executionArn": started.execution_arn,
        "startDate": crate::service::ts(started.start_date),
    })
    .to_string();
    let request_id = uuid::Uuid::new_v4().to_string();
    let date = http_date(Utc::now());
    let length = answer.len().to_string();
    Ok(json!({
        "ExecutionArn": started.execution_arn,
        "SdkHttpMetadata": {
            "AllHttpHeaders": {
                "x-amzn-RequestId": [request_id],
                "connection": ["keep-alive"],
                "Content-Length": [length],
                "Date": [date],
                "Content-Type": ["application/x-amz-json-1.0"],
            },
            "HttpHeaders": {
                "connection": "keep-alive",
                "Content-Length": length,
                "Content-Type": "application/x-amz-json-1.0",
                "Date": date,
                "x-amzn-RequestId": request_id,
            },
            "HttpStatusCode": 200,
        },
        "SdkResponseMetadata": {"RequestId": request_id},
        "StartDate": started.start_date,
    }))
}

/// A UUID-shaped execution name that is the same for every replay of one task attempt.
fn name_from_token(token: &str) -> String {
    let d = Sha256::digest(token.as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    uuid::Uuid::from_bytes(b).hyphenated().to_string()
}

fn http_date(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

fn exception_name(prefix: &str, code: &str) -> String {
    if code.ends_with("Exception") {
        format!("{prefix}.{code}")
    } else {
        format!("{prefix}.{code}Exception")
    }
}

/// An API error as the optimized integration reports it (the Java SDK v1's text).
fn optimized_error(e: ApiError) -> StateError {
    StateError::new(
        exception_name("StepFunctions", &e.code),
        format!(
            "{} (Service: AWSStepFunctions; Status Code: {}; Error Code: {}; Request ID: {}; Proxy: null)",
            e.message,
            e.status,
            e.code,
            uuid::Uuid::new_v4()
        ),
    )
}

/// An API error as the SDK integration reports it (the Java SDK v2's text).
fn sdk_error(e: ApiError) -> StateError {
    StateError::new(
        exception_name("Sfn", &e.code),
        format!(
            "{} (Service: Sfn, Status Code: {}, Request ID: {}) (SDK Attempt Count: 1)",
            e.message,
            e.status,
            uuid::Uuid::new_v4()
        ),
    )
}

/// Members the API takes as JSON text, which the SDK integration serialises when given JSON.
const JSON_TEXT_MEMBERS: [&str; 3] = ["input", "output", "definition"];

/// `aws-sdk:sfn:<action>`: the action with the parameters' member names as the API spells
/// them (`TaskToken` → `taskToken`); the answer's names capitalised, dates as ISO-8601 text.
async fn sdk_call(svc: Arc<Service>, action: &str, params: &Value) -> Result<Value, StateError> {
    let mut chars = action.chars();
    let api_action: String = match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    };
    if crate::actions::support(&api_action).is_none() {
        return Err(StateError::new(
            names::RUNTIME,
            format!("The AWS SDK integration for Step Functions has no action '{action}'"),
        ));
    }
    let body = match params {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| {
                    let name = lower_first(k);
                    let v = match v {
                        Value::String(_) => v.clone(),
                        other if JSON_TEXT_MEMBERS.contains(&name.as_str()) => {
                            Value::from(other.to_string())
                        }
                        other => lower_keys(other),
                    };
                    (name, v)
                })
                .collect(),
        ),
        Value::Null => json!({}),
        other => other.clone(),
    };
    let text = body.to_string();
    let answer = blocking(move || crate::actions::dispatch(&api_action, text.as_bytes(), &svc))
        .await
        .map_err(sdk_error)?;
    Ok(sdk_output(&answer))
}

fn lower_first(k: &str) -> String {
    let mut c = k.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

fn upper_first(k: &str) -> String {
    let mut c = k.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn lower_keys(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (lower_first(k), lower_keys(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(lower_keys).collect()),
        other => other.clone(),
    }
}

fn is_date_member(k: &str) -> bool {
    k.ends_with("Date") || k == "timestamp"
}

fn sdk_output(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| {
                    let out = match v {
                        Value::Number(n) if is_date_member(k) => {
                            let ms = (n.as_f64().unwrap_or(0.0) * 1000.0).round() as i64;
                            DateTime::<Utc>::from_timestamp_millis(ms)
                                .map(|t| {
                                    Value::from(t.to_rfc3339_opts(SecondsFormat::Millis, true))
                                })
                                .unwrap_or_else(|| v.clone())
                        }
                        other => sdk_output(other),
                    };
                    (upper_first(k), out)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(sdk_output).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_are_classified() {
        let i = StepFunctions::new(Arc::default());
        assert!(i.handles("arn:aws:states:::states:startExecution"));
        assert!(i.handles("arn:aws:states:::states:startExecution.sync:2"));
        assert!(i.handles("arn:aws:states:::aws-sdk:sfn:sendTaskSuccess"));
        assert!(!i.handles("arn:aws:states:::sqs:sendMessage"));
        assert!(!i.handles("arn:aws:states:::aws-sdk:sfn:startExecution.sync"));
        assert!(i.completes_by_token("arn:aws:states:::states:startExecution.sync"));
        assert!(i.completes_by_token("arn:aws-cn:states:::states:startExecution.sync:2"));
        assert!(!i.completes_by_token("arn:aws:states:::states:startExecution"));
        assert!(!i.completes_by_token("arn:aws:states:::states:startExecution.waitForTaskToken"));
    }

    #[test]
    fn names_from_tokens_are_stable_and_valid() {
        let a = name_from_token("t1");
        assert_eq!(a, name_from_token("t1"));
        assert_ne!(a, name_from_token("t2"));
        assert_eq!(a.len(), 36);
        assert!(crate::arn::valid_name(&a));
    }

    #[test]
    fn sdk_shapes() {
        assert_eq!(
            exception_name("Sfn", "InvalidToken"),
            "Sfn.InvalidTokenException"
        );
        assert_eq!(
            exception_name("Sfn", "ValidationException"),
            "Sfn.ValidationException"
        );
        let out = sdk_output(&json!({"executionArn": "a", "startDate": 1700000000.5,
            "events": [{"timestamp": 1.0, "id": 1}]}));
        assert_eq!(
            out,
            json!({"ExecutionArn": "a", "StartDate": "2023-11-14T22:13:20.500Z",
                "Events": [{"Timestamp": "1970-01-01T00:00:01.000Z", "Id": 1}]})
        );
        assert_eq!(
            lower_keys(&json!({"Tags": [{"Key": "k", "Value": "v"}]})),
            json!({"tags": [{"key": "k", "value": "v"}]})
        );
    }
}
