//! A server for the console's tests: the real API router (`stepwise_api::router`) with the
//! console mounted in front of it by [`stepwise_console::mount`], as `stepwise serve` does
//! it, over an in-memory store.

#![allow(dead_code)]

use serde_json::Value;
use std::net::SocketAddr;
use std::sync::Arc;
use stepwise_api::service::Service;
use stepwise_console::{mount, ConsoleConfig};
use stepwise_store::Store;

pub const REGION: &str = "us-east-1";
pub const ACCOUNT: &str = "123456789012";

pub struct TestServer {
    pub url: String,
    pub addr: SocketAddr,
    pub store: Arc<dyn Store>,
    pub service: Arc<Service>,
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
        self.service.shutdown();
    }
}

pub fn start_server() -> TestServer {
    let config = stepwise_api::Config {
        region: REGION.into(),
        account_id: ACCOUNT.into(),
        ..stepwise_api::Config::default()
    };
    let service = Service::in_memory(config).expect("service");
    let store = service.store.clone();
    let app = mount(
        stepwise_api::router(service.clone()),
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
        service,
        shutdown: Some(tx),
        thread: Some(thread),
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
