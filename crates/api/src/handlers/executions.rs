//! Executions: StartExecution, StartSyncExecution, StopExecution, RedriveExecution (through
//! the runtime), and
//! DescribeExecution, ListExecutions, GetExecutionHistory, DescribeStateMachineForExecution
//! (read straight from the store, where the runtime keeps Standard executions and their
//! history).

use super::aliases::pick_version;
use super::machines::{does_not_exist, get_machine, parse_machine_arn};
use super::{or_not_found, page_request, with_token};
use crate::arn::{self, Arn, Resource};
use crate::error::ApiError;
use crate::input::Input;
use crate::service::{now_ms, store_failure, ts, Service};
use serde_json::{json, Map, Value};
use stepwise_engine::runtime::{
    redrivable, ParentLink, RuntimeError, StartRequest, StartedExecution,
};
use stepwise_store::{
    ExecutionFilter, ExecutionRecord, ExecutionStatus, HistoryEventRow, StateMachineRecord,
    StateMachineType,
};

/// `SensitiveData`: execution input and output, at most 256 KiB.
pub const DATA_MAX: usize = 262_144;

/// The order AWS lists ExecutionStatus in its validation message (recorded).
const STATUS_ENUM: [&str; 6] = [
    "SUCCEEDED",
    "TIMED_OUT",
    "PENDING_REDRIVE",
    "ABORTED",
    "FAILED",
    "RUNNING",
];

pub fn does_not_exist_execution(arn: &str) -> ApiError {
    ApiError::new(
        "ExecutionDoesNotExist",
        format!("Execution Does Not Exist: '{arn}'"),
        400,
    )
}

pub(crate) fn runtime_error(e: RuntimeError) -> ApiError {
    match e {
        RuntimeError::ExecutionAlreadyExists(arn) => ApiError::new(
            "ExecutionAlreadyExists",
            format!("Execution Already Exists: '{arn}'"),
            400,
        ),
        RuntimeError::ExecutionDoesNotExist(arn) => does_not_exist_execution(&arn),
        RuntimeError::InvalidDefinition(text) => ApiError::new(
            "InvalidDefinition",
            format!("Invalid State Machine Definition: '{text}'"),
            400,
        ),
        RuntimeError::NotRedrivable(reason) => ApiError::new("ExecutionNotRedrivable", reason, 400),
        RuntimeError::MapRunDoesNotExist(arn) => ApiError::new(
            "ResourceNotFound",
            format!("Resource not found: '{arn}'"),
            400,
        ),
        RuntimeError::Store(e) => store_failure(e),
        RuntimeError::Internal(text) => {
            tracing::error!(error = %text, "runtime failure");
            ApiError::internal()
        }
    }
}

/// What StartExecution/StartSyncExecution have in common: reading and checking the request
/// and resolving the state machine, version or alias it names.
fn start_request(input: &mut Input) -> Result<StartRequest, ApiError> {
    let arn_text = input.string("stateMachineArn", true, (1, 256), false)?;
    let name = input.string("name", false, (1, 80), false)?;
    let data = input.string("input", false, (0, DATA_MAX), true)?;
    let trace = input.string("traceHeader", false, (0, 256), false)?;
    if let Some(t) = &trace {
        input.check_pattern("traceHeader", t, t.is_ascii(), r"\p{ASCII}*");
    }
    Ok(StartRequest {
        state_machine: placeholder(arn_text.unwrap_or_default()),
        version_arn: None,
        alias_arn: None,
        name: name.unwrap_or_default(),
        input: data.unwrap_or_else(|| "{}".into()),
        trace_header: trace,
        test_case: None,
        parent: None,
    })
}

/// Carries the requested ARN until [`resolve`] replaces it with the real record.
fn placeholder(arn: String) -> StateMachineRecord {
    StateMachineRecord {
        arn,
        name: String::new(),
        kind: StateMachineType::Standard,
        definition: String::new(),
        role_arn: String::new(),
        creation_date: 0,
        revision_id: String::new(),
        status: String::new(),
        description: None,
        label: None,
        logging_configuration: None,
        tracing_configuration: None,
        encryption_configuration: None,
    }
}

/// Checks name and input, then resolves the ARN: a version runs its own definition and role,
/// an alias one of its versions picked by weight.
fn resolve(svc: &Service, mut req: StartRequest) -> Result<StartRequest, ApiError> {
    // Step Functions Local's `stateMachineArn#TestCaseName` selects a mock test case.
    let (arn_text, test_case) = split_test_case(&req.state_machine.arn);
    let arn = parse_machine_arn(&arn_text)?;
    if req.name.is_empty() {
        req.name = uuid::Uuid::new_v4().to_string();
    } else if !arn::valid_name(&req.name) {
        return Err(arn::invalid_name(&req.name));
    }
    if let Err(e) = serde_json::from_str::<Value>(&req.input) {
        return Err(ApiError::new(
            "InvalidExecutionInput",
            format!("Invalid State Machine Execution Input: '{e}'"),
            400,
        ));
    }
    let base = arn.state_machine_arn().unwrap_or_default();
    let version_arn = match &arn.resource {
        Resource::Version { .. } => Some(arn_text.clone()),
        Resource::Alias { .. } => {
            let alias = svc
                .store
                .get_alias(&arn_text)
                .map_err(|e| or_not_found(e, || does_not_exist(&arn_text)))?;
            let roll = rand::random::<u32>() % 100;
            let v = pick_version(&alias.routing, roll).ok_or_else(|| does_not_exist(&arn_text))?;
            req.alias_arn = Some(arn_text.clone());
            Some(v.version_arn.clone())
        }
        _ => None,
    };
    let mut sm = get_machine(svc, &base)?;
    if let Some(v) = &version_arn {
        let version = svc
            .store
            .get_version(v)
            .map_err(|e| or_not_found(e, || does_not_exist(v)))?;
        sm.definition = version.definition;
        sm.role_arn = version.role_arn;
        sm.revision_id = version.revision_id;
    }
    if let Some(tc) = &test_case {
        check_test_case(svc, &sm.name, tc)?;
    }
    req.test_case = test_case;
    req.version_arn = version_arn;
    req.state_machine = sm;
    Ok(req)
}

fn split_test_case(arn: &str) -> (String, Option<String>) {
    match arn.split_once('#') {
        Some((base, tc)) if !tc.is_empty() => (base.to_string(), Some(tc.to_string())),
        _ => (arn.to_string(), None),
    }
}

/// An unknown test case is refused before the execution exists. Step Functions Local answers
/// a 400 naming the test case; we answer `ValidationException` (the AWS error for a request
/// that names something the server cannot use) with the mock config's own explanation.
fn check_test_case(svc: &Service, sm_name: &str, test_case: &str) -> Result<(), ApiError> {
    let reason = match &svc.mocks {
        None => format!(
            "test case '{test_case}' was requested but no mock config is loaded (--mock-config FILE / SFN_MOCK_CONFIG)"
        ),
        Some(m) => match m.check_test_case(sm_name, test_case) {
            Ok(()) => return Ok(()),
            Err(e) => e.to_string(),
        },
    };
    Err(ApiError::new(
        "ValidationException",
        format!("Invalid test case '{test_case}': {reason}"),
        400,
    ))
}

/// The input member AWS reads to link a nested execution to the execution that started it.
pub const STARTED_BY: &str = "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID";

pub fn start(svc: &Service, input: Input) -> Result<Value, ApiError> {
    let started = start_linked(svc, input, None)?;
    Ok(json!({"executionArn": started.execution_arn, "startDate": ts(started.start_date)}))
}

/// StartExecution, from a client or from a Task (`parent`: the calling execution and, for
/// `.sync`, the task token it waits on). An input naming an execution in
/// `AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID` links the new one to it, as AWS does.
pub fn start_linked(
    svc: &Service,
    mut input: Input,
    parent: Option<ParentLink>,
) -> Result<StartedExecution, ApiError> {
    let req = start_request(&mut input)?;
    input.finish()?;
    let mut req = resolve(svc, req)?;
    req.parent = parent.or_else(|| {
        let data: Value = serde_json::from_str(&req.input).ok()?;
        let by = data.get(STARTED_BY)?.as_str()?;
        by.contains(":execution:").then(|| ParentLink {
            execution_arn: by.to_string(),
            task: None,
        })
    });
    svc.runtime.start_execution(req).map_err(runtime_error)
}

pub fn start_sync(svc: &Service, mut input: Input) -> Result<Value, ApiError> {
    let req = start_request(&mut input)?;
    let included = input.enumeration("includedData", &["ALL_DATA", "METADATA_ONLY"])?;
    input.finish()?;
    let req = resolve(svc, req)?;
    if req.state_machine.kind != StateMachineType::Express {
        return Err(ApiError::new(
            "StateMachineTypeNotSupported",
            "This operation is not supported by this type of state machine",
            400,
        ));
    }
    let trace = req.trace_header.clone();
    let r = svc
        .runtime
        .start_sync_execution(req)
        .map_err(runtime_error)?;
    let with_data = included.as_deref() != Some("METADATA_ONLY");
    let mut out = Map::new();
    out.insert("executionArn".into(), Value::from(r.execution_arn));
    out.insert("stateMachineArn".into(), Value::from(r.state_machine_arn));
    out.insert("name".into(), Value::from(r.name));
    out.insert("startDate".into(), ts(r.start_date));
    out.insert("stopDate".into(), ts(r.stop_date));
    out.insert("status".into(), Value::from(r.status));
    if let Some(e) = r.error {
        out.insert("error".into(), Value::from(e));
    }
    if let Some(c) = r.cause {
        out.insert("cause".into(), Value::from(c));
    }
    if with_data {
        out.insert("input".into(), Value::from(r.input));
    }
    out.insert("inputDetails".into(), json!({ "included": with_data }));
    if let Some(o) = r.output {
        if with_data {
            out.insert("output".into(), Value::from(o));
        }
        out.insert("outputDetails".into(), json!({ "included": with_data }));
    }
    if let Some(t) = trace {
        out.insert("traceHeader".into(), Value::from(t));
    }
    out.insert(
        "billingDetails".into(),
        json!({"billedMemoryUsedInMB": r.billed_memory_mb,
               "billedDurationInMilliseconds": r.billed_duration_ms}),
    );
    Ok(Value::Object(out))
}

/// An execution ARN of a Standard execution, looked up.
fn get_execution(svc: &Service, text: &str) -> Result<ExecutionRecord, ApiError> {
    let arn = Arn::parse(text)?;
    match arn.resource {
        Resource::Execution { .. } => {}
        // Express executions are not kept: AWS cannot describe them either.
        Resource::Express { .. } => return Err(does_not_exist_execution(text)),
        _ => return Err(arn::wrong_type(&arn)),
    }
    svc.store
        .get_execution(text)
        .map_err(|e| or_not_found(e, || does_not_exist_execution(text)))
}

pub fn stop(svc: &Service, mut input: Input) -> Result<Value, ApiError> {
    let arn = input.string("executionArn", true, (1, 256), false)?;
    let error = input.string("error", false, (0, 256), true)?;
    let cause = input.string("cause", false, (0, 32768), true)?;
    input.finish()?;
    let arn = arn.unwrap_or_default();
    get_execution(svc, &arn)?;
    let stop = svc
        .runtime
        .stop_execution(&arn, error, cause)
        .map_err(runtime_error)?;
    Ok(json!({ "stopDate": ts(stop) }))
}

pub fn describe(svc: &Service, mut input: Input) -> Result<Value, ApiError> {
    let arn = input.string("executionArn", true, (1, 256), false)?;
    let included = input.enumeration("includedData", &["ALL_DATA", "METADATA_ONLY"])?;
    input.finish()?;
    let e = get_execution(svc, &arn.unwrap_or_default())?;
    let with_data = included.as_deref() != Some("METADATA_ONLY");
    let mut out = Map::new();
    out.insert("executionArn".into(), Value::from(e.arn.clone()));
    out.insert(
        "stateMachineArn".into(),
        Value::from(e.state_machine_arn.clone()),
    );
    out.insert("name".into(), Value::from(e.name.clone()));
    out.insert("status".into(), Value::from(e.status.as_str()));
    out.insert("startDate".into(), ts(e.start_date));
    if let Some(s) = e.stop_date {
        out.insert("stopDate".into(), ts(s));
    }
    if with_data {
        out.insert("input".into(), Value::from(e.input.clone()));
    }
    out.insert("inputDetails".into(), json!({ "included": with_data }));
    if let Some(o) = &e.output {
        if with_data {
            out.insert("output".into(), Value::from(o.clone()));
        }
        out.insert("outputDetails".into(), json!({ "included": with_data }));
    }
    if let Some(x) = &e.error {
        out.insert("error".into(), Value::from(x.clone()));
    }
    if let Some(c) = &e.cause {
        out.insert("cause".into(), Value::from(c.clone()));
    }
    if let Some(v) = &e.version_arn {
        out.insert("stateMachineVersionArn".into(), Value::from(v.clone()));
    }
    if let Some(a) = &e.alias_arn {
        out.insert("stateMachineAliasArn".into(), Value::from(a.clone()));
    }
    if let Some(p) = e.parent_arn.as_deref().filter(|p| p.contains(":mapRun:")) {
        out.insert("mapRunArn".into(), Value::from(p));
    }
    out.insert("redriveCount".into(), Value::from(e.redrive_count));
    if let Some(d) = e.redrive_date {
        out.insert("redriveDate".into(), ts(d));
    }
    let map_child = e
        .parent_arn
        .as_deref()
        .is_some_and(|p| p.contains(":mapRun:"));
    match redrivable(&e, now_ms()) {
        Ok(()) => {
            out.insert("redriveStatus".into(), Value::from("REDRIVABLE"));
        }
        // A distributed Map's child is run again by redriving its parent execution.
        Err(_)
            if map_child
                && matches!(
                    e.status,
                    ExecutionStatus::Failed | ExecutionStatus::TimedOut | ExecutionStatus::Aborted
                ) =>
        {
            out.insert("redriveStatus".into(), Value::from("REDRIVABLE_BY_MAP_RUN"));
        }
        Err(reason) => {
            out.insert("redriveStatus".into(), Value::from("NOT_REDRIVABLE"));
            out.insert("redriveStatusReason".into(), Value::from(reason));
        }
    }
    Ok(Value::Object(out))
}

/// RedriveExecution: a FAILED, TIMED_OUT or ABORTED Standard execution continues from its
/// unsuccessful state(s); `clientToken` is accepted (a repeat of a redrive that already
/// started is refused as the execution is RUNNING again).
pub fn redrive(svc: &Service, mut input: Input) -> Result<Value, ApiError> {
    let arn = input.string("executionArn", true, (1, 256), false)?;
    let token = input.string("clientToken", false, (1, 64), false)?;
    if let Some(t) = &token {
        let ok = t.bytes().all(|b| (b'!'..=b'~').contains(&b));
        input.check_pattern("clientToken", t, ok, "[!-~]+");
    }
    input.finish()?;
    let arn = arn.unwrap_or_default();
    get_execution(svc, &arn)?;
    let date = svc.runtime.redrive_execution(&arn).map_err(runtime_error)?;
    Ok(json!({ "redriveDate": ts(date) }))
}

pub fn list(svc: &Service, mut input: Input) -> Result<Value, ApiError> {
    let sm_arn = input.string("stateMachineArn", false, (1, 256), false)?;
    let status = input.enumeration("statusFilter", &STATUS_ENUM)?;
    let page = page_request(&mut input, 3096)?;
    let map_run = input.string("mapRunArn", false, (1, 2000), false)?;
    let redrive = input.enumeration("redriveFilter", &["REDRIVEN", "NOT_REDRIVEN"])?;
    input.finish()?;
    let mut filter = ExecutionFilter {
        status: status.as_deref().and_then(ExecutionStatus::parse),
        redriven: redrive.as_deref().map(|r| r == "REDRIVEN"),
        ..Default::default()
    };
    match (sm_arn, map_run) {
        (Some(_), Some(_)) => {
            return Err(ApiError::validation(
                "Only one of stateMachineArn and mapRunArn may be given",
            ))
        }
        (None, None) => {
            return Err(ApiError::validation(
                "Must provide a StateMachine ARN or MapRun ARN",
            ))
        }
        (Some(text), None) => {
            let arn = parse_machine_arn(&text)?;
            let base = arn.state_machine_arn().unwrap_or_default();
            let sm = get_machine(svc, &base)?;
            match arn.resource {
                Resource::Version { .. } => {
                    svc.store
                        .get_version(&text)
                        .map_err(|e| or_not_found(e, || does_not_exist(&text)))?;
                }
                Resource::Alias { .. } => {
                    svc.store
                        .get_alias(&text)
                        .map_err(|e| or_not_found(e, || does_not_exist(&text)))?;
                }
                _ => {}
            }
            if sm.kind == StateMachineType::Express {
                return Err(ApiError::new(
                    "StateMachineTypeNotSupported",
                    "This operation is not supported by this type of state machine",
                    400,
                ));
            }
            filter.state_machine_arn = Some(text);
        }
        (None, Some(run)) => {
            let arn = Arn::parse(&run)?;
            if !matches!(arn.resource, Resource::MapRun) {
                return Err(arn::wrong_type(&arn));
            }
            filter.parent_arn = Some(run);
        }
    }
    let p = svc
        .store
        .list_executions(&filter, &page)
        .map_err(store_failure)?;
    let items: Vec<Value> = p.items.iter().map(list_item).collect();
    let mut out = Map::new();
    out.insert("executions".into(), Value::Array(items));
    Ok(with_token(out, p.next_token))
}

fn list_item(e: &ExecutionRecord) -> Value {
    let mut m = Map::new();
    m.insert("executionArn".into(), Value::from(e.arn.clone()));
    m.insert(
        "stateMachineArn".into(),
        Value::from(e.state_machine_arn.clone()),
    );
    m.insert("name".into(), Value::from(e.name.clone()));
    m.insert("status".into(), Value::from(e.status.as_str()));
    m.insert("startDate".into(), ts(e.start_date));
    if let Some(s) = e.stop_date {
        m.insert("stopDate".into(), ts(s));
    }
    if let Some(v) = &e.version_arn {
        m.insert("stateMachineVersionArn".into(), Value::from(v.clone()));
    }
    if let Some(a) = &e.alias_arn {
        m.insert("stateMachineAliasArn".into(), Value::from(a.clone()));
    }
    if let Some(p) = e.parent_arn.as_deref().filter(|p| p.contains(":mapRun:")) {
        m.insert("mapRunArn".into(), Value::from(p));
    }
    m.insert("redriveCount".into(), Value::from(e.redrive_count));
    if let Some(d) = e.redrive_date {
        m.insert("redriveDate".into(), ts(d));
    }
    Value::Object(m)
}

/// The member holding an event's details: `stateEnteredEventDetails` for every
/// `…StateEntered`, `stateExitedEventDetails` for `…StateExited`, else the type in lower
/// camel case + `EventDetails` (`executionStartedEventDetails`, `taskScheduledEventDetails`).
pub fn details_member(kind: &str) -> String {
    if kind.ends_with("StateEntered") {
        return "stateEnteredEventDetails".into();
    }
    if kind.ends_with("StateExited") {
        return "stateExitedEventDetails".into();
    }
    let mut chars = kind.chars();
    let mut out = String::with_capacity(kind.len() + 12);
    if let Some(first) = chars.next() {
        out.extend(first.to_lowercase());
    }
    out.extend(chars);
    out.push_str("EventDetails");
    out
}

/// Members that carry execution data, left out when `includeExecutionData` is false.
const DATA_MEMBERS: [&str; 6] = [
    "input",
    "inputDetails",
    "output",
    "outputDetails",
    "assignedVariables",
    "assignedVariablesDetails",
];

fn event_json(row: &HistoryEventRow, with_data: bool) -> Value {
    let mut m = Map::new();
    m.insert("timestamp".into(), ts(row.timestamp));
    m.insert("type".into(), Value::from(row.kind.clone()));
    m.insert("id".into(), Value::from(row.id));
    m.insert("previousEventId".into(), Value::from(row.previous_event_id));
    if let Some(text) = &row.details {
        let mut details: Value =
            serde_json::from_str(text).unwrap_or_else(|_| Value::from(text.clone()));
        if !with_data {
            if let Value::Object(d) = &mut details {
                for k in DATA_MEMBERS {
                    d.remove(k);
                }
            }
        }
        m.insert(details_member(&row.kind), details);
    }
    Value::Object(m)
}

pub fn history(svc: &Service, mut input: Input) -> Result<Value, ApiError> {
    let arn = input.string("executionArn", true, (1, 256), false)?;
    let page = page_request(&mut input, 1024)?;
    let reverse = input.boolean("reverseOrder")?.unwrap_or(false);
    let with_data = input.boolean("includeExecutionData")?.unwrap_or(true);
    input.finish()?;
    let e = get_execution(svc, &arn.unwrap_or_default())?;
    let p = svc
        .store
        .read_events(&e.arn, &page, reverse)
        .map_err(store_failure)?;
    let events: Vec<Value> = p.items.iter().map(|r| event_json(r, with_data)).collect();
    let mut out = Map::new();
    out.insert("events".into(), Value::Array(events));
    Ok(with_token(out, p.next_token))
}

pub fn describe_state_machine_for(svc: &Service, mut input: Input) -> Result<Value, ApiError> {
    let arn = input.string("executionArn", true, (1, 256), false)?;
    input.enumeration("includedData", &["ALL_DATA", "METADATA_ONLY"])?;
    input.finish()?;
    let e = get_execution(svc, &arn.unwrap_or_default())?;
    super::machines::describe_for_execution(svc, &e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_members_follow_the_model() {
        assert_eq!(
            details_member("PassStateEntered"),
            "stateEnteredEventDetails"
        );
        assert_eq!(details_member("WaitStateExited"), "stateExitedEventDetails");
        assert_eq!(
            details_member("ExecutionStarted"),
            "executionStartedEventDetails"
        );
        assert_eq!(
            details_member("MapIterationStarted"),
            "mapIterationStartedEventDetails"
        );
        assert_eq!(details_member("TaskScheduled"), "taskScheduledEventDetails");
    }
}
