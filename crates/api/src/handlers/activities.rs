//! Activities, API side: CreateActivity, DescribeActivity, DeleteActivity, ListActivities,
//! and the worker side shared with callbacks: GetActivityTask (60 s long poll) and
//! SendTaskSuccess/Failure/Heartbeat, answered by the runtime's durable task tokens.

use super::{member_string, or_not_found, page_request, read_tags, with_token};
use crate::arn::{self, Arn, Resource};
use crate::error::ApiError;
use crate::input::Input;
use crate::service::{now_ms, store_failure, ts, Service};
use serde_json::{json, Map, Value};
use std::time::Duration;
use stepwise_engine::tokens::TokenError;
use stepwise_store::{ActivityRecord, Error as StoreError, WriteOp};

/// How long GetActivityTask waits for a task before answering without one, as AWS does.
/// Clients should read with a longer socket timeout (AWS recommends at least 65 s).
pub const LONG_POLL: Duration = Duration::from_secs(60);

/// The largest task output (`SensitiveData`: 262144 bytes of UTF-8).
const OUTPUT_MAX: usize = 262_144;

pub fn does_not_exist(arn: &str) -> ApiError {
    ApiError::new(
        "ActivityDoesNotExist",
        format!("Activity Does Not Exist: '{arn}'"),
        400,
    )
}

fn activity_arn(text: &str) -> Result<String, ApiError> {
    let arn = Arn::parse(text)?;
    match arn.resource {
        Resource::Activity { .. } => Ok(text.to_string()),
        _ => Err(arn::wrong_type(&arn)),
    }
}

pub fn create(svc: &Service, mut input: Input) -> Result<Value, ApiError> {
    let name = input.string("name", true, (1, 80), false)?;
    let tags = read_tags(&mut input, "tags")?;
    let encryption = input.object("encryptionConfiguration")?;
    if let Some(m) = &encryption {
        match member_string(m, "type")?.as_deref() {
            Some("AWS_OWNED_KEY" | "CUSTOMER_MANAGED_KMS_KEY") => {}
            None => input.push_violation(None, "encryptionConfiguration.type", "not be null"),
            Some(other) => input.push_violation(
                Some(other),
                "encryptionConfiguration.type",
                "satisfy enum value set: [AWS_OWNED_KEY, CUSTOMER_MANAGED_KMS_KEY]",
            ),
        }
    }
    input.finish()?;
    let name = name.unwrap_or_default();
    if !arn::valid_name(&name) {
        return Err(arn::invalid_name(&name));
    }
    let arn = format!("{}:activity:{name}", svc.arn_prefix());
    let now = now_ms();
    let record = ActivityRecord {
        arn: arn.clone(),
        name,
        creation_date: now,
        encryption_configuration: encryption.map(|m| Value::Object(m).to_string()),
    };
    let mut ops = vec![WriteOp::CreateActivity(record)];
    if let Some(tags) = tags.filter(|t| !t.is_empty()) {
        ops.push(WriteOp::TagResource {
            arn: arn.clone(),
            tags,
        });
    }
    match svc.store.write(WriteOp::Group(ops)) {
        Ok(_) => Ok(json!({"activityArn": arn, "creationDate": ts(now)})),
        Err(StoreError::AlreadyExists {
            identical: true, ..
        }) => {
            let a = svc
                .store
                .get_activity(&arn)
                .map_err(|e| or_not_found(e, || does_not_exist(&arn)))?;
            Ok(json!({"activityArn": arn, "creationDate": ts(a.creation_date)}))
        }
        Err(StoreError::AlreadyExists { .. }) => Err(ApiError::new(
            "ActivityAlreadyExists",
            format!("Activity already exists: '{arn}'"),
            400,
        )),
        Err(e) => Err(store_failure(e)),
    }
}

pub fn describe(svc: &Service, mut input: Input) -> Result<Value, ApiError> {
    let arn = input.string("activityArn", true, (1, 256), false)?;
    input.finish()?;
    let arn = activity_arn(&arn.unwrap_or_default())?;
    let a = svc
        .store
        .get_activity(&arn)
        .map_err(|e| or_not_found(e, || does_not_exist(&arn)))?;
    let mut out = Map::new();
    out.insert("activityArn".into(), Value::from(a.arn));
    out.insert("name".into(), Value::from(a.name));
    out.insert("creationDate".into(), ts(a.creation_date));
    if let Some(e) = a
        .encryption_configuration
        .as_deref()
        .and_then(|t| serde_json::from_str::<Value>(t).ok())
    {
        out.insert("encryptionConfiguration".into(), e);
    }
    Ok(Value::Object(out))
}

pub fn delete(svc: &Service, mut input: Input) -> Result<Value, ApiError> {
    let arn = input.string("activityArn", true, (1, 256), false)?;
    input.finish()?;
    let arn = activity_arn(&arn.unwrap_or_default())?;
    match svc.store.delete_activity(&arn) {
        Ok(()) | Err(StoreError::NotFound(_)) => Ok(json!({})),
        Err(e) => Err(store_failure(e)),
    }
}

pub fn list(svc: &Service, mut input: Input) -> Result<Value, ApiError> {
    let page = page_request(&mut input, 1024)?;
    input.finish()?;
    let p = svc.store.list_activities(&page).map_err(store_failure)?;
    let items: Vec<Value> = p
        .items
        .iter()
        .map(|a| json!({"activityArn": a.arn, "name": a.name, "creationDate": ts(a.creation_date)}))
        .collect();
    let mut out = Map::new();
    out.insert("activities".into(), Value::Array(items));
    Ok(with_token(out, p.next_token))
}

/// A token error as AWS words it.
fn token_error(e: TokenError) -> ApiError {
    match e {
        TokenError::InvalidToken => ApiError::new("InvalidToken", e.to_string(), 400),
        TokenError::TaskTimedOut => ApiError::new("TaskTimedOut", e.to_string(), 400),
        TokenError::ActivityDoesNotExist(arn) => does_not_exist(&arn),
        TokenError::Store(e) => store_failure(e),
    }
}

/// GetActivityTask: a scheduled task of the activity for this worker, waiting up to 60 s for
/// one; without one the answer has no members (`{}`), as AWS's.
pub fn get_task(svc: &Service, mut input: Input) -> Result<Value, ApiError> {
    let arn = input.string("activityArn", true, (1, 256), false)?;
    let worker = input.string("workerName", false, (1, 80), false)?;
    input.finish()?;
    let arn = activity_arn(&arn.unwrap_or_default())?;
    let task = svc
        .runtime
        .get_activity_task(&arn, worker, LONG_POLL)
        .map_err(token_error)?;
    Ok(match task {
        Some(t) => json!({"taskToken": t.task_token, "input": t.input}),
        None => json!({}),
    })
}

fn task_token(input: &mut Input) -> Result<Option<String>, ApiError> {
    input.string("taskToken", true, (1, 1024), false)
}

/// SendTaskSuccess: `output` must be JSON.
pub fn send_success(svc: &Service, mut input: Input) -> Result<Value, ApiError> {
    let token = task_token(&mut input)?;
    let output = input.string("output", true, (0, OUTPUT_MAX), true)?;
    if output.as_ref().is_some_and(|o| o.len() > OUTPUT_MAX) {
        input.push_violation(
            None,
            "output",
            &format!("have length less than or equal to {OUTPUT_MAX}"),
        );
    }
    input.finish()?;
    let output = output.unwrap_or_default();
    let token = token.unwrap_or_default();
    if serde_json::from_str::<serde::de::IgnoredAny>(&output).is_err() {
        // An unknown token is the error AWS gives first (recorded); for a known one the
        // output's error comes first (whether it is still open or not).
        if let Err(e @ stepwise_engine::tokens::TokenError::InvalidToken) =
            svc.runtime.check_task_token(&token)
        {
            return Err(token_error(e));
        }
        return Err(ApiError::new(
            "InvalidOutput",
            "Invalid Output: the output is not valid JSON",
            400,
        ));
    }
    svc.runtime
        .send_task_success(&token, output)
        .map_err(token_error)?;
    Ok(json!({}))
}

/// SendTaskFailure: error and cause are optional and recorded only when given.
pub fn send_failure(svc: &Service, mut input: Input) -> Result<Value, ApiError> {
    let token = task_token(&mut input)?;
    let error = input.string("error", false, (0, 256), true)?;
    let cause = input.string("cause", false, (0, 32_768), true)?;
    input.finish()?;
    svc.runtime
        .send_task_failure(&token.unwrap_or_default(), error, cause)
        .map_err(token_error)?;
    Ok(json!({}))
}

/// SendTaskHeartbeat: restarts the task's heartbeat clock.
pub fn send_heartbeat(svc: &Service, mut input: Input) -> Result<Value, ApiError> {
    let token = task_token(&mut input)?;
    input.finish()?;
    svc.runtime
        .send_task_heartbeat(&token.unwrap_or_default())
        .map_err(token_error)?;
    Ok(json!({}))
}

#[cfg(test)]
mod tests {
    use crate::actions::dispatch;
    use crate::error::ApiError;
    use crate::service::Service;
    use serde_json::{json, Value};

    fn call(svc: &Service, action: &str, body: Value) -> Result<Value, ApiError> {
        dispatch(action, body.to_string().as_bytes(), svc)
    }

    fn service() -> std::sync::Arc<Service> {
        Service::in_memory(crate::Config::default()).expect("service")
    }

    #[test]
    fn token_errors_are_aws_shaped() {
        let svc = service();
        let e = call(
            &svc,
            "SendTaskSuccess",
            json!({"taskToken": "NoSuchTaskToken", "output": "{}"}),
        )
        .unwrap_err();
        assert_eq!(
            (e.code.as_str(), e.message.as_str(), e.status),
            ("InvalidToken", "Invalid Token: 'Invalid token'", 400)
        );
        let e = call(&svc, "SendTaskFailure", json!({"taskToken": "x"})).unwrap_err();
        assert_eq!(e.code, "InvalidToken");
        let e = call(&svc, "SendTaskHeartbeat", json!({"taskToken": "x"})).unwrap_err();
        assert_eq!(e.code, "InvalidToken");
        // AWS looks at the token before the output (recorded: an unknown token with output
        // "ParameterOutput" is InvalidToken); a known token with bad output is InvalidOutput.
        let e = call(
            &svc,
            "SendTaskSuccess",
            json!({"taskToken": "x", "output": "not json"}),
        )
        .unwrap_err();
        assert_eq!(e.code, "InvalidToken");
        let e = call(&svc, "SendTaskSuccess", json!({"taskToken": ""})).unwrap_err();
        assert_eq!(e.code, "ValidationException");
        assert!(e.message.starts_with("2 validation errors detected"), "{e}");
        assert!(!e.message.contains("Value '' at 'output'"), "{e}");
        let e = call(&svc, "SendTaskHeartbeat", json!({"taskToken": 5})).unwrap_err();
        assert_eq!(e.code, "SerializationException");
    }

    #[test]
    fn get_activity_task_validates_and_knows_activities() {
        let svc = service();
        let e = call(&svc, "GetActivityTask", json!({})).unwrap_err();
        assert_eq!(e.code, "ValidationException");
        let e = call(
            &svc,
            "GetActivityTask",
            json!({"activityArn": "arn:aws:states:us-east-1:123456789012:activity:nope"}),
        )
        .unwrap_err();
        assert_eq!(
            (e.code.as_str(), e.message.as_str()),
            (
                "ActivityDoesNotExist",
                "Activity Does Not Exist: 'arn:aws:states:us-east-1:123456789012:activity:nope'"
            )
        );
        let e = call(
            &svc,
            "GetActivityTask",
            json!({"activityArn": "arn:aws:states:us-east-1:123456789012:stateMachine:m"}),
        )
        .unwrap_err();
        assert_eq!(e.code, "InvalidArn");
        let e = call(
            &svc,
            "GetActivityTask",
            json!({"activityArn": "arn:aws:states:us-east-1:123456789012:activity:a",
                "workerName": "w".repeat(81)}),
        )
        .unwrap_err();
        assert_eq!(e.code, "ValidationException");
    }

    #[test]
    fn a_worker_takes_and_answers_a_task() {
        let svc = service();
        let act = call(&svc, "CreateActivity", json!({"name": "work"})).expect("activity");
        let act = act["activityArn"].as_str().unwrap_or_default().to_string();
        let def = json!({"StartAt": "W", "States": {"W": {"Type": "Task", "Resource": act,
            "End": true}}});
        let sm = call(
            &svc,
            "CreateStateMachine",
            json!({"name": "m", "definition": def.to_string(),
                "roleArn": "arn:aws:iam::123456789012:role/r"}),
        )
        .expect("machine");
        let ex = call(
            &svc,
            "StartExecution",
            json!({"stateMachineArn": sm["stateMachineArn"], "input": "{\"n\":1}"}),
        )
        .expect("start");
        let task = call(
            &svc,
            "GetActivityTask",
            json!({"activityArn": act, "workerName": "w1"}),
        )
        .expect("task");
        assert_eq!(task["input"], "{\"n\":1}");
        let token = task["taskToken"].as_str().unwrap_or_default().to_string();
        assert_eq!(
            call(&svc, "SendTaskHeartbeat", json!({"taskToken": token})).expect("hb"),
            json!({})
        );
        call(
            &svc,
            "SendTaskSuccess",
            json!({"taskToken": token, "output": "{\"ok\":true}"}),
        )
        .expect("success");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let d = call(
                &svc,
                "DescribeExecution",
                json!({"executionArn": ex["executionArn"]}),
            )
            .expect("describe");
            if d["status"] == "SUCCEEDED" {
                assert_eq!(d["output"], "{\"ok\":true}");
                break;
            }
            assert!(std::time::Instant::now() < deadline, "{d}");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let e = call(
            &svc,
            "SendTaskFailure",
            json!({"taskToken": token, "error": "E"}),
        )
        .unwrap_err();
        assert_eq!(
            (e.code.as_str(), e.message.as_str()),
            (
                "TaskTimedOut",
                "Task Timed Out: 'Provided task does not exist anymore'"
            )
        );
        svc.shutdown();
    }
}
