//! Every one of the 37 actions through the aws CLI (`STEPWISE_AWS_CLI`, installed by
//! scripts/test.sh) against the real `stepwise serve`: each on its success path and on a
//! documented error path, asserted from the CLI's "An error occurred (Code) when calling the
//! Op operation" line. Each call is recorded (subcommand, and the operation named in stderr);
//! each area checks its static list against what was called, and
//! `the_areas_cover_all_37_actions` checks the lists add up to the 37.

mod common;

use common::{ACTIVITIES, EXECUTIONS, MACHINES, MAP_RUNS, TAGS, TEST_STATE, VALIDATE};

use common::Coverage;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

const ROLE: &str = "arn:aws:iam::123456789012:role/stepwise-e2e";
const PREFIX: &str = "arn:aws:states:us-east-1:123456789012";

#[test]
fn the_areas_cover_all_37_actions() {
    common::assert_areas_cover_all(&[
        ("machines", MACHINES),
        ("executions", EXECUTIONS),
        ("activities", ACTIVITIES),
        ("map runs", MAP_RUNS),
        ("tags", TAGS),
        ("TestState", TEST_STATE),
        ("validate", VALIDATE),
    ]);
}

#[derive(Clone)]
struct Aws {
    bin: String,
    endpoint: String,
    /// Where the CLI looks for its config and credentials files: nowhere, so a developer's
    /// own profile cannot change the requests.
    no_config: PathBuf,
    cov: Coverage,
}

/// A service error as the CLI prints it.
#[derive(Debug)]
struct CliError {
    code: String,
    message: String,
}

/// `create-state-machine` → `CreateStateMachine`.
fn action_of(subcommand: &str) -> String {
    subcommand
        .split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// Reads "An error occurred (Code) when calling the Op operation: message".
fn parse_error(stderr: &str) -> Option<(String, String, String)> {
    let line = stderr
        .lines()
        .find(|l| l.starts_with("An error occurred ("))?;
    let rest = line.strip_prefix("An error occurred (")?;
    let (code, rest) = rest.split_once(") when calling the ")?;
    let (op, message) = rest.split_once(" operation: ")?;
    Some((code.to_string(), op.to_string(), message.to_string()))
}

impl Aws {
    /// Runs `aws stepfunctions ARGS…`: the JSON answer, or the service error. A failure that
    /// is not a service error (the CLI refusing its arguments) panics.
    fn run(&self, args: &[&str]) -> Result<Value, CliError> {
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
            .env("AWS_CONFIG_FILE", &self.no_config)
            .env("AWS_SHARED_CREDENTIALS_FILE", &self.no_config)
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_DEFAULT_PROFILE")
            .output()
            .expect("run the aws CLI");
        let action = action_of(args[0]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() {
            let Some((code, op, message)) = parse_error(&stderr) else {
                panic!("aws {args:?} failed without a service error: {stderr}");
            };
            assert_eq!(op, action, "the CLI called another operation: {stderr}");
            self.cov.error(&action, &code);
            return Err(CliError { code, message });
        }
        self.cov.ok(&action);
        let text = String::from_utf8_lossy(&out.stdout);
        if text.trim().is_empty() {
            return Ok(Value::Null);
        }
        Ok(serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}")))
    }

    fn ok(&self, args: &[&str]) -> Value {
        self.run(args)
            .unwrap_or_else(|e| panic!("aws {args:?}: {e:?}"))
    }

    /// Expects the service error `code`; returns its message.
    fn err(&self, args: &[&str], code: &str) -> String {
        match self.run(args) {
            Ok(v) => panic!("aws {args:?}: expected {code}, got {v}"),
            Err(e) => {
                assert_eq!(e.code, code, "aws {args:?}: {}", e.message);
                e.message
            }
        }
    }

    fn create(&self, name: &str, definition: &str) -> String {
        let r = self.ok(&[
            "create-state-machine",
            "--name",
            name,
            "--definition",
            definition,
            "--role-arn",
            ROLE,
        ]);
        s(&r["stateMachineArn"])
    }

    fn start(&self, machine: &str, input: &str) -> String {
        let r = self.ok(&[
            "start-execution",
            "--state-machine-arn",
            machine,
            "--input",
            input,
        ]);
        s(&r["executionArn"])
    }

    fn wait_done(&self, arn: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let d = self.ok(&["describe-execution", "--execution-arn", arn]);
            if d["status"] != "RUNNING" {
                return d;
            }
            assert!(Instant::now() < deadline, "{arn} still RUNNING");
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

fn s(v: &Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("not a string: {v}"))
        .to_string()
}

fn setup(area: &str) -> Option<(Aws, common::Server)> {
    let Ok(bin) = std::env::var("STEPWISE_AWS_CLI") else {
        eprintln!("SKIPPED: STEPWISE_AWS_CLI is not set (scripts/test.sh installs the aws CLI)");
        return None;
    };
    let dir = common::temp_dir(&format!("cli-{area}"));
    let Some(server) = common::Server::start(dir.join("data")) else {
        eprintln!("SKIPPED: the stepwise binary is not built (cargo build -p stepwise-cli)");
        return None;
    };
    let aws = Aws {
        bin,
        endpoint: server.endpoint(),
        no_config: dir.join("no-aws-config"),
        cov: Coverage::default(),
    };
    Some((aws, server))
}

fn pass_def(comment: &str, result: Value) -> String {
    json!({"Comment": comment, "StartAt": "P",
        "States": {"P": {"Type": "Pass", "Result": result, "End": true}}})
    .to_string()
}

fn types(history: &Value) -> Vec<String> {
    history["events"]
        .as_array()
        .map(|a| a.iter().map(|e| s(&e["type"])).collect())
        .unwrap_or_default()
}

// State machines, versions, aliases -----------------------------------------------------------

#[test]
fn machines_versions_and_aliases() {
    let Some((aws, _server)) = setup("machines") else {
        return;
    };
    let def = pass_def("c", json!({"x": 1}));
    let created = aws.ok(&[
        "create-state-machine",
        "--name",
        "m1",
        "--definition",
        &def,
        "--role-arn",
        ROLE,
        "--tags",
        r#"[{"key": "k1", "value": "v1"}]"#,
    ]);
    let arn = format!("{PREFIX}:stateMachine:m1");
    assert_eq!(created["stateMachineArn"], arn.as_str());
    let d = aws.ok(&["describe-state-machine", "--state-machine-arn", &arn]);
    assert_eq!((&d["name"], &d["type"]), (&json!("m1"), &json!("STANDARD")));
    assert_eq!(d["definition"], def.as_str());
    assert_eq!(d["creationDate"], created["creationDate"]);
    let again = aws.ok(&[
        "create-state-machine",
        "--name",
        "m1",
        "--definition",
        &def,
        "--role-arn",
        ROLE,
    ]);
    assert_eq!(again["creationDate"], created["creationDate"], "idempotent");
    let msg = aws.err(
        &[
            "create-state-machine",
            "--name",
            "m1",
            "--definition",
            &pass_def("other", json!(1)),
            "--role-arn",
            ROLE,
        ],
        "StateMachineAlreadyExists",
    );
    assert_eq!(msg, format!("State Machine Already Exists: '{arn}'"));
    let msg = aws.err(
        &[
            "create-state-machine",
            "--name",
            "bad",
            "--definition",
            r#"{"StartAt": "A"}"#,
            "--role-arn",
            ROLE,
        ],
        "InvalidDefinition",
    );
    assert_eq!(
        msg,
        "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: These fields are \
         required: [States] at /'"
    );
    let msg = aws.err(
        &[
            "create-state-machine",
            "--name",
            "bad name",
            "--definition",
            &def,
            "--role-arn",
            ROLE,
        ],
        "InvalidName",
    );
    assert_eq!(msg, "Invalid Name: 'bad name'");
    aws.err(
        &[
            "create-state-machine",
            "--name",
            "r",
            "--definition",
            &def,
            "--role-arn",
            "not-a-role",
        ],
        "InvalidArn",
    );
    let long = "x".repeat(81);
    let msg = aws.err(
        &[
            "create-state-machine",
            "--name",
            &long,
            "--definition",
            &def,
            "--role-arn",
            ROLE,
        ],
        "ValidationException",
    );
    assert!(
        msg.contains("Member must have length less than or equal to 80"),
        "{msg}"
    );
    let msg = aws.err(
        &[
            "describe-state-machine",
            "--state-machine-arn",
            "not_a_valid_arn",
        ],
        "InvalidArn",
    );
    assert_eq!(msg, "Invalid Arn: 'Invalid ARN prefix: not_a_valid_arn'");

    // Pages by hand, and the CLI's own pagination over them.
    aws.create("m2", &pass_def("m2", json!(2)));
    let p1 = aws.ok(&["list-state-machines", "--max-results", "1", "--no-paginate"]);
    let token = s(&p1["nextToken"]);
    let p2 = aws.ok(&[
        "list-state-machines",
        "--max-results",
        "1",
        "--no-paginate",
        "--next-token",
        &token,
    ]);
    let mut names = vec![
        s(&p1["stateMachines"][0]["name"]),
        s(&p2["stateMachines"][0]["name"]),
    ];
    assert!(p2.get("nextToken").is_none(), "{p2}");
    let all = aws.ok(&["list-state-machines", "--page-size", "1"]);
    let paged: Vec<String> = all["stateMachines"]
        .as_array()
        .map(|a| a.iter().map(|m| s(&m["name"])).collect())
        .unwrap_or_default();
    assert_eq!(paged, names);
    names.sort();
    assert_eq!(names, ["m1", "m2"]);
    let msg = aws.err(
        &["list-state-machines", "--next-token", "garbage"],
        "InvalidToken",
    );
    assert_eq!(msg, "Invalid Token: 'Invalid token'");

    // Update.
    let u = aws.ok(&[
        "update-state-machine",
        "--state-machine-arn",
        &arn,
        "--definition",
        &pass_def("r1", json!(1)),
    ]);
    let d = aws.ok(&["describe-state-machine", "--state-machine-arn", &arn]);
    assert_eq!(d["revisionId"], u["revisionId"]);
    assert_eq!(d["definition"], pass_def("r1", json!(1)).as_str());
    aws.err(
        &["update-state-machine", "--state-machine-arn", &arn],
        "MissingRequiredParameter",
    );
    aws.err(
        &[
            "update-state-machine",
            "--state-machine-arn",
            &format!("{arn}-gone"),
            "--definition",
            &def,
        ],
        "StateMachineDoesNotExist",
    );

    // Versions.
    let vm = aws.ok(&[
        "create-state-machine",
        "--name",
        "vm",
        "--definition",
        &pass_def("v1", json!({"v": 1})),
        "--role-arn",
        ROLE,
        "--publish",
        "--version-description",
        "first",
    ]);
    let vm_arn = s(&vm["stateMachineArn"]);
    let (v1, v2, v3) = (
        format!("{vm_arn}:1"),
        format!("{vm_arn}:2"),
        format!("{vm_arn}:3"),
    );
    assert_eq!(vm["stateMachineVersionArn"], v1.as_str());
    let u = aws.ok(&[
        "update-state-machine",
        "--state-machine-arn",
        &vm_arn,
        "--definition",
        &pass_def("v2", json!({"v": 2})),
        "--publish",
    ]);
    assert_eq!(u["stateMachineVersionArn"], v2.as_str());
    let stale = s(&u["revisionId"]);
    aws.ok(&[
        "update-state-machine",
        "--state-machine-arn",
        &vm_arn,
        "--definition",
        &pass_def("v3", json!({"v": 3})),
    ]);
    aws.err(
        &[
            "publish-state-machine-version",
            "--state-machine-arn",
            &vm_arn,
            "--revision-id",
            &stale,
        ],
        "ConflictException",
    );
    aws.err(
        &[
            "publish-state-machine-version",
            "--state-machine-arn",
            &format!("{PREFIX}:stateMachine:none"),
        ],
        "StateMachineDoesNotExist",
    );
    let p = aws.ok(&[
        "publish-state-machine-version",
        "--state-machine-arn",
        &vm_arn,
        "--description",
        "three",
    ]);
    assert_eq!(p["stateMachineVersionArn"], v3.as_str());
    let d = aws.ok(&["describe-state-machine", "--state-machine-arn", &v3]);
    assert_eq!(d["description"], "three");
    let listed = aws.ok(&[
        "list-state-machine-versions",
        "--state-machine-arn",
        &vm_arn,
    ]);
    let versions: Vec<String> = listed["stateMachineVersions"]
        .as_array()
        .map(|a| a.iter().map(|v| s(&v["stateMachineVersionArn"])).collect())
        .unwrap_or_default();
    assert_eq!(versions, [v3.clone(), v2.clone(), v1.clone()]);
    aws.err(
        &["list-state-machine-versions", "--state-machine-arn", &v1],
        "InvalidArn",
    );
    aws.ok(&[
        "delete-state-machine-version",
        "--state-machine-version-arn",
        &v3,
    ]);
    aws.err(
        &[
            "delete-state-machine-version",
            "--state-machine-version-arn",
            &vm_arn,
        ],
        "InvalidArn",
    );

    // Aliases.
    let route = |parts: &[(&str, u32)]| {
        Value::Array(
            parts
                .iter()
                .map(|(v, w)| json!({"stateMachineVersionArn": v, "weight": w}))
                .collect(),
        )
        .to_string()
    };
    let alias = format!("{vm_arn}:PROD");
    let a = aws.ok(&[
        "create-state-machine-alias",
        "--name",
        "PROD",
        "--description",
        "d",
        "--routing-configuration",
        &route(&[(&v1, 100)]),
    ]);
    assert_eq!(a["stateMachineAliasArn"], alias.as_str());
    let msg = aws.err(
        &[
            "create-state-machine-alias",
            "--name",
            "PROD",
            "--description",
            "other",
            "--routing-configuration",
            &route(&[(&v1, 100)]),
        ],
        "ConflictException",
    );
    assert_eq!(
        msg,
        "Failed to create alias because an alias with the same name and a different routing \
         configuration already exists."
    );
    let msg = aws.err(
        &[
            "create-state-machine-alias",
            "--name",
            "B",
            "--routing-configuration",
            &route(&[(&v1, 70), (&v2, 29)]),
        ],
        "ValidationException",
    );
    assert_eq!(
        msg,
        "Sum of routing configuration weights must equal 100. Received: [70, 29]"
    );
    aws.ok(&[
        "update-state-machine-alias",
        "--state-machine-alias-arn",
        &alias,
        "--description",
        "new description",
        "--routing-configuration",
        &route(&[(&v1, 50), (&v2, 50)]),
    ]);
    let d = aws.ok(&[
        "describe-state-machine-alias",
        "--state-machine-alias-arn",
        &alias,
    ]);
    assert_eq!(d["description"], "new description");
    assert_eq!(
        d["routingConfiguration"].to_string(),
        route(&[(&v1, 50), (&v2, 50)])
    );
    let msg = aws.err(
        &[
            "delete-state-machine-version",
            "--state-machine-version-arn",
            &v1,
        ],
        "ConflictException",
    );
    assert!(msg.ends_with("referencing this version: [PROD]"), "{msg}");
    let listed = aws.ok(&["list-state-machine-aliases", "--state-machine-arn", &vm_arn]);
    assert_eq!(
        listed["stateMachineAliases"][0]["stateMachineAliasArn"],
        alias.as_str()
    );
    aws.err(
        &[
            "list-state-machine-aliases",
            "--state-machine-arn",
            &vm_arn,
            "--next-token",
            "InvalidToken",
        ],
        "InvalidToken",
    );
    aws.ok(&[
        "delete-state-machine-alias",
        "--state-machine-alias-arn",
        &alias,
    ]);
    aws.err(
        &[
            "delete-state-machine-alias",
            "--state-machine-alias-arn",
            &vm_arn,
        ],
        "InvalidArn",
    );
    let msg = aws.err(
        &[
            "update-state-machine-alias",
            "--state-machine-alias-arn",
            &alias,
            "--description",
            "x",
        ],
        "ResourceNotFound",
    );
    assert_eq!(msg, "Request references a resource that does not exist.");
    aws.err(
        &[
            "describe-state-machine-alias",
            "--state-machine-alias-arn",
            &alias,
        ],
        "ResourceNotFound",
    );

    // Delete.
    aws.ok(&["delete-state-machine", "--state-machine-arn", &arn]);
    let msg = aws.err(
        &["describe-state-machine", "--state-machine-arn", &arn],
        "StateMachineDoesNotExist",
    );
    assert_eq!(msg, format!("State Machine Does Not Exist: '{arn}'"));
    aws.err(
        &[
            "delete-state-machine",
            "--state-machine-arn",
            "not_a_valid_arn",
        ],
        "InvalidArn",
    );

    aws.cov.assert_covers("aws cli", "machines", MACHINES);
}

// Executions ----------------------------------------------------------------------------------

#[test]
fn executions_sync_stop_redrive_and_history() {
    let Some((aws, _server)) = setup("executions") else {
        return;
    };
    let wait_1s = json!({"StartAt": "W", "States": {
        "W": {"Type": "Wait", "Seconds": 1, "Next": "P"},
        "P": {"Type": "Pass", "Parameters": {"waited.$": "$.v"}, "End": true}}})
    .to_string();
    let sm = aws.create("waiter", &wait_1s);
    let start = |name: &str, input: &str| {
        aws.run(&[
            "start-execution",
            "--state-machine-arn",
            &sm,
            "--name",
            name,
            "--input",
            input,
        ])
    };
    let exec = s(&start("run-1", r#"{"v": 7}"#).expect("start-execution")["executionArn"]);
    assert_eq!(exec, format!("{PREFIX}:execution:waiter:run-1"));
    let again = start("run-1", r#"{"v": 7}"#).expect("idempotent start");
    assert_eq!(again["executionArn"], exec.as_str());
    let e = start("run-1", "{}").expect_err("ExecutionAlreadyExists");
    assert_eq!(
        (e.code.as_str(), e.message),
        (
            "ExecutionAlreadyExists",
            format!("Execution Already Exists: '{exec}'")
        )
    );
    let e = start("run-2", "{not json").expect_err("InvalidExecutionInput");
    assert_eq!(e.code, "InvalidExecutionInput");
    aws.err(
        &[
            "start-execution",
            "--state-machine-arn",
            &format!("{PREFIX}:stateMachine:none"),
        ],
        "StateMachineDoesNotExist",
    );
    let d = aws.wait_done(&exec);
    assert_eq!(d["status"], "SUCCEEDED");
    assert_eq!(d["output"], r#"{"waited":7}"#);
    let missing = format!("{PREFIX}:execution:waiter:nope");
    let msg = aws.err(
        &["describe-execution", "--execution-arn", &missing],
        "ExecutionDoesNotExist",
    );
    assert_eq!(msg, format!("Execution Does Not Exist: '{missing}'"));

    // History: reversed, by hand two by two, and through the CLI's pagination.
    let h = aws.ok(&[
        "get-execution-history",
        "--execution-arn",
        &exec,
        "--reverse-order",
    ]);
    assert_eq!(
        types(&h),
        [
            "ExecutionSucceeded",
            "PassStateExited",
            "PassStateEntered",
            "WaitStateExited",
            "WaitStateEntered",
            "ExecutionStarted"
        ]
    );
    let page = aws.ok(&[
        "get-execution-history",
        "--execution-arn",
        &exec,
        "--max-results",
        "2",
        "--no-paginate",
    ]);
    assert_eq!(page["events"].as_array().map(Vec::len), Some(2));
    let next = aws.ok(&[
        "get-execution-history",
        "--execution-arn",
        &exec,
        "--max-results",
        "2",
        "--no-paginate",
        "--next-token",
        &s(&page["nextToken"]),
    ]);
    assert_eq!(
        (&next["events"][0]["id"], &next["events"][1]["id"]),
        (&json!(3), &json!(4))
    );
    let all = aws.ok(&[
        "get-execution-history",
        "--execution-arn",
        &exec,
        "--page-size",
        "2",
        "--no-include-execution-data",
    ]);
    let ids: Vec<i64> = all["events"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["id"].as_i64()).collect())
        .unwrap_or_default();
    assert_eq!(ids, [1, 2, 3, 4, 5, 6]);
    assert!(all["events"][0]["executionStartedEventDetails"]
        .get("input")
        .is_none());
    aws.err(
        &[
            "get-execution-history",
            "--execution-arn",
            &exec,
            "--next-token",
            "bogus",
        ],
        "InvalidToken",
    );
    aws.err(
        &["get-execution-history", "--execution-arn", &missing],
        "ExecutionDoesNotExist",
    );

    let for_exec = aws.ok(&[
        "describe-state-machine-for-execution",
        "--execution-arn",
        &exec,
    ]);
    assert_eq!(
        (&for_exec["stateMachineArn"], &for_exec["definition"]),
        (&json!(sm), &json!(wait_1s))
    );
    aws.err(
        &[
            "describe-state-machine-for-execution",
            "--execution-arn",
            &missing,
        ],
        "ExecutionDoesNotExist",
    );

    let listed = aws.ok(&["list-executions", "--state-machine-arn", &sm]);
    assert_eq!(listed["executions"][0]["executionArn"], exec.as_str());
    let running = aws.ok(&[
        "list-executions",
        "--state-machine-arn",
        &sm,
        "--status-filter",
        "RUNNING",
    ]);
    assert_eq!(running["executions"], json!([]));
    aws.err(
        &[
            "list-executions",
            "--state-machine-arn",
            &sm,
            "--next-token",
            "bogus",
        ],
        "InvalidToken",
    );

    // Stop.
    let long = aws.create(
        "long",
        &json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 600, "End": true}}})
            .to_string(),
    );
    let run = aws.start(&long, "{}");
    aws.ok(&[
        "stop-execution",
        "--execution-arn",
        &run,
        "--error",
        "Boom",
        "--cause",
        "because",
    ]);
    let d = aws.ok(&["describe-execution", "--execution-arn", &run]);
    assert_eq!(
        (&d["status"], &d["error"], &d["cause"]),
        (&json!("ABORTED"), &json!("Boom"), &json!("because"))
    );
    aws.err(
        &["stop-execution", "--execution-arn", &missing],
        "ExecutionDoesNotExist",
    );

    // Express, synchronously.
    let express = aws.ok(&[
        "create-state-machine",
        "--name",
        "express",
        "--type",
        "EXPRESS",
        "--definition",
        &pass_def("sync", json!({"Arg1": "argument1"})),
        "--role-arn",
        ROLE,
    ]);
    let express = s(&express["stateMachineArn"]);
    let sync = aws.ok(&[
        "start-sync-execution",
        "--state-machine-arn",
        &express,
        "--name",
        "s1",
        "--input",
        r#"{"a": 1}"#,
    ]);
    assert_eq!(sync["status"], "SUCCEEDED");
    assert_eq!(sync["output"], r#"{"Arg1":"argument1"}"#);
    assert!(
        s(&sync["executionArn"]).starts_with(&format!("{PREFIX}:express:express:s1:")),
        "{sync}"
    );
    let msg = aws.err(
        &["start-sync-execution", "--state-machine-arn", &sm],
        "StateMachineTypeNotSupported",
    );
    assert_eq!(
        msg,
        "This operation is not supported by this type of state machine"
    );
    aws.err(
        &["list-executions", "--state-machine-arn", &express],
        "StateMachineTypeNotSupported",
    );

    // Redrive: the Choice fails on the first run and matches on the redrive.
    let flaky = aws.create(
        "flaky",
        &json!({"StartAt": "C", "States": {
            "C": {"Type": "Choice", "Choices": [{"Variable": "$$.Execution.RedriveCount",
                "NumericEquals": 1, "Next": "D"}]},
            "D": {"Type": "Pass", "Result": "redriven", "End": true}}})
        .to_string(),
    );
    let f = aws.start(&flaky, "{}");
    let d = aws.wait_done(&f);
    assert_eq!(
        (&d["status"], &d["redriveStatus"]),
        (&json!("FAILED"), &json!("REDRIVABLE"))
    );
    let red = aws.ok(&["redrive-execution", "--execution-arn", &f]);
    assert!(red["redriveDate"].is_number(), "{red}");
    let d = aws.wait_done(&f);
    assert_eq!(
        (&d["status"], &d["output"], &d["redriveCount"]),
        (&json!("SUCCEEDED"), &json!(r#""redriven""#), &json!(1))
    );
    let redriven = aws.ok(&[
        "list-executions",
        "--state-machine-arn",
        &flaky,
        "--redrive-filter",
        "REDRIVEN",
    ]);
    assert_eq!(redriven["executions"][0]["executionArn"], f.as_str());
    let msg = aws.err(
        &["redrive-execution", "--execution-arn", &f],
        "ExecutionNotRedrivable",
    );
    assert_eq!(msg, "Execution is SUCCEEDED and cannot be redriven");
    aws.err(
        &["redrive-execution", "--execution-arn", &missing],
        "ExecutionDoesNotExist",
    );

    aws.cov.assert_covers("aws cli", "executions", EXECUTIONS);
}

// Activities and task tokens ------------------------------------------------------------------

/// A worker: takes `n` tasks, heartbeats each, answers with the sum of `numbers` or fails when
/// the input says so; returns the tokens it answered.
fn worker(aws: Aws, activity: String, n: usize) -> Vec<String> {
    let mut tokens = Vec::new();
    while tokens.len() < n {
        let task = aws.ok(&[
            "get-activity-task",
            "--activity-arn",
            &activity,
            "--worker-name",
            "cli-worker",
        ]);
        let Some(token) = task["taskToken"].as_str().filter(|t| !t.is_empty()) else {
            continue;
        };
        let input: Value =
            serde_json::from_str(task["input"].as_str().unwrap_or("null")).expect("task input");
        aws.ok(&["send-task-heartbeat", "--task-token", token]);
        if let Some(why) = input["fail"].as_str() {
            aws.ok(&[
                "send-task-failure",
                "--task-token",
                token,
                "--error",
                "WorkerError",
                "--cause",
                why,
            ]);
        } else {
            let sum: i64 = input["numbers"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_i64).sum())
                .unwrap_or(0);
            aws.ok(&[
                "send-task-success",
                "--task-token",
                token,
                "--task-output",
                &json!({"sum": sum}).to_string(),
            ]);
        }
        tokens.push(token.to_string());
    }
    tokens
}

#[test]
fn activities_and_a_worker_loop() {
    let Some((aws, _server)) = setup("activities") else {
        return;
    };
    let created = aws.ok(&[
        "create-activity",
        "--name",
        "sums",
        "--tags",
        r#"[{"key": "team", "value": "x"}]"#,
    ]);
    let act = s(&created["activityArn"]);
    assert_eq!(act, format!("{PREFIX}:activity:sums"));
    aws.ok(&["create-activity", "--name", "other"]);
    let msg = aws.err(&["create-activity", "--name", "a/b"], "InvalidName");
    assert_eq!(msg, "Invalid Name: 'a/b'");
    let d = aws.ok(&["describe-activity", "--activity-arn", &act]);
    assert_eq!(d["name"], "sums");
    aws.err(
        &[
            "describe-activity",
            "--activity-arn",
            &format!("{PREFIX}:stateMachine:x"),
        ],
        "InvalidArn",
    );
    let page = aws.ok(&["list-activities", "--max-results", "1", "--no-paginate"]);
    assert_eq!(page["activities"].as_array().map(Vec::len), Some(1));
    assert!(page["nextToken"].is_string(), "{page}");
    let all = aws.ok(&["list-activities", "--page-size", "1"]);
    assert_eq!(all["activities"].as_array().map(Vec::len), Some(2));
    aws.err(
        &["list-activities", "--next-token", "garbage"],
        "InvalidToken",
    );

    let def = json!({"StartAt": "Work", "States": {"Work": {"Type": "Task", "Resource": act,
        "TimeoutSeconds": 120, "HeartbeatSeconds": 60, "End": true}}});
    let sm = aws.create("summer", &def.to_string());
    let runs: Vec<String> = [
        json!({"numbers": [1, 2, 3]}),
        json!({"fail": "cannot add"}),
        json!({"numbers": [10, 20]}),
    ]
    .iter()
    .map(|input| aws.start(&sm, &input.to_string()))
    .collect();
    let w = {
        let (aws, act) = (aws.clone(), act.clone());
        std::thread::spawn(move || worker(aws, act, 3))
    };
    let tokens = w.join().expect("worker thread");
    let d = aws.wait_done(&runs[0]);
    assert_eq!(
        (&d["status"], &d["output"]),
        (&json!("SUCCEEDED"), &json!(r#"{"sum":6}"#))
    );
    let d = aws.wait_done(&runs[1]);
    assert_eq!(
        (&d["status"], &d["error"], &d["cause"]),
        (
            &json!("FAILED"),
            &json!("WorkerError"),
            &json!("cannot add")
        )
    );
    let d = aws.wait_done(&runs[2]);
    assert_eq!(d["output"], r#"{"sum":30}"#);
    let h = aws.ok(&["get-execution-history", "--execution-arn", &runs[0]]);
    assert_eq!(
        types(&h),
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
        h["events"][3]["activityStartedEventDetails"]["workerName"],
        "cli-worker"
    );

    aws.err(
        &["send-task-heartbeat", "--task-token", &tokens[0]],
        "TaskTimedOut",
    );
    aws.err(
        &[
            "send-task-success",
            "--task-token",
            &tokens[1],
            "--task-output",
            "{",
        ],
        "InvalidOutput",
    );
    aws.err(
        &["send-task-failure", "--task-token", "no-such-token"],
        "InvalidToken",
    );
    aws.err(
        &[
            "get-activity-task",
            "--activity-arn",
            &format!("{PREFIX}:activity:none"),
        ],
        "ActivityDoesNotExist",
    );

    aws.ok(&["delete-activity", "--activity-arn", &act]);
    let msg = aws.err(
        &["describe-activity", "--activity-arn", &act],
        "ActivityDoesNotExist",
    );
    assert_eq!(msg, format!("Activity Does Not Exist: '{act}'"));
    aws.err(
        &["delete-activity", "--activity-arn", "not_a_valid_arn"],
        "InvalidArn",
    );

    aws.cov.assert_covers("aws cli", "activities", ACTIVITIES);
}

// Map runs ------------------------------------------------------------------------------------

#[test]
fn map_runs_of_a_distributed_map() {
    let Some((aws, _server)) = setup("maprun") else {
        return;
    };
    let def = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "Label": "Fan",
        "MaxConcurrency": 2, "ToleratedFailureCount": 1,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "C", "States": {
                "C": {"Type": "Choice", "Choices": [{"Variable": "$", "NumericEquals": 3,
                    "Next": "F"}], "Default": "P"},
                "F": {"Type": "Fail", "Error": "Three"},
                "P": {"Type": "Pass", "End": true}}},
        "End": true}}});
    let sm = aws.create("fan", &def.to_string());
    let exec = aws.start(&sm, "[1, 2, 3, 4]");
    assert_eq!(aws.wait_done(&exec)["status"], "SUCCEEDED");

    let runs = aws.ok(&["list-map-runs", "--execution-arn", &exec]);
    assert_eq!(runs["mapRuns"].as_array().map(Vec::len), Some(1));
    let run = s(&runs["mapRuns"][0]["mapRunArn"]);
    assert!(
        run.starts_with(&format!("{PREFIX}:mapRun:fan/Fan:")),
        "{run}"
    );
    let m = aws.ok(&["describe-map-run", "--map-run-arn", &run]);
    assert_eq!(
        (
            &m["status"],
            &m["maxConcurrency"],
            &m["toleratedFailureCount"]
        ),
        (&json!("SUCCEEDED"), &json!(2), &json!(1))
    );
    assert_eq!(
        (
            &m["itemCounts"]["total"],
            &m["itemCounts"]["succeeded"],
            &m["itemCounts"]["failed"]
        ),
        (&json!(4), &json!(3), &json!(1))
    );
    let failed = aws.ok(&[
        "list-executions",
        "--map-run-arn",
        &run,
        "--status-filter",
        "FAILED",
    ]);
    assert_eq!(failed["executions"].as_array().map(Vec::len), Some(1));
    assert_eq!(failed["executions"][0]["mapRunArn"], run.as_str());

    aws.ok(&[
        "update-map-run",
        "--map-run-arn",
        &run,
        "--max-concurrency",
        "10",
        "--tolerated-failure-percentage",
        "25.5",
    ]);
    let m = aws.ok(&["describe-map-run", "--map-run-arn", &run]);
    assert_eq!(
        (&m["maxConcurrency"], &m["toleratedFailurePercentage"]),
        (&json!(10), &json!(25.5))
    );

    let missing = format!("{}0000", &run[..run.len() - 4]);
    let msg = aws.err(
        &["describe-map-run", "--map-run-arn", &missing],
        "ResourceNotFound",
    );
    assert_eq!(msg, format!("Resource not found: '{missing}'"));
    aws.err(&["describe-map-run", "--map-run-arn", &exec], "InvalidArn");
    aws.err(
        &[
            "update-map-run",
            "--map-run-arn",
            &missing,
            "--max-concurrency",
            "1",
        ],
        "ResourceNotFound",
    );
    aws.err(
        &[
            "update-map-run",
            "--map-run-arn",
            &run,
            "--tolerated-failure-percentage",
            "101",
        ],
        "ValidationException",
    );
    aws.err(
        &[
            "list-map-runs",
            "--execution-arn",
            &format!("{PREFIX}:execution:fan:nope"),
        ],
        "ExecutionDoesNotExist",
    );

    aws.cov.assert_covers("aws cli", "map runs", MAP_RUNS);
}

// Tags ----------------------------------------------------------------------------------------

#[test]
fn tags_on_machines_and_activities() {
    let Some((aws, _server)) = setup("tags") else {
        return;
    };
    let created = aws.ok(&[
        "create-state-machine",
        "--name",
        "tagged",
        "--definition",
        &pass_def("t", json!(1)),
        "--role-arn",
        ROLE,
        "--publish",
    ]);
    let arn = s(&created["stateMachineArn"]);
    aws.ok(&[
        "tag-resource",
        "--resource-arn",
        &arn,
        "--tags",
        r#"[{"key": "a", "value": "1"}, {"key": "b", "value": ""}]"#,
    ]);
    aws.ok(&[
        "tag-resource",
        "--resource-arn",
        &arn,
        "--tags",
        r#"[{"key": "a", "value": "2"}]"#,
    ]);
    let tags = aws.ok(&["list-tags-for-resource", "--resource-arn", &arn]);
    assert_eq!(
        tags["tags"],
        json!([{"key": "a", "value": "2"}, {"key": "b", "value": ""}])
    );
    aws.ok(&[
        "untag-resource",
        "--resource-arn",
        &arn,
        "--tag-keys",
        "a",
        "zzz",
    ]);
    let tags = aws.ok(&["list-tags-for-resource", "--resource-arn", &arn]);
    assert_eq!(tags["tags"], json!([{"key": "b", "value": ""}]));

    let version = format!("{arn}:1");
    let msg = aws.err(
        &[
            "tag-resource",
            "--resource-arn",
            &version,
            "--tags",
            r#"[{"key": "k", "value": "v"}]"#,
        ],
        "ResourceNotFound",
    );
    assert_eq!(msg, format!("Resource not found: '{version}'"));
    let gone = format!("{PREFIX}:stateMachine:none");
    aws.err(
        &["list-tags-for-resource", "--resource-arn", &gone],
        "ResourceNotFound",
    );
    aws.err(
        &["untag-resource", "--resource-arn", &gone, "--tag-keys", "a"],
        "ResourceNotFound",
    );

    aws.cov.assert_covers("aws cli", "tags", TAGS);
}

// TestState -----------------------------------------------------------------------------------

#[test]
fn test_state_with_and_without_mocks() {
    let Some((aws, _server)) = setup("teststate") else {
        return;
    };
    let pass = json!({"Type": "Pass", "Parameters": {"sum.$": "States.MathAdd($.a, $.b)"},
        "ResultPath": "$.out", "End": true})
    .to_string();
    let t = aws.ok(&[
        "test-state",
        "--definition",
        &pass,
        "--input",
        r#"{"a": 1, "b": 2}"#,
        "--inspection-level",
        "DEBUG",
    ]);
    assert_eq!(t["status"], "SUCCEEDED");
    assert_eq!(t["output"], r#"{"a":1,"b":2,"out":{"sum":3}}"#);
    assert_eq!(t["inspectionData"]["afterParameters"], r#"{"sum":3}"#);
    let task = json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "f", "Payload.$": "$"},
        "Retry": [{"ErrorEquals": ["E"]}], "End": true})
    .to_string();
    let retry = aws.ok(&[
        "test-state",
        "--definition",
        &task,
        "--inspection-level",
        "TRACE",
        "--mock",
        r#"{"errorOutput": {"error": "E", "cause": "C"}}"#,
    ]);
    assert_eq!(
        (&retry["status"], &retry["error"], &retry["cause"]),
        (&json!("RETRIABLE"), &json!("E"), &json!("C"))
    );
    let msg = aws.err(&["test-state", "--definition", "{"], "InvalidDefinition");
    assert!(
        msg.starts_with("Invalid State Machine Definition: 'INVALID_JSON_DESCRIPTION"),
        "{msg}"
    );
    let msg = aws.err(
        &[
            "test-state",
            "--definition",
            &task,
            "--mock",
            r#"{"result": "{}", "errorOutput": {"error": "E"}}"#,
        ],
        "ValidationException",
    );
    assert_eq!(
        msg,
        "A test mock should have only one of the following fields: [result, errorOutput]."
    );

    aws.cov.assert_covers("aws cli", "TestState", TEST_STATE);
}

// ValidateStateMachineDefinition --------------------------------------------------------------

#[test]
fn validate_state_machine_definition() {
    let Some((aws, _server)) = setup("validate") else {
        return;
    };
    let good = aws.ok(&[
        "validate-state-machine-definition",
        "--definition",
        &pass_def("ok", json!(1)),
    ]);
    assert_eq!(
        (&good["result"], &good["diagnostics"]),
        (&json!("OK"), &json!([]))
    );
    let bad_next = json!({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Next": "Nowhere"},
        "B": {"Type": "Pass", "Next": "AlsoNowhere"},
        "C": {"Type": "Succeed"}}})
    .to_string();
    let one = aws.ok(&[
        "validate-state-machine-definition",
        "--definition",
        &bad_next,
        "--max-results",
        "1",
    ]);
    assert_eq!(
        (&one["result"], &one["truncated"]),
        (&json!("FAIL"), &json!(true))
    );
    assert_eq!(one["diagnostics"][0]["code"], "MISSING_TRANSITION_TARGET");
    let msg = aws.err(
        &[
            "validate-state-machine-definition",
            "--definition",
            &bad_next,
            "--max-results",
            "500",
        ],
        "ValidationException",
    );
    assert_eq!(
        msg,
        "1 validation error detected: Value '500' at 'maxResults' failed to satisfy \
         constraint: Member must have value less than or equal to 100"
    );

    aws.cov.assert_covers("aws cli", "validate", VALIDATE);
}
