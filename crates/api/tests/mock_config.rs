//! `stepwise serve --mock-config FILE` end to end: StartExecution with Step Functions Local's
//! `stateMachineArn#TestCaseName` runs the test case's mocked responses
//! (examples/integrations/order-processing.mock-config.json over
//! examples/order-processing.asl.json); an unknown test case is refused.
//!
//! Skips with a message when the binary is not built (`cargo build -p stepwise-cli`;
//! STEPWISE_BIN overrides its path).

use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn binary() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("STEPWISE_BIN") {
        return Some(PathBuf::from(p));
    }
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?.parent()?;
    let bin = dir.join(format!("stepwise{}", std::env::consts::EXE_SUFFIX));
    bin.is_file().then_some(bin)
}

/// Kills the server when the test ends (or fails).
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

/// One API call over plain HTTP/1.0: (status, JSON body).
fn call(port: u16, action: &str, body: &Value) -> Option<(u16, Value)> {
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

fn ok(port: u16, action: &str, body: Value) -> Value {
    let (status, out) = call(port, action, &body).expect("the server answers");
    assert_eq!(status, 200, "{action} {body}: {out}");
    out
}

fn start_server(bin: &Path, port: u16, mock_config: &Path) -> Proc {
    let child = Command::new(bin)
        .args(["serve", "--host", "127.0.0.1", "--log-level", "warn"])
        .args(["--data-dir", ":memory:"])
        .arg("--mock-config")
        .arg(mock_config)
        .env("STEPWISE_PORT", port.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
    let mut server = Proc(child);
    let start = Instant::now();
    while call(port, "ListStateMachines", &json!({})).is_none() {
        if let Ok(Some(status)) = server.0.try_wait() {
            panic!("server exited before answering: {status}");
        }
        assert!(start.elapsed() < Duration::from_secs(20), "server not up");
        std::thread::sleep(Duration::from_millis(50));
    }
    server
}

fn finished(port: u16, arn: &str) -> Value {
    let start = Instant::now();
    loop {
        let d = ok(port, "DescribeExecution", json!({"executionArn": arn}));
        if d["status"] != "RUNNING" {
            return d;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{arn} still running"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn test_cases_answer_from_the_mock_config() {
    let Some(bin) = binary() else {
        eprintln!("SKIP: the stepwise binary is not built (cargo build -p stepwise-cli)");
        return;
    };
    let ex = examples();
    let port = free_port();
    let _server = start_server(
        &bin,
        port,
        &ex.join("integrations/order-processing.mock-config.json"),
    );
    let definition =
        std::fs::read_to_string(ex.join("order-processing.asl.json")).expect("definition");
    let input = std::fs::read_to_string(ex.join("order-processing.input.json")).expect("input");
    let sm = ok(
        port,
        "CreateStateMachine",
        json!({"name": "order-processing", "definition": definition,
            "roleArn": "arn:aws:iam::123456789012:role/r"}),
    );
    let sm = sm["stateMachineArn"].as_str().expect("arn").to_string();

    // HappyPath: every task mocked, the reservation retried once.
    let started = ok(
        port,
        "StartExecution",
        json!({"stateMachineArn": format!("{sm}#HappyPath"), "name": "happy", "input": input}),
    );
    let arn = started["executionArn"].as_str().expect("arn").to_string();
    assert!(arn.ends_with(":execution:order-processing:happy"), "{arn}");
    let d = finished(port, &arn);
    assert_eq!(d["status"], "SUCCEEDED", "{d}");
    assert_eq!(d["stateMachineArn"], sm.as_str());
    let output: Value = serde_json::from_str(d["output"].as_str().expect("output")).expect("json");
    assert_eq!(
        output,
        json!({"orderId": "ord-1001", "status": "COMPLETE", "paymentId": "pay-9001",
            "shipments": [{"trackingNumber": "TRK-1"}, {"trackingNumber": "TRK-2"},
                {"trackingNumber": "TRK-n"}],
            "receiptSent": true})
    );

    // A second execution of the same test case starts its own response sequences.
    let again = ok(
        port,
        "StartExecution",
        json!({"stateMachineArn": format!("{sm}#HappyPath"), "input": input}),
    );
    let d = finished(port, again["executionArn"].as_str().expect("arn"));
    assert_eq!(d["status"], "SUCCEEDED", "{d}");
    assert_eq!(
        serde_json::from_str::<Value>(d["output"].as_str().expect("output")).expect("json"),
        output
    );

    // ReceiptThrottled: the receipt's failure is caught.
    let t = ok(
        port,
        "StartExecution",
        json!({"stateMachineArn": format!("{sm}#ReceiptThrottled"), "input": input}),
    );
    let t = t["executionArn"].as_str().expect("arn");
    let d = finished(port, t);
    assert_eq!(d["status"], "SUCCEEDED", "{d}");
    let h = ok(port, "GetExecutionHistory", json!({"executionArn": t}));
    let failed: Vec<&Value> = h["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["type"] == "TaskFailed")
        .map(|e| &e["taskFailedEventDetails"])
        .collect();
    assert!(
        failed
            .iter()
            .any(|f| f["error"] == "SNS.ThrottledException" && f["cause"] == "Rate exceeded"),
        "{failed:?}"
    );

    // Without a test case nothing is mocked: the Lambda call names what is missing.
    let plain = ok(
        port,
        "StartExecution",
        json!({"stateMachineArn": sm, "input": input}),
    );
    let d = finished(port, plain["executionArn"].as_str().expect("arn"));
    assert_eq!(d["status"], "FAILED", "{d}");
    assert!(
        d["cause"]
            .as_str()
            .unwrap_or("")
            .contains("--lambda-config"),
        "{d}"
    );

    // An unknown test case is refused before an execution exists.
    let (status, err) = call(
        port,
        "StartExecution",
        &json!({"stateMachineArn": format!("{sm}#NoSuchCase"), "name": "nope", "input": input}),
    )
    .expect("answers");
    assert_eq!(status, 400, "{err}");
    assert_eq!(err["__type"], "ValidationException", "{err}");
    let message = err["message"].as_str().unwrap_or_default();
    assert!(message.contains("NoSuchCase"), "{err}");
    let (status, _) = call(
        port,
        "DescribeExecution",
        &json!({"executionArn": arn.replace(":happy", ":nope")}),
    )
    .expect("answers");
    assert_eq!(status, 400);
}
