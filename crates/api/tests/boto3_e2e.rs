//! End to end: the real `stepwise serve` binary on a free port with a fresh data directory,
//! driven by boto3 (crates/api/tests/py/test_validate.py: protocol; test_actions.py: every
//! implemented action), then stopped with SIGTERM, which must end it cleanly. A second test
//! stops the server in the middle of an execution's Wait and checks that a new server on the
//! same data directory finishes it (resume by replay); it needs no Python.
//!
//! Skips with a message when boto3 is not importable (scripts/test.sh installs it in a venv
//! and sets STEPWISE_PYTHON) or when the binary has not been built (scripts/test.sh builds it;
//! by hand: `cargo build -p stepwise-cli`). STEPWISE_BIN overrides the binary's path.

mod common;

use common::{binary, data_dir, free_port, ok, start_server, Proc};

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn run_script(name: &str, port: u16) {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/py")
        .join(name);
    let out = Command::new(common::python())
        .arg(&script)
        .arg(port.to_string())
        .output()
        .expect("python runs");
    let text = String::from_utf8_lossy(&out.stdout);
    println!("{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        out.status.success(),
        "boto3 checks of {name} failed:\n{text}"
    );
}

#[test]
fn boto3_against_the_real_server() {
    if !common::python_has("boto3") {
        eprintln!(
            "SKIP: boto3 is not importable by {} (run scripts/test.sh, or set STEPWISE_PYTHON \
             to a python with boto3)",
            common::python()
        );
        return;
    }
    let Some(bin) = binary() else {
        eprintln!("SKIP: the stepwise binary is not built (cargo build -p stepwise-cli)");
        return;
    };
    let port = free_port();
    let dir = data_dir("boto3");
    let mut server = start_server(&bin, port, &[Path::new("--data-dir"), &dir]);
    run_script("test_validate.py", port);
    run_script("test_actions.py", port);
    stop_gracefully(&mut server);
    assert!(
        dir.join("stepwise.db").is_file(),
        "the store is in the data dir"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn executions_resume_after_a_restart() {
    let Some(bin) = binary() else {
        eprintln!("SKIP: the stepwise binary is not built (cargo build -p stepwise-cli)");
        return;
    };
    let dir = data_dir("resume");
    let port = free_port();
    let mut server = start_server(&bin, port, &[Path::new("--data-dir"), &dir]);
    let definition = serde_json::json!({
        "StartAt": "W",
        "States": {
            "W": {"Type": "Wait", "Seconds": 3, "Next": "P"},
            "P": {"Type": "Pass", "Parameters": {"after.$": "$.before"}, "End": true}
        }
    });
    let sm = ok(
        port,
        "CreateStateMachine",
        serde_json::json!({"name": "resume", "definition": definition.to_string(),
                           "roleArn": "arn:aws:iam::123456789012:role/r"}),
    );
    let started = ok(
        port,
        "StartExecution",
        serde_json::json!({"stateMachineArn": sm["stateMachineArn"], "name": "long",
                           "input": "{\"before\": 42}"}),
    );
    let exec = started["executionArn"].clone();
    // Stop once the Wait has begun (its event is stored) and is still pending.
    let start = Instant::now();
    loop {
        let h = ok(
            port,
            "GetExecutionHistory",
            serde_json::json!({"executionArn": exec}),
        );
        if h["events"]
            .as_array()
            .is_some_and(|e| e.iter().any(|e| e["type"] == "WaitStateEntered"))
        {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no WaitStateEntered"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let d = ok(
        port,
        "DescribeExecution",
        serde_json::json!({"executionArn": exec}),
    );
    assert_eq!(d["status"], "RUNNING", "{d}");
    stop_gracefully(&mut server);

    let port = free_port();
    let _server = start_server(&bin, port, &[Path::new("--data-dir"), &dir]);
    let start = Instant::now();
    let d = loop {
        let d = ok(
            port,
            "DescribeExecution",
            serde_json::json!({"executionArn": exec}),
        );
        if d["status"] != "RUNNING" {
            break d;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "not finished after the restart"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(d["status"], "SUCCEEDED", "{d}");
    assert_eq!(d["output"], "{\"after\":42}", "{d}");
    let h = ok(
        port,
        "GetExecutionHistory",
        serde_json::json!({"executionArn": exec}),
    );
    let types: Vec<&str> = h["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["type"].as_str())
        .collect();
    assert_eq!(
        types,
        [
            "ExecutionStarted",
            "WaitStateEntered",
            "WaitStateExited",
            "PassStateEntered",
            "PassStateExited",
            "ExecutionSucceeded"
        ],
        "nothing recorded twice, nothing lost"
    );
    let ids: Vec<u64> = h["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["id"].as_u64())
        .collect();
    assert_eq!(ids, (1..=6).collect::<Vec<u64>>());
    drop(_server);
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(unix)]
fn stop_gracefully(server: &mut Proc) {
    let pid = server.0.id().to_string();
    let sent = Command::new("kill").args(["-TERM", &pid]).status();
    assert!(sent.is_ok_and(|s| s.success()), "kill -TERM failed");
    let start = Instant::now();
    loop {
        if let Ok(Some(status)) = server.0.try_wait() {
            assert!(status.success(), "exit after SIGTERM: {status}");
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "still running 10 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[cfg(not(unix))]
fn stop_gracefully(_server: &mut Proc) {}
