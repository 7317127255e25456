//! The TestState API: runs one state (a lone state definition, or `stateName` inside a whole
//! machine) on an input, with a mock standing in for the resource, and reports what AWS reports:
//! the status (SUCCEEDED, FAILED, RETRIABLE, CAUGHT_ERROR), output, error, the next state and,
//! at DEBUG/TRACE, the `inspectionData` of each data-flow step.
//!
//! It never waits (a Wait answers at once, as AWS does) and never calls a service unless the
//! caller hands in a [`TaskHandler`]: a Task without a mock and without a handler is an error
//! that says so. The shapes of the recorded corpus (`test_state` cases) are the spec for which
//! inspection fields each state type shows.

mod schema;

use crate::tasks::{TaskHandler, TaskRequest};
use chrono::{SecondsFormat, Utc};
use rand::Rng;
use serde_json::{Map, Value};
use stepwise_asl::error::{names, StateError};
use stepwise_asl::json::to_text;
use stepwise_asl::jsonata::StatesBinding;
use stepwise_asl::model::{
    Catcher, MapState, Retrier, State, StateId, StateKind, StateMachine, States, Transition,
};
use stepwise_asl::step::{self, EvalError, JsonataScope, Scope};

/// The name AWS gives the tested state of a lone state definition (and shows as
/// `$$.State.Name`, even for `stateName` tests).
pub const TESTED_STATE_NAME: &str = "StateName";

/// How much `inspectionData` the answer carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InspectionLevel {
    #[default]
    Info,
    Debug,
    Trace,
}

impl InspectionLevel {
    pub fn parse(s: &str) -> Option<InspectionLevel> {
        match s {
            "INFO" => Some(Self::Info),
            "DEBUG" => Some(Self::Debug),
            "TRACE" => Some(Self::Trace),
            _ => None,
        }
    }
}

/// How strictly a mocked result is checked against the integration's API model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FieldValidationMode {
    /// Required fields present, present fields well-typed (AWS's default).
    #[default]
    Strict,
    /// Present fields well-typed.
    Present,
    None,
}

impl FieldValidationMode {
    pub fn parse(s: &str) -> Option<FieldValidationMode> {
        match s {
            "STRICT" => Some(Self::Strict),
            "PRESENT" => Some(Self::Present),
            "NONE" => Some(Self::None),
            _ => None,
        }
    }
}

/// `mock`: the state's result as JSON text, or the error it raises.
#[derive(Debug, Clone, Default)]
pub struct Mock {
    pub result: Option<String>,
    pub error_output: Option<MockError>,
    pub field_validation_mode: FieldValidationMode,
}

/// `mock.errorOutput`.
#[derive(Debug, Clone, Default)]
pub struct MockError {
    pub error: Option<String>,
    pub cause: Option<String>,
}

/// `stateConfiguration`: where in its life the tested state is (retries made, Map failures).
#[derive(Debug, Clone, Default)]
pub struct StateConfiguration {
    pub retrier_retry_count: Option<u64>,
    pub error_caused_by_state: Option<String>,
    pub map_iteration_failure_count: Option<u64>,
    pub map_item_reader_data: Option<String>,
}

/// One TestState call. JSON members (`input`, `variables`, `context`, `mock.result`) are text,
/// as on the wire, so their parse errors are ours to report.
#[derive(Debug, Clone)]
pub struct TestStateRequest {
    pub definition: String,
    pub role_arn: Option<String>,
    pub input: Option<String>,
    pub inspection_level: InspectionLevel,
    pub reveal_secrets: bool,
    pub variables: Option<String>,
    pub state_name: Option<String>,
    pub mock: Option<Mock>,
    pub context: Option<String>,
    pub state_configuration: Option<StateConfiguration>,
    /// For the ARNs of the context object.
    pub region: String,
    pub account: String,
}

impl Default for TestStateRequest {
    fn default() -> Self {
        TestStateRequest {
            definition: String::new(),
            role_arn: None,
            input: None,
            inspection_level: InspectionLevel::Info,
            reveal_secrets: false,
            variables: None,
            state_name: None,
            mock: None,
            context: None,
            state_configuration: None,
            region: "us-east-1".into(),
            account: "111111111111".into(),
        }
    }
}

/// `status` of the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestStatus {
    Succeeded,
    Failed,
    Retriable,
    CaughtError,
}

impl TestStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "SUCCEEDED",
            Self::Failed => "FAILED",
            Self::Retriable => "RETRIABLE",
            Self::CaughtError => "CAUGHT_ERROR",
        }
    }
}

/// `inspectionData.errorDetails`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ErrorDetails {
    pub catch_index: Option<usize>,
    pub retry_index: Option<usize>,
    pub retry_backoff_interval_seconds: Option<u64>,
}

/// `inspectionData`: the value after each data-flow step (values, rendered as JSON text on the
/// wire), plus the Map's resolved limits.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InspectionData {
    pub input: Option<Value>,
    pub after_input_path: Option<Value>,
    pub after_parameters: Option<Value>,
    pub after_arguments: Option<Value>,
    pub result: Option<Value>,
    pub after_result_selector: Option<Value>,
    pub after_result_path: Option<Value>,
    pub variables: Option<Value>,
    pub error_details: Option<ErrorDetails>,
    pub after_items_path: Option<Value>,
    pub after_item_selector: Option<Value>,
    pub after_items_pointer: Option<Value>,
    pub tolerated_failure_count: Option<u64>,
    pub tolerated_failure_percentage: Option<f64>,
    pub max_concurrency: Option<u64>,
}

impl InspectionData {
    /// The wire form: data members as JSON text, in the model's member order.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        let mut text = |k: &str, v: &Option<Value>| {
            if let Some(v) = v {
                m.insert(k.into(), Value::String(to_text(v)));
            }
        };
        text("input", &self.input);
        text("afterArguments", &self.after_arguments);
        text("afterInputPath", &self.after_input_path);
        text("afterParameters", &self.after_parameters);
        text("result", &self.result);
        text("afterResultSelector", &self.after_result_selector);
        text("afterResultPath", &self.after_result_path);
        text("variables", &self.variables);
        text("afterItemsPath", &self.after_items_path);
        text("afterItemSelector", &self.after_item_selector);
        text("afterItemsPointer", &self.after_items_pointer);
        if let Some(d) = &self.error_details {
            let mut e = Map::new();
            if let Some(i) = d.catch_index {
                e.insert("catchIndex".into(), Value::from(i));
            }
            if let Some(i) = d.retry_index {
                e.insert("retryIndex".into(), Value::from(i));
            }
            if let Some(s) = d.retry_backoff_interval_seconds {
                e.insert("retryBackoffIntervalSeconds".into(), Value::from(s));
            }
            m.insert("errorDetails".into(), Value::Object(e));
        }
        if let Some(n) = self.tolerated_failure_count {
            m.insert("toleratedFailureCount".into(), Value::from(n));
        }
        if let Some(p) = self.tolerated_failure_percentage {
            m.insert("toleratedFailurePercentage".into(), Value::from(p));
        }
        if let Some(n) = self.max_concurrency {
            m.insert("maxConcurrency".into(), Value::from(n));
        }
        Value::Object(m)
    }
}

/// The answer of a TestState call that ran.
#[derive(Debug, Clone, PartialEq)]
pub struct TestStateResponse {
    pub status: TestStatus,
    pub output: Option<Value>,
    pub error: Option<String>,
    pub cause: Option<String>,
    pub next_state: Option<String>,
    /// Present at DEBUG and TRACE.
    pub inspection_data: Option<InspectionData>,
}

impl TestStateResponse {
    /// The TestStateOutput structure as the API sends it (`output` as JSON text).
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        if let Some(o) = &self.output {
            m.insert("output".into(), Value::String(to_text(o)));
        }
        if let Some(e) = &self.error {
            m.insert("error".into(), Value::String(e.clone()));
        }
        if let Some(c) = &self.cause {
            m.insert("cause".into(), Value::String(c.clone()));
        }
        if let Some(d) = &self.inspection_data {
            m.insert("inspectionData".into(), d.to_json());
        }
        if let Some(n) = &self.next_state {
            m.insert("nextState".into(), Value::String(n.clone()));
        }
        m.insert("status".into(), Value::from(self.status.as_str()));
        Value::Object(m)
    }
}

/// A rejected TestState call: the API error code (`InvalidDefinition`, `ValidationException`,
/// `InvalidExecutionInput`) and AWS's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestStateError {
    pub code: &'static str,
    pub message: String,
}

impl std::fmt::Display for TestStateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for TestStateError {}

impl TestStateError {
    fn validation(message: impl Into<String>) -> Self {
        TestStateError {
            code: "ValidationException",
            message: message.into(),
        }
    }
    fn invalid_definition(message: impl Into<String>) -> Self {
        TestStateError {
            code: "InvalidDefinition",
            message: message.into(),
        }
    }
}

/// Runs the request with no service integrations: every Task needs a mock.
pub fn test_state(req: &TestStateRequest) -> Result<TestStateResponse, TestStateError> {
    test_state_with(req, None)
}

/// Runs the request; a Task without a mock calls `tasks` (blocking on its answer).
pub fn test_state_with(
    req: &TestStateRequest,
    tasks: Option<&dyn TaskHandler>,
) -> Result<TestStateResponse, TestStateError> {
    let mock = check_mock_shape(req.mock.as_ref())?;
    let (machine, raw_def) = compile(req)?;
    let (block, id, raw_state) = locate(&machine, &raw_def, req.state_name.as_deref())?;
    let state = block.get(id);
    let cfg = req.state_configuration.clone().unwrap_or_default();
    let mock_result = match (&mock, req.mock.as_ref()) {
        (Some(MockKind::Result(v)), Some(m)) => {
            check_mock_result(state, &raw_state, v, m.field_validation_mode, &cfg)?;
            Some(v.clone())
        }
        _ => None,
    };
    let input =
        parse_json_member(req.input.as_deref(), "input")?.unwrap_or(Value::Object(Map::new()));
    let variables = match parse_json_member(req.variables.as_deref(), "variables")? {
        None => Map::new(),
        Some(Value::Object(m)) => m,
        Some(_) => {
            return Err(TestStateError::validation(
                "Invalid variables provided: variables must be a JSON object",
            ))
        }
    };
    let context = build_context(req, state, &input)?;
    let mut run = Run {
        block,
        state,
        raw_state: &raw_state,
        level: req.inspection_level,
        insp: InspectionData::default(),
        vars: variables,
        context,
        mock: match mock {
            Some(MockKind::Error(e)) => Some(Err(e)),
            Some(MockKind::Result(_)) => mock_result.map(Ok),
            None => None,
        },
        cfg,
        tasks,
        rng: rand::thread_rng(),
    };
    let outcome = run.run(input)?;
    Ok(run.answer(outcome))
}

enum MockKind {
    Result(Value),
    Error(StateError),
}

/// The mock's own rules, before the definition is looked at.
fn check_mock_shape(mock: Option<&Mock>) -> Result<Option<MockKind>, TestStateError> {
    let Some(m) = mock else { return Ok(None) };
    match (&m.result, &m.error_output) {
        (Some(_), Some(_)) => Err(TestStateError::validation(
            "A test mock should have only one of the following fields: [result, errorOutput].",
        )),
        (Some(text), None) => serde_json::from_str(text)
            .map(|v| Some(MockKind::Result(v)))
            .map_err(|_| TestStateError::validation("Mocked result must be valid JSON")),
        (None, Some(e)) => Ok(Some(MockKind::Error(StateError::new(
            e.error.clone().unwrap_or_default(),
            e.cause.clone().unwrap_or_default(),
        )))),
        (None, None) => Ok(None),
    }
}

/// Checks a mocked result against what the state can return: an array for a Map (an object
/// when it has a ResultWriter) or Parallel, the integration's API model for a Task.
fn check_mock_result(
    state: &State,
    raw_state: &Value,
    result: &Value,
    mode: FieldValidationMode,
    cfg: &StateConfiguration,
) -> Result<(), TestStateError> {
    match &state.kind {
        StateKind::Map(_) => {
            if raw_state.get("ResultWriter").is_some() {
                if !result.is_object() {
                    return Err(TestStateError::validation(
                        "Mocked result must be a JSON object.",
                    ));
                }
            } else {
                let Value::Array(items) = result else {
                    return Err(TestStateError::validation(
                        "Mocked result must be an array.",
                    ));
                };
                if cfg
                    .map_iteration_failure_count
                    .is_some_and(|n| n > items.len() as u64)
                {
                    return Err(TestStateError::validation(
                        "Map iteration failure count must be less than or equal to the number of Map iterations",
                    ));
                }
            }
            Ok(())
        }
        StateKind::Parallel(_) => {
            if result.is_array() {
                Ok(())
            } else {
                Err(TestStateError::validation(
                    "Mocked result must be an array.",
                ))
            }
        }
        StateKind::Task(t) => {
            if mode == FieldValidationMode::None {
                return Ok(());
            }
            match schema::check(&t.resource, result, mode == FieldValidationMode::Strict) {
                Ok(()) => Ok(()),
                Err(why) => Err(TestStateError::validation(format!(
                    "Mock result schema validation error: {why}"
                ))),
            }
        }
        _ => Ok(()),
    }
}

fn parse_json_member(text: Option<&str>, member: &str) -> Result<Option<Value>, TestStateError> {
    match text {
        None => Ok(None),
        Some(t) => serde_json::from_str(t).map(Some).map_err(|e| match member {
            "input" => TestStateError {
                code: "InvalidExecutionInput",
                message: format!("Invalid State Machine Execution Input: '{e}'"),
            },
            _ => TestStateError::validation(format!("Invalid {member} provided: {e}")),
        }),
    }
}

/// Parses and validates the definition: a lone state is placed in a machine of its own under
/// [`TESTED_STATE_NAME`], with a stand-in for each state it names as its next.
fn compile(req: &TestStateRequest) -> Result<(StateMachine, Value), TestStateError> {
    let def: Value = serde_json::from_str(&req.definition).map_err(|e| {
        TestStateError::invalid_definition(format!(
            "Invalid State Machine Definition: 'INVALID_JSON_DESCRIPTION: {e} at null'"
        ))
    })?;
    let machine_def = if req.state_name.is_some() {
        def
    } else {
        wrap_state(def)
    };
    let machine = StateMachine::from_value(&machine_def).map_err(|diags| {
        let text = diags
            .first()
            .map(|d| d.aws_text())
            .unwrap_or_else(|| "SCHEMA_VALIDATION_FAILED: invalid definition at null".into());
        TestStateError::invalid_definition(format!("Invalid State Machine Definition: '{text}'"))
    })?;
    Ok((machine, machine_def))
}

fn wrap_state(state: Value) -> Value {
    let mut targets: Vec<String> = Vec::new();
    let mut add = |v: Option<&Value>| {
        if let Some(Value::String(s)) = v {
            if s != TESTED_STATE_NAME && !targets.contains(s) {
                targets.push(s.clone());
            }
        }
    };
    add(state.get("Next"));
    add(state.get("Default"));
    for list in ["Choices", "Catch"] {
        if let Some(Value::Array(a)) = state.get(list) {
            for c in a {
                add(c.get("Next"));
            }
        }
    }
    let mut states = Map::new();
    states.insert(TESTED_STATE_NAME.into(), state);
    for t in targets {
        let mut s = Map::new();
        s.insert("Type".into(), Value::from("Succeed"));
        states.insert(t, Value::Object(s));
    }
    let mut m = Map::new();
    m.insert("StartAt".into(), Value::from(TESTED_STATE_NAME));
    m.insert("States".into(), Value::Object(states));
    Value::Object(m)
}

/// Finds the tested state (at any depth) with the block it sits in and its definition JSON.
fn locate<'m>(
    machine: &'m StateMachine,
    def: &Value,
    name: Option<&str>,
) -> Result<(&'m States, StateId, Value), TestStateError> {
    let name = name.unwrap_or(TESTED_STATE_NAME);
    let not_found = || TestStateError::validation("State not found in definition");
    if name.is_empty() {
        return Err(TestStateError::validation(
            "1 validation error detected: Value at 'stateName' failed to satisfy constraint: Member must have length greater than or equal to 1",
        ));
    }
    let (block, id) = find_in(&machine.body, name).ok_or_else(not_found)?;
    let raw = find_raw(def, name).cloned().ok_or_else(not_found)?;
    Ok((block, id, raw))
}

fn find_in<'m>(block: &'m States, name: &str) -> Option<(&'m States, StateId)> {
    if let Some(&id) = block.by_name.get(name) {
        return Some((block, id));
    }
    block.states.iter().find_map(|s| match &s.kind {
        StateKind::Parallel(p) => p.branches.iter().find_map(|b| find_in(b, name)),
        StateKind::Map(m) => find_in(&m.processor, name),
        _ => None,
    })
}

fn find_raw<'v>(machine: &'v Value, name: &str) -> Option<&'v Value> {
    let states = machine.get("States")?.as_object()?;
    if let Some(s) = states.get(name) {
        return Some(s);
    }
    states.values().find_map(|s| {
        let nested = ["ItemProcessor", "Iterator"]
            .iter()
            .filter_map(|k| s.get(*k))
            .find_map(|p| find_raw(p, name));
        nested.or_else(|| {
            s.get("Branches")
                .and_then(Value::as_array)
                .and_then(|bs| bs.iter().find_map(|b| find_raw(b, name)))
        })
    })
}

fn now_iso() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The context object: AWS's made-up express execution, overlaid with the caller's `context`.
fn build_context(
    req: &TestStateRequest,
    state: &State,
    input: &Value,
) -> Result<Value, TestStateError> {
    let mut rng = rand::thread_rng();
    let mut hex = |n: usize| -> String {
        (0..n)
            .map(|_| char::from_digit(rng.gen_range(0..16), 16).unwrap_or('0'))
            .collect()
    };
    let sm_name = format!("TestStateMachine-{}", hex(12));
    let exec_name = format!("{}-{}-{}-{}-{}", hex(8), hex(4), hex(4), hex(4), hex(12));
    let prefix = format!("arn:aws:states:{}:{}", req.region, req.account);
    let now = now_iso();
    let mut execution = Map::new();
    execution.insert(
        "Id".into(),
        Value::String(format!("{prefix}:express:{sm_name}:{exec_name}")),
    );
    execution.insert("Input".into(), input.clone());
    execution.insert("Name".into(), Value::String(exec_name));
    execution.insert(
        "RoleArn".into(),
        req.role_arn
            .clone()
            .map(Value::String)
            .unwrap_or(Value::Null),
    );
    execution.insert("StartTime".into(), Value::String(now.clone()));
    let mut machine = Map::new();
    machine.insert(
        "Id".into(),
        Value::String(format!("{prefix}:stateMachine:{sm_name}")),
    );
    machine.insert("Name".into(), Value::String(sm_name));
    let mut st = Map::new();
    st.insert("Name".into(), Value::from(TESTED_STATE_NAME));
    st.insert("EnteredTime".into(), Value::String(now));
    if matches!(
        state.kind,
        StateKind::Task(_) | StateKind::Parallel(_) | StateKind::Map(_)
    ) {
        let retries = req
            .state_configuration
            .as_ref()
            .and_then(|c| c.retrier_retry_count)
            .unwrap_or(0);
        st.insert("RetryCount".into(), Value::from(retries));
    }
    let mut ctx = Map::new();
    ctx.insert("Execution".into(), Value::Object(execution));
    ctx.insert("StateMachine".into(), Value::Object(machine));
    ctx.insert("State".into(), Value::Object(st));
    if let StateKind::Task(t) = &state.kind {
        if t.resource.ends_with(".waitForTaskToken") {
            let mut task = Map::new();
            task.insert("Token".into(), Value::String(hex(64)));
            ctx.insert("Task".into(), Value::Object(task));
        }
    }
    if let Some(given) = parse_context(req.context.as_deref())? {
        for (k, v) in given {
            match (ctx.get_mut(&k), v) {
                (Some(Value::Object(base)), Value::Object(over)) => base.extend(over),
                (_, v) => {
                    ctx.insert(k, v);
                }
            }
        }
    }
    Ok(Value::Object(ctx))
}

/// Fields a caller may set in the context object, and which must be strings.
const CONTEXT_FIELDS: &[(&str, &[(&str, FieldType)])] = &[
    (
        "Execution",
        &[
            ("Id", FieldType::String),
            ("Input", FieldType::Any),
            ("Name", FieldType::String),
            ("RoleArn", FieldType::String),
            ("StartTime", FieldType::String),
            ("RedriveCount", FieldType::Integer),
            ("RedriveTime", FieldType::String),
        ],
    ),
    (
        "State",
        &[
            ("EnteredTime", FieldType::String),
            ("Name", FieldType::String),
            ("RetryCount", FieldType::Integer),
        ],
    ),
    (
        "StateMachine",
        &[("Id", FieldType::String), ("Name", FieldType::String)],
    ),
    ("Task", &[("Token", FieldType::String)]),
];

#[derive(Clone, Copy)]
enum FieldType {
    String,
    Integer,
    Any,
}

fn parse_context(text: Option<&str>) -> Result<Option<Map<String, Value>>, TestStateError> {
    let bad =
        |why: String| TestStateError::validation(format!("Invalid Context object provided: {why}"));
    let Some(text) = text else { return Ok(None) };
    let v: Value = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
    let Value::Object(m) = v else {
        return Err(bad("Context must be a JSON object".into()));
    };
    for (k, v) in &m {
        if k == "Map" {
            return Err(bad(
                "'Map' field is not supported when mocking a Context object".into(),
            ));
        }
        let Some((_, fields)) = CONTEXT_FIELDS.iter().find(|(n, _)| n == k) else {
            return Err(bad(format!("Field '{k}' is not allowed")));
        };
        let Value::Object(inner) = v else {
            return Err(bad(format!("{k} must be an object")));
        };
        for (f, fv) in inner {
            let Some((_, ty)) = fields.iter().find(|(n, _)| n == f) else {
                return Err(bad(format!("Field '{f}' is not allowed")));
            };
            match ty {
                FieldType::String if !fv.is_string() => {
                    return Err(bad(format!("{k}.{f} must be a string")))
                }
                FieldType::Integer if !(fv.is_u64() || fv.is_i64()) => {
                    return Err(bad(format!("{k}.{f} must be an integer")))
                }
                _ => {}
            }
        }
    }
    Ok(Some(m))
}

/// How the tested state ended.
enum Outcome {
    Succeeded {
        output: Value,
        next: Option<StateId>,
    },
    Failed {
        error: Option<String>,
        cause: Option<String>,
    },
    Retriable(StateError),
    Caught {
        err: StateError,
        output: Value,
        next: StateId,
    },
}

struct Run<'a> {
    block: &'a States,
    state: &'a State,
    raw_state: &'a Value,
    level: InspectionLevel,
    insp: InspectionData,
    vars: Map<String, Value>,
    context: Value,
    mock: Option<Result<Value, StateError>>,
    cfg: StateConfiguration,
    tasks: Option<&'a dyn TaskHandler>,
    rng: rand::rngs::ThreadRng,
}

impl From<StateError> for Outcome {
    fn from(e: StateError) -> Self {
        Outcome::Failed {
            error: Some(e.error),
            cause: Some(e.cause),
        }
    }
}

impl From<EvalError> for Outcome {
    fn from(e: EvalError) -> Self {
        e.error.into()
    }
}

/// A failure of the state's data flow outside its work: AWS prefixes interpreter errors with
/// where they happened.
fn located(state: &State, e: StateError) -> StateError {
    if e.error == names::RUNTIME || e.error == names::QUERY_EVALUATION_ERROR {
        StateError::new(
            e.error,
            format!(
                "An error occurred while executing the state '{}'. {}",
                state.name, e.cause
            ),
        )
    } else {
        e
    }
}

impl<'a> Run<'a> {
    fn scope(&self) -> Scope<'_> {
        Scope {
            context: &self.context,
            variables: &self.vars,
        }
    }

    fn jscope<'s>(
        &'s self,
        input: &'s Value,
        result: Option<&'s Value>,
        error_output: Option<&'s Value>,
    ) -> JsonataScope<'s> {
        JsonataScope {
            states: StatesBinding {
                input,
                result,
                error_output,
                context: &self.context,
            },
            variables: &self.vars,
        }
    }

    fn run(&mut self, raw: Value) -> Result<Outcome, TestStateError> {
        self.insp.input = Some(raw.clone());
        let state = self.state;
        let outcome = match (&state.kind, state.is_jsonata()) {
            (StateKind::Task(_), _) | (StateKind::Parallel(_), _) | (StateKind::Map(_), _) => {
                self.run_with_work(raw)?
            }
            (_, false) => self
                .run_simple(raw)
                .unwrap_or_else(|e| located(state, e).into()),
            (_, true) => self
                .run_simple_jsonata(raw)
                .unwrap_or_else(|e| located(state, e.error).into()),
        };
        Ok(outcome)
    }

    fn continue_to(&self) -> Option<StateId> {
        match self.state.transition {
            Transition::Next(n) => Some(n),
            _ => None,
        }
    }

    fn commit(&mut self, assigned: Option<Map<String, Value>>) {
        if let Some(a) = assigned {
            self.vars.extend(a);
        }
    }

    fn run_simple(&mut self, raw: Value) -> Result<Outcome, StateError> {
        let state = self.state;
        let eff = step::apply_input_path(state, &raw, self.scope())?;
        match &state.kind {
            StateKind::Pass(p) => {
                let params = step::apply_template(
                    p.parameters.as_ref(),
                    eff.clone(),
                    self.scope(),
                    &mut self.rng.clone(),
                )?;
                if p.result.is_some() {
                    self.insp.result = p.result.clone();
                } else {
                    self.insp.after_input_path = Some(eff);
                    self.insp.after_parameters = Some(params.clone());
                }
                let result = step::pass_result(p.result.as_ref(), params);
                self.insp.after_result_selector = Some(result.clone());
                let assigned = step::eval_assign(
                    state.assign.as_ref(),
                    &result,
                    self.scope(),
                    &mut self.rng.clone(),
                )?;
                let out = step::apply_result_path(&p.result_path, raw, result)?;
                self.insp.after_result_path = Some(out.clone());
                let out = step::apply_output_path(state, out, self.scope())?;
                self.commit(assigned);
                Ok(Outcome::Succeeded {
                    output: out,
                    next: self.continue_to(),
                })
            }
            StateKind::Choice(c) => {
                self.insp.after_input_path = Some(eff.clone());
                let (next, idx) = step::choose(c, &eff, self.scope())?;
                let mut assigned = step::eval_assign(
                    state.assign.as_ref(),
                    &eff,
                    self.scope(),
                    &mut self.rng.clone(),
                )?;
                let branch = idx
                    .and_then(|i| c.choices.get(i))
                    .and_then(|b| b.assign.as_ref());
                if let Some(extra) =
                    step::eval_assign(branch, &eff, self.scope(), &mut self.rng.clone())?
                {
                    assigned.get_or_insert_with(Map::new).extend(extra);
                }
                let out = step::apply_output_path(state, eff, self.scope())?;
                self.commit(assigned);
                Ok(Outcome::Succeeded {
                    output: out,
                    next: Some(next),
                })
            }
            StateKind::Wait(w) => {
                self.insp.after_input_path = Some(eff.clone());
                // Checked for its errors; TestState does not wait.
                step::wait_until(w, &eff, self.scope(), Utc::now())?;
                let assigned = step::eval_assign(
                    state.assign.as_ref(),
                    &eff,
                    self.scope(),
                    &mut self.rng.clone(),
                )?;
                let out = step::apply_output_path(state, eff, self.scope())?;
                self.commit(assigned);
                Ok(Outcome::Succeeded {
                    output: out,
                    next: self.continue_to(),
                })
            }
            StateKind::Succeed => {
                self.insp.after_input_path = Some(eff.clone());
                let out = step::apply_output_path(state, eff, self.scope())?;
                Ok(Outcome::Succeeded {
                    output: out,
                    next: None,
                })
            }
            StateKind::Fail(f) => {
                self.insp.after_input_path = Some(eff);
                let (error, cause) = step::fail_error(f, &raw, self.scope())?;
                Ok(Outcome::Failed { error, cause })
            }
            _ => Err(StateError::runtime("internal: not a simple state")),
        }
    }

    fn run_simple_jsonata(&mut self, raw: Value) -> Result<Outcome, EvalError> {
        let state = self.state;
        let mut rng = self.rng.clone();
        let (next, assigned, out) = {
            let scope = self.jscope(&raw, None, None);
            let assign = |t, rng: &mut dyn rand::RngCore| step::jsonata_assign(t, &scope, rng);
            let output =
                |t, rng: &mut dyn rand::RngCore| step::jsonata_optional(t, "Output", &scope, rng);
            match &state.kind {
                StateKind::Pass(_) | StateKind::Succeed => {
                    let a = if matches!(state.kind, StateKind::Pass(_)) {
                        assign(state.jsonata_assign.as_ref(), &mut rng)?
                    } else {
                        None
                    };
                    let o = output(state.output.as_ref(), &mut rng)?;
                    let next = if matches!(state.kind, StateKind::Pass(_)) {
                        self.continue_to()
                    } else {
                        None
                    };
                    (next, a, o)
                }
                StateKind::Choice(c) => {
                    let (next, idx) = step::jsonata_choose(c, &scope, &mut rng)?;
                    let branch = idx.and_then(|i| c.choices.get(i));
                    let mut a = assign(state.jsonata_assign.as_ref(), &mut rng)?;
                    if let Some(extra) =
                        assign(branch.and_then(|b| b.jsonata_assign.as_ref()), &mut rng)?
                    {
                        a.get_or_insert_with(Map::new).extend(extra);
                    }
                    let o = output(
                        branch
                            .and_then(|b| b.output.as_ref())
                            .or(state.output.as_ref()),
                        &mut rng,
                    )?;
                    (Some(next), a, o)
                }
                StateKind::Wait(w) => {
                    step::jsonata_wait_until(w, &scope, &mut rng, Utc::now())?;
                    let a = assign(state.jsonata_assign.as_ref(), &mut rng)?;
                    let o = output(state.output.as_ref(), &mut rng)?;
                    (self.continue_to(), a, o)
                }
                StateKind::Fail(f) => {
                    let (error, cause) = step::jsonata_fail_error(f, &scope, &mut rng)?;
                    return Ok(Outcome::Failed { error, cause });
                }
                _ => return Err(StateError::runtime("internal: not a simple state").into()),
            }
        };
        self.commit(assigned);
        Ok(Outcome::Succeeded {
            output: out.unwrap_or(raw),
            next,
        })
    }

    /// Task, Parallel and Map: input processing, the (mocked) work, then either the result
    /// processing or the error handling (Retry → RETRIABLE, Catch → CAUGHT_ERROR).
    fn run_with_work(&mut self, raw: Value) -> Result<Outcome, TestStateError> {
        let state = self.state;
        let (retriers, catchers): (&[Retrier], &[Catcher]) = match &state.kind {
            StateKind::Task(t) => (&t.retry, &t.catch),
            StateKind::Parallel(p) => (&p.retry, &p.catch),
            StateKind::Map(m) => (&m.retry, &m.catch),
            _ => (&[], &[]),
        };
        let result = match self.work(&raw)? {
            Ok(r) => r,
            Err(e) => return Ok(self.handle_error(e, retriers, catchers, raw)),
        };
        match self.finish(&raw, result) {
            Ok(o) => Ok(o),
            Err(e) => Ok(self.handle_error(e, retriers, catchers, raw)),
        }
    }

    /// The state's work up to its result; the outer error is a rejected call, the inner one a
    /// state error to handle.
    #[allow(clippy::type_complexity)]
    fn work(&mut self, raw: &Value) -> Result<Result<Value, StateError>, TestStateError> {
        let state = self.state;
        let jsonata = state.is_jsonata();
        // Input side.
        let payload: Result<Value, StateError> = (|| {
            if jsonata {
                let args = match &state.kind {
                    StateKind::Task(t) => t.arguments.as_ref(),
                    StateKind::Parallel(p) => p.arguments.as_ref(),
                    _ => None,
                };
                let mut rng = self.rng.clone();
                let v = step::jsonata_optional(
                    args,
                    "Arguments",
                    &self.jscope(raw, None, None),
                    &mut rng,
                )
                .map_err(|e| located(state, e.error))?;
                Ok(v.unwrap_or_else(|| raw.clone()))
            } else {
                let eff = step::apply_input_path(state, raw, self.scope())
                    .map_err(|e| located(state, e))?;
                let params = match &state.kind {
                    StateKind::Task(t) => t.parameters.as_ref(),
                    StateKind::Parallel(p) => p.parameters.as_ref(),
                    _ => None,
                };
                if matches!(state.kind, StateKind::Task(_) | StateKind::Map(_)) {
                    self.insp.after_input_path = Some(eff.clone());
                }
                let mut rng = self.rng.clone();
                step::apply_template(params, eff, self.scope(), &mut rng)
                    .map_err(|e| located(state, e))
            }
        })();
        let payload = match payload {
            Ok(p) => p,
            Err(e) => return Ok(Err(e)),
        };
        match &state.kind {
            StateKind::Task(t) => {
                if jsonata {
                    self.insp.after_arguments = Some(payload.clone());
                } else {
                    self.insp.after_parameters = Some(payload.clone());
                }
                let answer = match self.mock.clone() {
                    Some(a) => a,
                    None => match self.tasks {
                        Some(h) => futures::executor::block_on(h.invoke(TaskRequest {
                            state_name: TESTED_STATE_NAME.into(),
                            resource: t.resource.clone(),
                            parameters: payload,
                            timeout_seconds: None,
                            heartbeat_seconds: None,
                            task_token: None,
                            // TestState runs no execution and selects no mock test case.
                            execution_arn: String::new(),
                            state_machine_name: String::new(),
                            test_case: None,
                            invocation: 0,
                        })),
                        None => {
                            return Err(TestStateError::validation(format!(
                                "Stepwise has no service integration for resource '{}': give a mock (mock.result or mock.errorOutput) to test this Task state",
                                t.resource
                            )))
                        }
                    },
                };
                if let Ok(r) = &answer {
                    self.insp.result = Some(r.clone());
                }
                Ok(answer)
            }
            StateKind::Parallel(_) => match self.mock.clone() {
                Some(a) => Ok(a),
                None => Err(TestStateError::validation(
                    "A mock (mock.result or mock.errorOutput) is required to test a Parallel state",
                )),
            },
            StateKind::Map(m) => {
                if let Err(e) = self.map_inputs(m, raw, payload) {
                    return Ok(Err(e));
                }
                match self.mock.clone() {
                    Some(Ok(r)) => Ok(self.map_failures(m, raw).map(|()| r)),
                    Some(Err(e)) => Ok(Err(e)),
                    None => Err(TestStateError::validation(
                        "A mock (mock.result or mock.errorOutput) is required to test a Map state",
                    )),
                }
            }
            _ => Ok(Err(StateError::runtime("internal: not a state with work"))),
        }
    }

    /// Map: the items (and their selection) and limits AWS shows in the inspection data.
    fn map_inputs(&mut self, m: &MapState, raw: &Value, eff: Value) -> Result<(), StateError> {
        let state = self.state;
        let reader = self.raw_state.get("ItemReader").is_some();
        let reader_items = || -> Result<Vec<Value>, StateError> {
            match &self.cfg.map_item_reader_data {
                None => Ok(Vec::new()),
                Some(t) => match serde_json::from_str::<Value>(t) {
                    Ok(Value::Array(a)) => Ok(a),
                    Ok(other) => Ok(vec![other]),
                    Err(e) => Err(StateError::runtime(format!(
                        "The ItemReader data is not valid JSON: {e}"
                    ))),
                },
            }
        };
        let mut rng = self.rng.clone();
        if state.is_jsonata() {
            let scope = self.jscope(raw, None, None);
            let items = if reader {
                reader_items()?
            } else {
                step::jsonata_map_plan(m, &scope, &mut rng)
                    .map_err(|e| located(state, e.error))?
                    .items
            };
            let _ = items;
            let conc =
                step::jsonata_number(Some(&m.max_concurrency), "MaxConcurrency", &scope, &mut rng)
                    .map_err(|e| located(state, e.error))?;
            let (count, pct) = step::jsonata_map_tolerance(m, &scope, &mut rng)
                .map_err(|e| located(state, e.error))?;
            self.insp.max_concurrency = Some(conc.unwrap_or(0));
            self.insp.tolerated_failure_count = count;
            self.insp.tolerated_failure_percentage = pct;
        } else {
            let plan_items = if reader {
                reader_items()?
            } else {
                let plan = step::map_plan(m, &eff, self.scope()).map_err(|e| located(state, e))?;
                self.insp.after_items_path = Some(Value::Array(plan.items.clone()));
                plan.items
            };
            if let Some(sel) = &m.item_selector {
                let mut selected = Vec::with_capacity(plan_items.len());
                for (i, item) in plan_items.iter().enumerate() {
                    let mut ctx = self.context.clone();
                    if let Value::Object(c) = &mut ctx {
                        let mut it = Map::new();
                        it.insert("Index".into(), Value::from(i));
                        it.insert("Value".into(), item.clone());
                        let mut mm = Map::new();
                        mm.insert("Item".into(), Value::Object(it));
                        c.insert("Map".into(), Value::Object(mm));
                    }
                    let scope = Scope {
                        context: &ctx,
                        variables: &self.vars,
                    };
                    selected.push(
                        step::apply_template(Some(sel), eff.clone(), scope, &mut rng)
                            .map_err(|e| located(state, e))?,
                    );
                }
                self.insp.after_item_selector = Some(Value::Array(selected));
            }
            let plan_conc = match &m.max_concurrency {
                stepwise_asl::model::NumberSource::Literal(n) => *n,
                _ => step::map_plan(m, &eff, self.scope())
                    .map(|p| p.max_concurrency as u64)
                    .unwrap_or(0),
            };
            let (count, pct) =
                step::map_tolerance(m, &eff, self.scope()).map_err(|e| located(state, e))?;
            self.insp.max_concurrency = Some(plan_conc);
            self.insp.tolerated_failure_count = count;
            self.insp.tolerated_failure_percentage = pct;
        }
        Ok(())
    }

    /// `mapIterationFailureCount` against the Map's tolerance. AWS only applies it when the Map
    /// states a tolerance.
    fn map_failures(&self, _m: &MapState, _raw: &Value) -> Result<(), StateError> {
        let failed = self.cfg.map_iteration_failure_count.unwrap_or(0);
        let (count, pct) = (
            self.insp.tolerated_failure_count,
            self.insp.tolerated_failure_percentage,
        );
        if failed == 0 || (count.is_none() && pct.is_none()) {
            return Ok(());
        }
        let total = self
            .mock
            .as_ref()
            .and_then(|m| m.as_ref().ok())
            .and_then(Value::as_array)
            .map(Vec::len)
            .unwrap_or(0);
        if step::map_exceeds_tolerance(failed as usize, total, count, pct) {
            Err(StateError::new(
                names::EXCEED_TOLERATED_FAILURE_THRESHOLD,
                "The specified tolerated failure threshold was exceeded",
            ))
        } else {
            Ok(())
        }
    }

    /// ResultSelector, ResultPath, OutputPath (JSONPath) or Output/Assign (JSONata).
    fn finish(&mut self, raw: &Value, result: Value) -> Result<Outcome, StateError> {
        let state = self.state;
        let next = self.continue_to();
        if state.is_jsonata() {
            let mut rng = self.rng.clone();
            let (a, o) = {
                let scope = self.jscope(raw, Some(&result), None);
                let a = step::jsonata_assign(state.jsonata_assign.as_ref(), &scope, &mut rng)
                    .map_err(|e| located(state, e.error))?;
                let o = step::jsonata_optional(state.output.as_ref(), "Output", &scope, &mut rng)
                    .map_err(|e| located(state, e.error))?;
                (a, o)
            };
            self.commit(a);
            return Ok(Outcome::Succeeded {
                output: o.unwrap_or(result),
                next,
            });
        }
        let (selector, result_path) = match &state.kind {
            StateKind::Task(t) => (t.result_selector.as_ref(), &t.result_path),
            StateKind::Parallel(p) => (p.result_selector.as_ref(), &p.result_path),
            StateKind::Map(m) => (m.result_selector.as_ref(), &m.result_path),
            _ => return Err(StateError::runtime("internal: not a state with work")),
        };
        let mut rng = self.rng.clone();
        let selected = step::apply_template(selector, result, self.scope(), &mut rng)
            .map_err(|e| located(state, e))?;
        self.insp.after_result_selector = Some(selected.clone());
        let assigned = step::eval_assign(state.assign.as_ref(), &selected, self.scope(), &mut rng)
            .map_err(|e| located(state, e))?;
        let out = step::apply_result_path(result_path, raw.clone(), selected)
            .map_err(|e| located(state, e))?;
        self.insp.after_result_path = Some(out.clone());
        let out =
            step::apply_output_path(state, out, self.scope()).map_err(|e| located(state, e))?;
        self.commit(assigned);
        Ok(Outcome::Succeeded { output: out, next })
    }

    /// A state error: retried (RETRIABLE, with the backoff AWS would wait), caught
    /// (CAUGHT_ERROR, with the catcher's output and next state) or failed.
    fn handle_error(
        &mut self,
        err: StateError,
        retriers: &[Retrier],
        catchers: &[Catcher],
        raw: Value,
    ) -> Outcome {
        if err.error == names::RUNTIME {
            return err.into();
        }
        let mut details = ErrorDetails::default();
        if let Some((idx, r)) = retriers
            .iter()
            .enumerate()
            .find(|(_, r)| step::error_matches(&r.error_equals, &err.error))
        {
            details.retry_index = Some(idx);
            let done = self.cfg.retrier_retry_count.unwrap_or(0);
            if done < r.max_attempts {
                let mut delay = r.interval_seconds as f64 * r.backoff_rate.powi(done as i32);
                if let Some(max) = r.max_delay_seconds {
                    delay = delay.min(max as f64);
                }
                details.retry_backoff_interval_seconds = Some(delay.round() as u64);
                self.insp.error_details = Some(details);
                return Outcome::Retriable(err);
            }
        }
        let caught = catchers
            .iter()
            .enumerate()
            .find(|(_, c)| step::error_matches(&c.error_equals, &err.error));
        let Some((idx, c)) = caught else {
            if details != ErrorDetails::default() {
                self.insp.error_details = Some(details);
            }
            return err.into();
        };
        details.catch_index = Some(idx);
        self.insp.error_details = Some(details);
        let err_out = step::error_output(&err);
        let state = self.state;
        let mut rng = self.rng.clone();
        let produced: Result<(Option<Map<String, Value>>, Value), StateError> = if state
            .is_jsonata()
        {
            let scope = self.jscope(&raw, None, Some(&err_out));
            step::jsonata_assign(c.jsonata_assign.as_ref(), &scope, &mut rng)
                .and_then(|a| {
                    step::jsonata_optional(c.output.as_ref(), "Output", &scope, &mut rng)
                        .map(|o| (a, o.unwrap_or_else(|| err_out.clone())))
                })
                .map_err(|e| located(state, e.error))
        } else {
            step::eval_assign(c.assign.as_ref(), &err_out, self.scope(), &mut rng).and_then(|a| {
                step::apply_result_path(&c.result_path, raw, err_out.clone()).map(|o| (a, o))
            })
        };
        match produced {
            Ok((assigned, output)) => {
                self.commit(assigned);
                Outcome::Caught {
                    err,
                    output,
                    next: c.next,
                }
            }
            Err(e) => e.into(),
        }
    }

    fn answer(mut self, outcome: Outcome) -> TestStateResponse {
        let name = |id: StateId| self.block.states.get(id).map(|s| s.name.clone());
        let (status, output, error, cause, next_state) = match outcome {
            Outcome::Succeeded { output, next } => (
                TestStatus::Succeeded,
                Some(output),
                None,
                None,
                next.and_then(name),
            ),
            Outcome::Failed { error, cause } => (TestStatus::Failed, None, error, cause, None),
            Outcome::Retriable(e) => (
                TestStatus::Retriable,
                None,
                Some(e.error),
                Some(e.cause),
                None,
            ),
            Outcome::Caught { err, output, next } => (
                TestStatus::CaughtError,
                Some(output),
                Some(err.error),
                Some(err.cause),
                name(next),
            ),
        };
        let inspection_data = match self.level {
            InspectionLevel::Info => None,
            InspectionLevel::Debug | InspectionLevel::Trace => {
                if !self.vars.is_empty() {
                    self.insp.variables = Some(Value::Object(std::mem::take(&mut self.vars)));
                }
                Some(self.shown_inspection())
            }
        };
        TestStateResponse {
            status,
            output,
            error,
            cause,
            next_state,
            inspection_data,
        }
    }

    /// The fields AWS shows for this kind of state (the corpus is the spec): JSONata states show
    /// no JSONPath steps; Parallel shows no input-side steps.
    fn shown_inspection(&mut self) -> InspectionData {
        let mut d = std::mem::take(&mut self.insp);
        if self.state.is_jsonata() {
            d.after_input_path = None;
            d.after_parameters = None;
            d.after_result_selector = None;
            d.after_result_path = None;
            d.after_items_path = None;
            d.after_item_selector = None;
        } else {
            d.after_arguments = None;
        }
        match &self.state.kind {
            StateKind::Parallel(_) => {
                d.after_input_path = None;
                d.after_parameters = None;
                d.after_arguments = None;
                d.result = None;
            }
            StateKind::Map(_) => {
                d.result = None;
            }
            _ => {}
        }
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn req(def: Value, input: Value, level: InspectionLevel) -> TestStateRequest {
        TestStateRequest {
            definition: def.to_string(),
            input: Some(input.to_string()),
            inspection_level: level,
            ..Default::default()
        }
    }

    #[test]
    fn pass_state_at_debug_shows_each_step() {
        let r = test_state(&req(
            json!({"Type": "Pass", "InputPath": "$.a", "ResultPath": "$.b", "End": true}),
            json!({"a": 1}),
            InspectionLevel::Debug,
        ))
        .unwrap();
        assert_eq!(r.status, TestStatus::Succeeded);
        assert_eq!(r.output, Some(json!({"a": 1, "b": 1})));
        let d = r.inspection_data.unwrap();
        assert_eq!(d.after_input_path, Some(json!(1)));
        assert_eq!(d.after_result_path, Some(json!({"a": 1, "b": 1})));
        assert_eq!(d.result, None);
    }

    #[test]
    fn info_has_no_inspection_data() {
        let r = test_state(&req(
            json!({"Type": "Succeed"}),
            json!({}),
            InspectionLevel::Info,
        ))
        .unwrap();
        assert!(r.inspection_data.is_none());
        assert_eq!(r.to_json()["status"], "SUCCEEDED");
    }

    #[test]
    fn choice_names_the_next_state() {
        let r = test_state(&req(
            json!({"Type": "Choice", "Choices": [{"Variable": "$.x", "NumericEquals": 1, "Next": "One"}], "Default": "Other"}),
            json!({"x": 1}),
            InspectionLevel::Info,
        ))
        .unwrap();
        assert_eq!(r.next_state.as_deref(), Some("One"));
    }

    #[test]
    fn task_without_mock_or_integration_is_rejected() {
        let e = test_state(&req(
            json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true}),
            json!({}),
            InspectionLevel::Info,
        ))
        .unwrap_err();
        assert_eq!(e.code, "ValidationException");
        assert!(e.message.contains("lambda:invoke"), "{}", e.message);
    }

    #[test]
    fn retry_then_catch() {
        let def = json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
            "Retry": [{"ErrorEquals": ["E"], "IntervalSeconds": 2, "MaxAttempts": 2, "BackoffRate": 3}],
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "H", "ResultPath": "$.err"}], "End": true});
        let mut r = req(def, json!({"k": 1}), InspectionLevel::Debug);
        r.mock = Some(Mock {
            error_output: Some(MockError {
                error: Some("E".into()),
                cause: Some("C".into()),
            }),
            ..Default::default()
        });
        r.state_configuration = Some(StateConfiguration {
            retrier_retry_count: Some(1),
            ..Default::default()
        });
        let a = test_state(&r).unwrap();
        assert_eq!(a.status, TestStatus::Retriable);
        let d = a.inspection_data.unwrap().error_details.unwrap();
        assert_eq!(d.retry_backoff_interval_seconds, Some(6));
        r.state_configuration = Some(StateConfiguration {
            retrier_retry_count: Some(2),
            ..Default::default()
        });
        let a = test_state(&r).unwrap();
        assert_eq!(a.status, TestStatus::CaughtError);
        assert_eq!(a.next_state.as_deref(), Some("H"));
        assert_eq!(
            a.output,
            Some(json!({"k": 1, "err": {"Error": "E", "Cause": "C"}}))
        );
    }

    #[test]
    fn state_name_must_exist() {
        let mut r = req(
            json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}),
            json!({}),
            InspectionLevel::Info,
        );
        r.state_name = Some("B".into());
        assert_eq!(
            test_state(&r).unwrap_err().message,
            "State not found in definition"
        );
        r.state_name = Some("A".into());
        assert_eq!(test_state(&r).unwrap().status, TestStatus::Succeeded);
    }

    #[test]
    fn context_members_are_checked() {
        let mut r = req(
            json!({"Type": "Pass", "End": true}),
            json!({}),
            InspectionLevel::Info,
        );
        r.context = Some(r#"{"Execution": {"Id": 1}}"#.into());
        assert_eq!(
            test_state(&r).unwrap_err().message,
            "Invalid Context object provided: Execution.Id must be a string"
        );
    }

    #[test]
    fn invalid_json_answers_errors_not_panics() {
        let mut r = req(
            json!({"Type": "Pass", "End": true}),
            json!({}),
            InspectionLevel::Info,
        );
        r.input = Some("{".into());
        assert_eq!(test_state(&r).unwrap_err().code, "InvalidExecutionInput");
        r.input = None;
        r.definition = "not json".into();
        assert_eq!(test_state(&r).unwrap_err().code, "InvalidDefinition");
    }
}
