//! End-to-end tests: spawn the real `stepwise` binary with files on disk, as a user would, and
//! check exit statuses, stdout/stderr and the `--history` JSON.

mod common;

use common::{event_types, examples_dir, parse, stepwise, write_json, write_text, Output};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::Duration;

// ---------------------------------------------------------------------------------------------
// helpers local to these tests

fn s(p: &Path) -> &str {
    p.to_str().expect("temp paths are UTF-8")
}

/// Runs `stepwise run DEF --input INPUT EXTRA...` for a definition given as JSON.
fn run_def(def: &Value, input: &Value, extra: &[&str]) -> Output {
    let path = write_json("def.asl.json", def);
    let input = input.to_string();
    let mut args = vec!["run", s(&path), "--input", &input];
    args.extend_from_slice(extra);
    stepwise(args)
}

/// Like [`run_def`] with `--history`; returns the parsed document.
fn run_history(def: &Value, input: &Value, extra: &[&str]) -> Value {
    let mut args = vec!["--history"];
    args.extend_from_slice(extra);
    run_def(def, input, &args).json()
}

/// The events of a `--history` document whose type is `ty`.
fn events_of<'a>(run: &'a Value, ty: &str) -> Vec<&'a Value> {
    run["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter(|e| e["type"] == ty)
        .collect()
}

/// Finds the diagnostic line for `code` on stderr and returns its (LINE, COL), checking it has
/// the `FILE:LINE:COL: CODE: message` shape.
#[track_caller]
fn diagnostic_position(out: &Output, file: &Path, code: &str) -> (usize, usize) {
    let line = out
        .stderr
        .lines()
        .find(|l| l.contains(code))
        .unwrap_or_else(|| panic!("no {code} on stderr:\n{}", out.stderr));
    let rest = line
        .strip_prefix(&format!("{}:", file.display()))
        .unwrap_or_else(|| panic!("diagnostic does not start with FILE: {line}"));
    let mut parts = rest.splitn(3, ':');
    let l = parts.next().and_then(|p| p.parse().ok());
    let c = parts.next().and_then(|p| p.parse().ok());
    match (l, c, parts.next()) {
        (Some(l), Some(c), Some(tail)) if tail.starts_with(&format!(" {code}: ")) => (l, c),
        _ => panic!("diagnostic is not FILE:LINE:COL: {code}: …: {line}"),
    }
}

/// 1-based (line, column) of the first occurrence of `needle` in the file's text.
fn position_of(file: &Path, needle: &str) -> (usize, usize) {
    let text = std::fs::read_to_string(file).expect("read back");
    text.lines()
        .enumerate()
        .find_map(|(i, l)| l.find(needle).map(|c| (i + 1, c + 1)))
        .unwrap_or_else(|| panic!("{needle} not in {text}"))
}

fn pass_machine() -> Value {
    json!({
        "StartAt": "Hello",
        "States": {
            "Hello": {
                "Type": "Pass",
                "Parameters": {"greeting.$": "States.Format('Hello, {}!', $.name)"},
                "ResultPath": "$.out",
                "End": true
            }
        }
    })
}

fn fail_machine() -> Value {
    json!({
        "StartAt": "Boom",
        "States": {"Boom": {"Type": "Fail", "Error": "Order.Invalid", "Cause": "quantity must be positive"}}
    })
}

fn wait_machine(seconds: u64) -> Value {
    json!({
        "StartAt": "Sleep",
        "States": {"Sleep": {"Type": "Wait", "Seconds": seconds, "Next": "Done"}, "Done": {"Type": "Succeed"}}
    })
}

// ---------------------------------------------------------------------------------------------
// --help

#[test]
fn top_level_help_lists_subcommands() {
    let out = stepwise(["--help"]);
    out.assert_code(0);
    for word in ["validate", "run", "Usage", "Amazon States Language"] {
        assert!(out.stdout.contains(word), "missing {word}:\n{}", out.stdout);
    }
}

#[test]
fn run_help_lists_flags() {
    let out = stepwise(["run", "--help"]);
    out.assert_code(0);
    for flag in [
        "--input",
        "--input-file",
        "--history",
        "--tasks",
        "--skip-waits",
        "--seed",
        "--name",
        "--express",
        "Exit status",
    ] {
        assert!(out.stdout.contains(flag), "missing {flag}:\n{}", out.stdout);
    }
}

#[test]
fn validate_help_lists_flags() {
    let out = stepwise(["validate", "--help"]);
    out.assert_code(0);
    for flag in ["--json", "--express", "FILE", "Exit status"] {
        assert!(out.stdout.contains(flag), "missing {flag}:\n{}", out.stdout);
    }
}

#[test]
fn version_and_usage_errors() {
    let v = stepwise(["--version"]);
    v.assert_code(0);
    assert!(v.stdout.starts_with("stepwise "), "{}", v.stdout);

    // No subcommand, an unknown one, a missing FILE: clap's usage error, status 2.
    for args in [
        &[][..],
        &["frobnicate"][..],
        &["validate"][..],
        &["run"][..],
    ] {
        let out = stepwise(args);
        out.assert_code(2);
        assert!(out.stderr.contains("Usage"), "{args:?}: {}", out.stderr);
    }
}

// ---------------------------------------------------------------------------------------------
// validate

#[test]
fn validate_valid_file() {
    let f = write_json("ok.asl.json", &pass_machine());
    let out = stepwise(["validate", s(&f)]);
    out.assert_code(0);
    assert!(out.stdout.contains("valid"), "{}", out.stdout);
    assert!(out.stderr.is_empty(), "{}", out.stderr);
}

#[test]
fn validate_missing_start_at() {
    let f = write_json(
        "nostart.asl.json",
        &json!({"States": {"A": {"Type": "Pass", "End": true}}}),
    );
    let out = stepwise(["validate", s(&f)]);
    out.assert_code(1);
    assert!(out.stderr.contains("StartAt"), "{}", out.stderr);
    // The location is the root object.
    assert_eq!(
        diagnostic_position(&out, &f, "SCHEMA_VALIDATION_FAILED"),
        (1, 1)
    );
}

#[test]
fn validate_missing_transition_target_points_at_the_next_field() {
    let f = write_json(
        "badnext.asl.json",
        &json!({
            "StartAt": "A",
            "States": {
                "A": {"Type": "Pass", "Next": "Nowhere"},
                "B": {"Type": "Succeed"}
            }
        }),
    );
    let out = stepwise(["validate", s(&f)]);
    out.assert_code(1);
    assert!(out.stderr.contains("Nowhere"), "{}", out.stderr);
    let pos = diagnostic_position(&out, &f, "MISSING_TRANSITION_TARGET");
    assert_eq!(pos, position_of(&f, "\"Nowhere\""));
    assert!(out.stderr.contains("(at /States/A/Next)"), "{}", out.stderr);
}

#[test]
fn validate_wait_with_bad_timestamp() {
    let f = write_json(
        "badts.asl.json",
        &json!({
            "StartAt": "W",
            "States": {"W": {"Type": "Wait", "Timestamp": "tomorrow at noon", "End": true}}
        }),
    );
    let out = stepwise(["validate", s(&f)]);
    out.assert_code(1);
    let pos = diagnostic_position(&out, &f, "SCHEMA_VALIDATION_FAILED");
    assert_eq!(pos.0, position_of(&f, "tomorrow at noon").0);
    assert!(out.stderr.contains("/States/W/Timestamp"), "{}", out.stderr);
}

#[test]
fn validate_invalid_json() {
    let f = write_text(
        "truncated.asl.json",
        "{\n  \"StartAt\": \"A\",\n  \"States\": {\n",
    );
    let out = stepwise(["validate", s(&f)]);
    out.assert_code(1);
    assert!(
        out.stderr.contains("INVALID_JSON_DESCRIPTION"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.starts_with(&format!("{}", f.display())),
        "{}",
        out.stderr
    );
}

#[test]
fn validate_invalid_json_has_file_line_col_on_one_line() {
    let f = write_text(
        "truncated2.asl.json",
        "{\n  \"StartAt\": \"A\",\n  \"States\": {\n",
    );
    let out = stepwise(["validate", s(&f)]);
    out.assert_code(1);
    // The parser knows where it stopped (line 4, column 1): the CLI should say so, and keep
    // its promise of one diagnostic per line.
    let (line, _col) = diagnostic_position(&out, &f, "INVALID_JSON_DESCRIPTION");
    assert_eq!(line, 4);
    assert_eq!(out.stderr.trim_end().lines().count(), 1, "{}", out.stderr);
}

#[test]
fn validate_json_output_ok() {
    let f = write_json("ok.asl.json", &pass_machine());
    let out = stepwise(["validate", "--json", s(&f)]);
    out.assert_code(0);
    assert_eq!(
        out.json(),
        json!({"result": "OK", "diagnostics": [], "truncated": false})
    );
}

#[test]
fn validate_json_output_fail() {
    let f = write_json(
        "badnext.asl.json",
        &json!({
            "StartAt": "A",
            "States": {"A": {"Type": "Pass", "Next": "Nowhere"}, "B": {"Type": "Succeed"}}
        }),
    );
    let out = stepwise(["validate", "--json", s(&f)]);
    out.assert_code(1);
    let v = out.json();
    assert_eq!(v["result"], "FAIL");
    assert_eq!(v["truncated"], false);
    let diags = v["diagnostics"].as_array().expect("diagnostics");
    let d = diags
        .iter()
        .find(|d| d["code"] == "MISSING_TRANSITION_TARGET")
        .unwrap_or_else(|| panic!("{v:#}"));
    assert_eq!(d["severity"], "ERROR");
    assert_eq!(d["location"], "/States/A/Next");
    assert!(d["message"].as_str().is_some_and(|m| m.contains("Nowhere")));
    // Every diagnostic has the response's members.
    for d in diags {
        for k in ["code", "message", "severity"] {
            assert!(d[k].is_string(), "{k} missing in {d}");
        }
    }
}

#[test]
fn validate_json_output_invalid_json() {
    let f = write_text("broken.asl.json", "{\"StartAt\": ");
    let out = stepwise(["validate", "--json", s(&f)]);
    out.assert_code(1);
    let v = out.json();
    assert_eq!(v["result"], "FAIL");
    assert_eq!(v["diagnostics"][0]["code"], "INVALID_JSON_DESCRIPTION");
}

#[test]
fn validate_express_rejects_callback_integration() {
    let f = write_json(
        "callback.asl.json",
        &json!({
            "StartAt": "T",
            "States": {"T": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                "Parameters": {"FunctionName": "f", "Payload": {"token.$": "$$.Task.Token"}},
                "End": true
            }}
        }),
    );
    stepwise(["validate", s(&f)]).assert_code(0);
    let out = stepwise(["validate", "--express", s(&f)]);
    out.assert_code(1);
    assert!(out.stderr.contains("waitForTaskToken"), "{}", out.stderr);
}

#[test]
fn validate_unreadable_file_exits_2() {
    let missing = std::env::temp_dir().join("stepwise-cli-tests-does-not-exist.asl.json");
    let out = stepwise(["validate", s(&missing)]);
    out.assert_code(2);
    assert!(out.stderr.contains("cannot read"), "{}", out.stderr);
    // A directory is unreadable as a file, too.
    let out = stepwise(["validate", s(&std::env::temp_dir())]);
    out.assert_code(2);
}

// ---------------------------------------------------------------------------------------------
// run

#[test]
fn run_prints_output_json() {
    let out = run_def(&pass_machine(), &json!({"name": "World"}), &[]);
    out.assert_code(0);
    assert_eq!(
        out.json(),
        json!({"name": "World", "out": {"greeting": "Hello, World!"}})
    );
    assert!(out.stderr.is_empty(), "{}", out.stderr);
}

#[test]
fn run_default_input_is_empty_object() {
    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}});
    let f = write_json("identity.asl.json", &def);
    let out = stepwise(["run", s(&f)]);
    out.assert_code(0);
    assert_eq!(out.json(), json!({}));
}

#[test]
fn run_non_object_input() {
    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}});
    for input in [json!([1, 2, 3]), json!("text"), json!(7), json!(null)] {
        let out = run_def(&def, &input, &[]);
        out.assert_code(0);
        assert_eq!(out.json(), input);
    }
}

#[test]
fn run_input_file() {
    let f = write_json("pass.asl.json", &pass_machine());
    let input = write_json("in.json", &json!({"name": "Ada"}));
    let out = stepwise(["run", s(&f), "--input-file", s(&input)]);
    out.assert_code(0);
    assert_eq!(out.json()["out"]["greeting"], "Hello, Ada!");
}

#[test]
fn run_input_and_input_file_conflict() {
    let f = write_json("pass.asl.json", &pass_machine());
    let input = write_json("in.json", &json!({"name": "Ada"}));
    let out = stepwise(["run", s(&f), "--input", "{}", "--input-file", s(&input)]);
    out.assert_code(2);
    assert!(out.stderr.contains("cannot be used with"), "{}", out.stderr);
}

#[test]
fn run_fail_state_exits_1_with_error_and_cause() {
    let out = run_def(&fail_machine(), &json!({}), &[]);
    out.assert_code(1);
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    assert!(out.stderr.contains("FAILED"), "{}", out.stderr);
    assert!(out.stderr.contains("Order.Invalid"), "{}", out.stderr);
    assert!(
        out.stderr.contains("quantity must be positive"),
        "{}",
        out.stderr
    );
}

#[test]
fn run_runtime_error_names_the_state() {
    // $.name is missing from the input: States.Runtime from the intrinsic's argument.
    let out = run_def(&pass_machine(), &json!({}), &[]);
    out.assert_code(1);
    assert!(out.stderr.contains("States.Runtime"), "{}", out.stderr);
    assert!(out.stderr.contains("'Hello'"), "{}", out.stderr);
}

#[test]
fn run_invalid_definition_exits_2_with_diagnostics() {
    let f = write_json(
        "bad.asl.json",
        &json!({"StartAt": "Missing", "States": {"A": {"Type": "Succeed"}}}),
    );
    let out = stepwise(["run", s(&f)]);
    out.assert_code(2);
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    assert!(
        out.stderr.contains("MISSING_TRANSITION_TARGET"),
        "{}",
        out.stderr
    );
    diagnostic_position(&out, &f, "MISSING_TRANSITION_TARGET");
}

#[test]
fn run_invalid_input_exits_2() {
    let f = write_json("pass.asl.json", &pass_machine());
    for bad in ["{name: 1}", "", "{\"a\": 1} trailing"] {
        let out = stepwise(["run", s(&f), "--input", bad]);
        out.assert_code(2);
        assert!(
            out.stderr.contains("InvalidExecutionInput"),
            "{bad:?}: {}",
            out.stderr
        );
    }
    let bad_file = write_text("bad-input.json", "[1, 2,");
    let out = stepwise(["run", s(&f), "--input-file", s(&bad_file)]);
    out.assert_code(2);
    assert!(
        out.stderr.contains("InvalidExecutionInput"),
        "{}",
        out.stderr
    );
}

#[test]
fn run_unreadable_files_exit_2() {
    let f = write_json("pass.asl.json", &pass_machine());
    let missing = std::env::temp_dir().join("stepwise-cli-tests-missing-input.json");
    for args in [
        vec!["run", s(&missing)],
        vec!["run", s(&f), "--input-file", s(&missing)],
        vec!["run", s(&f), "--tasks", s(&missing)],
    ] {
        let out = stepwise(&args);
        out.assert_code(2);
        assert!(
            out.stderr.contains("cannot read"),
            "{args:?}: {}",
            out.stderr
        );
    }
}

#[test]
fn run_rejects_oversized_input() {
    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}});
    let f = write_json("identity.asl.json", &def);
    let big = write_json("big-input.json", &json!({"blob": "x".repeat(300_000)}));
    let out = stepwise(["run", s(&f), "--input-file", s(&big)]);
    out.assert_code(2);
    assert!(out.stdout.is_empty());
}

// ---------------------------------------------------------------------------------------------
// --history

#[test]
fn history_document_shape() {
    let input = json!({"name": "World"});
    let run = run_history(&pass_machine(), &input, &[]);
    let keys: Vec<&str> = run
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["status", "output", "error", "cause", "history"]);
    assert_eq!(run["status"], "SUCCEEDED");
    assert_eq!(run["error"], Value::Null);
    assert_eq!(run["cause"], Value::Null);
    // The output is JSON text, as DescribeExecution returns it.
    let output = parse(run["output"].as_str().expect("output is text"));
    assert_eq!(output["out"]["greeting"], "Hello, World!");

    assert_eq!(
        event_types(&run),
        [
            "ExecutionStarted",
            "PassStateEntered",
            "PassStateExited",
            "ExecutionSucceeded"
        ]
    );
    let h = run["history"].as_array().expect("history");
    for e in h {
        for k in ["id", "previousEventId", "type", "timestamp"] {
            assert!(!e[k].is_null(), "{k} missing in {e}");
        }
        assert!(e["timestamp"].is_number(), "{e}");
    }
    let started = &h[0]["executionStartedEventDetails"];
    assert_eq!(parse(started["input"].as_str().expect("input")), input);
    assert!(started["roleArn"].is_string(), "{started}");
    let entered = &h[1]["stateEnteredEventDetails"];
    assert_eq!(entered["name"], "Hello");
    assert_eq!(parse(entered["input"].as_str().expect("input")), input);
    let exited = &h[2]["stateExitedEventDetails"];
    assert_eq!(exited["name"], "Hello");
    assert_eq!(parse(exited["output"].as_str().expect("output")), output);
    let succeeded = &h[3]["executionSucceededEventDetails"];
    assert_eq!(parse(succeeded["output"].as_str().expect("output")), output);
    // As AWS records it: the first state's entry points back to 0, later events to their cause.
    assert_eq!(h[1]["previousEventId"], 0);
    assert_eq!(h[2]["previousEventId"], 2);
    assert_eq!(h[3]["previousEventId"], 3);
}

/// Ids are 1..n without gaps, each previousEventId is earlier, timestamps never go back, and
/// exactly one terminal Execution* event closes the history.
#[track_caller]
fn assert_well_formed_history(run: &Value) {
    let h = run["history"].as_array().expect("history");
    assert!(!h.is_empty());
    let mut last_ts = f64::MIN;
    for (i, e) in h.iter().enumerate() {
        let id = e["id"].as_u64().expect("id");
        assert_eq!(id, i as u64 + 1, "ids must be 1..n: {e}");
        let prev = e["previousEventId"].as_u64().expect("previousEventId");
        assert!(prev < id, "previousEventId {prev} not before {id}");
        let ts = e["timestamp"].as_f64().expect("timestamp");
        assert!(ts >= last_ts, "timestamp went back at {e}");
        last_ts = ts;
    }
    assert_eq!(h[0]["type"], "ExecutionStarted");
    let terminal = [
        "ExecutionSucceeded",
        "ExecutionFailed",
        "ExecutionTimedOut",
        "ExecutionAborted",
    ];
    let ends: Vec<&str> = h
        .iter()
        .filter_map(|e| e["type"].as_str())
        .filter(|t| terminal.contains(t))
        .collect();
    assert_eq!(ends.len(), 1, "terminal events: {ends:?}");
    assert!(
        terminal.contains(&h[h.len() - 1]["type"].as_str().unwrap_or_default()),
        "last event is not terminal"
    );
}

#[test]
fn history_ids_are_gap_free_with_one_terminal_event() {
    let def = json!({
        "StartAt": "Fan",
        "States": {
            "Fan": {
                "Type": "Map",
                "ItemsPath": "$.xs",
                "ItemProcessor": {"StartAt": "Double", "States": {
                    "Double": {"Type": "Pass", "Parameters": {"v.$": "States.MathAdd($, $)"}, "End": true}
                }},
                "Next": "Both"
            },
            "Both": {
                "Type": "Parallel",
                "Branches": [
                    {"StartAt": "L", "States": {"L": {"Type": "Pass", "End": true}}},
                    {"StartAt": "R", "States": {"R": {"Type": "Wait", "Seconds": 5, "End": true}}}
                ],
                "Next": "Check"
            },
            "Check": {
                "Type": "Choice",
                "Choices": [{"Variable": "$[0][0].v", "NumericEquals": 2, "Next": "Fail"}],
                "Default": "Fail"
            },
            "Fail": {"Type": "Fail", "Error": "E", "Cause": "C"}
        }
    });
    let run = run_history(&def, &json!({"xs": [1, 2, 3]}), &["--skip-waits"]);
    assert_well_formed_history(&run);
    assert_eq!(run["status"], "FAILED");
    let types = event_types(&run);
    assert_eq!(types.last().map(String::as_str), Some("ExecutionFailed"));
    assert_eq!(events_of(&run, "MapIterationStarted").len(), 3);
    assert_eq!(events_of(&run, "ParallelStateStarted").len(), 1);

    let succeeded = run_history(&pass_machine(), &json!({"name": "x"}), &[]);
    assert_well_formed_history(&succeeded);
}

#[test]
fn history_of_failed_run() {
    let out = run_def(&fail_machine(), &json!({"a": 1}), &["--history"]);
    // The document goes to stdout even for a failed execution; the status says it failed.
    out.assert_code(1);
    let run = out.json();
    assert_eq!(run["status"], "FAILED");
    assert_eq!(run["output"], Value::Null);
    assert_eq!(run["error"], "Order.Invalid");
    assert_eq!(run["cause"], "quantity must be positive");
    assert_well_formed_history(&run);
    let failed = events_of(&run, "ExecutionFailed");
    assert_eq!(
        failed[0]["executionFailedEventDetails"],
        json!({"error": "Order.Invalid", "cause": "quantity must be positive"})
    );
    assert_eq!(
        event_types(&run),
        ["ExecutionStarted", "FailStateEntered", "ExecutionFailed"]
    );
}

#[test]
fn execution_name_and_state_machine_name_reach_the_context_object() {
    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {
        "exec.$": "$$.Execution.Name",
        "arn.$": "$$.Execution.Id",
        "machine.$": "$$.StateMachine.Name",
        "state.$": "$$.State.Name"
    }, "End": true}}});
    let f = write_json("ctx.asl.json", &def);
    let out = stepwise(["run", s(&f), "--name", "nightly-42"]);
    out.assert_code(0);
    let v = out.json();
    assert_eq!(v["exec"], "nightly-42");
    assert_eq!(v["state"], "P");
    let arn = v["arn"].as_str().expect("arn");
    assert!(arn.starts_with("arn:aws:states:"), "{arn}");
    assert!(arn.ends_with(":nightly-42"), "{arn}");
    // The file name up to its first dot names the state machine.
    let machine = v["machine"].as_str().expect("machine");
    assert!(arn.contains(&format!(":execution:{machine}:")), "{arn}");
    assert!(f
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with(machine)));
}

// ---------------------------------------------------------------------------------------------
// --skip-waits

#[test]
fn skip_waits_makes_an_hour_wait_instant_on_a_virtual_clock() {
    let out = run_def(
        &wait_machine(3600),
        &json!({}),
        &["--skip-waits", "--history"],
    );
    out.assert_code(0);
    assert!(
        out.elapsed < Duration::from_secs(10),
        "took {:?}",
        out.elapsed
    );
    let run = out.json();
    assert_eq!(run["status"], "SUCCEEDED");
    // History time still moves: the Wait's exit is an hour after its entry.
    let entered = events_of(&run, "WaitStateEntered")[0]["timestamp"]
        .as_f64()
        .expect("ts");
    let exited = events_of(&run, "WaitStateExited")[0]["timestamp"]
        .as_f64()
        .expect("ts");
    assert!(
        (exited - entered - 3600.0).abs() < 1.0,
        "virtual wait {}",
        exited - entered
    );
}

#[test]
fn skip_waits_wait_until_timestamp() {
    // Ten days ahead, to the second: the Wait exits exactly then on the virtual clock.
    let until = chrono::Utc::now() + chrono::Duration::days(10);
    let until = until.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let expected = chrono::DateTime::parse_from_rfc3339(&until)
        .expect("RFC 3339")
        .timestamp() as f64;
    let def = json!({"StartAt": "W", "States": {
        "W": {"Type": "Wait", "Timestamp": until, "End": true}
    }});
    let out = run_def(&def, &json!({}), &["--skip-waits", "--history"]);
    out.assert_code(0);
    assert!(out.elapsed < Duration::from_secs(10));
    let run = out.json();
    let exited = events_of(&run, "WaitStateExited")[0]["timestamp"]
        .as_f64()
        .expect("ts");
    assert!(
        (exited - expected).abs() < 0.001,
        "exited at {exited}, expected {expected}"
    );
}

#[test]
fn waits_are_real_without_skip_waits() {
    let out = run_def(&wait_machine(1), &json!({"k": 1}), &[]);
    out.assert_code(0);
    assert_eq!(out.json(), json!({"k": 1}));
    assert!(
        out.elapsed >= Duration::from_secs(1),
        "a 1 s Wait took {:?}",
        out.elapsed
    );
}

#[test]
fn skip_waits_also_skips_retry_intervals() {
    let def = json!({"StartAt": "T", "States": {"T": {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "f"},
        "Retry": [{"ErrorEquals": ["Slow"], "IntervalSeconds": 3600, "MaxAttempts": 2}],
        "End": true
    }}});
    let tasks = write_json(
        "tasks.json",
        &json!({"T": [{"Throw": {"Error": "Slow", "Cause": "later"}}, {"Return": {"ok": true}}]}),
    );
    let out = run_def(&def, &json!({}), &["--skip-waits", "--tasks", s(&tasks)]);
    out.assert_code(0);
    assert!(out.elapsed < Duration::from_secs(10));
    assert_eq!(out.json(), json!({"ok": true}));
}

// ---------------------------------------------------------------------------------------------
// --tasks

fn lambda_task(extra: Value) -> Value {
    let mut t = json!({
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "f", "Payload.$": "$"}
    });
    if let (Some(t), Some(extra)) = (t.as_object_mut(), extra.as_object()) {
        t.extend(extra.clone());
    }
    t
}

#[test]
fn canned_return() {
    let def = json!({"StartAt": "Price", "States": {
        "Price": lambda_task(json!({"ResultPath": "$.price", "End": true}))
    }});
    let tasks = write_json(
        "tasks.json",
        &json!({"Price": {"Return": {"amount": 12.5}}}),
    );
    let out = run_def(&def, &json!({"sku": "A1"}), &["--tasks", s(&tasks)]);
    out.assert_code(0);
    assert_eq!(out.json(), json!({"sku": "A1", "price": {"amount": 12.5}}));
}

#[test]
fn canned_response_keyed_by_resource_arn() {
    let def = json!({"StartAt": "Legacy", "States": {"Legacy": {
        "Type": "Task",
        "Resource": "arn:aws:lambda:us-east-1:111111111111:function:legacy",
        "End": true
    }}});
    let tasks = write_json(
        "tasks.json",
        &json!({"arn:aws:lambda:us-east-1:111111111111:function:legacy": {"Return": [1, 2]}}),
    );
    let out = run_def(&def, &json!({}), &["--tasks", s(&tasks)]);
    out.assert_code(0);
    assert_eq!(out.json(), json!([1, 2]));
}

#[test]
fn canned_throw_then_success_under_retry() {
    let def = json!({"StartAt": "Flaky", "States": {
        "Flaky": lambda_task(json!({
            "Retry": [{"ErrorEquals": ["Flaky.Error"], "IntervalSeconds": 1, "MaxAttempts": 3}],
            "ResultSelector": {"answer.$": "$.value"},
            "End": true
        }))
    }});
    let tasks = write_json(
        "tasks.json",
        &json!({"Flaky": [
            {"Throw": {"Error": "Flaky.Error", "Cause": "first try fails"}},
            {"Return": {"value": 42}}
        ]}),
    );
    let run = run_history(&def, &json!({}), &["--tasks", s(&tasks), "--skip-waits"]);
    assert_eq!(run["status"], "SUCCEEDED");
    assert_eq!(
        parse(run["output"].as_str().expect("output")),
        json!({"answer": 42})
    );
    assert_well_formed_history(&run);
    let types = event_types(&run);
    let failed = types
        .iter()
        .position(|t| t == "TaskFailed")
        .expect("TaskFailed");
    let succeeded = types
        .iter()
        .position(|t| t == "TaskSucceeded")
        .expect("TaskSucceeded");
    assert!(failed < succeeded, "{types:?}");
    assert_eq!(types.iter().filter(|t| *t == "TaskScheduled").count(), 2);
    let f = &events_of(&run, "TaskFailed")[0]["taskFailedEventDetails"];
    assert_eq!(f["error"], "Flaky.Error");
    assert_eq!(f["cause"], "first try fails");
    let ok = &events_of(&run, "TaskSucceeded")[0]["taskSucceededEventDetails"];
    assert_eq!(
        parse(ok["output"].as_str().expect("output")),
        json!({"value": 42})
    );
}

#[test]
fn canned_throws_exhaust_retries() {
    let def = json!({"StartAt": "Flaky", "States": {
        "Flaky": lambda_task(json!({
            "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "MaxAttempts": 2}],
            "End": true
        }))
    }});
    let tasks = write_json(
        "tasks.json",
        &json!({"Flaky": {"Throw": {"Error": "Down", "Cause": "still down"}}}),
    );
    let run = run_history(&def, &json!({}), &["--tasks", s(&tasks), "--skip-waits"]);
    assert_eq!(run["status"], "FAILED");
    assert_eq!(run["error"], "Down");
    assert_eq!(run["cause"], "still down");
    // One attempt and two retries; the single Throw repeats.
    assert_eq!(events_of(&run, "TaskFailed").len(), 3);
    assert_well_formed_history(&run);
}

#[test]
fn canned_throw_caught_with_result_path() {
    let def = json!({"StartAt": "Charge", "States": {
        "Charge": lambda_task(json!({
            "Catch": [{"ErrorEquals": ["Card.Declined"], "ResultPath": "$.failure", "Next": "Declined"}],
            "End": true
        })),
        "Declined": {"Type": "Pass", "Result": "declined", "ResultPath": "$.status", "End": true}
    }});
    let tasks = write_json(
        "tasks.json",
        &json!({"Charge": {"Throw": {"Error": "Card.Declined", "Cause": "insufficient funds"}}}),
    );
    let run = run_history(&def, &json!({"order": 7}), &["--tasks", s(&tasks)]);
    assert_eq!(run["status"], "SUCCEEDED");
    assert_eq!(
        parse(run["output"].as_str().expect("output")),
        json!({
            "order": 7,
            "failure": {"Error": "Card.Declined", "Cause": "insufficient funds"},
            "status": "declined"
        })
    );
    let types = event_types(&run);
    let failed = types
        .iter()
        .position(|t| t == "TaskFailed")
        .expect("TaskFailed");
    let next = types
        .iter()
        .position(|t| t == "PassStateEntered")
        .expect("Declined entered");
    assert!(failed < next, "{types:?}");
    assert_well_formed_history(&run);
}

#[test]
fn task_without_canned_response_names_the_missing_configuration() {
    let def = json!({"StartAt": "Unconfigured", "States": {
        "Unconfigured": lambda_task(json!({"End": true}))
    }});
    // No --tasks at all …
    let out = run_def(&def, &json!({}), &[]);
    out.assert_code(1);
    assert!(out.stderr.contains("States.Runtime"), "{}", out.stderr);
    assert!(out.stderr.contains("Unconfigured"), "{}", out.stderr);
    assert!(out.stderr.contains("--lambda-config"), "{}", out.stderr);
    assert!(out.stderr.contains("--mock-config"), "{}", out.stderr);
    // … or a tasks file that answers other states only.
    let tasks = write_json("tasks.json", &json!({"Other": {"Return": 1}}));
    let out = run_def(&def, &json!({}), &["--tasks", s(&tasks)]);
    out.assert_code(1);
    assert!(out.stderr.contains("Unconfigured"), "{}", out.stderr);
    assert!(
        out.stderr.contains("arn:aws:states:::lambda:invoke"),
        "{}",
        out.stderr
    );
}

#[test]
fn malformed_tasks_file_exits_2() {
    let def = json!({"StartAt": "T", "States": {"T": lambda_task(json!({"End": true}))}});
    for (hint, text) in [
        ("notjson.json", "not json"),
        ("array.json", "[1, 2]"),
        ("nomember.json", "{\"T\": [{\"Answer\": 1}]}"),
        ("empty-list.json", "{\"T\": []}"),
    ] {
        let tasks = write_text(hint, text);
        let out = run_def(&def, &json!({}), &["--tasks", s(&tasks)]);
        out.assert_code(2);
        assert!(out.stderr.contains("stepwise:"), "{hint}: {}", out.stderr);
    }
}

// ---------------------------------------------------------------------------------------------
// language features through the CLI

#[test]
fn map_state_output() {
    let def = json!({"StartAt": "Each", "States": {"Each": {
        "Type": "Map",
        "ItemsPath": "$.orders",
        "ItemSelector": {"id.$": "$$.Map.Item.Value.id", "index.$": "$$.Map.Item.Index"},
        "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "Tag", "States": {
            "Tag": {"Type": "Pass", "Parameters": {"label.$": "States.Format('#{}: {}', $.index, $.id)"}, "End": true}
        }},
        "ResultPath": "$.labels",
        "End": true
    }}});
    let out = run_def(&def, &json!({"orders": [{"id": "a"}, {"id": "b"}]}), &[]);
    out.assert_code(0);
    assert_eq!(
        out.json()["labels"],
        json!([{"label": "#0: a"}, {"label": "#1: b"}])
    );
}

#[test]
fn parallel_state_output_is_in_branch_order() {
    let def = json!({"StartAt": "Both", "States": {"Both": {
        "Type": "Parallel",
        "Branches": [
            {"StartAt": "Slow", "States": {
                "Slow": {"Type": "Wait", "Seconds": 30, "Next": "First"},
                "First": {"Type": "Pass", "Result": "first", "End": true}
            }},
            {"StartAt": "Second", "States": {"Second": {"Type": "Pass", "InputPath": "$.x", "End": true}}}
        ],
        "End": true
    }}});
    let out = run_def(&def, &json!({"x": 2}), &["--skip-waits"]);
    out.assert_code(0);
    assert_eq!(out.json(), json!(["first", 2]));
}

#[test]
fn intrinsic_functions_format_and_array() {
    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {
        "msg.$": "States.Format('{} has {} items', $.owner, States.ArrayLength($.items))",
        "arr.$": "States.Array($.owner, 1, true, $.items[0])",
        "json.$": "States.JsonToString($.items)"
    }, "End": true}}});
    let out = run_def(&def, &json!({"owner": "Bo", "items": ["x", "y"]}), &[]);
    out.assert_code(0);
    assert_eq!(
        out.json(),
        json!({"msg": "Bo has 2 items", "arr": ["Bo", 1, true, "x"], "json": "[\"x\",\"y\"]"})
    );
}

#[test]
fn choice_matches_or_takes_default() {
    let def = json!({"StartAt": "Size", "States": {
        "Size": {"Type": "Choice", "Choices": [
            {"Variable": "$.n", "NumericGreaterThan": 10, "Next": "Big"}
        ], "Default": "Small"},
        "Big": {"Type": "Pass", "Result": "big", "End": true},
        "Small": {"Type": "Pass", "Result": "small", "End": true}
    }});
    let big = run_def(&def, &json!({"n": 11}), &[]);
    big.assert_code(0);
    assert_eq!(big.json(), json!("big"));
    let small = run_def(&def, &json!({"n": 3}), &[]);
    small.assert_code(0);
    assert_eq!(small.json(), json!("small"));
}

#[test]
fn choice_without_match_or_default_fails() {
    let def = json!({"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericEquals": 1, "Next": "Done"}]},
        "Done": {"Type": "Succeed"}
    }});
    let out = run_def(&def, &json!({"n": 2}), &[]);
    out.assert_code(1);
    assert!(
        out.stderr.contains("States.NoChoiceMatched"),
        "{}",
        out.stderr
    );
}

#[test]
fn top_level_timeout_times_out_a_long_wait() {
    let mut def = wait_machine(3600);
    def["TimeoutSeconds"] = json!(5);
    let out = run_def(&def, &json!({}), &["--skip-waits", "--history"]);
    out.assert_code(1);
    assert!(out.elapsed < Duration::from_secs(10), "{:?}", out.elapsed);
    let run = out.json();
    assert_eq!(run["status"], "TIMED_OUT");
    assert_eq!(run["error"], "States.Timeout");
    assert_eq!(run["output"], Value::Null);
    assert_well_formed_history(&run);
    assert_eq!(
        event_types(&run).last().map(String::as_str),
        Some("ExecutionTimedOut")
    );

    // Without --history the status goes to stderr.
    let out = run_def(&def, &json!({}), &["--skip-waits"]);
    out.assert_code(1);
    assert!(out.stderr.contains("TIMED_OUT"), "{}", out.stderr);
    assert!(out.stderr.contains("States.Timeout"), "{}", out.stderr);
}

#[test]
fn top_level_timeout_on_the_real_clock() {
    let mut def = wait_machine(30);
    def["TimeoutSeconds"] = json!(1);
    let out = run_def(&def, &json!({}), &[]);
    out.assert_code(1);
    assert!(out.stderr.contains("TIMED_OUT"), "{}", out.stderr);
    assert!(out.elapsed >= Duration::from_secs(1), "{:?}", out.elapsed);
    assert!(out.elapsed < Duration::from_secs(20), "{:?}", out.elapsed);
}

#[test]
fn express_run() {
    let out = run_def(&pass_machine(), &json!({"name": "E"}), &["--express"]);
    out.assert_code(0);
    assert_eq!(out.json()["out"]["greeting"], "Hello, E!");
}

// ---------------------------------------------------------------------------------------------
// --seed

fn uuid_machine() -> Value {
    json!({"StartAt": "U", "States": {"U": {"Type": "Pass", "Parameters": {
        "id.$": "States.UUID()",
        "n.$": "States.MathRandom(1, 1000000)"
    }, "End": true}}})
}

#[test]
fn same_seed_same_uuid_different_seed_different_uuid() {
    let f = write_json("uuid.asl.json", &uuid_machine());
    let once = |seed: &str| {
        let out = stepwise(["run", s(&f), "--seed", seed]);
        out.assert_code(0);
        out.json()
    };
    let a = once("7");
    let b = once("7");
    let c = once("8");
    assert_eq!(a, b);
    assert_ne!(a["id"], c["id"]);
    let id = a["id"].as_str().expect("uuid text");
    assert_eq!(id.len(), 36, "{id}");
    assert_eq!(id.as_bytes()[14], b'4', "version 4 UUID: {id}");
}

#[test]
fn seed_must_be_a_number() {
    let f = write_json("uuid.asl.json", &uuid_machine());
    let out = stepwise(["run", s(&f), "--seed", "abc"]);
    out.assert_code(2);
    assert!(out.stderr.contains("--seed"), "{}", out.stderr);
}

// ---------------------------------------------------------------------------------------------
// known bugs

#[test]
fn data_limit_does_not_depend_on_history_flag() {
    // 100 Map iterations of 1,000 numbers each: ~500 KB of state output, over the 256 KiB limit.
    let def = json!({"StartAt": "Seed", "States": {
        "Seed": {"Type": "Pass", "Parameters": {"rows.$": "States.ArrayRange(1, 100, 1)"}, "Next": "Fan"},
        "Fan": {"Type": "Map", "ItemsPath": "$.rows", "ItemProcessor": {"StartAt": "Row", "States": {
            "Row": {"Type": "Pass", "Parameters": {"cols.$": "States.ArrayRange(1000, 1999, 1)"}, "End": true}
        }}, "End": true}
    }});
    let with = run_def(&def, &json!({}), &["--history"]);
    with.assert_code(1);
    assert_eq!(with.json()["error"], "States.DataLimitExceeded");
    let without = run_def(&def, &json!({}), &[]);
    without.assert_code(1);
    assert!(
        without.stderr.contains("States.DataLimitExceeded"),
        "{}",
        without.stderr
    );
}

#[test]
fn closed_stdout_does_not_panic() {
    use std::process::Stdio;
    // A history well over a pipe buffer (64 KiB), so the write must hit the closed pipe.
    let def = json!({"StartAt": "Fan", "States": {"Fan": {
        "Type": "Map", "ItemsPath": "$.xs",
        "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}},
        "End": true
    }}});
    let xs: Vec<u32> = (0..500).collect();
    let f = write_json("many.asl.json", &def);
    let input = json!({ "xs": xs }).to_string();
    let mut child = common::bin()
        .args(["run", s(&f), "--history", "--input", &input])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(101), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// Seconds between the first event of type `from` and the first of type `to`.
fn seconds_between(run: &Value, from: &str, to: &str) -> f64 {
    let ts = |ty: &str| {
        events_of(run, ty)
            .first()
            .and_then(|e| e["timestamp"].as_f64())
            .unwrap_or_else(|| panic!("no {ty} event"))
    };
    ts(to) - ts(from)
}

#[test]
fn parallel_branch_failure_stops_the_other_branches() {
    // AWS: "If any branch fails … the entire Parallel state is considered to have failed and
    // all its branches are stopped." Under --skip-waits the virtual clock shows the delay: the
    // engine records WaitStateExited and fails the Parallel an hour later.
    let def = json!({"StartAt": "P", "States": {"P": {
        "Type": "Parallel",
        "Branches": [
            {"StartAt": "Slow", "States": {"Slow": {"Type": "Wait", "Seconds": 3600, "End": true}}},
            {"StartAt": "Bad", "States": {"Bad": {"Type": "Fail", "Error": "BranchErr", "Cause": "b"}}}
        ],
        "End": true
    }}});
    let run = run_history(&def, &json!({}), &["--skip-waits"]);
    assert_eq!(run["status"], "FAILED");
    assert_eq!(run["error"], "BranchErr");
    assert!(
        events_of(&run, "WaitStateExited").is_empty(),
        "{:?}",
        event_types(&run)
    );
    let took = seconds_between(&run, "ParallelStateEntered", "ParallelStateFailed");
    assert!(took < 1.0, "Parallel failed {took} s after it was entered");
}

#[test]
fn map_iteration_failure_stops_the_other_iterations() {
    let def = json!({"StartAt": "M", "States": {"M": {
        "Type": "Map",
        "ItemsPath": "$.xs",
        "ItemProcessor": {"StartAt": "C", "States": {
            "C": {"Type": "Choice", "Choices": [{"Variable": "$", "NumericEquals": 1, "Next": "Bad"}], "Default": "Slow"},
            "Bad": {"Type": "Fail", "Error": "ItemErr", "Cause": "item 1"},
            "Slow": {"Type": "Wait", "Seconds": 3600, "End": true}
        }},
        "End": true
    }}});
    let run = run_history(&def, &json!({"xs": [0, 1, 2]}), &["--skip-waits"]);
    assert_eq!(run["status"], "FAILED");
    assert_eq!(run["error"], "ItemErr");
    assert!(
        events_of(&run, "MapIterationSucceeded").is_empty(),
        "{:?}",
        event_types(&run)
    );
    let took = seconds_between(&run, "MapStateEntered", "MapStateFailed");
    assert!(took < 1.0, "Map failed {took} s after it was entered");
}

// ---------------------------------------------------------------------------------------------
// examples/

/// One `examples/NAME.asl.json`, with `NAME.input.json` and `NAME.tasks.json` when present.
#[derive(Debug)]
struct Example {
    name: String,
    def: PathBuf,
    input: Option<PathBuf>,
    tasks: Option<PathBuf>,
}

fn examples() -> Vec<Example> {
    let dir = examples_dir();
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("examples/ exists") {
        let path = entry.expect("dir entry").path();
        let Some(name) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".asl.json"))
        else {
            continue;
        };
        let sibling = |suffix: &str| {
            let p = dir.join(format!("{name}.{suffix}"));
            p.exists().then_some(p)
        };
        found.push(Example {
            name: name.to_string(),
            input: sibling("input.json"),
            tasks: sibling("tasks.json"),
            def: path,
        });
    }
    found.sort_by(|a, b| a.name.cmp(&b.name));
    found
}

/// Runs an example as its Comment suggests (with --skip-waits and a fixed seed) and checks
/// it succeeds with a well-formed history.
fn run_example(ex: &Example) -> Value {
    let mut args = vec![
        "run".to_string(),
        s(&ex.def).to_string(),
        "--history".into(),
        "--skip-waits".into(),
        "--seed".into(),
        "1".into(),
    ];
    if let Some(i) = &ex.input {
        args.extend(["--input-file".into(), s(i).to_string()]);
    }
    if let Some(t) = &ex.tasks {
        args.extend(["--tasks".into(), s(t).to_string()]);
    }
    let out = stepwise(&args);
    let run = out.json();
    assert_eq!(
        run["status"], "SUCCEEDED",
        "example {}: {} {}",
        ex.name, run["error"], run["cause"]
    );
    out.assert_code(0);
    assert_well_formed_history(&run);
    run
}

fn run_named_example(name: &str) -> Value {
    let all = examples();
    let ex = all
        .iter()
        .find(|e| e.name == name)
        .unwrap_or_else(|| panic!("no example {name}"));
    run_example(ex)
}

#[test]
fn every_example_validates_and_succeeds() {
    let all = examples();
    assert!(all.len() >= 5, "examples found: {all:?}");
    for ex in &all {
        let text = std::fs::read_to_string(&ex.def).expect("read example");
        let v: Value = serde_json::from_str(&text).expect("example is JSON");
        assert!(
            v["Comment"].as_str().is_some_and(|c| c.len() > 20),
            "{} needs a README-style Comment",
            ex.name
        );
        stepwise(["validate", s(&ex.def)]).assert_code(0);
        run_example(ex);
    }
}

#[test]
fn example_order_processing() {
    let run = run_named_example("order-processing");
    let out = parse(run["output"].as_str().expect("output"));
    assert_eq!(out["status"], "COMPLETE");
    assert_eq!(out["paymentId"], "pay-9001");
    let mut tracking: Vec<&str> = out["shipments"]
        .as_array()
        .expect("shipments")
        .iter()
        .filter_map(|s| s["trackingNumber"].as_str())
        .collect();
    tracking.sort();
    assert_eq!(tracking, ["TRK-1", "TRK-2", "TRK-3"]);
    // The busy warehouse was retried once; the receipt failure was caught.
    let failed: Vec<&str> = events_of(&run, "TaskFailed")
        .iter()
        .filter_map(|e| e["taskFailedEventDetails"]["error"].as_str())
        .collect();
    assert!(failed.contains(&"Warehouse.Busy"), "{failed:?}");
    assert!(failed.contains(&"SNS.ThrottledException"), "{failed:?}");
}

#[test]
fn example_retry_backoff() {
    let run = run_named_example("retry-backoff");
    assert_eq!(
        parse(run["output"].as_str().expect("output")),
        json!({"symbol": "ACME", "quote": {"price": 42.25, "source": "live"}})
    );
    // Two throttles, then a thrown States.Timeout, recorded as TaskTimedOut as AWS does.
    assert_eq!(events_of(&run, "TaskFailed").len(), 2);
    assert_eq!(events_of(&run, "TaskTimedOut").len(), 1);
    assert_eq!(events_of(&run, "TaskSucceeded").len(), 1);
}

#[test]
fn example_map_fanout() {
    let run = run_named_example("map-fanout");
    let out = parse(run["output"].as_str().expect("output"));
    assert_eq!(out["total"], 4);
    assert_eq!(out["interviews"], json!(["Ada", "Grace"]));
}

#[test]
fn example_poll_until_done() {
    let run = run_named_example("poll-until-done");
    assert_eq!(
        parse(run["output"].as_str().expect("output")),
        json!({"runId": "jr_0123456789abcdef"})
    );
    // RUNNING, RUNNING, SUCCEEDED: three polls, each after a Wait.
    assert_eq!(events_of(&run, "WaitStateEntered").len(), 3);
}

// ---------------------------------------------------------------------------------------------
// serve: configuration file

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// GET /healthz answers 200 within a few seconds.
fn healthy(port: u16) -> bool {
    use std::io::{Read, Write};
    for _ in 0..100 {
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            let _ = s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            let mut buf = String::new();
            let _ = s.read_to_string(&mut buf);
            if buf.starts_with("HTTP/1.1 200") {
                return true;
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    false
}

#[test]
fn serve_reads_a_toml_configuration_file_and_flags_win() {
    let (file_port, flag_port) = (free_port(), free_port());
    let cfg = write_text(
        "serve.toml",
        &format!("port = {file_port}\ndata_dir = \":memory:\"\nlog_level = \"warn\"\nregion = \"eu-west-1\"\n"),
    );
    let mut child = common::bin()
        .args(["serve", "--config", s(&cfg)])
        .spawn()
        .expect("spawn");
    let ok = healthy(file_port);
    let _ = child.kill();
    let _ = child.wait();
    assert!(ok, "the port from the file is used");

    let mut child = common::bin()
        .args([
            "serve",
            "--config",
            s(&cfg),
            "--port",
            &flag_port.to_string(),
        ])
        .spawn()
        .expect("spawn");
    let ok = healthy(flag_port);
    let _ = child.kill();
    let _ = child.wait();
    assert!(ok, "the flag wins over the file");

    let bad = write_text("bad.toml", "prot = 1\n");
    let out = stepwise(["serve", "--config", s(&bad)]);
    out.assert_code(2);
    assert!(
        out.stderr.contains("not a valid configuration file"),
        "{}",
        out.stderr
    );
}

#[test]
fn mock_config_test_cases_answer_task_states() {
    let dir = examples_dir();
    let def = dir.join("order-processing.asl.json");
    let mocks = dir.join("integrations/order-processing.mock-config.json");
    let input = dir.join("order-processing.input.json");
    let out = stepwise([
        "run",
        s(&def),
        "--input-file",
        s(&input),
        "--skip-waits",
        "--mock-config",
        s(&mocks),
        "--test-case",
        "HappyPath",
    ]);
    out.assert_code(0);
    // An unknown test case is refused before anything runs.
    let out = stepwise([
        "run",
        s(&def),
        "--input-file",
        s(&input),
        "--mock-config",
        s(&mocks),
        "--test-case",
        "NoSuchCase",
    ]);
    out.assert_code(2);
    assert!(out.stderr.contains("NoSuchCase"), "{}", out.stderr);
}

/// Under `--skip-waits` Waits take no time, but a task's own time limit is real time while a
/// real call is in flight: a function that takes 0.4 s does not time out against
/// `TimeoutSeconds: 5`, and one that takes longer than its 1 s limit does.
#[test]
fn skip_waits_keeps_task_time_limits_real_for_real_calls() {
    let functions = write_json(
        "slow-functions.json",
        &json!({"Functions": {
            "slow": {"Command": ["sh", "-c", "sleep 0.4; cat"]},
            "slower": {"Command": ["sh", "-c", "sleep 3; cat"]}
        }}),
    );
    let def = |name: &str, limit: u64| {
        json!({"StartAt": "W", "States": {
            "W": {"Type": "Wait", "Seconds": 3600, "Next": "Call"},
            "Call": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                     "TimeoutSeconds": limit,
                     "Parameters": {"FunctionName": name, "Payload.$": "$"},
                     "OutputPath": "$.Payload", "End": true}}})
    };
    let out = run_def(
        &def("slow", 5),
        &json!({"n": 1}),
        &["--skip-waits", "--lambda-config", s(&functions)],
    );
    out.assert_code(0);
    assert_eq!(out.json(), json!({"n": 1}));
    assert!(out.elapsed < Duration::from_secs(10));

    let out = run_def(
        &def("slower", 1),
        &json!({"n": 1}),
        &["--skip-waits", "--lambda-config", s(&functions)],
    );
    out.assert_code(1);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(all.contains("States.Timeout"), "{all}");
}
