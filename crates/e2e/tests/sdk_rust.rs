//! The AWS SDK for Rust (`aws-sdk-sfn`) against `stepwise serve`, unchanged but for the
//! endpoint: state machines, executions, history, stop, Express sync, and AWS-shaped errors.

mod common;

use aws_sdk_sfn::config::interceptors::BeforeTransmitInterceptorContextMut;
use aws_sdk_sfn::config::{Credentials, Intercept, Region, RuntimeComponents};
use aws_sdk_sfn::types::{ExecutionStatus, StateMachineType};
use aws_sdk_sfn::Client;
use std::time::{Duration, Instant};

/// The SDK sends StartSyncExecution to `sync-<host>`; a local endpoint has no such name, and
/// the Rust SDK has no switch for it, so this strips the prefix (see the README).
#[derive(Debug)]
struct NoHostPrefix;

impl Intercept for NoHostPrefix {
    fn name(&self) -> &'static str {
        "NoHostPrefix"
    }
    fn modify_before_transmit(
        &self,
        ctx: &mut BeforeTransmitInterceptorContextMut<'_>,
        _rc: &RuntimeComponents,
        _cfg: &mut aws_sdk_sfn::config::ConfigBag,
    ) -> Result<(), aws_sdk_sfn::error::BoxError> {
        let req = ctx.request_mut();
        let uri = req.uri().replacen("://sync-", "://", 1);
        req.set_uri(uri)?;
        Ok(())
    }
}

fn client(endpoint: &str) -> Client {
    let conf = aws_sdk_sfn::Config::builder()
        .behavior_version_latest()
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "static"))
        .interceptor(NoHostPrefix)
        .build();
    Client::from_conf(conf)
}

const ROLE: &str = "arn:aws:iam::123456789012:role/stepwise-e2e";

#[tokio::test(flavor = "multi_thread")]
async fn the_rust_sdk_drives_state_machines_and_executions() {
    let Some(server) = common::Server::start(common::temp_dir("sdk")) else {
        eprintln!("SKIPPED: the stepwise binary is not built (cargo build -p stepwise-cli)");
        return;
    };
    let sfn = client(&server.endpoint());

    let def = serde_json::json!({"StartAt": "W", "States": {
        "W": {"Type": "Wait", "Seconds": 1, "Next": "P"},
        "P": {"Type": "Pass", "Parameters": {"greeting.$": "States.Format('hi {}', $.name)"}, "End": true}}});
    let created = sfn
        .create_state_machine()
        .name("sdk-machine")
        .definition(def.to_string())
        .role_arn(ROLE)
        .send()
        .await
        .expect("CreateStateMachine");
    let sm_arn = created.state_machine_arn().to_string();
    assert_eq!(
        sm_arn,
        "arn:aws:states:us-east-1:123456789012:stateMachine:sdk-machine"
    );

    let described = sfn
        .describe_state_machine()
        .state_machine_arn(&sm_arn)
        .send()
        .await
        .expect("Describe");
    assert_eq!(described.name(), "sdk-machine");
    assert_eq!(described.r#type(), &StateMachineType::Standard);

    let listed = sfn.list_state_machines().send().await.expect("List");
    assert!(listed
        .state_machines()
        .iter()
        .any(|m| m.state_machine_arn() == sm_arn));

    // An invalid definition comes back as InvalidDefinition, with AWS's message.
    let err = sfn
        .create_state_machine()
        .name("broken")
        .definition(r#"{"StartAt": "Nope", "States": {"A": {"Type": "Pass", "End": true}}}"#)
        .role_arn(ROLE)
        .send()
        .await
        .expect_err("invalid definition");
    let service = err.into_service_error();
    assert!(service.is_invalid_definition(), "{service:?}");

    let started = sfn
        .start_execution()
        .state_machine_arn(&sm_arn)
        .name("run-1")
        .input(r#"{"name": "sdk"}"#)
        .send()
        .await
        .expect("StartExecution");
    let exec_arn = started.execution_arn().to_string();
    let deadline = Instant::now() + Duration::from_secs(15);
    let done = loop {
        let d = sfn
            .describe_execution()
            .execution_arn(&exec_arn)
            .send()
            .await
            .expect("DescribeExecution");
        if d.status() != &ExecutionStatus::Running {
            break d;
        }
        assert!(Instant::now() < deadline, "execution did not finish");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(done.status(), &ExecutionStatus::Succeeded);
    assert_eq!(done.output(), Some(r#"{"greeting":"hi sdk"}"#));

    let history = sfn
        .get_execution_history()
        .execution_arn(&exec_arn)
        .reverse_order(true)
        .send()
        .await
        .expect("GetExecutionHistory");
    let types: Vec<String> = history
        .events()
        .iter()
        .map(|e| e.r#type().as_str().to_string())
        .collect();
    assert_eq!(
        types,
        [
            "ExecutionSucceeded",
            "PassStateExited",
            "PassStateEntered",
            "WaitStateExited",
            "WaitStateEntered",
            "ExecutionStarted"
        ]
    );

    let listed = sfn
        .list_executions()
        .state_machine_arn(&sm_arn)
        .status_filter(ExecutionStatus::Succeeded)
        .send()
        .await
        .expect("ListExecutions");
    assert_eq!(listed.executions().len(), 1);

    // Stop a long one.
    let long = serde_json::json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": true}}});
    let long_arn = sfn
        .create_state_machine()
        .name("sdk-long")
        .definition(long.to_string())
        .role_arn(ROLE)
        .send()
        .await
        .expect("create long")
        .state_machine_arn()
        .to_string();
    let run = sfn
        .start_execution()
        .state_machine_arn(&long_arn)
        .send()
        .await
        .expect("start long");
    sfn.stop_execution()
        .execution_arn(run.execution_arn())
        .error("Manual")
        .cause("stopped by the test")
        .send()
        .await
        .expect("StopExecution");
    let stopped = sfn
        .describe_execution()
        .execution_arn(run.execution_arn())
        .send()
        .await
        .expect("describe");
    assert_eq!(stopped.status(), &ExecutionStatus::Aborted);

    // Express, synchronously.
    let express = sfn
        .create_state_machine()
        .name("sdk-express")
        .r#type(StateMachineType::Express)
        .definition(
            r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": 42, "End": true}}}"#,
        )
        .role_arn(ROLE)
        .send()
        .await
        .expect("create express");
    let sync = sfn
        .start_sync_execution()
        .state_machine_arn(express.state_machine_arn())
        .input("{}")
        .send()
        .await
        .expect("StartSyncExecution");
    assert_eq!(
        sync.status(),
        &aws_sdk_sfn::types::SyncExecutionStatus::Succeeded
    );
    assert_eq!(sync.output(), Some("42"));

    // Errors are AWS-shaped: the SDK maps them to its typed errors.
    let missing = sfn
        .describe_execution()
        .execution_arn("arn:aws:states:us-east-1:123456789012:execution:sdk-machine:nope")
        .send()
        .await
        .expect_err("missing execution")
        .into_service_error();
    assert!(missing.is_execution_does_not_exist(), "{missing:?}");

    sfn.delete_state_machine()
        .state_machine_arn(&long_arn)
        .send()
        .await
        .expect("DeleteStateMachine");
}
