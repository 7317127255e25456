//! The dispatch table: every operation of the Step Functions service model
//! (`stepfunctions/2016-11-23`, 37 actions) and how Stepwise answers it today.

use crate::error::ApiError;
use crate::input::Input;
use crate::service::Service;
use serde_json::{json, Map, Value};
use stepwise_asl::diagnostic::Severity;
use stepwise_asl::validate::{validate_text, MachineType, ValidateOptions};

/// Whether an action is served for real.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Support {
    Implemented,
    /// Answered with `NotImplemented` (HTTP 501): never a made-up result.
    NotYetImplemented,
}

/// All operations of the service model, in the model's order.
pub const ACTIONS: [(&str, Support); 37] = {
    use Support::Implemented as I;
    [
        ("CreateActivity", I),
        ("CreateStateMachine", I),
        ("CreateStateMachineAlias", I),
        ("DeleteActivity", I),
        ("DeleteStateMachine", I),
        ("DeleteStateMachineAlias", I),
        ("DeleteStateMachineVersion", I),
        ("DescribeActivity", I),
        ("DescribeExecution", I),
        ("DescribeMapRun", I),
        ("DescribeStateMachine", I),
        ("DescribeStateMachineAlias", I),
        ("DescribeStateMachineForExecution", I),
        ("GetActivityTask", I),
        ("GetExecutionHistory", I),
        ("ListActivities", I),
        ("ListExecutions", I),
        ("ListMapRuns", I),
        ("ListStateMachineAliases", I),
        ("ListStateMachineVersions", I),
        ("ListStateMachines", I),
        ("ListTagsForResource", I),
        ("PublishStateMachineVersion", I),
        ("RedriveExecution", I),
        ("SendTaskFailure", I),
        ("SendTaskHeartbeat", I),
        ("SendTaskSuccess", I),
        ("StartExecution", I),
        ("StartSyncExecution", I),
        ("StopExecution", I),
        ("TagResource", I),
        ("TestState", I),
        ("UntagResource", I),
        ("UpdateMapRun", I),
        ("UpdateStateMachine", I),
        ("UpdateStateMachineAlias", I),
        ("ValidateStateMachineDefinition", I),
    ]
};

/// How Stepwise supports `action`, or `None` when the service has no such operation.
pub fn support(action: &str) -> Option<Support> {
    ACTIONS.iter().find(|(n, _)| *n == action).map(|(_, s)| *s)
}

/// Runs one action on a request body; the answer is the JSON output structure.
pub fn dispatch(action: &str, body: &[u8], svc: &Service) -> Result<Value, ApiError> {
    use crate::handlers::{activities, aliases, executions, machines, map_runs, tags};
    match support(action) {
        None => Err(ApiError::unknown_operation(format!(
            "Operation {action} is not supported by AWSStepFunctions"
        ))),
        Some(Support::NotYetImplemented) => {
            // Still parse the body, so a malformed request gets the error AWS would give first.
            Input::parse(body)?;
            Err(ApiError::not_implemented(action))
        }
        // Reads its float member from the body itself.
        Some(Support::Implemented) if action == "UpdateMapRun" => map_runs::update(svc, body),
        Some(Support::Implemented) => {
            let input = Input::parse(body)?;
            match action {
                "ValidateStateMachineDefinition" => validate_state_machine_definition(input),
                "CreateStateMachine" => machines::create(svc, input),
                "DescribeStateMachine" => machines::describe(svc, input),
                "UpdateStateMachine" => machines::update(svc, input),
                "DeleteStateMachine" => machines::delete(svc, input),
                "ListStateMachines" => machines::list(svc, input),
                "PublishStateMachineVersion" => machines::publish_version(svc, input),
                "ListStateMachineVersions" => machines::list_versions(svc, input),
                "DeleteStateMachineVersion" => machines::delete_version(svc, input),
                "CreateStateMachineAlias" => aliases::create(svc, input),
                "DescribeStateMachineAlias" => aliases::describe(svc, input),
                "UpdateStateMachineAlias" => aliases::update(svc, input),
                "DeleteStateMachineAlias" => aliases::delete(svc, input),
                "ListStateMachineAliases" => aliases::list(svc, input),
                "TagResource" => tags::tag(svc, input),
                "UntagResource" => tags::untag(svc, input),
                "ListTagsForResource" => tags::list(svc, input),
                "CreateActivity" => activities::create(svc, input),
                "DescribeActivity" => activities::describe(svc, input),
                "DeleteActivity" => activities::delete(svc, input),
                "ListActivities" => activities::list(svc, input),
                "GetActivityTask" => activities::get_task(svc, input),
                "SendTaskSuccess" => activities::send_success(svc, input),
                "SendTaskFailure" => activities::send_failure(svc, input),
                "SendTaskHeartbeat" => activities::send_heartbeat(svc, input),
                "StartExecution" => executions::start(svc, input),
                "StartSyncExecution" => executions::start_sync(svc, input),
                "StopExecution" => executions::stop(svc, input),
                "DescribeExecution" => executions::describe(svc, input),
                "ListExecutions" => executions::list(svc, input),
                "GetExecutionHistory" => executions::history(svc, input),
                "RedriveExecution" => executions::redrive(svc, input),
                "DescribeMapRun" => map_runs::describe(svc, input),
                "ListMapRuns" => map_runs::list(svc, input),
                "TestState" => crate::handlers::test_state::test(svc, input),
                "DescribeStateMachineForExecution" => {
                    executions::describe_state_machine_for(svc, input)
                }
                _ => Err(ApiError::internal()),
            }
        }
    }
}

/// Largest definition the model allows (`Definition`: max 1048576).
const DEFINITION_MAX: usize = 1_048_576;
/// `ValidateStateMachineDefinitionMaxResult`: 0..=100, where 0 means the default 100.
const MAX_RESULTS: i64 = 100;

/// ValidateStateMachineDefinition: `result` is FAIL when any ERROR diagnostic exists (whatever
/// the `severity` filter hides); `severity` is the minimum level returned (ERROR, the default,
/// returns errors only; WARNING returns both); `maxResults` cuts the list and sets `truncated`.
fn validate_state_machine_definition(mut input: Input) -> Result<Value, ApiError> {
    let definition = input.string("definition", true, (1, DEFINITION_MAX), true)?;
    let machine_type = input.enumeration("type", &["STANDARD", "EXPRESS"])?;
    let severity = input.enumeration("severity", &["ERROR", "WARNING"])?;
    let max_results = input.integer("maxResults", (0, MAX_RESULTS))?;
    input.finish()?;
    let definition = definition.unwrap_or_default();

    let opts = ValidateOptions {
        machine_type: match machine_type.as_deref() {
            Some("EXPRESS") => MachineType::Express,
            _ => MachineType::Standard,
        },
    };
    let diags = validate_text(&definition, &opts);
    let failed = diags.iter().any(|d| d.severity == Severity::Error);
    let with_warnings = severity.as_deref() == Some("WARNING");
    let shown: Vec<_> = diags
        .iter()
        .filter(|d| with_warnings || d.severity == Severity::Error)
        .collect();
    let limit = match max_results {
        None | Some(0) => MAX_RESULTS as usize,
        Some(n) => usize::try_from(n).unwrap_or(MAX_RESULTS as usize),
    };
    let truncated = shown.len() > limit;
    let list: Vec<Value> = shown
        .into_iter()
        .take(limit)
        .map(|d| {
            let mut m = Map::new();
            m.insert(
                "severity".into(),
                Value::from(match d.severity {
                    Severity::Error => "ERROR",
                    Severity::Warning => "WARNING",
                }),
            );
            m.insert("code".into(), Value::from(d.code.clone()));
            m.insert("message".into(), Value::from(d.message.clone()));
            // AWS leaves `location` out when it has none (e.g. a definition that is no object).
            if !d.location.is_empty() {
                m.insert("location".into(), Value::from(d.location.clone()));
            }
            Value::Object(m)
        })
        .collect();
    Ok(json!({
        "result": if failed { "FAIL" } else { "OK" },
        "diagnostics": list,
        "truncated": truncated,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(action: &str, body: Value) -> Result<Value, ApiError> {
        let svc = Service::in_memory(crate::Config::default()).expect("service");
        dispatch(action, body.to_string().as_bytes(), &svc)
    }

    const GOOD: &str = r#"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}"#;

    #[test]
    fn table_has_37_distinct_actions_in_order() {
        let mut names: Vec<_> = ACTIONS.iter().map(|(n, _)| *n).collect();
        let sorted = {
            let mut s = names.clone();
            s.sort_unstable();
            s
        };
        assert_eq!(names, sorted);
        names.dedup();
        assert_eq!(names.len(), 37);
    }

    #[test]
    fn valid_definition_is_ok() {
        let out = call(
            "ValidateStateMachineDefinition",
            json!({"definition": GOOD}),
        )
        .unwrap();
        assert_eq!(
            out,
            json!({"result": "OK", "diagnostics": [], "truncated": false})
        );
    }

    #[test]
    fn recorded_answers() {
        // Recorded against AWS (conformance corpus, test_sfn_api_validation).
        let out = call(
            "ValidateStateMachineDefinition",
            json!({"definition": "{\"States\": {\"S\": {\"Type\": \"Pass\", \"End\": true}}}"}),
        )
        .unwrap();
        assert_eq!(
            out,
            json!({"result": "FAIL", "diagnostics": [{"severity": "ERROR",
                "code": "SCHEMA_VALIDATION_FAILED",
                "message": "These fields are required: [StartAt]", "location": "/"}],
                "truncated": false})
        );
        let out = call("ValidateStateMachineDefinition", json!({"definition": " "})).unwrap();
        assert_eq!(
            out,
            json!({"result": "FAIL", "diagnostics": [{"severity": "ERROR",
                "code": "SCHEMA_VALIDATION_FAILED",
                "message": "Definition must be a valid JSON object"}], "truncated": false})
        );
    }

    #[test]
    fn express_type_is_honoured() {
        let def = json!({"StartAt": "S", "States": {"S": {"Type": "Task",
            "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            "Parameters": {"QueueUrl": "q", "MessageBody": {"t.$": "$$.Task.Token"}}, "End": true}}})
        .to_string();
        let std = call(
            "ValidateStateMachineDefinition",
            json!({"definition": def, "type": "STANDARD"}),
        )
        .unwrap();
        assert_eq!(std["result"], "OK");
        let exp = call(
            "ValidateStateMachineDefinition",
            json!({"definition": def, "type": "EXPRESS"}),
        )
        .unwrap();
        assert_eq!(exp["result"], "FAIL");
        assert_eq!(exp["diagnostics"][0]["location"], "/States/S/Resource");
    }

    #[test]
    fn max_results_truncates() {
        let def = json!({"StartAt": "A", "States": {
            "A": {"Type": "Pass", "Next": "X"},
            "B": {"Type": "Pass", "Next": "Y"},
            "C": {"Type": "Pass", "Next": "Z"}}})
        .to_string();
        let all = call(
            "ValidateStateMachineDefinition",
            json!({"definition": def, "maxResults": 0}),
        )
        .unwrap();
        let n = all["diagnostics"].as_array().map_or(0, Vec::len);
        assert!(n >= 2, "{all}");
        assert_eq!(all["truncated"], false);
        let one = call(
            "ValidateStateMachineDefinition",
            json!({"definition": def, "maxResults": 1}),
        )
        .unwrap();
        assert_eq!(one["diagnostics"].as_array().map_or(0, Vec::len), 1);
        assert_eq!(one["truncated"], true);
        assert_eq!(one["result"], "FAIL");
    }

    #[test]
    fn input_errors() {
        let e = call("ValidateStateMachineDefinition", json!({})).unwrap_err();
        assert_eq!(e.code, "ValidationException");
        assert!(e.message.contains("Value null at 'definition'"), "{e}");
        let e = call(
            "ValidateStateMachineDefinition",
            json!({"definition": GOOD, "maxResults": 101, "severity": "INFO"}),
        )
        .unwrap_err();
        assert!(e.message.starts_with("2 validation errors detected"), "{e}");
        let e = call("ValidateStateMachineDefinition", json!({"definition": 1})).unwrap_err();
        assert_eq!(e.code, "SerializationException");
    }

    #[test]
    fn unknown_and_unimplemented() {
        let e = call("Frobnicate", json!({})).unwrap_err();
        assert_eq!(
            (e.code.as_str(), e.status),
            ("UnknownOperationException", 400)
        );
        // Whichever action is still unimplemented answers 501 (after parsing the body).
        if let Some((action, _)) = ACTIONS
            .iter()
            .find(|(_, s)| *s == Support::NotYetImplemented)
        {
            let e = call(action, json!({})).unwrap_err();
            assert_eq!((e.code.as_str(), e.status), ("NotImplemented", 501));
            let svc = Service::in_memory(crate::Config::default()).expect("service");
            let e = dispatch(action, b"{", &svc).unwrap_err();
            assert_eq!(e.code, "SerializationException");
        }
    }
}
