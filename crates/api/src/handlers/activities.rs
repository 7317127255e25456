//! Activities, API side: CreateActivity, DescribeActivity, DeleteActivity, ListActivities.
//! (Workers' GetActivityTask and SendTask* need the runtime's task tokens: not served yet.)

use super::{member_string, or_not_found, page_request, read_tags, with_token};
use crate::arn::{self, Arn, Resource};
use crate::error::ApiError;
use crate::input::Input;
use crate::service::{now_ms, store_failure, ts, Service};
use serde_json::{json, Map, Value};
use stepwise_store::{ActivityRecord, Error as StoreError, WriteOp};

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
