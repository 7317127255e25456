//! The recorded corpus through mocks: the `local_mocking` cases' Step Functions Local mock
//! configs (`localstack_mock_variant`), and the `lambda` cases replayed with mocked responses
//! built from their recorded task results. Status + output are compared with the recording.

use std::sync::Arc;

use serde_json::{json, Map, Value};
use stepwise_asl::StateMachine;
use stepwise_conformance::case::Case;
use stepwise_conformance::run::{exec_request, judge_execution, Check, Outcome, RunOutput};
use stepwise_engine::{run_local_with, RunOptions, TaskHandler};
use stepwise_resources::{MockConfig, MockHandler};

/// The corpus, or `None` (with a message) where it is absent: the tests then skip.
fn corpus() -> Option<Vec<Case>> {
    let dir = stepwise_conformance::corpus_dir();
    if !dir.join("cases").is_dir() {
        eprintln!(
            "conformance corpus not found at {}, skipping",
            dir.display()
        );
        return None;
    }
    let (cases, errors) = stepwise_conformance::load_corpus(&dir).expect("corpus loads");
    assert!(errors.is_empty(), "{errors:?}");
    Some(cases)
}

/// Runs `definition` with `input` under the case's names (so our ARNs normalise into the
/// recorded placeholders) and the given handler.
fn run(case: &Case, definition: &Value, input: Value, tasks: &dyn TaskHandler) -> RunOutput {
    let req = exec_request(case);
    let machine = match StateMachine::from_value(definition) {
        Ok(m) => m,
        Err(d) => {
            return RunOutput {
                status: format!("REJECTED {d:?}"),
                ..RunOutput::default()
            }
        }
    };
    let opts = RunOptions {
        state_machine_arn: req.state_machine_arn,
        state_machine_name: req.state_machine_name,
        execution_arn: req.execution_arn,
        execution_name: req.execution_name,
        role_arn: req.role_arn,
        seed: 0,
        record_history: true,
        skip_waits: true,
        express: req.express,
        synchronous: req.synchronous,
        ..RunOptions::default()
    };
    let out = run_local_with(&machine, input, &opts, tasks);
    RunOutput {
        status: out.status.as_str().to_string(),
        output: out.output,
        error: out.error,
        cause: out.cause,
        history: Vec::new(),
    }
}

/// Removes every member named `key` anywhere in `v`.
fn strip_key(v: &mut Value, key: &str) {
    match v {
        Value::Object(m) => {
            m.remove(key);
            for c in m.values_mut() {
                strip_key(c, key);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|c| strip_key(c, key)),
        _ => {}
    }
}

/// Applies LocalStack's parity skips (`$..Key` paths) to the recording and to our output:
/// these are the fields a mock cannot know (SDK metadata, redrive fields).
fn apply_skips(case: &mut Case, out: &mut RunOutput) {
    let skips = case.localstack_parity_skips.clone();
    let mut ours: Option<Value> = out
        .output
        .as_deref()
        .and_then(|o| serde_json::from_str(o).ok());
    for s in &skips {
        if s.ends_with("executionSucceededEventDetails.output") {
            case.expected.remove("output");
            continue;
        }
        let Some(key) = s.strip_prefix("$..") else {
            continue;
        };
        if key.contains('.') {
            continue;
        }
        if let Some(o) = case.expected.get_mut("output") {
            strip_key(o, key);
        }
        if let Some(o) = ours.as_mut() {
            strip_key(o, key);
        }
    }
    out.output = ours.map(|v| v.to_string()).or(out.output.take());
}

fn result_check(case: &Case, out: &RunOutput) -> Result<(), String> {
    match judge_execution(case, out).remove(&Check::Result) {
        Some(Outcome::Pass) => Ok(()),
        Some(Outcome::Fail(d)) => Err(d),
        other => Err(format!("{other:?}")),
    }
}

#[test]
fn local_mocking_variants_pass() {
    let Some(corpus) = corpus() else { return };
    let mut passed = 0;
    let mut failures = Vec::new();
    let mut total = 0;
    for (mut case, variant) in corpus.into_iter().filter_map(|c| {
        let v = variant_of(&c)?;
        Some((c, v))
    }) {
        total += 1;
        let config = MockConfig::from_json(&variant["mock_config"]).expect("mock config loads");
        let sm = variant["state_machine_name"].as_str().unwrap_or_default();
        let tc = variant["test_case"].as_str().unwrap_or_default();
        let handler = MockHandler::new(Arc::new(config), sm, tc).expect("test case exists");
        let mut out = run(
            &case,
            &variant["definition"],
            variant["input"].clone(),
            &handler,
        );
        apply_skips(&mut case, &mut out);
        match result_check(&case, &out) {
            Ok(()) => passed += 1,
            Err(d) => failures.push(format!(
                "{}: {d}\n  ours: {:?} {:?} {:?} {:?}",
                case.id, out.status, out.output, out.error, out.cause
            )),
        }
    }
    println!("local_mocking variants: {passed}/{total} pass status+output");
    for f in &failures {
        println!("FAIL {f}");
    }
    assert_eq!(total, 12, "the corpus has 12 mock variants");
    assert!(failures.is_empty(), "{failures:#?}");
    assert_eq!(passed, 12);
}

/// The case file's `localstack_mock_variant`, read from disk (the harness does not model it).
fn variant_of(case: &Case) -> Option<Value> {
    let path = stepwise_conformance::corpus_dir()
        .join("cases")
        .join(format!("{}.json", case.id));
    let text = std::fs::read_to_string(path).ok()?;
    let v: Value = serde_json::from_str(&text).ok()?;
    v.get("localstack_mock_variant").cloned()
}

fn text_of(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// Builds a MockConfigFile from a recorded history: per state, its task outcomes in order.
fn mock_from_history(events: &[Value], sm: &str) -> Option<Value> {
    let by_id: std::collections::HashMap<i64, &Value> = events
        .iter()
        .filter_map(|e| Some((e.get("id")?.as_i64()?, e)))
        .collect();
    let entered_name = |e: &Value| -> Option<String> {
        let t = e.get("type")?.as_str()?;
        if !t.ends_with("StateEntered") {
            return None;
        }
        e.get("stateEnteredEventDetails")?
            .get("name")?
            .as_str()
            .map(str::to_string)
    };
    let mut per_state: Vec<(String, Vec<Value>)> = Vec::new();
    // Sorted Parallel histories lost their ids: their outcomes are handed to the entered
    // Task states in order (a guess; which branch answered what is not recorded).
    let mut unlinked: std::collections::VecDeque<String> = Default::default();
    for e in events {
        if let Some(n) = entered_name(e) {
            if e["type"] == "TaskStateEntered" && !e["id"].is_i64() {
                unlinked.push_back(n);
            }
            continue;
        }
        let t = e.get("type").and_then(Value::as_str).unwrap_or("");
        // History outputs are JSON text; objects were decoded by the recording, the rest not.
        let detail = |k: &str| {
            let mut d = e.get(k).cloned().unwrap_or(Value::Null);
            if let Some(Value::String(s)) = d.get("output") {
                if let Ok(parsed) = serde_json::from_str::<Value>(s) {
                    d["output"] = parsed;
                }
            }
            d
        };
        let answer = match t {
            "TaskSucceeded" => json!({"Return": detail("taskSucceededEventDetails")["output"]}),
            "LambdaFunctionSucceeded" => json!({"Return": {"StatusCode": 200,
                "Payload": detail("lambdaFunctionSucceededEventDetails")["output"]}}),
            "TaskFailed"
            | "LambdaFunctionFailed"
            | "LambdaFunctionStartFailed"
            | "LambdaFunctionScheduleFailed"
            | "TaskStartFailed"
            | "TaskSubmitFailed" => {
                let d = e
                    .as_object()
                    .and_then(|o| o.iter().find(|(k, _)| k.ends_with("EventDetails")))
                    .map(|(_, v)| v.clone())
                    .unwrap_or(Value::Null);
                json!({"Throw": {"Error": text_of(d.get("error")), "Cause": text_of(d.get("cause"))}})
            }
            "TaskTimedOut" | "LambdaFunctionTimedOut" => {
                let d = e
                    .as_object()
                    .and_then(|o| o.iter().find(|(k, _)| k.ends_with("EventDetails")))
                    .map(|(_, v)| v.clone())
                    .unwrap_or(Value::Null);
                json!({"Throw": {"Error": "States.Timeout", "Cause": text_of(d.get("cause"))}})
            }
            _ => continue,
        };
        // The state: follow previousEventId back to the entered event; sorted Parallel
        // histories lost their ids, so fall back to the order of the events.
        let mut state = None;
        let mut cur = e.get("previousEventId").and_then(Value::as_i64);
        let mut guard = 0;
        while let Some(id) = cur {
            guard += 1;
            if guard > 10_000 || id == 0 {
                break;
            }
            let Some(prev) = by_id.get(&id) else { break };
            if let Some(n) = entered_name(prev) {
                state = Some(n);
                break;
            }
            cur = prev.get("previousEventId").and_then(Value::as_i64);
        }
        let Some(state) = state.or_else(|| unlinked.pop_front()) else {
            continue;
        };
        match per_state.iter_mut().find(|(s, _)| *s == state) {
            Some((_, list)) => list.push(answer),
            None => per_state.push((state, vec![answer])),
        }
    }
    let mut cases = Map::new();
    let mut responses = Map::new();
    for (i, (state, answers)) in per_state.into_iter().enumerate() {
        let name = format!("r{i}");
        cases.insert(state, Value::String(name.clone()));
        let seq: Map<String, Value> = answers
            .into_iter()
            .enumerate()
            .map(|(n, a)| (n.to_string(), a))
            .collect();
        responses.insert(name, Value::Object(seq));
    }
    Some(
        json!({"StateMachines": {sm: {"TestCases": {"Replay": cases}}}, "MockedResponses": responses}),
    )
}

#[test]
fn lambda_cases_replay_with_mocks() {
    let Some(corpus) = corpus() else { return };
    let mut total = 0;
    let mut passed = 0;
    let mut no_history = Vec::new();
    let mut failures = Vec::new();
    for case in corpus {
        if !case.needs.iter().any(|n| n == "lambda") || case.kind != "execution" {
            continue;
        }
        total += 1;
        let Some(history) = case.expected_history().cloned() else {
            no_history.push(case.id.clone());
            continue;
        };
        let req = exec_request(&case);
        let Some(config) = mock_from_history(&history, &req.state_machine_name) else {
            continue;
        };
        let config = match MockConfig::from_json(&config) {
            Ok(c) => c,
            Err(e) => {
                failures.push(format!("{}: mock config: {e}", case.id));
                continue;
            }
        };
        let handler = MockHandler::new(Arc::new(config), &req.state_machine_name, "Replay")
            .expect("test case exists");
        let out = run(&case, &req.definition, req.input.clone(), &handler);
        match result_check(&case, &out) {
            Ok(()) => passed += 1,
            Err(d) => failures.push(format!(
                "{}: {d}\n  ours: {} {:?} {:?} {:?}",
                case.id,
                out.status,
                out.output
                    .as_deref()
                    .map(|o| o.chars().take(300).collect::<String>()),
                out.error,
                out.cause
                    .as_deref()
                    .map(|o| o.chars().take(300).collect::<String>())
            )),
        }
    }
    // Distributed Map iterations run as child executions: their task results are not in the
    // recorded history, so no mock can be built for them.
    let unrecorded = failures
        .iter()
        .filter(|f| {
            f.contains("map_state") && f.contains("distributed")
                || f.contains("test_map_state_lambda")
        })
        .count();
    let replayable = total - no_history.len() - unrecorded;
    let pct = 100.0 * passed as f64 / total.max(1) as f64;
    let pct_replayable = 100.0 * passed as f64 / replayable.max(1) as f64;
    println!(
        "lambda cases replayed with mocks: {passed}/{total} pass status+output ({pct:.1} %); \
         {passed}/{replayable} ({pct_replayable:.1} %) of those whose task results are recorded \
         ({} without a history: {:?}; {unrecorded} Distributed Map cases whose iterations are not recorded)",
        no_history.len(),
        no_history
    );
    for f in &failures {
        println!("FAIL {f}");
    }
    assert!(
        total >= 70,
        "expected the corpus' lambda executions, found {total}"
    );
    assert!(
        pct_replayable >= 90.0,
        "{passed}/{replayable} = {pct_replayable:.1} % < 90 %"
    );
}
