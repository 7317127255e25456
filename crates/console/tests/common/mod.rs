//! A server for the console's tests: the console mounted with [`stepwise_console::mount`] in
//! front of an API, as `stepwise serve` does it.
//!
//! The API here is a **stand-in** for the actions the console calls, over the same store and
//! engine runtime, answering in the AWS shapes (documented in the Step Functions API
//! reference). It exists because those actions are being written in `stepwise-api` at the
//! same time; once they are served there, these tests can run against the real binary.
//! Everything it does not serve answers `NotImplemented` (501), as the real server does.

#![allow(dead_code)]
// Test scaffolding: errors are finished HTTP responses, built once and returned.
#![allow(clippy::result_large_err)]

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::{json, Map, Value};
use std::net::SocketAddr;
use std::sync::Arc;
use stepwise_asl::validate::{validate_text, ValidateOptions};
use stepwise_console::{mount, ConsoleConfig};
use stepwise_engine::runtime::{Runtime, RuntimeConfig, RuntimeError, StartRequest};
use stepwise_store::{
    Error as StoreError, ExecutionFilter, ExecutionStatus, MemoryStore, PageRequest,
    StateMachineRecord, StateMachineType, Store,
};

pub const REGION: &str = "us-east-1";
pub const ACCOUNT: &str = "123456789012";

pub struct TestServer {
    pub url: String,
    pub addr: SocketAddr,
    pub store: Arc<dyn Store>,
    pub runtime: Runtime,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.runtime.shutdown();
    }
}

pub fn start_server() -> TestServer {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let runtime = Runtime::start(
        store.clone(),
        RuntimeConfig {
            workers: 2,
            region: REGION.into(),
            account: ACCOUNT.into(),
        },
    )
    .expect("runtime");
    let app = mount(
        stand_in_api(store.clone(), runtime.clone()),
        store.clone(),
        ConsoleConfig {
            poll_interval: std::time::Duration::from_millis(50),
            ..ConsoleConfig::default()
        },
    );
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let (atx, arx) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            atx.send(listener.local_addr().expect("addr"))
                .expect("send addr");
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await
                .expect("serve");
        });
    });
    let addr = arx.recv().expect("server address");
    TestServer {
        url: format!("http://{addr}"),
        addr,
        store,
        runtime,
        shutdown: Some(tx),
        thread: Some(thread),
    }
}

/// The API's `POST /` for the actions the console uses.
pub fn stand_in_api(store: Arc<dyn Store>, runtime: Runtime) -> Router {
    Router::new()
        .route("/healthz", axum::routing::get(|| async { "ok" }))
        .fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let (store, runtime) = (store.clone(), runtime.clone());
                async move {
                    if method != Method::POST || uri.path() != "/" {
                        return api_error(
                            404,
                            "UnknownOperationException",
                            "the API is POST /".into(),
                        );
                    }
                    let action = headers
                        .get("x-amz-target")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.strip_prefix("AWSStepFunctions."))
                        .unwrap_or("")
                        .to_string();
                    let input: Map<String, Value> =
                        serde_json::from_slice(&body).unwrap_or_default();
                    match tokio::task::spawn_blocking(move || {
                        dispatch(&store, &runtime, &action, &input)
                    })
                    .await
                    {
                        Ok(Ok(v)) => (StatusCode::OK, v.to_string()).into_response(),
                        Ok(Err(r)) => r,
                        Err(_) => api_error(500, "InternalFailure", "panic".into()),
                    }
                }
            },
        )
}

fn api_error(status: u16, code: &str, message: String) -> Response {
    let mut r = (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        json!({"__type": code, "message": message}).to_string(),
    )
        .into_response();
    if let Ok(v) = code.parse() {
        r.headers_mut().insert("x-amzn-errortype", v);
    }
    r
}

fn ts(ms: i64) -> Value {
    Value::from(ms as f64 / 1000.0)
}

fn s<'a>(input: &'a Map<String, Value>, k: &str) -> Option<&'a str> {
    input.get(k).and_then(Value::as_str)
}

fn page(input: &Map<String, Value>) -> PageRequest {
    PageRequest {
        max_results: input.get("maxResults").and_then(Value::as_u64).unwrap_or(0) as usize,
        next_token: s(input, "nextToken").map(str::to_string),
    }
}

fn store_err(e: StoreError) -> Response {
    match e {
        StoreError::NotFound(what) => api_error(
            400,
            "ResourceNotFound",
            format!("Resource not found: '{what}'"),
        ),
        StoreError::InvalidToken(_) => api_error(400, "InvalidToken", "Invalid Token".into()),
        other => api_error(500, "InternalFailure", other.to_string()),
    }
}

fn dispatch(
    store: &Arc<dyn Store>,
    runtime: &Runtime,
    action: &str,
    input: &Map<String, Value>,
) -> Result<Value, Response> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    match action {
        "CreateStateMachine" => {
            let name = s(input, "name").unwrap_or_default();
            let definition = s(input, "definition").unwrap_or_default();
            let kind = match s(input, "type") {
                Some("EXPRESS") => StateMachineType::Express,
                _ => StateMachineType::Standard,
            };
            let diags = validate_text(definition, &ValidateOptions::default());
            if let Some(d) = diags.first() {
                return Err(api_error(
                    400,
                    "InvalidDefinition",
                    format!("Invalid State Machine Definition: '{}'", d.aws_text()),
                ));
            }
            let arn = format!("arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{name}");
            let rec = StateMachineRecord {
                arn: arn.clone(),
                name: name.into(),
                kind,
                definition: definition.into(),
                role_arn: s(input, "roleArn").unwrap_or_default().into(),
                creation_date: now,
                revision_id: uuid::Uuid::new_v4().to_string(),
                status: "ACTIVE".into(),
                description: None,
                label: None,
                logging_configuration: None,
                tracing_configuration: None,
                encryption_configuration: None,
            };
            match store.create_state_machine(rec) {
                Ok(()) => Ok(json!({"stateMachineArn": arn, "creationDate": ts(now)})),
                Err(StoreError::AlreadyExists { .. }) => Err(api_error(
                    400,
                    "StateMachineAlreadyExists",
                    format!("State Machine Already Exists: '{arn}'"),
                )),
                Err(e) => Err(store_err(e)),
            }
        }
        "DescribeStateMachine" => {
            let arn = s(input, "stateMachineArn").unwrap_or_default();
            let sm = store.get_state_machine(arn).map_err(|e| match e {
                StoreError::NotFound(_) => api_error(
                    400,
                    "StateMachineDoesNotExist",
                    format!("State Machine Does Not Exist: '{arn}'"),
                ),
                e => store_err(e),
            })?;
            Ok(json!({
                "stateMachineArn": sm.arn, "name": sm.name, "status": sm.status,
                "definition": sm.definition, "roleArn": sm.role_arn,
                "type": if sm.kind == StateMachineType::Express { "EXPRESS" } else { "STANDARD" },
                "creationDate": ts(sm.creation_date), "revisionId": sm.revision_id,
            }))
        }
        "ListStateMachines" => {
            let p = store.list_state_machines(&page(input)).map_err(store_err)?;
            let items: Vec<Value> = p
                .items
                .iter()
                .map(|sm| {
                    json!({"stateMachineArn": sm.arn, "name": sm.name,
                        "type": if sm.kind == StateMachineType::Express { "EXPRESS" } else { "STANDARD" },
                        "creationDate": ts(sm.creation_date)})
                })
                .collect();
            Ok(json!({"stateMachines": items, "nextToken": p.next_token}))
        }
        "ListStateMachineVersions" => {
            let arn = s(input, "stateMachineArn").unwrap_or_default();
            let p = store.list_versions(arn, &page(input)).map_err(store_err)?;
            let items: Vec<Value> = p
                .items
                .iter()
                .map(|v| json!({"stateMachineVersionArn": v.arn, "creationDate": ts(v.creation_date)}))
                .collect();
            Ok(json!({"stateMachineVersions": items, "nextToken": p.next_token}))
        }
        "ListStateMachineAliases" => {
            let arn = s(input, "stateMachineArn").unwrap_or_default();
            let p = store.list_aliases(arn, &page(input)).map_err(store_err)?;
            let items: Vec<Value> = p
                .items
                .iter()
                .map(
                    |a| json!({"stateMachineAliasArn": a.arn, "creationDate": ts(a.creation_date)}),
                )
                .collect();
            Ok(json!({"stateMachineAliases": items, "nextToken": p.next_token}))
        }
        "StartExecution" => {
            let arn = s(input, "stateMachineArn").unwrap_or_default();
            let sm = store.get_state_machine(arn).map_err(|e| match e {
                StoreError::NotFound(_) => api_error(
                    400,
                    "StateMachineDoesNotExist",
                    format!("State Machine Does Not Exist: '{arn}'"),
                ),
                e => store_err(e),
            })?;
            let name = s(input, "name")
                .map(str::to_string)
                .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
            let text = s(input, "input").unwrap_or("{}");
            if serde_json::from_str::<Value>(text).is_err() {
                return Err(api_error(
                    400,
                    "InvalidExecutionInput",
                    "Invalid execution input".into(),
                ));
            }
            let started = runtime
                .start_execution(StartRequest {
                    state_machine: sm,
                    version_arn: None,
                    alias_arn: None,
                    name,
                    input: text.into(),
                    trace_header: None,
                })
                .map_err(runtime_err)?;
            Ok(json!({"executionArn": started.execution_arn, "startDate": ts(started.start_date)}))
        }
        "ListExecutions" => {
            let filter = ExecutionFilter {
                state_machine_arn: s(input, "stateMachineArn").map(str::to_string),
                status: s(input, "statusFilter").and_then(ExecutionStatus::parse),
                parent_arn: None,
            };
            let p = store
                .list_executions(&filter, &page(input))
                .map_err(store_err)?;
            let items: Vec<Value> = p
                .items
                .iter()
                .map(|e| {
                    json!({"executionArn": e.arn, "stateMachineArn": e.state_machine_arn,
                        "name": e.name, "status": e.status.as_str(), "startDate": ts(e.start_date),
                        "stopDate": e.stop_date.map(ts)})
                })
                .collect();
            Ok(json!({"executions": items, "nextToken": p.next_token}))
        }
        "DescribeExecution" => {
            let arn = s(input, "executionArn").unwrap_or_default();
            let e = store.get_execution(arn).map_err(store_err)?;
            Ok(
                json!({"executionArn": e.arn, "stateMachineArn": e.state_machine_arn,
                "name": e.name, "status": e.status.as_str(), "startDate": ts(e.start_date),
                "stopDate": e.stop_date.map(ts), "input": e.input, "output": e.output,
                "error": e.error, "cause": e.cause}),
            )
        }
        "StopExecution" => {
            let arn = s(input, "executionArn").unwrap_or_default();
            let stop = runtime
                .stop_execution(
                    arn,
                    s(input, "error").map(str::to_string),
                    s(input, "cause").map(str::to_string),
                )
                .map_err(runtime_err)?;
            Ok(json!({"stopDate": ts(stop)}))
        }
        other => Err(api_error(
            501,
            "NotImplemented",
            format!("{other} is not implemented by Stepwise yet"),
        )),
    }
}

fn runtime_err(e: RuntimeError) -> Response {
    match e {
        RuntimeError::ExecutionAlreadyExists(a) => api_error(
            400,
            "ExecutionAlreadyExists",
            format!("Execution Already Exists: '{a}'"),
        ),
        RuntimeError::ExecutionDoesNotExist(a) => api_error(
            400,
            "ExecutionDoesNotExist",
            format!("Execution Does Not Exist: '{a}'"),
        ),
        other => api_error(500, "InternalFailure", other.to_string()),
    }
}

/// A blocking HTTP/1.1 request over a plain socket (no client dependency): status and body.
pub fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .expect("timeout");
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).expect("write");
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_string()
    };
    (status, body)
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// Calls an API action.
pub fn api(addr: SocketAddr, action: &str, body: Value) -> (u16, Value) {
    let target = format!("AWSStepFunctions.{action}");
    let (status, text) = http(
        addr,
        "POST",
        "/",
        &[
            ("X-Amz-Target", &target),
            ("Content-Type", "application/x-amz-json-1.0"),
        ],
        &body.to_string(),
    );
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}
