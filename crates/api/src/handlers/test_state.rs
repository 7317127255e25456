//! TestState: reads the request with the model's constraints, then hands it to
//! `stepwise_engine::test_state` (no service integrations: a Task needs a mock).

use super::member_string;
use crate::error::ApiError;
use crate::input::Input;
use crate::service::Service;
use serde_json::{Map, Value};
use stepwise_engine::test_state::{
    test_state, FieldValidationMode, InspectionLevel, Mock, MockError, StateConfiguration,
    TestStateRequest,
};

/// `Definition`: at most 1 MiB.
const DEFINITION_MAX: usize = 1_048_576;
/// `SensitiveData` (input, variables, context, mock result): at most 256 KiB.
const DATA_MAX: usize = 262_144;

pub fn test(svc: &Service, mut input: Input) -> Result<Value, ApiError> {
    let definition = input.string("definition", true, (1, DEFINITION_MAX), true)?;
    let role_arn = input.string("roleArn", false, (1, 256), false)?;
    let data = input.string("input", false, (0, DATA_MAX), true)?;
    let level = input.enumeration("inspectionLevel", &["INFO", "DEBUG", "TRACE"])?;
    let reveal = input.boolean("revealSecrets")?;
    let variables = input.string("variables", false, (0, DATA_MAX), true)?;
    let state_name = input.string("stateName", false, (1, 80), true)?;
    let mock = input.object("mock")?;
    let context = input.string("context", false, (0, DATA_MAX), true)?;
    let config = input.object("stateConfiguration")?;
    let mock = mock.map(|m| read_mock(&mut input, &m)).transpose()?;
    let config = config.map(|c| read_config(&mut input, &c)).transpose()?;
    input.finish()?;

    let req = TestStateRequest {
        definition: definition.unwrap_or_default(),
        role_arn,
        input: data,
        inspection_level: level
            .as_deref()
            .and_then(InspectionLevel::parse)
            .unwrap_or_default(),
        reveal_secrets: reveal.unwrap_or(false),
        variables,
        state_name,
        mock,
        context,
        state_configuration: config,
        region: svc.config.region.clone(),
        account: svc.config.account_id.clone(),
    };
    match test_state(&req) {
        Ok(answer) => Ok(answer.to_json()),
        Err(e) => Err(ApiError::new(e.code, e.message, 400)),
    }
}

fn read_mock(input: &mut Input, m: &Map<String, Value>) -> Result<Mock, ApiError> {
    let result = member_string(m, "result")?;
    if result
        .as_ref()
        .is_some_and(|r| r.chars().count() > DATA_MAX)
    {
        input.push_violation(
            None,
            "mock.result",
            &format!("have length less than or equal to {DATA_MAX}"),
        );
    }
    let error_output = match m.get("errorOutput") {
        None | Some(Value::Null) => None,
        Some(Value::Object(e)) => Some(MockError {
            error: member_string(e, "error")?,
            cause: member_string(e, "cause")?,
        }),
        Some(_) => {
            return Err(ApiError::serialization(
                "Unexpected token where a Structure was expected for mock.errorOutput",
            ))
        }
    };
    let mode = member_string(m, "fieldValidationMode")?;
    let field_validation_mode = match mode.as_deref() {
        None => FieldValidationMode::default(),
        Some(s) => match FieldValidationMode::parse(s) {
            Some(v) => v,
            None => {
                input.push_violation(
                    Some(s),
                    "mock.fieldValidationMode",
                    "satisfy enum value set: [STRICT, PRESENT, NONE]",
                );
                FieldValidationMode::default()
            }
        },
    };
    Ok(Mock {
        result,
        error_output,
        field_validation_mode,
    })
}

fn count(input: &mut Input, c: &Map<String, Value>, name: &str) -> Result<Option<u64>, ApiError> {
    match c.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(i) if i >= 0 => Ok(Some(i as u64)),
            _ => {
                input.push_violation(
                    Some(&n.to_string()),
                    &format!("stateConfiguration.{name}"),
                    "have value greater than or equal to 0",
                );
                Ok(None)
            }
        },
        Some(_) => Err(ApiError::serialization(format!(
            "Expected a number for stateConfiguration.{name}"
        ))),
    }
}

fn read_config(input: &mut Input, c: &Map<String, Value>) -> Result<StateConfiguration, ApiError> {
    Ok(StateConfiguration {
        retrier_retry_count: count(input, c, "retrierRetryCount")?,
        error_caused_by_state: member_string(c, "errorCausedByState")?,
        map_iteration_failure_count: count(input, c, "mapIterationFailureCount")?,
        map_item_reader_data: member_string(c, "mapItemReaderData")?,
    })
}

#[cfg(test)]
mod tests {
    use crate::actions::dispatch;
    use crate::service::Service;
    use serde_json::{json, Value};

    fn call(body: Value) -> Result<Value, crate::error::ApiError> {
        let svc = Service::in_memory(crate::Config::default()).expect("service");
        dispatch("TestState", body.to_string().as_bytes(), &svc)
    }

    #[test]
    fn pass_state_answers_with_inspection_data() {
        let out = call(json!({
            "definition": r#"{"Type":"Pass","Result":{"x":1},"End":true}"#,
            "input": "{}",
            "inspectionLevel": "DEBUG"
        }))
        .expect("answer");
        assert_eq!(out["status"], "SUCCEEDED");
        assert_eq!(out["output"], r#"{"x":1}"#);
        assert_eq!(out["inspectionData"]["result"], r#"{"x":1}"#);
    }

    #[test]
    fn mocked_task_is_caught() {
        let out = call(json!({
            "definition": r#"{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Catch":[{"ErrorEquals":["States.ALL"],"Next":"H"}],"End":true}"#,
            "mock": {"errorOutput": {"error": "E", "cause": "C"}}
        }))
        .expect("answer");
        assert_eq!(out["status"], "CAUGHT_ERROR");
        assert_eq!(out["nextState"], "H");
    }

    #[test]
    fn errors_are_api_errors() {
        let e = call(json!({"definition": "{\"Type\":\"Parallel\",\"Branches\":[],\"End\":true}"}))
            .unwrap_err();
        assert_eq!(e.code, "InvalidDefinition");
        let e = call(json!({})).unwrap_err();
        assert_eq!(e.code, "ValidationException");
        let e = call(
            json!({"definition": "{\"Type\":\"Pass\",\"End\":true}", "inspectionLevel": "ALL"}),
        )
        .unwrap_err();
        assert_eq!(e.code, "ValidationException");
    }
}
