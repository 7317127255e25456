//! End to end with a real worker process: the `stepwise serve` binary and
//! `examples/activity_worker.py` (boto3) polling GetActivityTask and answering with
//! SendTaskSuccess/Failure. Then a restart in the middle of an activity task: the server is
//! killed (SIGKILL) while an execution waits for a worker, started again on the same data
//! directory, and a worker started afterwards completes it.
//!
//! Skips with a message when boto3 is not importable (scripts/test.sh installs it and sets
//! STEPWISE_PYTHON) or the binary is not built (`cargo build -p stepwise-cli`; STEPWISE_BIN
//! overrides its path).

mod common;

use common::{binary, data_dir, finished, free_port, history, ok, start_server, types, Proc};

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn worker(port: u16, activity: &str, name: &str, max_tasks: usize) -> Proc {
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/activity_worker.py");
    let child = Command::new(common::python())
        .arg(script)
        .args(["--activity-arn", activity, "--worker-name", name])
        .args(["--max-tasks", &max_tasks.to_string()])
        .args(["--endpoint", &format!("http://127.0.0.1:{port}")])
        .stdin(Stdio::null())
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the worker starts");
    Proc(child)
}

fn setup(port: u16, name: &str) -> (String, String) {
    let act = ok(port, "CreateActivity", json!({"name": name}));
    let act = act["activityArn"].as_str().expect("arn").to_string();
    let def = json!({"StartAt": "Work", "States": {
        "Work": {"Type": "Task", "Resource": act, "TimeoutSeconds": 120,
            "HeartbeatSeconds": 60, "End": true}}});
    let sm = ok(
        port,
        "CreateStateMachine",
        json!({"name": format!("{name}-machine"), "definition": def.to_string(),
            "roleArn": "arn:aws:iam::123456789012:role/r"}),
    );
    (
        act,
        sm["stateMachineArn"].as_str().expect("arn").to_string(),
    )
}

fn skip() -> Option<PathBuf> {
    if !common::python_has("boto3") {
        eprintln!(
            "SKIP: boto3 is not importable by {} (run scripts/test.sh, or set STEPWISE_PYTHON \
             to a python with boto3)",
            common::python()
        );
        return None;
    }
    let bin = binary();
    if bin.is_none() {
        eprintln!("SKIP: the stepwise binary is not built (cargo build -p stepwise-cli)");
    }
    bin
}

#[test]
fn a_python_worker_answers_activity_tasks() {
    let Some(bin) = skip() else { return };
    let dir = data_dir("worker");
    let port = free_port();
    let _server = start_server(&bin, port, &[Path::new("--data-dir"), &dir]);
    let (act, sm) = setup(port, "sums");
    let mut w = worker(port, &act, "py-worker", 3);
    let inputs = [
        json!({"numbers": [1, 2, 3]}),
        json!({"fail": "cannot add"}),
        json!({"numbers": [10, 20]}),
    ];
    let arns: Vec<String> = inputs
        .iter()
        .enumerate()
        .map(|(i, input)| {
            let s = ok(
                port,
                "StartExecution",
                json!({"stateMachineArn": sm, "name": format!("e{i}"), "input": input.to_string()}),
            );
            s["executionArn"].as_str().expect("arn").to_string()
        })
        .collect();
    let d = finished(port, &arns[0], 60);
    assert_eq!(d["status"], "SUCCEEDED", "{d}");
    let out: Value = serde_json::from_str(d["output"].as_str().unwrap_or("")).expect("json");
    assert_eq!(out, json!({"sum": 6, "worker": "py-worker"}));
    let events = history(port, &arns[0]);
    assert_eq!(
        types(&events),
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "ActivityScheduled",
            "ActivityStarted",
            "ActivitySucceeded",
            "TaskStateExited",
            "ExecutionSucceeded"
        ]
    );
    assert_eq!(
        events[2]["activityScheduledEventDetails"],
        json!({"resource": act, "input": "{\"numbers\":[1,2,3]}",
            "inputDetails": {"truncated": false}, "timeoutInSeconds": 120,
            "heartbeatInSeconds": 60})
    );
    assert_eq!(
        events[3]["activityStartedEventDetails"],
        json!({"workerName": "py-worker"})
    );

    let d = finished(port, &arns[1], 60);
    assert_eq!(
        (
            d["status"].as_str(),
            d["error"].as_str(),
            d["cause"].as_str()
        ),
        (Some("FAILED"), Some("WorkerError"), Some("cannot add"))
    );
    assert!(types(&history(port, &arns[1])).contains(&"ActivityFailed".to_string()));

    let d = finished(port, &arns[2], 60);
    let out: Value = serde_json::from_str(d["output"].as_str().unwrap_or("")).expect("json");
    assert_eq!(out, json!({"sum": 30, "worker": "py-worker"}));
    let status = w.0.wait().expect("worker exits after 3 tasks");
    assert!(status.success(), "worker: {status}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_activity_task_survives_a_server_crash() {
    let Some(bin) = skip() else { return };
    let dir = data_dir("worker-crash");
    let port = free_port();
    let mut server = start_server(&bin, port, &[Path::new("--data-dir"), &dir]);
    let (act, sm) = setup(port, "crash");
    let s = ok(
        port,
        "StartExecution",
        json!({"stateMachineArn": sm, "name": "before-crash",
            "input": "{\"numbers\": [4, 5]}"}),
    );
    let arn = s["executionArn"].as_str().expect("arn").to_string();
    let start = Instant::now();
    while !types(&history(port, &arn)).contains(&"ActivityScheduled".to_string()) {
        assert!(start.elapsed() < Duration::from_secs(20), "never scheduled");
        std::thread::sleep(Duration::from_millis(20));
    }
    // kill -9 while the task waits for a worker.
    server.0.kill().expect("kill");
    let _ = server.0.wait();
    let _server = start_server(&bin, port, &[Path::new("--data-dir"), &dir]);
    let mut w = worker(port, &act, "after-crash", 1);
    let d = finished(port, &arn, 60);
    assert_eq!(d["status"], "SUCCEEDED", "{d}");
    let out: Value = serde_json::from_str(d["output"].as_str().unwrap_or("")).expect("json");
    assert_eq!(out, json!({"sum": 9, "worker": "after-crash"}));
    let events = history(port, &arn);
    assert_eq!(
        types(&events),
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "ActivityScheduled",
            "ActivityStarted",
            "ActivitySucceeded",
            "TaskStateExited",
            "ExecutionSucceeded"
        ],
        "scheduled once, answered once"
    );
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e["id"], json!(i + 1), "gap-free ids");
    }
    assert!(w.0.wait().expect("worker exits").success());
    let _ = std::fs::remove_dir_all(&dir);
}
