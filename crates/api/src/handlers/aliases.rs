//! State machine aliases: Create/Describe/Update/Delete/ListStateMachineAliases, and the
//! weighted choice of a version when an execution starts through an alias.

use super::machines::{does_not_exist, get_machine, parse_machine_arn};
use super::{member_string, or_not_found, page_request, with_token};
use crate::arn::{self, Resource, ALIAS_NAME_PATTERN};
use crate::error::ApiError;
use crate::input::Input;
use crate::service::{now_ms, store_failure, ts, Service};
use serde_json::{json, Map, Value};
use stepwise_store::{AliasRecord, Error as StoreError, RoutingEntry};

fn not_found() -> ApiError {
    ApiError::new(
        "ResourceNotFound",
        "Request references a resource that does not exist.",
        400,
    )
}

/// `routingConfiguration`: 1–2 items, weights 0..=100 (model), then AWS's own rules in its
/// words: version ARNs only, distinct, weights summing to 100, one state machine, existing.
/// Returns the entries and the state machine ARN they belong to.
fn read_routing(input: &mut Input, required: bool) -> Result<Option<Vec<RoutingEntry>>, ApiError> {
    let Some(items) = input.list_of(
        "routingConfiguration",
        required,
        (1, 2),
        Some("RoutingConfigurationListItem"),
    )?
    else {
        return Ok(None);
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let path = |m: &str| format!("routingConfiguration.{}.member.{m}", i + 1);
        let Value::Object(m) = item else {
            return Err(ApiError::serialization(
                "Expected start of structure for a RoutingConfigurationListItem",
            ));
        };
        let version_arn = member_string(m, "stateMachineVersionArn")?;
        if version_arn.is_none() {
            input.push_violation(None, &path("stateMachineVersionArn"), "not be null");
        }
        let weight = match m.get("weight") {
            None | Some(Value::Null) => {
                input.push_violation(None, &path("weight"), "not be null");
                0
            }
            Some(Value::Number(n)) => match n.as_i64() {
                Some(w) => w,
                None => {
                    return Err(ApiError::serialization(
                        "NUMBER_VALUE can not be converted to an Integer",
                    ))
                }
            },
            Some(_) => {
                return Err(ApiError::serialization(
                    "weight can not be converted to an Integer",
                ))
            }
        };
        if weight < 0 {
            input.push_violation(
                Some(&weight.to_string()),
                &path("weight"),
                "have value greater than or equal to 0",
            );
        } else if weight > 100 {
            input.push_violation(
                Some(&weight.to_string()),
                &path("weight"),
                "have value less than or equal to 100",
            );
        }
        out.push(RoutingEntry {
            version_arn: version_arn.unwrap_or_default(),
            weight: weight.clamp(0, 100) as u32,
        });
    }
    Ok(Some(out))
}

/// The service rules on a well-formed routing configuration; returns the state machine ARN.
fn check_routing(svc: &Service, routing: &[RoutingEntry]) -> Result<String, ApiError> {
    let arns: Vec<&str> = routing.iter().map(|r| r.version_arn.as_str()).collect();
    let listed = format!("[{}]", arns.join(", "));
    let mut machines = Vec::new();
    for a in &arns {
        match arn::Arn::parse(a) {
            Ok(p) if matches!(p.resource, Resource::Version { .. }) => {
                machines.push(p.state_machine_arn().unwrap_or_default());
            }
            _ => {
                return Err(ApiError::validation(format!(
                    "Routing configuration must contain state machine version ARNs. Received: \
                     {listed}"
                )))
            }
        }
    }
    if arns.len() == 2 && arns[0] == arns[1] {
        return Err(ApiError::validation(format!(
            "Routing configuration must contain distinct state machine version ARNs. Received: \
             {listed}"
        )));
    }
    let sum: u32 = routing.iter().map(|r| r.weight).sum();
    if sum != 100 {
        let weights: Vec<String> = routing.iter().map(|r| r.weight.to_string()).collect();
        return Err(ApiError::validation(format!(
            "Sum of routing configuration weights must equal 100. Received: [{}]",
            weights.join(", ")
        )));
    }
    if machines.iter().any(|m| *m != machines[0]) {
        return Err(ApiError::validation(format!(
            "Routing configuration must contain versions of the same state machine. Received: \
             {listed}"
        )));
    }
    for a in &arns {
        svc.store.get_version(a).map_err(|e| {
            or_not_found(e, || {
                ApiError::new(
                    "ResourceNotFound",
                    format!("Resource not found: '{a}'"),
                    400,
                )
            })
        })?;
    }
    Ok(machines.swap_remove(0))
}

fn alias_arn_of(svc: &Service, text: &str) -> Result<String, ApiError> {
    let arn = parse_machine_arn(text)?;
    let _ = svc;
    match arn.resource {
        Resource::Alias { .. } => Ok(text.to_string()),
        _ => Err(arn::invalid_arn(format!(
            "Expected a state machine alias ARN: {text}"
        ))),
    }
}

pub fn create(svc: &Service, mut input: Input) -> Result<Value, ApiError> {
    let description = input.string("description", false, (0, 256), false)?;
    let name = input.string("name", true, (1, 80), false)?;
    if let Some(n) = name
        .as_deref()
        .filter(|n| (1..=80).contains(&n.chars().count()))
    {
        input.check_pattern("name", n, arn::valid_alias_name(n), ALIAS_NAME_PATTERN);
    }
    let routing = read_routing(&mut input, true)?;
    input.finish()?;
    let (name, routing) = (name.unwrap_or_default(), routing.unwrap_or_default());
    let machine = check_routing(svc, &routing)?;
    get_machine(svc, &machine)?;
    let now = now_ms();
    let arn = format!("{machine}:{name}");
    let record = AliasRecord {
        arn: arn.clone(),
        state_machine_arn: machine,
        name,
        description,
        routing,
        creation_date: now,
        update_date: now,
    };
    match svc.store.create_alias(record) {
        Ok(()) => Ok(json!({"stateMachineAliasArn": arn, "creationDate": ts(now)})),
        Err(StoreError::AlreadyExists {
            identical: true, ..
        }) => {
            let a = svc
                .store
                .get_alias(&arn)
                .map_err(|e| or_not_found(e, not_found))?;
            Ok(json!({"stateMachineAliasArn": arn, "creationDate": ts(a.creation_date)}))
        }
        Err(StoreError::AlreadyExists { .. }) => Err(ApiError::new(
            "ConflictException",
            "Failed to create alias because an alias with the same name and a different \
             routing configuration already exists.",
            400,
        )),
        Err(StoreError::NotFound(_)) => Err(not_found()),
        Err(e) => Err(store_failure(e)),
    }
}

fn routing_json(routing: &[RoutingEntry]) -> Value {
    Value::Array(
        routing
            .iter()
            .map(|r| json!({"stateMachineVersionArn": r.version_arn, "weight": r.weight}))
            .collect(),
    )
}

pub fn describe(svc: &Service, mut input: Input) -> Result<Value, ApiError> {
    let arn = input.string("stateMachineAliasArn", true, (1, 256), false)?;
    input.finish()?;
    let arn = alias_arn_of(svc, &arn.unwrap_or_default())?;
    let a = svc
        .store
        .get_alias(&arn)
        .map_err(|e| or_not_found(e, not_found))?;
    let mut out = Map::new();
    out.insert("stateMachineAliasArn".into(), Value::from(a.arn));
    out.insert("name".into(), Value::from(a.name));
    if let Some(d) = a.description {
        out.insert("description".into(), Value::from(d));
    }
    out.insert("routingConfiguration".into(), routing_json(&a.routing));
    out.insert("creationDate".into(), ts(a.creation_date));
    out.insert("updateDate".into(), ts(a.update_date));
    Ok(Value::Object(out))
}

pub fn update(svc: &Service, mut input: Input) -> Result<Value, ApiError> {
    let arn = input.string("stateMachineAliasArn", true, (1, 256), false)?;
    let description = input.string("description", false, (0, 256), false)?;
    let routing = read_routing(&mut input, false)?;
    input.finish()?;
    let arn = alias_arn_of(svc, &arn.unwrap_or_default())?;
    if description.is_none() && routing.is_none() {
        return Err(ApiError::validation(
            "Either the description or the routing configuration must be specified",
        ));
    }
    let mut a = svc
        .store
        .get_alias(&arn)
        .map_err(|e| or_not_found(e, not_found))?;
    if let Some(r) = routing {
        let machine = check_routing(svc, &r)?;
        if machine != a.state_machine_arn {
            return Err(ApiError::validation(format!(
                "Routing configuration must contain versions of the alias's state machine: {}",
                a.state_machine_arn
            )));
        }
        a.routing = r;
    }
    if description.is_some() {
        a.description = description;
    }
    let now = now_ms();
    a.update_date = now;
    svc.store
        .update_alias(a)
        .map_err(|e| or_not_found(e, not_found))?;
    Ok(json!({ "updateDate": ts(now) }))
}

pub fn delete(svc: &Service, mut input: Input) -> Result<Value, ApiError> {
    let arn = input.string("stateMachineAliasArn", true, (1, 256), false)?;
    input.finish()?;
    let arn = alias_arn_of(svc, &arn.unwrap_or_default())?;
    match svc.store.delete_alias(&arn) {
        Ok(()) | Err(StoreError::NotFound(_)) => Ok(json!({})),
        Err(e) => Err(store_failure(e)),
    }
}

pub fn list(svc: &Service, mut input: Input) -> Result<Value, ApiError> {
    let arn = input.string("stateMachineArn", true, (1, 256), false)?;
    let page = page_request(&mut input, 1024)?;
    input.finish()?;
    let arn = arn.unwrap_or_default();
    let parsed = parse_machine_arn(&arn)?;
    if !matches!(parsed.resource, Resource::StateMachine { .. }) {
        return Err(does_not_exist(&arn));
    }
    get_machine(svc, &arn)?;
    let p = svc.store.list_aliases(&arn, &page).map_err(store_failure)?;
    let items: Vec<Value> = p
        .items
        .iter()
        .map(|a| json!({"stateMachineAliasArn": a.arn, "creationDate": ts(a.creation_date)}))
        .collect();
    let mut out = Map::new();
    out.insert("stateMachineAliases".into(), Value::Array(items));
    Ok(with_token(out, p.next_token))
}

/// Picks a version of `routing` by weight: `roll` is uniform in 0..100.
pub fn pick_version(routing: &[RoutingEntry], roll: u32) -> Option<&RoutingEntry> {
    let mut acc = 0;
    for r in routing {
        acc += r.weight;
        if roll < acc {
            return Some(r);
        }
    }
    routing.iter().rev().find(|r| r.weight > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weighted_pick() {
        let r = vec![
            RoutingEntry {
                version_arn: "a".into(),
                weight: 30,
            },
            RoutingEntry {
                version_arn: "b".into(),
                weight: 70,
            },
        ];
        assert_eq!(pick_version(&r, 0).unwrap().version_arn, "a");
        assert_eq!(pick_version(&r, 29).unwrap().version_arn, "a");
        assert_eq!(pick_version(&r, 30).unwrap().version_arn, "b");
        assert_eq!(pick_version(&r, 99).unwrap().version_arn, "b");
        let zero = vec![RoutingEntry {
            version_arn: "z".into(),
            weight: 100,
        }];
        assert_eq!(pick_version(&zero, 99).unwrap().version_arn, "z");
    }
}
