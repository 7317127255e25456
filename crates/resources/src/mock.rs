//! Mocked integrations in Step Functions Local's MockConfigFile format:
//!
//! ```json
//! {"StateMachines": {"MyMachine": {"TestCases": {"HappyPath": {"StateName": "MockedResponseName"}}}},
//!  "MockedResponses": {"MockedResponseName": {
//!     "0": {"Return": {"StatusCode": 200, "Payload": {"ok": true}}},
//!     "1-2": {"Throw": {"Error": "Lambda.TimeoutException", "Cause": "Lambda timed out."}}}}}
//! ```
//!
//! A test case maps state names to mocked responses; a mocked response maps zero-based
//! invocation numbers (or inclusive ranges `"1-2"`) to a `Return` value or a `Throw`n error.
//! Every call of the state counts (retries and Map iterations included), per execution. The
//! ranges must start at 0 and leave no gap; past the last one, the last response repeats.
//! States not named in the test case are not mocked (they go to the real integration).
//!
//! For a bare Lambda function ARN resource the `Return` is taken as the Lambda Invoke answer
//! and the task's result is its `Payload`, as Step Functions Local does; every other resource
//! gets the `Return` value as is.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use futures::future::LocalBoxFuture;
use serde_json::Value;
use stepwise_asl::error::StateError;
use stepwise_engine::{TaskHandler, TaskRequest};

use crate::arn::{self, Resource};
use crate::invocation::{ExecutionContext, Invocation};

/// A mock config file that does not load, with where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MockConfigError(pub String);

impl fmt::Display for MockConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "mock config: {}", self.0)
    }
}

impl std::error::Error for MockConfigError {}

/// One mocked answer.
#[derive(Debug, Clone, PartialEq)]
pub enum MockedAnswer {
    Return(Value),
    Throw { error: String, cause: String },
}

/// The answers of one mocked response, by invocation range (inclusive, sorted, contiguous).
#[derive(Debug, Clone, PartialEq)]
pub struct MockedResponse {
    ranges: Vec<(u64, u64, MockedAnswer)>,
}

impl MockedResponse {
    /// The answer to the `n`th call (zero-based); the last answer repeats past the end.
    pub fn answer(&self, n: u64) -> Option<&MockedAnswer> {
        self.ranges
            .iter()
            .find(|(lo, hi, _)| *lo <= n && n <= *hi)
            .or_else(|| self.ranges.last())
            .map(|(_, _, a)| a)
    }
}

/// A loaded MockConfigFile.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MockConfig {
    /// state machine name → test case name → state name → mocked response name.
    state_machines: HashMap<String, HashMap<String, HashMap<String, String>>>,
    responses: HashMap<String, MockedResponse>,
}

fn parse_range(key: &str) -> Option<(u64, u64)> {
    let key = key.trim();
    match key.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
            (a <= b).then_some((a, b))
        }
        None => key.parse().ok().map(|n| (n, n)),
    }
}

fn parse_answer(name: &str, key: &str, v: &Value) -> Result<MockedAnswer, MockConfigError> {
    let obj = v.as_object().ok_or_else(|| {
        MockConfigError(format!(
            "MockedResponses.{name}.\"{key}\" must be an object with \"Return\" or \"Throw\""
        ))
    })?;
    match (obj.get("Return"), obj.get("Throw")) {
        (Some(r), None) => Ok(MockedAnswer::Return(r.clone())),
        (None, Some(t)) => {
            let field = |k: &str| -> Result<String, MockConfigError> {
                match t.get(k) {
                    Some(Value::String(s)) => Ok(s.clone()),
                    None | Some(Value::Null) => Ok(String::new()),
                    Some(_) => Err(MockConfigError(format!(
                        "MockedResponses.{name}.\"{key}\".Throw.{k} must be a string"
                    ))),
                }
            };
            if !t.is_object() {
                return Err(MockConfigError(format!(
                    "MockedResponses.{name}.\"{key}\".Throw must be an object with Error and Cause"
                )));
            }
            Ok(MockedAnswer::Throw {
                error: field("Error")?,
                cause: field("Cause")?,
            })
        }
        (Some(_), Some(_)) => Err(MockConfigError(format!(
            "MockedResponses.{name}.\"{key}\" has both \"Return\" and \"Throw\""
        ))),
        (None, None) => Err(MockConfigError(format!(
            "MockedResponses.{name}.\"{key}\" needs \"Return\" or \"Throw\""
        ))),
    }
}

impl MockConfig {
    /// Parses and checks a mock config (every test case names a defined response; ranges
    /// start at 0 and leave no gap or overlap).
    pub fn from_json(v: &Value) -> Result<MockConfig, MockConfigError> {
        let root = v
            .as_object()
            .ok_or_else(|| MockConfigError("the file must hold a JSON object".into()))?;
        let mut responses = HashMap::new();
        if let Some(r) = root.get("MockedResponses") {
            let r = r
                .as_object()
                .ok_or_else(|| MockConfigError("MockedResponses must be an object".into()))?;
            for (name, answers) in r {
                let answers = answers.as_object().ok_or_else(|| {
                    MockConfigError(format!("MockedResponses.{name} must be an object"))
                })?;
                let mut ranges = Vec::new();
                for (key, v) in answers {
                    let (lo, hi) = parse_range(key).ok_or_else(|| {
                        MockConfigError(format!(
                            "MockedResponses.{name}: \"{key}\" is not an invocation number or range like \"1-2\""
                        ))
                    })?;
                    ranges.push((lo, hi, parse_answer(name, key, v)?));
                }
                ranges.sort_by_key(|(lo, _, _)| *lo);
                let mut next = 0u64;
                for (lo, hi, _) in &ranges {
                    if *lo != next {
                        return Err(MockConfigError(format!(
                            "MockedResponses.{name}: invocation {next} has no response (ranges must start at 0 and leave no gap or overlap)"
                        )));
                    }
                    next = hi.saturating_add(1);
                }
                if ranges.is_empty() {
                    return Err(MockConfigError(format!(
                        "MockedResponses.{name} defines no response"
                    )));
                }
                responses.insert(name.clone(), MockedResponse { ranges });
            }
        }
        let mut state_machines = HashMap::new();
        if let Some(sms) = root.get("StateMachines") {
            let sms = sms
                .as_object()
                .ok_or_else(|| MockConfigError("StateMachines must be an object".into()))?;
            for (sm, body) in sms {
                let cases = body
                    .get("TestCases")
                    .and_then(Value::as_object)
                    .ok_or_else(|| {
                        MockConfigError(format!("StateMachines.{sm} needs a TestCases object"))
                    })?;
                let mut by_case = HashMap::new();
                for (tc, states) in cases {
                    let states = states.as_object().ok_or_else(|| {
                        MockConfigError(format!(
                            "StateMachines.{sm}.TestCases.{tc} must map state names to mocked responses"
                        ))
                    })?;
                    let mut by_state = HashMap::new();
                    for (state, resp) in states {
                        let resp = resp.as_str().ok_or_else(|| {
                            MockConfigError(format!(
                                "StateMachines.{sm}.TestCases.{tc}.{state} must name a mocked response"
                            ))
                        })?;
                        if !responses.contains_key(resp) {
                            return Err(MockConfigError(format!(
                                "StateMachines.{sm}.TestCases.{tc}.{state} names \"{resp}\", which MockedResponses does not define"
                            )));
                        }
                        by_state.insert(state.clone(), resp.to_string());
                    }
                    by_case.insert(tc.clone(), by_state);
                }
                state_machines.insert(sm.clone(), by_case);
            }
        }
        Ok(MockConfig {
            state_machines,
            responses,
        })
    }

    /// Parses JSON text.
    pub fn from_text(text: &str) -> Result<MockConfig, MockConfigError> {
        let v: Value = serde_json::from_str(text)
            .map_err(|e| MockConfigError(format!("not valid JSON: {e}")))?;
        MockConfig::from_json(&v)
    }

    /// Loads a file (the `SFN_MOCK_CONFIG` / `--mock-config` file).
    pub fn load(path: &Path) -> Result<MockConfig, MockConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| MockConfigError(format!("cannot read {}: {e}", path.display())))?;
        MockConfig::from_text(&text)
            .map_err(|e| MockConfigError(format!("{}: {}", path.display(), e.0)))
    }

    /// The states a test case mocks (state name → mocked response name), if it exists.
    pub fn test_case(
        &self,
        state_machine: &str,
        test_case: &str,
    ) -> Option<&HashMap<String, String>> {
        self.state_machines.get(state_machine)?.get(test_case)
    }

    /// Checks that a test case exists (StartExecution with `#TestCase` refuses unknown ones).
    pub fn check_test_case(
        &self,
        state_machine: &str,
        test_case: &str,
    ) -> Result<(), MockConfigError> {
        match self.state_machines.get(state_machine) {
            None => Err(MockConfigError(format!(
                "no state machine \"{state_machine}\" under StateMachines"
            ))),
            Some(cases) if !cases.contains_key(test_case) => Err(MockConfigError(format!(
                "state machine \"{state_machine}\" has no test case \"{test_case}\""
            ))),
            Some(_) => Ok(()),
        }
    }

    pub fn response(&self, name: &str) -> Option<&MockedResponse> {
        self.responses.get(name)
    }
}

/// Counts calls per (execution, state) so each execution walks its own response sequences.
#[derive(Debug, Default)]
pub struct MockCounters {
    calls: RefCell<HashMap<(String, String), u64>>,
}

impl MockCounters {
    fn next(&self, execution: &str, state: &str) -> u64 {
        let mut calls = self.calls.borrow_mut();
        let n = calls
            .entry((execution.to_string(), state.to_string()))
            .or_insert(0);
        let current = *n;
        *n += 1;
        current
    }

    /// Forgets an execution's counters (when it ends).
    pub fn forget(&self, execution: &str) {
        self.calls.borrow_mut().retain(|(e, _), _| e != execution);
    }
}

/// Turns a mocked answer into the task's result for this resource.
pub fn shape_answer(resource: &str, answer: &MockedAnswer) -> Result<Value, StateError> {
    match answer {
        MockedAnswer::Throw { error, cause } => Err(StateError::new(error.clone(), cause.clone())),
        MockedAnswer::Return(v) => {
            if let Resource::LambdaFunction { .. } = arn::parse(resource) {
                if let Some(payload) = v.as_object().and_then(|o| o.get("Payload")) {
                    return Ok(payload.clone());
                }
            }
            Ok(v.clone())
        }
    }
}

impl MockConfig {
    /// Whether the call's state is mocked in the selected test case.
    pub fn covers(&self, inv: &Invocation) -> bool {
        let (Some(sm), Some(tc)) = (
            inv.context.state_machine_name.as_deref(),
            inv.context.test_case.as_deref(),
        ) else {
            return false;
        };
        self.test_case(sm, tc)
            .is_some_and(|states| states.contains_key(&inv.state_name))
    }

    /// The mocked result of a call, or `None` when the call's state is not mocked in the
    /// selected test case (or no test case is selected).
    pub fn answer(
        &self,
        counters: &MockCounters,
        inv: &Invocation,
    ) -> Option<Result<Value, StateError>> {
        let sm = inv.context.state_machine_name.as_deref()?;
        let tc = inv.context.test_case.as_deref()?;
        let name = self.test_case(sm, tc)?.get(&inv.state_name)?;
        let response = self.response(name)?;
        let execution = inv.context.execution_arn.as_deref().unwrap_or("");
        // The engine's count when the call comes from an execution (it survives restarts);
        // our own otherwise.
        let n = match inv.invocation {
            Some(n) => n,
            None => counters.next(execution, &inv.state_name),
        };
        let answer = response.answer(n)?;
        Some(shape_answer(&inv.resource, answer))
    }
}

/// A [`TaskHandler`] answering the mocked states of one test case, for one execution (the
/// local runner's shape); other states go to the fallback handler.
pub struct MockHandler {
    config: Arc<MockConfig>,
    context: ExecutionContext,
    counters: MockCounters,
    fallback: Box<dyn TaskHandler>,
}

impl MockHandler {
    /// Selects `test_case` of `state_machine`; fails when the config does not define it.
    pub fn new(
        config: Arc<MockConfig>,
        state_machine: &str,
        test_case: &str,
    ) -> Result<MockHandler, MockConfigError> {
        config.check_test_case(state_machine, test_case)?;
        Ok(MockHandler {
            config,
            context: ExecutionContext::test_case(state_machine, test_case),
            counters: MockCounters::default(),
            fallback: Box::new(crate::integrations::Unconfigured),
        })
    }

    /// Where unmocked states go (by default: an error naming the missing configuration).
    pub fn with_fallback(mut self, fallback: Box<dyn TaskHandler>) -> MockHandler {
        self.fallback = fallback;
        self
    }
}

impl TaskHandler for MockHandler {
    fn invoke(&self, req: TaskRequest) -> LocalBoxFuture<'_, Result<Value, StateError>> {
        let inv = Invocation::from_request(req.clone(), &self.context);
        match self.config.answer(&self.counters, &inv) {
            Some(answer) => Box::pin(async move { answer }),
            None => self.fallback.invoke(req),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config() -> MockConfig {
        MockConfig::from_json(&json!({
            "StateMachines": {"M": {"TestCases": {"T": {"A": "retry", "L": "lambda"}}}},
            "MockedResponses": {
                "retry": {
                    "0": {"Throw": {"Error": "E0", "Cause": "c0"}},
                    "1-2": {"Throw": {"Error": "E12", "Cause": "c12"}},
                    "3": {"Return": {"ok": true}}
                },
                "lambda": {"0": {"Return": {"StatusCode": 200, "Payload": {"p": 1}}}}
            }
        }))
        .expect("valid config")
    }

    fn inv(state: &str, resource: &str) -> Invocation {
        Invocation {
            state_name: state.into(),
            resource: resource.into(),
            context: ExecutionContext::test_case("M", "T"),
            ..Invocation::default()
        }
    }

    #[test]
    fn walks_ranges_and_repeats_the_last() {
        let c = config();
        let counters = MockCounters::default();
        let errs: Vec<String> = (0..3)
            .map(
                |_| match c.answer(&counters, &inv("A", "arn:aws:states:::sqs:sendMessage")) {
                    Some(Err(e)) => e.error,
                    other => panic!("{other:?}"),
                },
            )
            .collect();
        assert_eq!(errs, ["E0", "E12", "E12"]);
        for _ in 0..2 {
            assert_eq!(
                c.answer(&counters, &inv("A", "x")),
                Some(Ok(json!({"ok": true})))
            );
        }
        assert_eq!(c.answer(&counters, &inv("Other", "x")), None);
    }

    #[test]
    fn bare_lambda_arns_get_the_payload() {
        let c = config();
        let counters = MockCounters::default();
        let bare = inv("L", "arn:aws:lambda:us-east-1:1:function:f");
        assert_eq!(c.answer(&counters, &bare), Some(Ok(json!({"p": 1}))));
        let counters = MockCounters::default();
        let service = inv("L", "arn:aws:states:::lambda:invoke");
        assert_eq!(
            c.answer(&counters, &service),
            Some(Ok(json!({"StatusCode": 200, "Payload": {"p": 1}})))
        );
    }

    #[test]
    fn counters_are_per_execution() {
        let c = config();
        let counters = MockCounters::default();
        let mut a = inv("A", "x");
        a.context.execution_arn = Some("e1".into());
        let mut b = a.clone();
        b.context.execution_arn = Some("e2".into());
        let first = |i: &Invocation| match c.answer(&counters, i) {
            Some(Err(e)) => e.error,
            other => panic!("{other:?}"),
        };
        assert_eq!(first(&a), "E0");
        assert_eq!(first(&b), "E0");
        assert_eq!(first(&a), "E12");
        counters.forget("e1");
        assert_eq!(first(&a), "E0");
    }

    #[test]
    fn rejects_bad_configs() {
        let bad = [
            json!([]),
            json!({"MockedResponses": {"r": {"1": {"Return": 1}}}}),
            json!({"MockedResponses": {"r": {"0": {"Return": 1}, "0-1": {"Return": 2}}}}),
            json!({"MockedResponses": {"r": {"x": {"Return": 1}}}}),
            json!({"MockedResponses": {"r": {"0": {"Return": 1, "Throw": {}}}}}),
            json!({"MockedResponses": {"r": {"0": {}}}}),
            json!({"MockedResponses": {"r": {}}}),
            json!({"StateMachines": {"M": {"TestCases": {"T": {"S": "missing"}}}}}),
            json!({"StateMachines": {"M": {}}}),
        ];
        for b in bad {
            assert!(MockConfig::from_json(&b).is_err(), "{b}");
        }
    }

    #[test]
    fn handler_checks_the_test_case() {
        let c = Arc::new(config());
        assert!(MockHandler::new(c.clone(), "M", "T").is_ok());
        assert!(MockHandler::new(c.clone(), "M", "Nope").is_err());
        assert!(MockHandler::new(c, "Nope", "T").is_err());
    }
}
