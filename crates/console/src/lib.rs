//! The web console, served by `stepwise serve` on the API's own port.
//!
//! The front end is hand-written HTML, CSS and ES modules under `web/`, compiled into the
//! binary with `include_str!`: `cargo build` is the whole build, with no npm step and nothing to
//! install next to the binary. The browser reads and acts through the Step Functions API itself
//! (`POST /` with `X-Amz-Target`), exactly as an SDK would, so the console never shows
//! something the API would not. This crate adds only what the API has no action for:
//!
//! * `GET /console/api/definition?arn=…` — for a state machine, version or execution ARN: the
//!   definition as displayed, its validation diagnostics with line/column, and the graph drawn
//!   by `stepwise-graph` (the same picture as `stepwise graph`), as inline SVG.
//! * `GET /console/api/graph.svg?arn=…` — that SVG alone (a download link).
//! * `GET /console/api/stream?arn=<execution>&after=<event id>` — live updates as server-sent
//!   events. The server polls the store's history ([`ConsoleConfig::poll_interval`]) and sends
//!   `update` messages `{"events": [...], "execution": {...} | null, "done": bool}`: new events
//!   in GetExecutionHistory's shape plus their engine `thread` key (which Parallel branch or Map
//!   iteration emitted them, something the API's shape cannot say), and the execution's
//!   DescribeExecution fields whenever its status changes. The SSE `id` is the last event id,
//!   so a reconnecting `EventSource` resumes where it stopped. `done` ends the stream once the
//!   execution has ended and every event was sent.
//!
//! Pages are routed in the URL fragment (`/#/machines/<arn>`), so the server only ever serves
//! `GET /`: nothing here can shadow an API path.

mod assets;
mod definition;
mod stream;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::sync::Arc;
use std::time::Duration;
use stepwise_store::Store;

/// Tunables of the console's own endpoints.
#[derive(Debug, Clone)]
pub struct ConsoleConfig {
    /// How often a live stream looks at the store for new events. The store has no change
    /// notifications, and a few reads per second per open page is cheap for SQLite.
    pub poll_interval: Duration,
    /// Most events sent in one stream message, so a long history arrives in slices the page
    /// can draw while the rest follows.
    pub stream_batch: usize,
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        ConsoleConfig {
            poll_interval: Duration::from_millis(200),
            stream_batch: 1000,
        }
    }
}

pub(crate) struct AppState {
    pub store: Arc<dyn Store>,
    pub config: ConsoleConfig,
}

/// The console's routes, all `GET`: `/`, `/console/<asset>` and `/console/api/…`.
///
/// Merging this into the API router with `Router::merge` would make `POST /` answer 405
/// (axum matches the path, then finds no POST handler on it); use [`mount`] for that.
pub fn router(store: Arc<dyn Store>, config: ConsoleConfig) -> Router {
    let state = Arc::new(AppState { store, config });
    Router::new()
        .route("/", get(assets::index))
        .route("/index.html", get(assets::index))
        .route("/favicon.ico", get(assets::favicon))
        .route("/console/api/definition", get(definition::definition))
        .route("/console/api/graph.svg", get(definition::graph_svg))
        .route("/console/api/stream", get(stream::stream))
        .route("/console/{*file}", get(assets::asset))
        .with_state(state)
}

/// `api` with the console in front of it for the console's own `GET` requests
/// ([`is_console_request`]); every other request (the API's `POST /`, `/healthz`, unknown
/// paths) reaches `api` unchanged.
pub fn mount(api: Router, store: Arc<dyn Store>, config: ConsoleConfig) -> Router {
    let console = router(store, config);
    api.layer(axum::middleware::from_fn(
        move |req: Request, next: Next| {
            let mut console = console.clone();
            async move {
                if is_console_request(req.method(), req.uri().path()) {
                    match tower_service::Service::call(&mut console, req).await {
                        Ok(resp) => resp,
                        Err(never) => match never {},
                    }
                } else {
                    next.run(req).await
                }
            }
        },
    ))
}

/// Whether the console answers this request rather than the API.
pub fn is_console_request(method: &Method, path: &str) -> bool {
    (method == Method::GET || method == Method::HEAD)
        && (path == "/"
            || path == "/index.html"
            || path == "/favicon.ico"
            || path.starts_with("/console/"))
}

/// The query parameters the console's endpoints take. Parsed here rather than with axum's
/// `Query` (a feature that would add a dependency for two parameters).
#[derive(Debug, Default, PartialEq)]
pub(crate) struct ArnQuery {
    pub arn: Option<String>,
    pub after: Option<u64>,
}

impl ArnQuery {
    pub fn from_uri(uri: &Uri) -> ArnQuery {
        let mut q = ArnQuery::default();
        for pair in uri.query().unwrap_or("").split('&') {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let v = percent_decode(v);
            match k {
                "arn" => q.arn = Some(v),
                "after" => q.after = v.parse().ok(),
                _ => {}
            }
        }
        q
    }
}

/// `application/x-www-form-urlencoded` value decoding (`+` is a space); invalid escapes are
/// kept as written, invalid UTF-8 is replaced.
pub(crate) fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(v) => {
                        out.push(v);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A console endpoint's error: JSON `{"__type", "message"}` like the API's, so the page shows
/// both the same way.
pub(crate) fn error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    let body = serde_json::json!({"__type": code, "message": message.into()});
    let mut resp = (status, body.to_string()).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

/// An endpoint's failure, turned into [`error`]'s response at the end (a `Response` is too
/// big to pass around in `Result`s).
#[derive(Debug)]
pub(crate) struct Fail(pub StatusCode, pub &'static str, pub String);

impl IntoResponse for Fail {
    fn into_response(self) -> Response {
        error(self.0, self.1, self.2)
    }
}

pub(crate) fn required_arn(q: &ArnQuery) -> Result<String, Fail> {
    match q.arn.as_deref() {
        Some(a) if !a.is_empty() => Ok(a.to_string()),
        _ => Err(Fail(
            StatusCode::BAD_REQUEST,
            "ValidationException",
            "the arn query parameter is required".into(),
        )),
    }
}

pub(crate) type AppStateRef = State<Arc<AppState>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn console_requests_are_gets_of_its_paths() {
        assert!(is_console_request(&Method::GET, "/"));
        assert!(is_console_request(&Method::HEAD, "/console/app.js"));
        assert!(is_console_request(&Method::GET, "/console/api/stream"));
        assert!(!is_console_request(&Method::POST, "/"));
        assert!(!is_console_request(&Method::GET, "/healthz"));
        assert!(!is_console_request(&Method::GET, "/consoles"));
    }

    #[test]
    fn query_parameters_are_decoded() {
        let uri: Uri = "/x?arn=arn%3Aaws%3Astates%3A%3Ax%3Aa+b%2F%E2%9C%93&after=12&z"
            .parse()
            .expect("uri");
        let q = ArnQuery::from_uri(&uri);
        assert_eq!(q.arn.as_deref(), Some("arn:aws:states::x:a b/✓"));
        assert_eq!(q.after, Some(12));
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert_eq!(
            ArnQuery::from_uri(&"/x".parse().expect("uri")),
            ArnQuery::default()
        );
    }
}
