//! Finding a Python that has boto3/botocore, for the tests that check us against them.
#![allow(dead_code)] // each test binary uses part of it
//! `STEPWISE_PYTHON` wins (scripts/test.sh points it at its venv), else `python3` on PATH.

use std::process::{Command, Stdio};

pub fn python() -> String {
    std::env::var("STEPWISE_PYTHON")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "python3".into())
}

/// Whether `import <module>` works in [`python`].
pub fn python_has(module: &str) -> bool {
    Command::new(python())
        .args(["-c", &format!("import {module}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

// ---------------------------------------------------------------------------------------------
// The real `stepwise serve` binary, started for a test and driven over plain HTTP.

use serde_json::Value;
use std::ffi::OsStr;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

/// `target/<profile>/stepwise`, next to this test's `deps/` folder (or `STEPWISE_BIN`).
pub fn binary() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("STEPWISE_BIN") {
        return Some(PathBuf::from(p));
    }
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?.parent()?;
    let bin = dir.join(format!("stepwise{}", std::env::consts::EXE_SUFFIX));
    bin.is_file().then_some(bin)
}

/// Kills the process when the test ends (or fails) with it still running.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A fresh, empty data directory under Cargo's per-test temporary directory.
pub fn data_dir(tag: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("{tag}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("data dir");
    dir
}

/// One API call over plain HTTP/1.0: (status, JSON body), or `None` when nothing answers.
pub fn call(port: u16, action: &str, body: &Value) -> Option<(u16, Value)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    let _ = s.set_read_timeout(Some(Duration::from_secs(20)));
    let payload = body.to_string();
    let req = format!(
        "POST / HTTP/1.0\r\nHost: localhost\r\nX-Amz-Target: AWSStepFunctions.{action}\r\n\
         Content-Type: application/x-amz-json-1.0\r\nContent-Length: {}\r\n\r\n{payload}",
        payload.len()
    );
    s.write_all(req.as_bytes()).ok()?;
    let mut buf = String::new();
    s.read_to_string(&mut buf).ok()?;
    let status = buf.split_whitespace().nth(1)?.parse().ok()?;
    let body = buf.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    Some((status, serde_json::from_str(body).unwrap_or_default()))
}

/// A call that must succeed: its answer.
pub fn ok(port: u16, action: &str, body: Value) -> Value {
    let (status, out) = call(port, action, &body).expect("the server answers");
    assert_eq!(status, 200, "{action} {body}: {out}");
    out
}

/// Starts `stepwise serve` on `port` with `args` (e.g. `--data-dir DIR`) and waits until the
/// API answers.
pub fn start_server<S: AsRef<OsStr>>(bin: &Path, port: u16, args: &[S]) -> Proc {
    let child = std::process::Command::new(bin)
        .args(["serve", "--host", "127.0.0.1", "--log-level", "warn"])
        .args(args)
        .env("STEPWISE_PORT", port.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
    let mut server = Proc(child);
    let start = Instant::now();
    while call(port, "ListStateMachines", &serde_json::json!({})).is_none() {
        if let Ok(Some(status)) = server.0.try_wait() {
            panic!("server exited before answering: {status}");
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "server not up after 20 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    server
}

/// Waits up to `secs` for the execution to end; DescribeExecution's answer.
pub fn finished(port: u16, arn: &str, secs: u64) -> Value {
    let start = Instant::now();
    loop {
        let d = ok(
            port,
            "DescribeExecution",
            serde_json::json!({"executionArn": arn}),
        );
        if d["status"] != "RUNNING" {
            return d;
        }
        assert!(
            start.elapsed() < Duration::from_secs(secs),
            "{arn} still running"
        );
        std::thread::sleep(Duration::from_millis(30));
    }
}

/// GetExecutionHistory's events (one page: the tests' histories are short).
pub fn history(port: u16, arn: &str) -> Vec<Value> {
    let h = ok(
        port,
        "GetExecutionHistory",
        serde_json::json!({"executionArn": arn}),
    );
    h["events"].as_array().cloned().unwrap_or_default()
}

/// The events' types, in order.
pub fn types(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["type"].as_str().unwrap_or("").to_string())
        .collect()
}

/// CreateStateMachine (Standard); its ARN.
pub fn create_machine(port: u16, name: &str, definition: Value) -> String {
    let out = ok(
        port,
        "CreateStateMachine",
        serde_json::json!({"name": name, "definition": definition.to_string(),
            "roleArn": "arn:aws:iam::123456789012:role/test"}),
    );
    out["stateMachineArn"].as_str().expect("arn").to_string()
}

/// StartExecution with `input`; the execution's ARN.
pub fn start_execution(port: u16, state_machine_arn: &str, input: Value) -> String {
    let out = ok(
        port,
        "StartExecution",
        serde_json::json!({"stateMachineArn": state_machine_arn, "input": input.to_string()}),
    );
    out["executionArn"].as_str().expect("arn").to_string()
}

/// A JSON text member (`output`, `cause`) parsed; `null` when absent or not JSON.
pub fn json_of(v: &Value) -> Value {
    serde_json::from_str(v.as_str().unwrap_or("null")).unwrap_or(Value::Null)
}
