//! Map Runs: DescribeMapRun, ListMapRuns (read from the store, where the runtime keeps each
//! distributed Map's run record) and UpdateMapRun (through the runtime, so a running Map
//! picks up the new concurrency and tolerance for the children it has not started yet).

use super::executions::{does_not_exist_execution, runtime_error};
use super::{or_not_found, page_request, with_token};
use crate::arn::{self, Arn, Resource};
use crate::error::ApiError;
use crate::input::Input;
use crate::service::{store_failure, ts, Service};
use serde_json::{json, Map, Value};
use stepwise_engine::runtime::{MapRunSettings, RuntimeError};
use stepwise_store::{MapRunCounts, MapRunRecord};

/// `LongArn`: 1..=2000 characters.
const LONG_ARN: (usize, usize) = (1, 2000);

fn not_found(arn: &str) -> ApiError {
    ApiError::new(
        "ResourceNotFound",
        format!("Resource not found: '{arn}'"),
        400,
    )
}

/// A Map Run ARN (InvalidArn for anything else).
fn check_map_run_arn(text: &str) -> Result<(), ApiError> {
    let arn = Arn::parse(text)?;
    match arn.resource {
        Resource::MapRun => Ok(()),
        _ => Err(arn::wrong_type(&arn)),
    }
}

fn counts(c: &MapRunCounts) -> Value {
    json!({
        "pending": c.pending,
        "running": c.running,
        "succeeded": c.succeeded,
        "failed": c.failed,
        "timedOut": c.timed_out,
        "aborted": c.aborted,
        "total": c.total,
        "resultsWritten": c.results_written,
    })
}

pub fn describe(svc: &Service, mut input: Input) -> Result<Value, ApiError> {
    let arn = input.string("mapRunArn", true, LONG_ARN, false)?;
    input.finish()?;
    let arn = arn.unwrap_or_default();
    check_map_run_arn(&arn)?;
    let r = svc
        .store
        .get_map_run(&arn)
        .map_err(|e| or_not_found(e, || not_found(&arn)))?;
    let mut out = Map::new();
    out.insert("mapRunArn".into(), Value::from(r.arn.clone()));
    out.insert("executionArn".into(), Value::from(r.execution_arn.clone()));
    out.insert("status".into(), Value::from(r.status.as_str()));
    out.insert("startDate".into(), ts(r.start_date));
    if let Some(s) = r.stop_date {
        out.insert("stopDate".into(), ts(s));
    }
    out.insert("maxConcurrency".into(), Value::from(r.max_concurrency));
    out.insert(
        "toleratedFailurePercentage".into(),
        Value::from(r.tolerated_failure_percentage),
    );
    out.insert(
        "toleratedFailureCount".into(),
        Value::from(r.tolerated_failure_count),
    );
    out.insert("itemCounts".into(), counts(&r.item_counts));
    out.insert("executionCounts".into(), counts(&r.execution_counts));
    out.insert("redriveCount".into(), Value::from(r.redrive_count));
    if let Some(d) = r.redrive_date {
        out.insert("redriveDate".into(), ts(d));
    }
    Ok(Value::Object(out))
}

fn list_item(r: &MapRunRecord) -> Value {
    let mut m = Map::new();
    m.insert("executionArn".into(), Value::from(r.execution_arn.clone()));
    m.insert("mapRunArn".into(), Value::from(r.arn.clone()));
    m.insert(
        "stateMachineArn".into(),
        Value::from(r.state_machine_arn.clone()),
    );
    m.insert("startDate".into(), ts(r.start_date));
    if let Some(s) = r.stop_date {
        m.insert("stopDate".into(), ts(s));
    }
    Value::Object(m)
}

pub fn list(svc: &Service, mut input: Input) -> Result<Value, ApiError> {
    let arn = input.string("executionArn", true, (1, 256), false)?;
    let page = page_request(&mut input, 1024)?;
    input.finish()?;
    let arn = arn.unwrap_or_default();
    let parsed = Arn::parse(&arn)?;
    match parsed.resource {
        Resource::Execution { .. } => {}
        Resource::Express { .. } => return Err(does_not_exist_execution(&arn)),
        _ => return Err(arn::wrong_type(&parsed)),
    }
    svc.store
        .get_execution(&arn)
        .map_err(|e| or_not_found(e, || does_not_exist_execution(&arn)))?;
    let p = svc
        .store
        .list_map_runs(&arn, &page)
        .map_err(store_failure)?;
    let mut out = Map::new();
    out.insert(
        "mapRuns".into(),
        Value::Array(p.items.iter().map(list_item).collect()),
    );
    Ok(with_token(out, p.next_token))
}

/// UpdateMapRun takes its body whole: `toleratedFailurePercentage` is a float, which the
/// common reader has no use for elsewhere.
pub fn update(svc: &Service, body: &[u8]) -> Result<Value, ApiError> {
    let mut members = match Input::parse(body) {
        Ok(_) => match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        },
        Err(e) => return Err(e),
    };
    let pct = match members.remove("toleratedFailurePercentage") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(_)) => {
            return Err(ApiError::serialization(
                "STRING_VALUE can not be converted to a Float",
            ))
        }
        Some(Value::Bool(b)) => {
            return Err(ApiError::serialization(format!(
                "{}_VALUE can not be converted to a Float",
                if b { "TRUE" } else { "FALSE" }
            )))
        }
        Some(Value::Array(_)) => {
            return Err(ApiError::serialization(
                "Start of list found where not expected",
            ))
        }
        Some(Value::Object(_)) => {
            return Err(ApiError::serialization(
                "Start of structure or map found where not expected.",
            ))
        }
    };
    let mut input = Input::from_map(members);
    let arn = input.string("mapRunArn", true, LONG_ARN, false)?;
    let max = input.integer("maxConcurrency", (0, i64::from(i32::MAX)))?;
    let count = input.integer("toleratedFailureCount", (0, i64::from(i32::MAX)))?;
    if let Some(p) = pct {
        if !(0.0..=100.0).contains(&p) {
            let c = if p < 0.0 {
                "have value greater than or equal to 0"
            } else {
                "have value less than or equal to 100"
            };
            input.push_violation(Some(&p.to_string()), "toleratedFailurePercentage", c);
        }
    }
    input.finish()?;
    let arn = arn.unwrap_or_default();
    check_map_run_arn(&arn)?;
    let settings = MapRunSettings {
        max_concurrency: max.map(|m| m.max(0) as u64),
        tolerated_failure_percentage: pct,
        tolerated_failure_count: count.map(|c| c.max(0) as u64),
    };
    match svc.runtime.update_map_run(&arn, settings) {
        Ok(_) => Ok(json!({})),
        Err(RuntimeError::MapRunDoesNotExist(_)) => Err(not_found(&arn)),
        Err(e) => Err(runtime_error(e)),
    }
}
