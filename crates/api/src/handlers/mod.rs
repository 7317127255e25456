//! The actions, grouped by resource. Each reads its input with [`Input`] (model constraints
//! first, as AWS does), then applies the service's own rules, then touches the store.

pub mod activities;
pub mod aliases;
pub mod executions;
pub mod machines;
pub mod map_runs;
pub mod tags;
pub mod test_state;

use crate::error::ApiError;
use crate::input::Input;
use crate::service::store_failure;
use serde_json::{Map, Value};
use stepwise_store::{PageRequest, Tag};

/// `maxResults` (0..=1000, 0 = default) and `nextToken` (length 1..=`token_max`).
pub(crate) fn page_request(input: &mut Input, token_max: usize) -> Result<PageRequest, ApiError> {
    let max = input.integer("maxResults", (0, 1000))?;
    let token = input.string("nextToken", false, (1, token_max), false)?;
    Ok(PageRequest {
        max_results: max.unwrap_or(0).max(0) as usize,
        next_token: token,
    })
}

/// Puts `nextToken` into a listing's answer when there is one.
pub(crate) fn with_token(mut out: Map<String, Value>, token: Option<String>) -> Value {
    if let Some(t) = token {
        out.insert("nextToken".into(), Value::from(t));
    }
    Value::Object(out)
}

/// A `TagList` member: keys 1..=128 and values 0..=256 characters; a repeated key keeps the
/// last value, as AWS does.
pub(crate) fn read_tags(input: &mut Input, name: &str) -> Result<Option<Vec<Tag>>, ApiError> {
    let Some(items) = input.list(name, false, (0, usize::MAX))? else {
        return Ok(None);
    };
    let mut tags: Vec<Tag> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let Value::Object(m) = item else {
            return Err(ApiError::serialization(
                "Expected start of structure for a Tag",
            ));
        };
        let path = |member: &str| format!("{name}.{}.member.{member}", i + 1);
        let key = member_string(m, "key")?;
        let value = member_string(m, "value")?.unwrap_or_default();
        let Some(key) = key else {
            input.push_violation(None, &path("key"), "not be null");
            continue;
        };
        let klen = key.chars().count();
        if klen == 0 || klen > 128 {
            let c = if klen == 0 {
                "have length greater than or equal to 1"
            } else {
                "have length less than or equal to 128"
            };
            input.push_violation(Some(&key), &path("key"), c);
        }
        if value.chars().count() > 256 {
            input.push_violation(
                Some(&value),
                &path("value"),
                "have length less than or equal to 256",
            );
        }
        tags.retain(|t| t.key != key);
        tags.push(Tag { key, value });
    }
    Ok(Some(tags))
}

/// A string member of a nested structure (JSON type checked as for top-level members).
pub(crate) fn member_string(
    m: &Map<String, Value>,
    name: &str,
) -> Result<Option<String>, ApiError> {
    match m.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(_)) => Err(ApiError::serialization(
            "NUMBER_VALUE can not be converted to a String",
        )),
        Some(Value::Bool(_)) => Err(ApiError::serialization(
            "TRUE_VALUE can not be converted to a String",
        )),
        Some(Value::Array(_)) => Err(ApiError::serialization(
            "Start of list found where not expected",
        )),
        Some(Value::Object(_)) => Err(ApiError::serialization(
            "Start of structure or map found where not expected.",
        )),
    }
}

/// Tags as the API shows them.
pub(crate) fn tags_json(tags: &[Tag]) -> Value {
    Value::Array(
        tags.iter()
            .map(|t| serde_json::json!({"key": t.key, "value": t.value}))
            .collect(),
    )
}

/// Maps a store error where "not found" means `not_found`.
pub(crate) fn or_not_found(
    e: stepwise_store::Error,
    not_found: impl FnOnce() -> ApiError,
) -> ApiError {
    match e {
        stepwise_store::Error::NotFound(_) => not_found(),
        other => store_failure(other),
    }
}
