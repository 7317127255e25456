//! Runs cases against a backend and judges each check.
//!
//! The backend is a trait so the harness can be exercised without the engine (tests use a
//! fake), and so widening to an API-server backend later needs no change here.

use std::collections::{BTreeMap, BTreeSet};
use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::case::Case;
use crate::classify::{feature_groups, Scope, Selection};
use crate::compare::{self, Diff};
use crate::normalize::{remove_paths, Normaliser};
use crate::scenario::{self, ApiSession};

pub const ACCOUNT: &str = "111111111111";
pub const REGION: &str = "us-east-1";

/// What to run: the definition, the input and the names that make recorded ARNs line up.
#[derive(Debug, Clone)]
pub struct ExecRequest {
    pub definition: Value,
    pub input: Value,
    pub express: bool,
    /// Started with StartSyncExecution.
    pub synchronous: bool,
    pub state_machine_name: String,
    pub state_machine_arn: String,
    pub execution_name: String,
    pub execution_arn: String,
    pub role_arn: String,
    /// The outside world the run needs (API backend; `None` for a pure run).
    pub plan: Option<crate::actors::Plan>,
}

/// What a run produced, in API terms (history as GetExecutionHistory JSON).
#[derive(Debug, Clone, Default)]
pub struct RunOutput {
    pub status: String,
    pub output: Option<String>,
    pub error: Option<String>,
    pub cause: Option<String>,
    pub history: Vec<Value>,
}

/// One validation diagnostic, reduced to what the comparison needs.
#[derive(Debug, Clone)]
pub struct DiagnosticInfo {
    pub is_error: bool,
    pub code: String,
    pub message: String,
    pub location: String,
    /// `CODE: message at /location`, as CreateStateMachine quotes it.
    pub aws_text: String,
}

pub trait Backend: Send + Sync {
    /// Runs an execution. `Err` means we refused it (e.g. the definition did not load).
    fn run(&self, req: &ExecRequest) -> Result<RunOutput, String>;
    /// Validates definition text; `None` when no validator is available (checks are skipped).
    fn validate(&self, text: &str, express: bool) -> Option<Vec<DiagnosticInfo>>;
    /// A fresh API to replay recorded calls on ([`Scope::ApiCall`], [`Scope::Scenario`]);
    /// `None` for backends without one (those cases are then skipped as failing nothing).
    fn api_session(&self) -> Option<Box<dyn ApiSession>> {
        None
    }
    /// How many cases may run at once (an API backend spends most of a case waiting).
    fn parallelism(&self) -> usize {
        1
    }
    /// Per-case time limit.
    fn case_timeout(&self) -> Duration {
        CASE_TIMEOUT
    }
}

/// The checks a case can fail; the names are the ones in `expectations.json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Check {
    /// Status + output/error/cause.
    Result,
    /// The full history (types, ids, previousEventId, details).
    History,
    /// First diagnostic's code (definition-error kinds).
    Code,
    /// First diagnostic's message and location (definition-error kinds); the error message
    /// (API error kinds).
    Message,
    /// Every recorded answer of an `api_scenario`, normalised, matches ours.
    Responses,
}

impl Check {
    pub fn as_str(self) -> &'static str {
        match self {
            Check::Result => "result",
            Check::History => "history",
            Check::Code => "code",
            Check::Message => "message",
            Check::Responses => "responses",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Pass,
    /// The differences, rendered for a human.
    Fail(String),
    Skipped(String),
}

#[derive(Debug, Clone)]
pub struct CaseResult {
    pub id: String,
    pub kind: String,
    pub scope: Scope,
    pub groups: Vec<String>,
    pub checks: BTreeMap<Check, Outcome>,
    pub duration: Duration,
}

impl CaseResult {
    pub fn failing(&self) -> BTreeSet<Check> {
        self.checks
            .iter()
            .filter(|(_, o)| matches!(o, Outcome::Fail(_)))
            .map(|(c, _)| *c)
            .collect()
    }

    pub fn passed(&self, check: Check) -> Option<bool> {
        match self.checks.get(&check)? {
            Outcome::Pass => Some(true),
            Outcome::Fail(_) => Some(false),
            Outcome::Skipped(_) => None,
        }
    }

    /// A human-readable account of every failing check (the `failures/<id>.txt` content).
    pub fn failure_text(&self) -> String {
        let mut s = format!("case: {}\nkind: {}\n", self.id, self.kind);
        for (c, o) in &self.checks {
            match o {
                Outcome::Fail(d) => s.push_str(&format!("\n== {} FAILED\n{}\n", c.as_str(), d)),
                Outcome::Skipped(r) => s.push_str(&format!("\n== {} skipped: {r}\n", c.as_str())),
                Outcome::Pass => s.push_str(&format!("\n== {} ok\n", c.as_str())),
            }
        }
        s
    }
}

/// Per-case time limit: a run over it counts as a failure.
pub const CASE_TIMEOUT: Duration = Duration::from_secs(10);

/// Builds the request so our ARNs normalise into the recorded placeholders.
pub fn exec_request(case: &Case) -> ExecRequest {
    let src = |p: &str| case.replacement_source(p).map(str::to_string);
    let express = case.is_express();
    // Nested-execution cases name their target machines with the same placeholder: the
    // case's own machine is the one that is not a related machine.
    let related: Vec<&str> = case
        .related_state_machines
        .iter()
        .filter_map(|m| m.get("name").and_then(Value::as_str))
        .collect();
    let sm = case
        .normalize
        .regex_replacements
        .iter()
        .find(|(pat, p)| p == "<ArnPart_0idx>" && !related.contains(&pat.as_str()))
        .map(|(pat, _)| pat.clone())
        .unwrap_or_else(|| "stepwise_conformance".into());
    let default_role = format!("arn:aws:iam::{ACCOUNT}:role/stepwise-conformance");
    // Some recordings masked the role's name as a resource (`role/<resource:1>`) although the
    // case also lists the role under `snf_role_arn`: a role of another name lines up there.
    let recorded_role = case
        .expected_history()
        .and_then(|h| h.first())
        .and_then(|e| e.pointer("/executionStartedEventDetails/roleArn"))
        .and_then(Value::as_str);
    let role = match recorded_role {
        Some(r) if r.contains("<resource:") => default_role,
        _ => src("snf_role_arn")
            .or_else(|| src("sfn_role_arn"))
            .unwrap_or(default_role),
    };
    let sm_arn = format!("arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{sm}");
    let (name, arn) = if express {
        let name = src("<ExpressExecArn_Part1_0idx>")
            .or_else(|| src("<SyncExecArn_Part1_0idx>"))
            .unwrap_or_else(|| "00000000-0000-4000-8000-000000000001".into());
        let part2 = src("<ExpressExecArn_Part2_0idx>")
            .or_else(|| src("<SyncExecArn_Part2_0idx>"))
            .unwrap_or_else(|| "00000000-0000-4000-8000-000000000002".into());
        let arn = format!("arn:aws:states:{REGION}:{ACCOUNT}:express:{sm}:{name}:{part2}");
        (name, arn)
    } else {
        let name = src("<ExecArnPart_0idx>")
            .unwrap_or_else(|| "00000000-0000-4000-8000-000000000001".into());
        let arn = format!("arn:aws:states:{REGION}:{ACCOUNT}:execution:{sm}:{name}");
        (name, arn)
    };
    let input = match (&case.input, case.input_is_raw_text) {
        (Value::String(s), true) => {
            serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.clone()))
        }
        (v, _) => v.clone(),
    };
    ExecRequest {
        definition: case.definition.clone(),
        input,
        express,
        synchronous: case.kind == "express_sync",
        state_machine_name: sm,
        state_machine_arn: sm_arn,
        execution_name: name,
        execution_arn: arn,
        role_arn: role,
        plan: crate::actors::plan(case).ok().flatten(),
    }
}

/// Runs `f` on its own thread, turning a panic or a run over `timeout` into an error. A timed
/// out thread is left behind (it cannot be killed); it only costs CPU until it ends.
pub fn guarded<T: Send + 'static>(
    timeout: Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, String> {
    let (tx, rx) = mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name(CASE_THREAD.into())
        .stack_size(64 * 1024 * 1024)
        .spawn(move || {
            let r = panic::catch_unwind(AssertUnwindSafe(f));
            let _ = tx.send(r);
        });
    if let Err(e) = spawned {
        return Err(format!("could not start the case thread: {e}"));
    }
    match rx.recv_timeout(timeout) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(payload)) => {
            let msg = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "(non-string panic)".into());
            Err(format!("PANIC: {msg}"))
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            Err(format!("TIMEOUT: run exceeded {} s", timeout.as_secs()))
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            Err("case thread ended without a result".into())
        }
    }
}

fn fail_or_pass(diffs: Vec<Diff>) -> Outcome {
    if diffs.is_empty() {
        Outcome::Pass
    } else {
        Outcome::Fail(compare::render_diffs(&diffs, 40))
    }
}

/// Judges an execution's output against the recording. The case's
/// `localstack_parity_skips` paths are taken out of both sides first: they are the parts
/// LocalStack's own comparison leaves out (SDK HTTP metadata, request-dependent causes, …).
pub fn judge_execution(case: &Case, out: &RunOutput) -> BTreeMap<Check, Outcome> {
    let mut checks = BTreeMap::new();
    let skips = &case.localstack_parity_skips;
    let mut n = Normaliser::new(case);
    n.bind_runtime_values(case, out.output.as_deref());
    let mut ours = Value::Object(n.result(
        out.output.as_deref(),
        out.error.as_deref(),
        out.cause.as_deref(),
    ));
    let mut expected = Value::Object(
        ["output", "error", "cause"]
            .iter()
            .filter_map(|k| case.expected.get(*k).map(|v| (k.to_string(), v.clone())))
            .collect(),
    );
    remove_paths(&mut ours, skips);
    remove_paths(&mut expected, skips);
    let mut diffs = Vec::new();
    let expected_status = case.expected_status().unwrap_or("");
    if expected_status != out.status {
        diffs.push(Diff {
            path: "status".into(),
            expected: expected_status.into(),
            actual: out.status.clone(),
        });
    }
    for key in ["output", "error", "cause"] {
        if let Some(e) = expected.get(key) {
            match ours.get(key) {
                Some(a) => compare::diff_values(e, a, key, &mut diffs),
                None => diffs.push(Diff {
                    path: key.into(),
                    expected: compare::render(e),
                    actual: "(none)".into(),
                }),
            }
        }
    }
    diffs.retain(|d| !scenario::added_after_recording(case, d));
    checks.insert(Check::Result, fail_or_pass(diffs));
    let history = match case.expected_history() {
        Some(expected) => {
            let mut theirs = serde_json::json!({ "events": expected });
            let mut ours = serde_json::json!({ "events": n.history(out.history.clone()) });
            remove_paths(&mut theirs, skips);
            remove_paths(&mut ours, skips);
            match (theirs.get("events"), ours.get("events")) {
                (Some(Value::Array(e)), Some(Value::Array(o))) => {
                    let mut diffs = compare::compare_history(e, o, case.parallel_sorted());
                    diffs.retain(|d| !scenario::added_after_recording(case, d));
                    fail_or_pass(diffs)
                }
                _ => Outcome::Skipped("history is a LocalStack parity skip".into()),
            }
        }
        None => Outcome::Skipped("no history recorded".into()),
    };
    checks.insert(Check::History, history);
    checks
}

/// What the recording says the first diagnostic should be.
struct ExpectedDiagnostic {
    /// `None`: the recording tells only that the definition was rejected.
    code: Option<String>,
    /// The text to compare for the message check (`CODE: message at /loc`, or the message).
    text: Option<String>,
    rejected: bool,
}

fn expected_diagnostic(case: &Case) -> ExpectedDiagnostic {
    let code_only = case
        .problems
        .iter()
        .any(|p| p.contains("compare the error code only"));
    if case.kind == "validate_definition" {
        let first = case
            .expected
            .get("diagnostics")
            .and_then(Value::as_array)
            .and_then(|d| d.first());
        let rejected = case.expected.get("result").and_then(Value::as_str) == Some("FAIL");
        return ExpectedDiagnostic {
            code: first
                .and_then(|d| d.get("code"))
                .and_then(Value::as_str)
                .map(str::to_string),
            text: first.map(|d| {
                let msg = d.get("message").and_then(Value::as_str).unwrap_or("");
                match d.get("location").and_then(Value::as_str) {
                    Some(loc) => format!("{msg} @ {loc}"),
                    None => msg.to_string(),
                }
            }),
            rejected,
        };
    }
    let msg = case
        .expected
        .get("api_error")
        .and_then(|e| e.get("message"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let inner = msg
        .strip_prefix("Invalid State Machine Definition: '")
        .and_then(|s| s.strip_suffix('\''))
        .filter(|_| !code_only);
    let code = inner
        .and_then(|t| t.split_once(": "))
        .map(|(c, _)| c.to_string());
    ExpectedDiagnostic {
        code,
        text: inner.map(str::to_string),
        rejected: true,
    }
}

/// Judges a definition-error case with the backend's validator.
pub fn judge_definition(case: &Case, backend: &dyn Backend) -> BTreeMap<Check, Outcome> {
    let mut checks = BTreeMap::new();
    let Some(diags) = backend.validate(&case.definition_text(), case.is_express()) else {
        checks.insert(
            Check::Code,
            Outcome::Skipped("validator not available".into()),
        );
        checks.insert(
            Check::Message,
            Outcome::Skipped("validator not available".into()),
        );
        return checks;
    };
    let exp = expected_diagnostic(case);
    let first = diags.iter().find(|d| d.is_error);
    let code = match (&exp.code, first, exp.rejected) {
        (_, None, false) => Outcome::Pass,
        (_, Some(d), false) => Outcome::Fail(format!("expected no error, got {}", d.aws_text)),
        (_, None, true) => Outcome::Fail(format!(
            "expected rejection{}, got no error diagnostic",
            exp.code
                .as_deref()
                .map(|c| format!(" with {c}"))
                .unwrap_or_default()
        )),
        (Some(c), Some(d), true) if *c != d.code => {
            Outcome::Fail(format!("code: expected {c} got {}", d.code))
        }
        (_, Some(_), true) => Outcome::Pass,
    };
    checks.insert(Check::Code, code);
    let message = match (&exp.text, first) {
        (None, _) if exp.rejected => Outcome::Skipped("recording gives no AWS message".into()),
        (None, None) => Outcome::Pass,
        (None, Some(_)) => Outcome::Skipped("recording expects no diagnostic".into()),
        (Some(_), None) => Outcome::Skipped("no diagnostic of ours to compare".into()),
        (Some(t), Some(d)) => {
            let ours = if case.kind == "validate_definition" {
                if d.location.is_empty() {
                    d.message.clone()
                } else {
                    format!("{} @ {}", d.message, d.location)
                }
            } else {
                d.aws_text.clone()
            };
            let mut n = Normaliser::new(case);
            let ours = n.string("message", &ours);
            fail_or_pass(compare::diff(
                &Value::String(t.clone()),
                &Value::String(ours),
                "message",
            ))
        }
    };
    checks.insert(Check::Message, message);
    checks
}

/// Evaluates one case (guarded against panics and hangs).
pub fn evaluate(
    case: &Case,
    selection: &Selection,
    backend: &Arc<dyn Backend>,
    timeout: Duration,
) -> CaseResult {
    let scope = selection.scope(case);
    let start = Instant::now();
    let checks = match &scope {
        Scope::Execution => {
            let req = exec_request(case);
            let b = Arc::clone(backend);
            match guarded(timeout, move || b.run(&req)) {
                Ok(Ok(out)) => judge_execution(case, &out),
                Ok(Err(refused)) | Err(refused) => {
                    let mut m = BTreeMap::new();
                    m.insert(
                        Check::Result,
                        Outcome::Fail(format!("run failed: {refused}")),
                    );
                    if case.expected_history().is_some() {
                        m.insert(
                            Check::History,
                            Outcome::Fail("no history (run failed)".into()),
                        );
                    }
                    m
                }
            }
        }
        Scope::DefinitionError => {
            let c = case.clone();
            let b = Arc::clone(backend);
            match guarded(timeout, move || judge_definition(&c, b.as_ref())) {
                Ok(m) => m,
                Err(e) => BTreeMap::from([
                    (Check::Code, Outcome::Fail(e.clone())),
                    (Check::Message, Outcome::Fail(e)),
                ]),
            }
        }
        Scope::ApiCall | Scope::Scenario => match backend.api_session() {
            None => BTreeMap::from([(Check::Code, Outcome::Skipped("backend has no API".into()))]),
            Some(session) => {
                let c = case.clone();
                let is_scenario = scope == Scope::Scenario;
                let run = move || {
                    let mut session = session;
                    if is_scenario {
                        scenario::judge_scenario(&c, session.as_mut())
                    } else {
                        scenario::judge_api_error(&c, session.as_mut())
                    }
                };
                match guarded(timeout, run) {
                    Ok(m) => m,
                    Err(e) => BTreeMap::from([(Check::Code, Outcome::Fail(e))]),
                }
            }
        },
        Scope::Skip(_) => BTreeMap::new(),
    };
    CaseResult {
        id: case.id.clone(),
        kind: case.kind.clone(),
        scope,
        groups: feature_groups(case),
        checks,
        duration: start.elapsed(),
    }
}

const CASE_THREAD: &str = "conformance-case";

/// Keeps panics inside case threads quiet (they are reported as failures with their message),
/// while every other thread's panics still print through the previous hook.
fn quiet_case_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if std::thread::current().name() != Some(CASE_THREAD) {
                previous(info);
            }
        }));
    });
}

/// Evaluates every case.
pub fn evaluate_all(
    cases: &[Case],
    selection: &Selection,
    backend: Arc<dyn Backend>,
) -> Vec<CaseResult> {
    quiet_case_panics();
    let timeout = backend.case_timeout();
    let workers = backend.parallelism().clamp(1, 64).min(cases.len().max(1));
    if workers == 1 {
        return cases
            .iter()
            .map(|c| evaluate(c, selection, &backend, timeout))
            .collect();
    }
    // Workers take the next case from a shared counter; results keep the corpus order.
    let next = std::sync::atomic::AtomicUsize::new(0);
    let slots: Vec<std::sync::Mutex<Option<CaseResult>>> =
        cases.iter().map(|_| std::sync::Mutex::new(None)).collect();
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(c) = cases.get(i) else { break };
                let r = evaluate(c, selection, &backend, timeout);
                *slots[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
            });
        }
    });
    slots
        .into_iter()
        .zip(cases)
        .map(|(slot, c)| {
            slot.into_inner()
                .unwrap_or_else(|e| e.into_inner())
                .unwrap_or_else(|| CaseResult {
                    id: c.id.clone(),
                    kind: c.kind.clone(),
                    scope: Scope::Skip("not run".into()),
                    groups: Vec::new(),
                    checks: BTreeMap::new(),
                    duration: Duration::ZERO,
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guarded_reports_panics_and_timeouts() {
        assert_eq!(guarded(Duration::from_secs(1), || 3), Ok(3));
        let e = guarded(Duration::from_secs(1), || -> u8 { panic!("boom") }).unwrap_err();
        assert!(e.contains("boom"), "{e}");
        let e = guarded(Duration::from_millis(50), || {
            std::thread::sleep(Duration::from_millis(500))
        })
        .unwrap_err();
        assert!(e.starts_with("TIMEOUT"), "{e}");
    }
}
