//! The aws CLI against `stepwise serve`: the README's copy-paste commands, for real.

mod common;

use serde_json::Value;
use std::process::Command;

struct Aws {
    bin: String,
    endpoint: String,
}

impl Aws {
    /// Runs `aws stepfunctions ARGS…` and returns its JSON answer, or the error text.
    fn call(&self, args: &[&str]) -> Result<Value, String> {
        let out = Command::new(&self.bin)
            .args([
                "--endpoint-url",
                &self.endpoint,
                "--region",
                "us-east-1",
                "--output",
                "json",
                "stepfunctions",
            ])
            .args(args)
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_DISABLE_HOST_PREFIX_INJECTION", "true")
            .env_remove("AWS_PROFILE")
            .output()
            .map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        let text = String::from_utf8_lossy(&out.stdout);
        if text.trim().is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&text).map_err(|e| format!("{e}: {text}"))
    }
}

#[test]
fn the_aws_cli_manages_machines_and_executions() {
    let Ok(bin) = std::env::var("STEPWISE_AWS_CLI") else {
        eprintln!("SKIPPED: STEPWISE_AWS_CLI is not set (scripts/test.sh installs the aws CLI)");
        return;
    };
    let Some(server) = common::Server::start(common::temp_dir("awscli")) else {
        eprintln!("SKIPPED: the stepwise binary is not built (cargo build -p stepwise-cli)");
        return;
    };
    let aws = Aws {
        bin,
        endpoint: server.endpoint(),
    };
    let def = r#"{"StartAt": "Hello", "States": {"Hello": {"Type": "Pass", "Result": "world", "ResultPath": "$.hello", "End": true}}}"#;
    let created = aws
        .call(&[
            "create-state-machine",
            "--name",
            "cli",
            "--definition",
            def,
            "--role-arn",
            "arn:aws:iam::123456789012:role/r",
        ])
        .expect("create-state-machine");
    let sm = created["stateMachineArn"]
        .as_str()
        .expect("arn")
        .to_string();

    let express = aws
        .call(&[
            "create-state-machine",
            "--name",
            "cli-x",
            "--type",
            "EXPRESS",
            "--definition",
            def,
            "--role-arn",
            "arn:aws:iam::123456789012:role/r",
        ])
        .expect("create express");
    let sync = aws
        .call(&[
            "start-sync-execution",
            "--state-machine-arn",
            express["stateMachineArn"].as_str().unwrap_or(""),
            "--input",
            r#"{"a":1}"#,
        ])
        .expect("start-sync-execution");
    assert_eq!(sync["status"], "SUCCEEDED");
    assert_eq!(sync["output"], r#"{"a":1,"hello":"world"}"#);

    let started = aws
        .call(&[
            "start-execution",
            "--state-machine-arn",
            &sm,
            "--name",
            "one",
            "--input",
            r#"{"b":2}"#,
        ])
        .expect("start-execution");
    let exec = started["executionArn"].as_str().expect("arn").to_string();
    let mut status = String::new();
    for _ in 0..100 {
        let d = aws
            .call(&["describe-execution", "--execution-arn", &exec])
            .expect("describe-execution");
        status = d["status"].as_str().unwrap_or("").to_string();
        if status != "RUNNING" {
            assert_eq!(d["output"], r#"{"b":2,"hello":"world"}"#);
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(status, "SUCCEEDED");
    let history = aws
        .call(&["get-execution-history", "--execution-arn", &exec])
        .expect("history");
    let types: Vec<&str> = history["events"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["type"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        types,
        [
            "ExecutionStarted",
            "PassStateEntered",
            "PassStateExited",
            "ExecutionSucceeded"
        ]
    );

    let listed = aws
        .call(&["list-executions", "--state-machine-arn", &sm])
        .expect("list-executions");
    assert_eq!(listed["executions"].as_array().map(Vec::len), Some(1));

    let err = aws
        .call(&[
            "describe-state-machine",
            "--state-machine-arn",
            "arn:aws:states:us-east-1:123456789012:stateMachine:missing",
        ])
        .expect_err("missing");
    assert!(err.contains("StateMachineDoesNotExist"), "{err}");
    let err = aws
        .call(&[
            "create-state-machine",
            "--name",
            "bad",
            "--definition",
            "{}",
            "--role-arn",
            "arn:aws:iam::123456789012:role/r",
        ])
        .expect_err("invalid");
    assert!(err.contains("InvalidDefinition"), "{err}");
    aws.call(&["delete-state-machine", "--state-machine-arn", &sm])
        .expect("delete");
}
