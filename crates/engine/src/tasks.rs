//! What a Task state calls, seen from the engine: a [`TaskHandler`] answers a [`TaskRequest`].
//!
//! The local runner ships one handler, [`CannedTasks`], which answers from a file of recorded
//! responses per state (the CLI's `--tasks FILE`). The server's runtime answers activities and
//! the waiting half of `.waitForTaskToken` callbacks itself (task tokens, see `tokens`); the
//! handler only performs calls to integrations, and [`Unconfigured`] refuses those by name.

use futures::future::LocalBoxFuture;
use serde_json::Value;
use std::cell::RefCell;
use std::collections::HashMap;
use stepwise_asl::error::StateError;

/// One task invocation.
#[derive(Debug, Clone)]
pub struct TaskRequest {
    pub state_name: String,
    pub resource: String,
    pub parameters: Value,
    pub timeout_seconds: Option<u64>,
    pub heartbeat_seconds: Option<u64>,
    /// The task token of a `.waitForTaskToken` call (also in `parameters` where the definition
    /// put `$$.Task.Token`): the call hands it to whoever will answer.
    pub task_token: Option<String>,
    /// Who calls: keys per-execution state in a handler shared by many executions (mock call
    /// counters) and selects the mock test case with `state_machine_name` and `test_case`.
    pub execution_arn: String,
    pub state_machine_name: String,
    /// Step Functions Local's `stateMachineArn#TestCaseName`, chosen at StartExecution.
    pub test_case: Option<String>,
    /// How many calls this execution made to this state's task before this one (retries,
    /// loops and Map iterations included). Mock response sequences count with it; a resumed
    /// execution counts its replayed calls too, so the count survives restarts and redrives.
    pub invocation: u64,
}

/// Performs Task states' work.
pub trait TaskHandler {
    fn invoke(&self, req: TaskRequest) -> LocalBoxFuture<'_, Result<Value, StateError>>;

    /// The task-token machinery, when the handler runs inside the server's runtime: activities
    /// are then handed to workers and callbacks wait for SendTask*. Without it (local runs),
    /// `invoke` answers activities and callbacks directly.
    fn tokens(&self) -> Option<&dyn crate::tokens::TokenBroker> {
        None
    }

    /// The execution ended (not parked): drop whatever per-execution state the handler keeps.
    fn execution_ended(&self, _execution_arn: &str) {}

    /// Whether `req` (a `.sync` call) is completed through a task token rather than by the
    /// call's answer: the call hands `req.task_token` to whatever will answer it later (a
    /// nested execution answers its parent's token when it ends), and the execution waits
    /// durably, as for a callback. Only asked inside the server's runtime.
    fn completes_by_token(&self, _req: &TaskRequest) -> bool {
        false
    }
}

/// The server's default: no integration is configured yet, so a Task calling one fails with an
/// error that names what is missing (activities and task tokens work without configuration).
pub struct Unconfigured;

impl TaskHandler for Unconfigured {
    fn invoke(&self, req: TaskRequest) -> LocalBoxFuture<'_, Result<Value, StateError>> {
        Box::pin(async move {
            let pattern = if req.task_token.is_some() {
                " (the call that hands out the task token)"
            } else {
                ""
            };
            Err(StateError::new(
                "States.TaskFailed",
                format!(
                    "No integration is configured for resource '{}'{pattern} in state '{}': \
                     Stepwise does not call this service yet; configure the integration or \
                     mock it",
                    req.resource, req.state_name
                ),
            ))
        })
    }
}

/// Answers every task with an error naming the missing configuration.
pub struct NoTasks;

impl TaskHandler for NoTasks {
    fn invoke(&self, req: TaskRequest) -> LocalBoxFuture<'_, Result<Value, StateError>> {
        Box::pin(async move {
            Err(StateError::new(
                "States.TaskFailed",
                format!(
                    "No handler is configured for resource '{}' (state '{}'): pass canned responses with --tasks FILE",
                    req.resource, req.state_name
                ),
            ))
        })
    }
}

/// A canned response: the task's result, or the error it throws.
#[derive(Debug, Clone)]
pub enum CannedResponse {
    Return(Value),
    Throw { error: String, cause: String },
}

/// Responses per state name (or per resource ARN), used in order; the last one repeats.
///
/// File format (JSON): `{"StateName": [{"Return": {...}}, {"Throw": {"Error": "E", "Cause": "C"}}], ...}`;
/// a single object instead of a list is one response for every call.
#[derive(Debug, Default)]
pub struct CannedTasks {
    responses: HashMap<String, Vec<CannedResponse>>,
    calls: RefCell<HashMap<String, usize>>,
}

impl CannedTasks {
    pub fn from_json(v: &Value) -> Result<CannedTasks, String> {
        let obj = v
            .as_object()
            .ok_or("canned responses must be a JSON object keyed by state name")?;
        let mut responses = HashMap::new();
        for (key, list) in obj {
            let items: Vec<&Value> = match list {
                Value::Array(a) => a.iter().collect(),
                other => vec![other],
            };
            let mut parsed = Vec::new();
            for item in items {
                if let Some(r) = item.get("Return") {
                    parsed.push(CannedResponse::Return(r.clone()));
                } else if let Some(t) = item.get("Throw") {
                    let s = |k: &str| {
                        t.get(k)
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string()
                    };
                    parsed.push(CannedResponse::Throw {
                        error: s("Error"),
                        cause: s("Cause"),
                    });
                } else {
                    return Err(format!(
                        "response for '{key}' needs a \"Return\" or \"Throw\" member"
                    ));
                }
            }
            if parsed.is_empty() {
                return Err(format!("no responses given for '{key}'"));
            }
            responses.insert(key.clone(), parsed);
        }
        Ok(CannedTasks {
            responses,
            calls: RefCell::default(),
        })
    }
}

impl TaskHandler for CannedTasks {
    fn invoke(&self, req: TaskRequest) -> LocalBoxFuture<'_, Result<Value, StateError>> {
        let key = if self.responses.contains_key(&req.state_name) {
            Some(req.state_name.clone())
        } else if self.responses.contains_key(&req.resource) {
            Some(req.resource.clone())
        } else {
            None
        };
        let answer = key.and_then(|k| {
            let list = self.responses.get(&k)?;
            let mut calls = self.calls.borrow_mut();
            let n = calls.entry(k).or_insert(0);
            let r = list.get(*n).or_else(|| list.last()).cloned();
            *n += 1;
            r
        });
        Box::pin(async move {
            match answer {
                Some(CannedResponse::Return(v)) => Ok(v),
                Some(CannedResponse::Throw { error, cause }) => Err(StateError::new(error, cause)),
                None => NoTasks.invoke(req).await,
            }
        })
    }
}
