//! TagResource, UntagResource, ListTagsForResource: on state machines and activities only
//! (AWS answers ResourceNotFound for a version ARN, recorded).

use super::{read_tags, tags_json};
use crate::arn::{Arn, Resource};
use crate::error::ApiError;
use crate::input::Input;
use crate::service::{store_failure, Service};
use serde_json::{json, Value};
use stepwise_store::Error as StoreError;

/// AWS's limit of tags per resource.
pub const MAX_TAGS: usize = 50;

fn not_found(arn: &str) -> ApiError {
    ApiError::new(
        "ResourceNotFound",
        format!("Resource not found: '{arn}'"),
        400,
    )
}

/// Checks that `arn` names an existing state machine or activity.
fn existing(svc: &Service, arn: &str) -> Result<(), ApiError> {
    let parsed = Arn::parse(arn)?;
    let found = match parsed.resource {
        Resource::StateMachine { .. } => svc.store.get_state_machine(arn).map(drop),
        Resource::Activity { .. } => svc.store.get_activity(arn).map(drop),
        _ => return Err(not_found(arn)),
    };
    match found {
        Ok(()) => Ok(()),
        Err(StoreError::NotFound(_)) => Err(not_found(arn)),
        Err(e) => Err(store_failure(e)),
    }
}

pub fn tag(svc: &Service, mut input: Input) -> Result<Value, ApiError> {
    let arn = input.string("resourceArn", true, (1, 256), false)?;
    let tags = read_tags(&mut input, "tags")?;
    if tags.is_none() && !input.has_violations() {
        input.push_violation(None, "tags", "not be null");
    }
    input.finish()?;
    let arn = arn.unwrap_or_default();
    let tags = tags.unwrap_or_default();
    existing(svc, &arn)?;
    let current = svc.store.list_tags(&arn).map_err(store_failure)?;
    let added = tags
        .iter()
        .filter(|t| !current.iter().any(|c| c.key == t.key))
        .count();
    if current.len() + added > MAX_TAGS {
        return Err(ApiError::new(
            "TooManyTags",
            format!(
                "Too many tags: a resource can have at most {MAX_TAGS} tags ('{arn}' would \
                 have {})",
                current.len() + added
            ),
            400,
        ));
    }
    if !tags.is_empty() {
        svc.store.tag_resource(&arn, tags).map_err(store_failure)?;
    }
    Ok(json!({}))
}

pub fn untag(svc: &Service, mut input: Input) -> Result<Value, ApiError> {
    let arn = input.string("resourceArn", true, (1, 256), false)?;
    let keys = input.list("tagKeys", true, (0, usize::MAX))?;
    let mut key_list = Vec::new();
    for (i, k) in keys.iter().flatten().enumerate() {
        match k {
            Value::String(s) => {
                let n = s.chars().count();
                if n == 0 || n > 128 {
                    let c = if n == 0 {
                        "have length greater than or equal to 1"
                    } else {
                        "have length less than or equal to 128"
                    };
                    input.push_violation(Some(s), &format!("tagKeys.{}.member", i + 1), c);
                }
                key_list.push(s.clone());
            }
            _ => return Err(ApiError::serialization("tagKeys members must be strings")),
        }
    }
    input.finish()?;
    let arn = arn.unwrap_or_default();
    existing(svc, &arn)?;
    if !key_list.is_empty() {
        svc.store
            .untag_resource(&arn, key_list)
            .map_err(store_failure)?;
    }
    Ok(json!({}))
}

pub fn list(svc: &Service, mut input: Input) -> Result<Value, ApiError> {
    let arn = input.string("resourceArn", true, (1, 256), false)?;
    input.finish()?;
    let arn = arn.unwrap_or_default();
    existing(svc, &arn)?;
    let tags = svc.store.list_tags(&arn).map_err(store_failure)?;
    Ok(json!({ "tags": tags_json(&tags) }))
}
