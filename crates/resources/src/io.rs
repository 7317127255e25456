//! Outgoing IO on a runtime of its own.
//!
//! The engine runs executions on current-thread runtimes with only the timer enabled (and a
//! paused clock in the local runner), so sockets and child processes cannot live there. Each
//! call is spawned here and its result sent back over a channel any executor can await;
//! dropping the waiting future (a task timeout, a stopped execution) cancels the work.

use std::future::Future;
use std::sync::OnceLock;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

type HttpsClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

struct Io {
    rt: tokio::runtime::Runtime,
    client: HttpsClient,
}

fn io() -> Result<&'static Io, String> {
    static IO: OnceLock<Result<Io, String>> = OnceLock::new();
    IO.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("stepwise-resources-io")
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the IO runtime: {e}"))?;
        // The provider is named: with several rustls providers compiled in, none is the default.
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(provider)
            .map_err(|e| format!("cannot load the system's root certificates: {e}"))?
            .https_or_http()
            .enable_http1()
            .build();
        let client = Client::builder(TokioExecutor::new()).build(https);
        Ok(Io { rt, client })
    })
    .as_ref()
    .map_err(Clone::clone)
}

/// Runs `fut` on the IO runtime; `Err` when the runtime is not available.
pub(crate) async fn run<F, T>(fut: F) -> Result<T, String>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let io = io()?;
    let (mut tx, rx) = tokio::sync::oneshot::channel();
    io.rt.spawn(async move {
        let out = tokio::select! {
            v = fut => Some(v),
            _ = tx.closed() => None,
        };
        if let Some(v) = out {
            let _ = tx.send(v);
        }
    });
    rx.await
        .map_err(|_| "the IO task ended without an answer".to_string())
}

/// Starts `fut` on the IO runtime without waiting for it (Lambda `InvocationType: Event`).
pub(crate) fn detach<F>(fut: F) -> Result<(), String>
where
    F: Future<Output = ()> + Send + 'static,
{
    io()?.rt.spawn(fut);
    Ok(())
}

/// An HTTP request to send.
#[derive(Debug, Clone)]
pub(crate) struct HttpCall {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub timeout: Duration,
}

/// An HTTP answer; header names are lower case, in the order received.
#[derive(Debug, Clone)]
pub(crate) struct HttpReply {
    pub status: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl HttpReply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Why a call got no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HttpFailure {
    /// The request could not be built (bad URL, method or header).
    Request(String),
    /// Connecting, TLS, sending or reading failed, or the time limit passed.
    Socket(String),
}

/// Largest response body read (larger ones fail as socket errors rather than filling memory).
const MAX_BODY: usize = 16 * 1024 * 1024;

async fn send_here(call: HttpCall) -> Result<HttpReply, HttpFailure> {
    let io = io().map_err(HttpFailure::Socket)?;
    let method = hyper::Method::from_bytes(call.method.as_bytes())
        .map_err(|_| HttpFailure::Request(format!("invalid HTTP method '{}'", call.method)))?;
    let uri: hyper::Uri = call
        .url
        .parse()
        .map_err(|e| HttpFailure::Request(format!("invalid URL '{}': {e}", call.url)))?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none() {
        return Err(HttpFailure::Request(format!(
            "invalid URL '{}': an absolute http:// or https:// URL is needed",
            call.url
        )));
    }
    let mut builder = hyper::Request::builder().method(method).uri(uri);
    for (k, v) in &call.headers {
        builder = builder.header(k.as_str(), v.as_str());
    }
    let req = builder
        .body(Full::new(Bytes::from(call.body)))
        .map_err(|e| HttpFailure::Request(format!("invalid request: {e}")))?;
    let exchange = async {
        let resp = io
            .client
            .request(req)
            .await
            .map_err(|e| HttpFailure::Socket(describe(&e)))?;
        let status = resp.status();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = Limited::new(resp.into_body(), MAX_BODY)
            .collect()
            .await
            .map_err(|e| HttpFailure::Socket(format!("reading the response failed: {e}")))?
            .to_bytes();
        Ok(HttpReply {
            status: status.as_u16(),
            reason: status.canonical_reason().unwrap_or("").to_string(),
            headers,
            body,
        })
    };
    match tokio::time::timeout(call.timeout, exchange).await {
        Ok(r) => r,
        Err(_) => Err(HttpFailure::Socket(format!(
            "no response from {} within {} seconds",
            call.url,
            call.timeout.as_secs()
        ))),
    }
}

/// The error and its sources in one line (hyper's own message is terse).
fn describe(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Sends an HTTP request from the IO runtime.
pub(crate) async fn send(call: HttpCall) -> Result<HttpReply, HttpFailure> {
    match run(send_here(call)).await {
        Ok(r) => r,
        Err(e) => Err(HttpFailure::Socket(e)),
    }
}
