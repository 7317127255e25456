//! The AWS Step Functions API over HTTP, so boto3, the aws CLI and the AWS SDKs work against
//! Stepwise unchanged.
//!
//! # Protocol (AWS JSON 1.0)
//! `POST /` with `X-Amz-Target: AWSStepFunctions.<Action>` and a JSON body; the answer is the
//! action's output structure as JSON (`Content-Type: application/x-amz-json-1.0`) with an
//! `x-amzn-RequestId` header. The `Content-Type` of requests is not enforced and requests are
//! not signature-checked (any credentials work). The `Host` header is not looked at, so the
//! `sync-` host prefix that SDKs put on StartSyncExecution/TestState reaches the same server.
//! `GET /healthz` answers 200 for readiness probes.
//!
//! Client note: botocore puts the `sync-` prefix on the *custom* endpoint's host too, so with
//! `endpoint_url="http://127.0.0.1:8083"` StartSyncExecution and TestState go to
//! `sync-127.0.0.1`, which does not resolve. Local users turn that off with
//! `Config(inject_host_prefix=False)` or `AWS_DISABLE_HOST_PREFIX_INJECTION=true`.
//!
//! # Errors
//! Body `{"__type": "<Code>", "message": "..."}` plus an `X-Amzn-ErrorType: <Code>` header:
//! * `UnknownOperationException` (400): no or unknown `X-Amz-Target`, or a path other than `/`;
//! * `SerializationException` (400): the body is not JSON, not an object, or a member has the
//!   wrong JSON type (`NUMBER_VALUE can not be converted to a String`);
//! * `ValidationException` (400): model constraints (required, enum, ranges, lengths), in AWS's
//!   `1 validation error detected: Value … at '…' failed to satisfy constraint: …` wording;
//! * `RequestEntityTooLargeException` (413): body over AWS's 1 MB maximum request size;
//! * `NotImplemented` (501): an action of the service model Stepwise does not serve yet. 501
//!   is HTTP's own "not implemented", and SDKs do not retry it;
//! * `InternalFailure` (500): a bug (a caught panic); the only status SDKs retry.
//!
//! # What is implemented
//! State machines (Create/Describe/Update/Delete/List, ValidateStateMachineDefinition),
//! versions (PublishStateMachineVersion, ListStateMachineVersions, DeleteStateMachineVersion),
//! aliases (Create/Describe/Update/Delete/ListStateMachineAliases), tags (TagResource,
//! UntagResource, ListTagsForResource, on state machines and activities), activities
//! (Create/Describe/Delete/ListActivities) and executions (StartExecution through a machine,
//! version or alias ARN, StartSyncExecution, StopExecution, DescribeExecution, ListExecutions,
//! GetExecutionHistory, DescribeStateMachineForExecution, RedriveExecution) and map runs
//! (DescribeMapRun, ListMapRuns, UpdateMapRun).
//!
//! **Not yet implemented**: none; all 37 actions of the model are served.
//!
//! # Storage
//! [`service::Service`] holds the configuration, the store and the execution runtime.
//! `Config::data_dir` picks the store: `None` means `./.stepwise` (relative to the working
//! directory, like other local development tools), `:memory:` keeps everything in memory, any
//! other path is a directory holding the SQLite database `stepwise.db`. On start the runtime
//! resumes every Standard execution the store has as RUNNING, so a restart (or a crash) loses
//! no execution.
//!
//! # Known differences from AWS
//! Express executions are not kept (as in AWS, where they go to CloudWatch Logs): they cannot
//! be described or listed. DescribeStateMachine on an alias ARN describes the state machine.
//! Some rarely seen error messages (an alias routing to versions of two machines, ListExecutions
//! without an ARN, a tag limit) are Stepwise's own wording; every recorded one is AWS's.

pub mod actions;
pub mod arn;
pub mod error;
pub mod handlers;
pub mod input;
pub mod integration;
pub mod service;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use error::ApiError;
use futures::StreamExt;
use service::Service;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

/// AWS's "Maximum request size: 1 MB per request" (Step Functions service quotas).
pub const MAX_REQUEST_BYTES: usize = 1_048_576;

/// The `X-Amz-Target` prefix of the service model (`targetPrefix`).
pub const TARGET_PREFIX: &str = "AWSStepFunctions.";

const JSON_1_0: &str = "application/x-amz-json-1.0";

/// What the server pretends to be (region and account go into every ARN) and where it keeps
/// its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub region: String,
    pub account_id: String,
    /// `None`: `./.stepwise`; `:memory:`: no persistence; else the data directory.
    pub data_dir: Option<PathBuf>,
    /// Execution worker threads (each runs many executions).
    pub workers: usize,
    /// What Task states call: Step Functions Local's MockConfigFile (test cases picked with
    /// `stateMachineArn#TestCaseName`), Lambda functions by name, HTTP Task connections.
    pub mock_config: Option<PathBuf>,
    pub lambda_config: Option<PathBuf>,
    /// A Lambda-API server for functions the Lambda config does not list (`LAMBDA_ENDPOINT`).
    pub lambda_endpoint: Option<String>,
    pub connections: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            region: "us-east-1".into(),
            account_id: "123456789012".into(),
            data_dir: None,
            workers: 2,
            mock_config: None,
            lambda_config: None,
            lambda_endpoint: None,
            connections: None,
        }
    }
}

/// The HTTP application: `POST /` (the API), `GET /healthz`, AWS-shaped 404 elsewhere.
pub fn router(service: Arc<Service>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .fallback(api)
        .with_state(service)
}

/// Serves on `listener` until `shutdown` resolves; requests under way are finished first.
pub async fn serve<F>(
    listener: tokio::net::TcpListener,
    service: Arc<Service>,
    shutdown: F,
) -> std::io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    // The web console shares the port: its GET pages go to it, everything else to the API.
    let store = service.store.clone();
    let app = stepwise_console::mount(
        router(service),
        store,
        stepwise_console::ConsoleConfig::default(),
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

/// Options of [`run`], what `stepwise serve` takes on its command line.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub host: String,
    /// 0 picks a free port (the log line says which).
    pub port: u16,
    pub config: Config,
}

/// Opens the store, starts the execution runtime (resuming RUNNING executions), binds, logs
/// the address and serves until SIGTERM or Ctrl-C, then stops the runtime (executions still
/// running resume on the next start). Owns its tokio runtime so callers (the CLI) stay
/// synchronous.
pub fn run(opts: ServeOptions) -> std::io::Result<()> {
    let service = Service::open(opts.config.clone()).map_err(std::io::Error::other)?;
    let result = serve_blocking(&opts, service.clone());
    service.shutdown();
    result
}

fn serve_blocking(opts: &ServeOptions, service: Arc<Service>) -> std::io::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind((opts.host.as_str(), opts.port)).await?;
        let addr: SocketAddr = listener.local_addr()?;
        tracing::info!(
            region = %opts.config.region,
            account = %opts.config.account_id,
            data_dir = %opts.config.data_dir.as_deref().map_or_else(
                || service::DEFAULT_DATA_DIR.to_string(),
                |d| d.display().to_string()
            ),
            "stepwise listening on http://{addr}"
        );
        let runtime = service.runtime.clone();
        let shutdown = async move {
            shutdown_signal().await;
            // Open GetActivityTask long polls answer at once, so the drain doesn't wait 60 s.
            runtime.release_pollers();
        };
        serve(listener, service, shutdown).await?;
        tracing::info!("stepwise stopped");
        Ok(())
    })
}

/// Resolves on Ctrl-C or (on Unix) SIGTERM, the signals process managers send.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => tracing::info!("interrupted, shutting down"),
        _ = term => tracing::info!("SIGTERM, shutting down"),
    }
}

/// Installs the `tracing` subscriber (stderr). `level` is a filter like `info` or
/// `stepwise_api=debug`; without it RUST_LOG is used, else `info`. A second call is a no-op.
pub fn init_logging(level: Option<&str>) -> Result<(), String> {
    use tracing_subscriber::EnvFilter;
    let filter = match level {
        Some(l) => EnvFilter::try_new(l).map_err(|e| format!("invalid log level {l:?}: {e}"))?,
        None => EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
    Ok(())
}

/// The action named by `X-Amz-Target`, if the header is there and has the service's prefix.
fn target_action(headers: &HeaderMap) -> Result<String, ApiError> {
    let Some(target) = headers.get("x-amz-target") else {
        return Err(ApiError::unknown_operation(
            "Missing X-Amz-Target header: no operation requested",
        ));
    };
    let target = target.to_str().unwrap_or_default();
    match target.strip_prefix(TARGET_PREFIX) {
        Some(action) if !action.is_empty() => Ok(action.to_string()),
        _ => Err(ApiError::unknown_operation(format!(
            "Operation {target} is not supported by AWSStepFunctions"
        ))),
    }
}

/// How much of an oversized body is still read (and dropped) before answering, so that a
/// client that writes its whole request before reading gets our 413 rather than a reset
/// connection. Past this the connection is simply closed.
const DRAIN_LIMIT: u64 = 16 * 1024 * 1024;

/// The body, refused past [`MAX_REQUEST_BYTES`] (nothing beyond it is kept in memory).
async fn read_body(headers: &HeaderMap, body: Body) -> Result<Vec<u8>, ApiError> {
    let declared = headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let mut stream = body.into_data_stream();
    if let Some(n) = declared.filter(|n| *n > MAX_REQUEST_BYTES as u64) {
        if n <= DRAIN_LIMIT {
            drain(&mut stream, 0).await;
        }
        return Err(ApiError::too_large(MAX_REQUEST_BYTES));
    }
    let mut out = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| ApiError::serialization(format!("Unreadable body: {e}")))?;
        if out.len() + chunk.len() > MAX_REQUEST_BYTES {
            drain(&mut stream, (out.len() + chunk.len()) as u64).await;
            return Err(ApiError::too_large(MAX_REQUEST_BYTES));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

async fn drain(stream: &mut axum::body::BodyDataStream, mut seen: u64) {
    while seen <= DRAIN_LIMIT {
        match stream.next().await {
            Some(Ok(chunk)) => seen += chunk.len() as u64,
            _ => return,
        }
    }
}

async fn api(State(service): State<Arc<Service>>, req: Request) -> Response {
    let start = Instant::now();
    let request_id = uuid::Uuid::new_v4().to_string();
    let (parts, body) = req.into_parts();
    let mut action = String::new();
    let result = async {
        if parts.method != Method::POST || parts.uri.path() != "/" {
            return Err(ApiError::new(
                "UnknownOperationException",
                format!(
                    "No operation at {} {}: the API is POST /",
                    parts.method,
                    parts.uri.path()
                ),
                404,
            ));
        }
        action = target_action(&parts.headers)?;
        let body = read_body(&parts.headers, body).await?;
        let name = action.clone();
        // Off the reactor (store reads and writes block, StartSyncExecution waits for the
        // execution), and a panic comes back as a JoinError.
        match tokio::task::spawn_blocking(move || actions::dispatch(&name, &body, &service)).await {
            Ok(r) => r,
            Err(_) => Err(ApiError::internal()),
        }
    }
    .await;
    let (status, body, code) = match result {
        Ok(v) => (StatusCode::OK, v, None),
        Err(e) => (
            StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            e.body(),
            Some(e.code),
        ),
    };
    tracing::info!(
        action = %action,
        status = status.as_u16(),
        error = code.as_deref().unwrap_or(""),
        ms = start.elapsed().as_millis() as u64,
        request_id = %request_id,
        "request"
    );
    let mut resp = (status, body.to_string()).into_response();
    let h = resp.headers_mut();
    h.insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static(JSON_1_0),
    );
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        h.insert("x-amzn-requestid", v);
    }
    if let Some(v) = code.and_then(|c| HeaderValue::from_str(&c).ok()) {
        h.insert("x-amzn-errortype", v);
    }
    resp
}
