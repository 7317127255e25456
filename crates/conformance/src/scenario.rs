//! Replays recorded API calls: executions driven through the API, the create/update/start
//! error kinds, and `api_scenario` call lists.
//!
//! Everything here talks to an [`ApiSession`] (one fresh API per case), so it is the same code
//! whatever serves the calls. Our answers are put in the form the recording kept (boto3's view:
//! the output members plus `ResponseMetadata`, or `Error`/`message` for a rejected call, or the
//! `An error occurred (Code) when calling the Op operation: message` text of a caught
//! exception), then normalised with the case's own rules before comparison.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};

use crate::case::Case;
use crate::compare::{self, Diff};
use crate::normalize::{decode_json_text_once, Normaliser};
use crate::run::{Check, ExecRequest, Outcome, RunOutput, ACCOUNT, REGION};

/// A rejected call, as the API answered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiFailure {
    pub code: String,
    pub message: String,
    pub status: u16,
}

/// One isolated API (a fresh service per case, so names never collide between cases).
pub trait ApiSession: Send {
    /// Makes one call: `action` as the wire names it (`CreateStateMachine`), `params` the
    /// request members.
    fn call(&mut self, action: &str, params: &Value) -> Result<Value, ApiFailure>;
}

/// `create_state_machine` → `CreateStateMachine`.
pub fn action_name(op: &str) -> String {
    op.split('_')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

/// How long an execution may run in real time before the case gives up on it.
pub const EXECUTION_DEADLINE: Duration = Duration::from_secs(25);

/// Polls DescribeExecution until the execution leaves RUNNING; the last answer.
fn wait_terminal(
    session: &mut dyn ApiSession,
    arn: &str,
    deadline: Duration,
) -> Result<Value, String> {
    wait_terminal_with(session, arn, deadline, &mut |_| Ok(()))
}

/// What the harness does between two polls of a running execution (an outside actor's turn).
pub type PollHook<'a> = dyn FnMut(&mut dyn ApiSession) -> Result<(), String> + 'a;

/// [`wait_terminal`], giving `hook` a turn before each poll.
fn wait_terminal_with(
    session: &mut dyn ApiSession,
    arn: &str,
    deadline: Duration,
    hook: &mut PollHook<'_>,
) -> Result<Value, String> {
    let start = Instant::now();
    let mut pause = Duration::from_millis(1);
    loop {
        hook(session)?;
        let d = session
            .call("DescribeExecution", &json!({ "executionArn": arn }))
            .map_err(|e| format!("DescribeExecution: {}: {}", e.code, e.message))?;
        if d.get("status").and_then(Value::as_str) != Some("RUNNING") {
            return Ok(d);
        }
        if start.elapsed() > deadline {
            return Err(format!(
                "still RUNNING after {} s (real-time waits)",
                deadline.as_secs()
            ));
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

/// Runs an execution through the API: CreateStateMachine with the case's names, then
/// StartExecution and DescribeExecution until it ends and GetExecutionHistory, or (Express)
/// StartSyncExecution. Express executions started asynchronously cannot be read back from the
/// API (AWS sends them to CloudWatch Logs), so they run synchronously here and have no history.
pub fn run_execution(
    session: &mut dyn ApiSession,
    req: &ExecRequest,
    deadline: Duration,
) -> Result<RunOutput, String> {
    match start_execution(session, req)? {
        Started::Ended(out) => Ok(out),
        Started::Running(arn) => finish_execution(session, &arn, deadline, &mut |_| Ok(())),
    }
}

/// An execution just started: still running (its ARN), or run to its end (Express, sync).
pub enum Started {
    Running(String),
    Ended(RunOutput),
}

/// CreateStateMachine with the case's names, then StartExecution (or, Express,
/// StartSyncExecution, which ends it).
pub fn start_execution(session: &mut dyn ApiSession, req: &ExecRequest) -> Result<Started, String> {
    let created = session
        .call(
            "CreateStateMachine",
            &json!({
                "name": req.state_machine_name,
                "definition": req.definition.to_string(),
                "roleArn": req.role_arn,
                "type": if req.express { "EXPRESS" } else { "STANDARD" },
            }),
        )
        .map_err(|e| format!("CreateStateMachine: {}: {}", e.code, e.message))?;
    let sm_arn = text(&created, "stateMachineArn").unwrap_or_default();
    let input = req.input.to_string();
    if req.express {
        let r = session
            .call(
                "StartSyncExecution",
                &json!({"stateMachineArn": sm_arn, "name": req.execution_name, "input": input}),
            )
            .map_err(|e| format!("StartSyncExecution: {}: {}", e.code, e.message))?;
        return Ok(Started::Ended(RunOutput {
            status: text(&r, "status").unwrap_or_default(),
            output: text(&r, "output"),
            error: text(&r, "error"),
            cause: text(&r, "cause"),
            history: Vec::new(),
        }));
    }
    let started = session
        .call(
            "StartExecution",
            &json!({"stateMachineArn": sm_arn, "name": req.execution_name, "input": input}),
        )
        .map_err(|e| format!("StartExecution: {}: {}", e.code, e.message))?;
    Ok(Started::Running(
        text(&started, "executionArn").unwrap_or_default(),
    ))
}

/// Waits for a started execution to end (giving `hook` its turns) and reads its history.
pub fn finish_execution(
    session: &mut dyn ApiSession,
    arn: &str,
    deadline: Duration,
    hook: &mut PollHook<'_>,
) -> Result<RunOutput, String> {
    let d = wait_terminal_with(session, arn, deadline, hook)?;
    let mut history = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut params = json!({"executionArn": arn, "maxResults": 1000});
        if let Some(t) = &token {
            params["nextToken"] = Value::from(t.clone());
        }
        let page = session
            .call("GetExecutionHistory", &params)
            .map_err(|e| format!("GetExecutionHistory: {}: {}", e.code, e.message))?;
        if let Some(events) = page.get("events").and_then(Value::as_array) {
            history.extend(events.iter().cloned());
        }
        token = text(&page, "nextToken");
        if token.is_none() {
            break;
        }
    }
    Ok(RunOutput {
        status: text(&d, "status").unwrap_or_default(),
        output: text(&d, "output"),
        error: text(&d, "error"),
        cause: text(&d, "cause"),
        history,
    })
}

/// boto3's view of an answer: the output members plus `ResponseMetadata` (headers dropped as
/// the recording dropped them), or `Error`, `message` and the status for a rejected call.
pub fn boto_response(r: &Result<Value, ApiFailure>) -> Value {
    match r {
        Ok(v) => {
            let mut m = match v {
                Value::Object(m) => m.clone(),
                _ => Map::new(),
            };
            m.insert(
                "ResponseMetadata".into(),
                json!({"HTTPHeaders": {}, "HTTPStatusCode": 200}),
            );
            Value::Object(m)
        }
        Err(f) => json!({
            "Error": {"Code": f.code, "Message": f.message},
            "message": f.message,
            "ResponseMetadata": {"HTTPHeaders": {}, "HTTPStatusCode": f.status},
        }),
    }
}

/// botocore's `ClientError` text.
pub fn client_error_text(action: &str, f: &ApiFailure) -> String {
    format!(
        "An error occurred ({}) when calling the {action} operation: {}",
        f.code, f.message
    )
}

/// What the recording kept for one call.
#[derive(Debug, PartialEq)]
enum Recorded<'a> {
    /// A successful answer (or a ClientError's response dict, see `code`).
    Response { body: &'a Value, code: String },
    /// A caught exception's text.
    Text { text: &'a str, code: String },
    /// botocore refused the parameters before sending anything: nothing to replay.
    ClientSide,
}

fn code_in_text(t: &str) -> Option<String> {
    let rest = t.strip_prefix("An error occurred (")?;
    rest.split_once(')').map(|(c, _)| c.to_string())
}

fn recorded(v: &Value) -> Recorded<'_> {
    match v {
        Value::String(s) if s.starts_with("Parameter validation failed") => Recorded::ClientSide,
        Value::String(s) => Recorded::Text {
            text: s,
            code: code_in_text(s).unwrap_or_else(|| "?".into()),
        },
        Value::Object(m) if m.contains_key("exception_typename") => {
            let typename = m
                .get("exception_typename")
                .and_then(Value::as_str)
                .unwrap_or("?");
            let value = m
                .get("exception_value")
                .and_then(Value::as_str)
                .unwrap_or("");
            if typename == "ParamValidationError" || value.starts_with("Parameter validation") {
                Recorded::ClientSide
            } else {
                Recorded::Text {
                    text: value,
                    code: code_in_text(value).unwrap_or_else(|| typename.to_string()),
                }
            }
        }
        other => {
            let code = other
                .get("Error")
                .and_then(|e| e.get("Code"))
                .and_then(Value::as_str)
                .unwrap_or("OK")
                .to_string();
            Recorded::Response { body: other, code }
        }
    }
}

/// Turns `<runtime-value:resp['a']['b']>` into its path `["a", "b"]`.
fn runtime_path(s: &str) -> Option<Vec<String>> {
    let inner = s.strip_prefix("<runtime-value:resp")?.strip_suffix('>')?;
    let mut keys = Vec::new();
    let mut rest = inner;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("['") {
            let (k, after) = r.split_once("']")?;
            keys.push(k.to_string());
            rest = after;
        } else {
            let r = rest.strip_prefix('[')?;
            let (i, after) = r.split_once(']')?;
            i.parse::<usize>().ok()?;
            keys.push(i.to_string());
            rest = after;
        }
    }
    (!keys.is_empty()).then_some(keys)
}

/// Replaces the runtime-value placeholders of `params` with values from our earlier answers:
/// the newest answer that has the path, except for a call the recording expected to fail,
/// which takes the one before when there are several (the tests pass a stale value there:
/// an old revision id for a ConflictException).
///
/// A top-level `null` is a value the extractor did not capture: botocore refuses `None` for
/// any member before sending, so a recorded call that reached AWS never had one. It is taken
/// from the newest earlier answer with that member (a `nextToken`), else left out.
pub fn substitute(
    params: &Value,
    produced: &[Value],
    expect_failure: bool,
) -> Result<Value, String> {
    if let Value::Object(m) = params {
        let mut out = Map::new();
        for (k, v) in m {
            if v.is_null() {
                if let Some(found) = produced.iter().rev().find_map(|p| p.get(k)) {
                    out.insert(k.clone(), found.clone());
                }
                continue;
            }
            out.insert(k.clone(), substitute_value(v, produced, expect_failure)?);
        }
        return Ok(Value::Object(out));
    }
    substitute_value(params, produced, expect_failure)
}

fn substitute_value(
    params: &Value,
    produced: &[Value],
    expect_failure: bool,
) -> Result<Value, String> {
    match params {
        Value::String(s) if s.starts_with("<runtime-value:") => {
            let path = runtime_path(s).ok_or_else(|| format!("unresolvable {s}"))?;
            let found: Vec<&Value> = produced
                .iter()
                .rev()
                .filter_map(|v| {
                    path.iter().try_fold(v, |v, k| {
                        // `[0]` in the path is a list index.
                        v.get(k)
                            .or_else(|| k.parse::<usize>().ok().and_then(|i| v.get(i)))
                    })
                })
                .collect();
            let pick = if expect_failure && found.len() > 1 {
                found.get(1)
            } else {
                found.first()
            };
            pick.map(|v| (*v).clone())
                .ok_or_else(|| format!("no earlier answer has {s}"))
        }
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                out.insert(k.clone(), substitute_value(v, produced, expect_failure)?);
            }
            Ok(Value::Object(out))
        }
        Value::Array(a) => a
            .iter()
            .map(|v| substitute_value(v, produced, expect_failure))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        other => Ok(other.clone()),
    }
}

/// Our answer in the recorded form, normalised.
fn normalised_body(n: &mut Normaliser, r: &Result<Value, ApiFailure>) -> Value {
    let mut v = boto_response(r);
    decode_json_text_once(&mut v);
    n.apply(&mut v);
    v
}

fn our_code(r: &Result<Value, ApiFailure>) -> String {
    match r {
        Ok(_) => "OK".into(),
        Err(f) => f.code.clone(),
    }
}

/// Compares one answer with what the recording kept under `key`; pushes code differences and
/// full differences.
fn judge_answer(
    n: &mut Normaliser,
    key: &str,
    action: &str,
    rec: &Recorded<'_>,
    ours: &Result<Value, ApiFailure>,
    codes: &mut Vec<Diff>,
    full: &mut Vec<Diff>,
) {
    let expected_code = match rec {
        Recorded::Response { code, .. } | Recorded::Text { code, .. } => code.clone(),
        Recorded::ClientSide => return,
    };
    let mine = our_code(ours);
    if expected_code != mine {
        let d = Diff {
            path: format!("{key}.code"),
            expected: expected_code,
            actual: match ours {
                Ok(_) => mine,
                Err(f) => format!("{mine}: {}", f.message),
            },
        };
        codes.push(d.clone());
        full.push(d);
        return;
    }
    match (rec, ours) {
        (Recorded::Response { body, .. }, _) => {
            let ours = normalised_body(n, ours);
            compare::diff_values(body, &ours, key, full);
        }
        (Recorded::Text { text, .. }, Err(f)) => {
            let ours = n.string("exception_value", &client_error_text(action, f));
            compare::diff_values(&Value::from(*text), &Value::String(ours), key, full);
        }
        (Recorded::Text { .. }, Ok(_)) | (Recorded::ClientSide, _) => {}
    }
}

fn fail_or_pass(diffs: &[Diff]) -> Outcome {
    if diffs.is_empty() {
        Outcome::Pass
    } else {
        Outcome::Fail(compare::render_diffs(diffs, 40))
    }
}

/// Members AWS added to its answers after some recordings were made, with the first day they
/// appear in the corpus: one of ours that a recording older than that lacks is no difference.
const ADDED_MEMBERS: &[(&str, &str)] = &[
    ("redriveCount", "2023-11-15"),
    ("redriveStatus", "2023-11-15"),
    // The same members in a `states:startExecution.sync` output (DescribeExecution's answer
    // as the Java SDK names it).
    ("RedriveCount", "2023-11-15"),
    ("RedriveStatus", "2023-11-15"),
    ("RedriveStatusReason", "2023-11-15"),
    ("encryptionConfiguration", "2024-11-01"),
    ("variableReferences", "2024-11-01"),
];

/// Whether `d` is only a member AWS added after `case` was recorded ([`ADDED_MEMBERS`]).
pub fn added_after_recording(case: &Case, d: &Diff) -> bool {
    if d.expected != compare::ABSENT {
        return false;
    }
    let Some(day) = case.recorded_day() else {
        return false;
    };
    let member = d.path.rsplit('.').next().unwrap_or("");
    ADDED_MEMBERS
        .iter()
        .any(|(m, since)| *m == member && day < *since)
}

/// The case's normaliser, plus the log group name the tests' snapshot transformer replaced by
/// `log_group_name` (the name is what the CloudWatch Logs look-up of the call list asked for).
fn scenario_normaliser(case: &Case) -> Normaliser {
    let mut case = case.clone();
    for call in &case.calls {
        if call.get("op").and_then(Value::as_str) == Some("describe_log_groups") {
            if let Some(prefix) = call
                .get("params")
                .and_then(|p| p.get("logGroupNamePrefix"))
                .and_then(Value::as_str)
            {
                case.normalize
                    .regex_replacements
                    .push((regex::escape(prefix), "log_group_name".into()));
            }
        }
    }
    Normaliser::new(&case)
}

/// Replays an `api_scenario`: its Step Functions calls in order (CloudWatch Logs look-ups are
/// left out; calls botocore refused client-side are not sent), each StartExecution followed by
/// waiting for the execution to end (the tests did the same before listing or describing).
/// `code`: every recorded answer has our success/error code; `responses`: every recorded
/// answer matches ours after normalisation.
pub fn judge_scenario(case: &Case, session: &mut dyn ApiSession) -> BTreeMap<Check, Outcome> {
    let empty = Map::new();
    let responses = case
        .expected
        .get("responses")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let mut n = scenario_normaliser(case);
    let mut produced: Vec<Value> = Vec::new();
    let (mut codes, mut full) = (Vec::new(), Vec::new());
    let mut compared = 0;
    let mut unnamed_starts = 0;
    for call in &case.calls {
        if call.get("service").and_then(Value::as_str) != Some("stepfunctions") {
            continue;
        }
        let op = call.get("op").and_then(Value::as_str).unwrap_or("");
        let action = action_name(op);
        let expect_failure = call
            .get("expected_to_fail")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let recs: Vec<(&str, Recorded<'_>)> = call
            .get("snapshot_keys")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter_map(|k| responses.get(k).map(|v| (k, recorded(v))))
            .collect();
        if recs.iter().any(|(_, r)| *r == Recorded::ClientSide) {
            continue;
        }
        let params = call.get("params").cloned().unwrap_or_else(|| json!({}));
        let params = match substitute(&params, &produced, expect_failure) {
            Ok(p) if action == "StartExecution" && p.get("name").is_none() => {
                // AWS named it with a UUID that the recording lists as the n-th execution
                // name; using that name makes later calls that quote the ARN line up.
                let placeholder = format!("<ExecArnPart_{unnamed_starts}idx>");
                unnamed_starts += 1;
                let mut p = p;
                if let (Some(name), Value::Object(m)) =
                    (case.replacement_source(&placeholder), &mut p)
                {
                    m.insert("name".into(), Value::from(name));
                }
                p
            }
            Ok(p) => p,
            Err(e) => {
                for (k, _) in &recs {
                    compared += 1;
                    let d = Diff {
                        path: format!("{k}.params"),
                        expected: "a value from an earlier answer".into(),
                        actual: e.clone(),
                    };
                    codes.push(d.clone());
                    full.push(d);
                }
                continue;
            }
        };
        let ours = session.call(&action, &params);
        if let Ok(v) = &ours {
            produced.push(v.clone());
            if action == "StartExecution" {
                if let Some(arn) = v.get("executionArn").and_then(Value::as_str) {
                    if let Err(e) = wait_terminal(session, arn, EXECUTION_DEADLINE) {
                        full.push(Diff {
                            path: format!("{op}.wait"),
                            expected: "a terminal status".into(),
                            actual: e,
                        });
                    }
                }
            }
        }
        for (k, rec) in &recs {
            compared += 1;
            let mut diffs = Vec::new();
            judge_answer(&mut n, k, &action, rec, &ours, &mut codes, &mut diffs);
            full.extend(
                diffs
                    .into_iter()
                    .filter(|d| !added_after_recording(case, d)),
            );
        }
    }
    if compared == 0 {
        let why = Outcome::Skipped("no recorded answer to compare".into());
        return BTreeMap::from([(Check::Code, why.clone()), (Check::Responses, why)]);
    }
    BTreeMap::from([
        (Check::Code, fail_or_pass(&codes)),
        (Check::Responses, fail_or_pass(&full)),
    ])
}

/// Undoes the case's literal replacements on recorded text, to rebuild a value the test sent
/// (e.g. the ARN quoted in a recorded error message).
pub fn denormalise(case: &Case, text: &str) -> String {
    let mut out = text.to_string();
    for (lit, rep) in case.normalize.then.iter().rev() {
        out = out.replace(rep.as_str(), lit);
    }
    for (pat, rep) in &case.normalize.regex_replacements {
        if !pat.is_empty() && regex::escape(pat) == *pat {
            out = out.replace(rep.as_str(), pat);
        }
    }
    out
}

/// A definition that is not the case's, for set-up machines.
const SETUP_DEFINITION: &str = r#"{"StartAt":"S","States":{"S":{"Type":"Pass","End":true}}}"#;

fn merge(into: &mut Value, from: Option<&Value>) {
    if let (Value::Object(m), Some(Value::Object(f))) = (into, from) {
        for (k, v) in f {
            m.insert(k.clone(), v.clone());
        }
    }
}

/// The state machine name in a state machine (or version/alias) ARN.
fn machine_name(arn: &str) -> Option<&str> {
    arn.split(":stateMachine:")
        .nth(1)
        .map(|r| r.split(':').next().unwrap_or(r))
}

/// The failing call of a create/update/start error case, rebuilt from the case: the names and
/// role of its `normalize` pairs, its definition and `api_params`, after the set-up the error
/// needs (an existing machine of the same name; the test's own earlier calls).
fn error_call(case: &Case, session: &mut dyn ApiSession) -> Result<(String, Value), String> {
    let src = |p: &str| case.replacement_source(p).map(str::to_string);
    let name = src("<ArnPart_0idx>").unwrap_or_else(|| "stepwise_conformance".into());
    let role = src("snf_role_arn")
        .or_else(|| src("sfn_role_arn"))
        .unwrap_or_else(|| format!("arn:aws:iam::{ACCOUNT}:role/stepwise-conformance"));
    let prefix = format!("arn:aws:states:{REGION}:{ACCOUNT}");
    let has_definition = !case.definition.is_null();
    let kind = case.state_machine_type.clone();
    let api_error = case.expected.get("api_error");
    let code = api_error
        .and_then(|e| e.get("code"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let create = |session: &mut dyn ApiSession, name: &str, definition: String| {
        let mut p = json!({"name": name, "definition": definition, "roleArn": role});
        if let Some(t) = &kind {
            p["type"] = Value::from(t.clone());
        }
        session
            .call("CreateStateMachine", &p)
            .map(|_| ())
            .map_err(|e| format!("set-up CreateStateMachine: {}: {}", e.code, e.message))
    };
    match case.kind.as_str() {
        "create_state_machine_error" => {
            if code == "StateMachineAlreadyExists" {
                // Same machine, other text: AWS compares the definition text as sent.
                let pretty = serde_json::to_string_pretty(&case.definition).unwrap_or_default();
                create(session, &name, pretty)?;
            }
            let mut p =
                json!({"name": name, "definition": case.definition_text(), "roleArn": role});
            if let Some(t) = &kind {
                p["type"] = Value::from(t.clone());
            }
            merge(&mut p, case.api_params.as_ref());
            Ok(("CreateStateMachine".into(), p))
        }
        "update_state_machine_error" => {
            let target = case
                .api_params
                .as_ref()
                .and_then(|p| p.get("stateMachineArn"))
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| format!("{prefix}:stateMachine:{name}"));
            let base = machine_name(&target).unwrap_or(&name).to_string();
            create(session, &base, SETUP_DEFINITION.into())?;
            let mut p = json!({ "stateMachineArn": target });
            if has_definition {
                p["definition"] = Value::from(case.definition_text());
            }
            merge(&mut p, case.api_params.as_ref());
            // The test's other calls, for the state they leave (published versions, …).
            for d in &case.driver_calls {
                let op = d.get("op").and_then(Value::as_str).unwrap_or("");
                let params = d.get("params").cloned().unwrap_or_else(|| json!({}));
                if params != p {
                    let _ = session.call(&action_name(op), &params);
                }
            }
            Ok(("UpdateStateMachine".into(), p))
        }
        "start_execution_error" => {
            if has_definition {
                create(session, &name, case.definition_text())?;
            }
            let message = api_error
                .and_then(|e| e.get("message"))
                .and_then(Value::as_str)
                .unwrap_or("");
            let quoted = message
                .split_once('\'')
                .and_then(|(_, r)| r.rsplit_once('\''))
                .map(|(q, _)| denormalise(case, q));
            let target = match quoted {
                Some(q) if code == "StateMachineDoesNotExist" => q,
                _ => format!("{prefix}:stateMachine:{name}"),
            };
            let sync = api_error
                .and_then(|e| e.get("operation"))
                .and_then(Value::as_str)
                == Some("StartSyncExecution")
                || case
                    .expected
                    .get("recorded_views")
                    .and_then(Value::as_object)
                    .is_some_and(|v| v.keys().any(|k| k.contains("sync")));
            let action = if sync {
                "StartSyncExecution"
            } else {
                "StartExecution"
            };
            let p = json!({"stateMachineArn": target, "input": case.input.to_string()});
            Ok((action.into(), p))
        }
        k => Err(format!("no API call for kind {k}")),
    }
}

/// Judges a create/update/start error case on the real call: `code` is the error code,
/// `message` the error message (normalised).
pub fn judge_api_error(case: &Case, session: &mut dyn ApiSession) -> BTreeMap<Check, Outcome> {
    let (action, params) = match error_call(case, session) {
        Ok(c) => c,
        Err(e) => {
            return BTreeMap::from([(Check::Code, Outcome::Fail(e))]);
        }
    };
    let api_error = case.expected.get("api_error");
    let field = |k: &str| {
        api_error
            .and_then(|e| e.get(k))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let (code, message) = (field("code"), field("message"));
    let mut checks = BTreeMap::new();
    match session.call(&action, &params) {
        Ok(v) => {
            let o = Outcome::Fail(format!(
                "{action} succeeded, expected {code}: {}",
                compare::render(&v)
            ));
            checks.insert(Check::Code, o.clone());
            checks.insert(Check::Message, o);
        }
        Err(f) => {
            checks.insert(
                Check::Code,
                if f.code == code {
                    Outcome::Pass
                } else {
                    Outcome::Fail(format!(
                        "code: expected {code} got {} ({})",
                        f.code, f.message
                    ))
                },
            );
            let code_only = case
                .problems
                .iter()
                .any(|p| p.contains("compare the error code only"));
            if code_only {
                checks.insert(
                    Check::Message,
                    Outcome::Skipped("recording gives no AWS message".into()),
                );
            } else {
                let mut n = Normaliser::new(case);
                let ours = n.string("message", &f.message);
                let diffs = compare::diff(&Value::String(message), &Value::String(ours), "message");
                checks.insert(Check::Message, fail_or_pass(&diffs));
            }
        }
    }
    checks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_names() {
        assert_eq!(action_name("create_state_machine"), "CreateStateMachine");
        assert_eq!(
            action_name("describe_state_machine_for_execution"),
            "DescribeStateMachineForExecution"
        );
    }

    #[test]
    fn runtime_values_come_from_earlier_answers() {
        let produced = vec![
            json!({"revisionId": "r1"}),
            json!({"nextToken": "t"}),
            json!({"revisionId": "r2"}),
        ];
        let p = json!({"a": "<runtime-value:resp['revisionId']>", "b": ["<runtime-value:resp['nextToken']>"]});
        assert_eq!(
            substitute(&p, &produced, false).unwrap(),
            json!({"a": "r2", "b": ["t"]})
        );
        assert_eq!(
            substitute(&p, &produced, true).unwrap(),
            json!({"a": "r1", "b": ["t"]})
        );
        assert!(substitute(&json!("<runtime-value:resp['x']>"), &produced, false).is_err());
        assert!(substitute(&json!("<runtime-value:other>"), &produced, false).is_err());
        let read = vec![json!({"Messages": [{"Body": "b"}]})];
        let p = json!("<runtime-value:resp['Messages'][0]['Body']>");
        assert_eq!(substitute(&p, &read, false).unwrap(), json!("b"));
    }

    #[test]
    fn recorded_forms() {
        let ok = json!({"x": 1});
        assert!(matches!(recorded(&ok), Recorded::Response { code, .. } if code == "OK"));
        let err = json!({"Error": {"Code": "InvalidArn", "Message": "m"}});
        assert!(matches!(recorded(&err), Recorded::Response { code, .. } if code == "InvalidArn"));
        let t = json!("An error occurred (ConflictException) when calling the X operation: m");
        assert!(matches!(recorded(&t), Recorded::Text { code, .. } if code == "ConflictException"));
        let c = json!({"exception_typename": "ParamValidationError", "exception_value": "x"});
        assert_eq!(recorded(&c), Recorded::ClientSide);
    }

    #[test]
    fn boto_forms() {
        let f = ApiFailure {
            code: "InvalidName".into(),
            message: "Invalid Name: 'a b'".into(),
            status: 400,
        };
        assert_eq!(
            boto_response(&Err(f.clone())),
            json!({"Error": {"Code": "InvalidName", "Message": "Invalid Name: 'a b'"},
                   "message": "Invalid Name: 'a b'",
                   "ResponseMetadata": {"HTTPHeaders": {}, "HTTPStatusCode": 400}})
        );
        assert_eq!(
            client_error_text("CreateActivity", &f),
            "An error occurred (InvalidName) when calling the CreateActivity operation: Invalid Name: 'a b'"
        );
    }
}
