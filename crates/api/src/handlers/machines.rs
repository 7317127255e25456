//! State machines and their versions: Create/Describe/Update/Delete/ListStateMachines,
//! PublishStateMachineVersion, ListStateMachineVersions, DeleteStateMachineVersion.
//!
//! Revisions follow what AWS recorded: a new machine has no revision id (DescribeStateMachine
//! leaves `revisionId` out); every update that changes something gets a fresh one; an update
//! that changes nothing keeps it. Publishing a revision that the newest version already holds
//! answers that version instead of making another.

use super::{member_string, or_not_found, page_request, read_tags, with_token};
use crate::arn::{self, Arn, Resource};
use crate::error::ApiError;
use crate::input::Input;
use crate::service::{now_ms, store_failure, ts, Service};
use serde_json::{json, Map, Value};
use stepwise_asl::diagnostic::Severity;
use stepwise_asl::validate::{validate_text, MachineType, ValidateOptions};
use stepwise_store::{
    Error as StoreError, PageRequest, StateMachineRecord, StateMachineType, VersionRecord, WriteOp,
    WriteOutcome,
};

/// `Definition`: at most 1 MiB.
pub const DEFINITION_MAX: usize = 1_048_576;

pub fn does_not_exist(arn: &str) -> ApiError {
    ApiError::new(
        "StateMachineDoesNotExist",
        format!("State Machine Does Not Exist: '{arn}'"),
        400,
    )
}

fn type_str(t: StateMachineType) -> &'static str {
    match t {
        StateMachineType::Standard => "STANDARD",
        StateMachineType::Express => "EXPRESS",
    }
}

/// The definition check of CreateStateMachine/UpdateStateMachine: the first error diagnostic,
/// in AWS's `Invalid State Machine Definition: 'CODE: message at /location'` form.
pub fn check_definition(definition: &str, kind: StateMachineType) -> Result<(), ApiError> {
    let opts = ValidateOptions {
        machine_type: match kind {
            StateMachineType::Standard => MachineType::Standard,
            StateMachineType::Express => MachineType::Express,
        },
    };
    let diags = validate_text(definition, &opts);
    match diags.iter().find(|d| d.severity == Severity::Error) {
        Some(d) => Err(ApiError::new(
            "InvalidDefinition",
            format!("Invalid State Machine Definition: '{}'", d.aws_text()),
            400,
        )),
        None => Ok(()),
    }
}

/// `versionDescription` without `publish` (recorded for CreateStateMachine).
fn check_version_description(description: &Option<String>, publish: bool) -> Result<(), ApiError> {
    if description.is_some() && !publish {
        return Err(ApiError::validation(
            "Version description can only be set when publish is true",
        ));
    }
    Ok(())
}

const LOG_LEVELS: [&str; 4] = ["ALL", "ERROR", "FATAL", "OFF"];

/// `loggingConfiguration`, normalised to what DescribeStateMachine shows (level and
/// includeExecutionData always present, destinations when given), so that an idempotent
/// create compares equal whichever defaults the caller spelled out.
fn read_logging(input: &mut Input) -> Result<Option<Value>, ApiError> {
    let Some(m) = input.object("loggingConfiguration")? else {
        return Ok(None);
    };
    let level = member_string(&m, "level")?.unwrap_or_else(|| "OFF".into());
    if !LOG_LEVELS.contains(&level.as_str()) {
        input.push_violation(
            Some(&level),
            "loggingConfiguration.level",
            &format!("satisfy enum value set: [{}]", LOG_LEVELS.join(", ")),
        );
    }
    let include = match m.get("includeExecutionData") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(ApiError::serialization(
                "includeExecutionData can not be converted to a Boolean",
            ))
        }
    };
    let mut out = Map::new();
    match m.get("destinations") {
        None | Some(Value::Null) => {}
        Some(Value::Array(d)) => {
            out.insert("destinations".into(), Value::Array(d.clone()));
        }
        Some(_) => {
            return Err(ApiError::serialization(
                "destinations can not be converted to a List",
            ))
        }
    }
    out.insert("includeExecutionData".into(), Value::Bool(include));
    out.insert("level".into(), Value::from(level));
    Ok(Some(Value::Object(out)))
}

fn invalid_logging(detail: &str) -> ApiError {
    ApiError::new(
        "InvalidLoggingConfiguration",
        format!("Invalid Logging Configuration: {detail}"),
        400,
    )
}

/// AWS's rule (recorded): more than one destination, or a level other than OFF without exactly
/// one, is `Must specify exactly one Log Destination.`
fn check_logging(l: &Value) -> Result<(), ApiError> {
    let dests = l["destinations"].as_array().map_or(0, Vec::len);
    let level = l["level"].as_str().unwrap_or("OFF");
    if dests > 1 || (level != "OFF" && dests != 1) {
        return Err(invalid_logging("Must specify exactly one Log Destination."));
    }
    for d in l["destinations"].as_array().into_iter().flatten() {
        let group = d["cloudWatchLogsLogGroup"]["logGroupArn"].as_str();
        if !group.is_some_and(|g| g.starts_with("arn:") && g.contains(":logs:")) {
            return Err(invalid_logging(
                "Log Destination must be a CloudWatch Logs log group ARN.",
            ));
        }
    }
    Ok(())
}

fn read_tracing(input: &mut Input) -> Result<Option<Value>, ApiError> {
    let Some(m) = input.object("tracingConfiguration")? else {
        return Ok(None);
    };
    let enabled = match m.get("enabled") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(ApiError::serialization(
                "enabled can not be converted to a Boolean",
            ))
        }
    };
    Ok(Some(json!({ "enabled": enabled })))
}

fn read_encryption(input: &mut Input) -> Result<Option<Value>, ApiError> {
    let Some(m) = input.object("encryptionConfiguration")? else {
        return Ok(None);
    };
    let kind = member_string(&m, "type")?;
    match kind.as_deref() {
        None => input.push_violation(None, "encryptionConfiguration.type", "not be null"),
        Some("AWS_OWNED_KEY" | "CUSTOMER_MANAGED_KMS_KEY") => {}
        Some(other) => input.push_violation(
            Some(other),
            "encryptionConfiguration.type",
            "satisfy enum value set: [AWS_OWNED_KEY, CUSTOMER_MANAGED_KMS_KEY]",
        ),
    }
    let mut out = Map::new();
    if let Some(k) = member_string(&m, "kmsKeyId")? {
        out.insert("kmsKeyId".into(), Value::from(k));
    }
    if let Some(p) = m
        .get("kmsDataKeyReusePeriodSeconds")
        .filter(|v| !v.is_null())
    {
        match p.as_i64() {
            Some(n) if (60..=900).contains(&n) => {
                out.insert("kmsDataKeyReusePeriodSeconds".into(), Value::from(n));
            }
            Some(n) => input.push_violation(
                Some(&n.to_string()),
                "encryptionConfiguration.kmsDataKeyReusePeriodSeconds",
                "have value between 60 and 900",
            ),
            None => {
                return Err(ApiError::serialization(
                    "kmsDataKeyReusePeriodSeconds can not be converted to an Integer",
                ))
            }
        }
    }
    out.insert("type".into(), Value::from(kind.unwrap_or_default()));
    Ok(Some(Value::Object(out)))
}

fn json_text(v: &Option<Value>) -> Option<String> {
    v.as_ref().map(Value::to_string)
}

fn parse_stored(text: &Option<String>) -> Option<Value> {
    text.as_deref().and_then(|t| serde_json::from_str(t).ok())
}

/// The logging/tracing/encryption members every description of a machine carries.
fn configurations(out: &mut Map<String, Value>, sm: &StateMachineRecord) {
    out.insert(
        "loggingConfiguration".into(),
        parse_stored(&sm.logging_configuration)
            .unwrap_or_else(|| json!({"level": "OFF", "includeExecutionData": false})),
    );
    out.insert(
        "tracingConfiguration".into(),
        parse_stored(&sm.tracing_configuration).unwrap_or_else(|| json!({"enabled": false})),
    );
    out.insert(
        "encryptionConfiguration".into(),
        parse_stored(&sm.encryption_configuration).unwrap_or_else(default_encryption),
    );
}

/// What AWS describes for a machine created without `encryptionConfiguration` (recorded since
/// November 2024).
pub fn default_encryption() -> Value {
    json!({ "type": "AWS_OWNED_KEY" })
}

/// Puts `variableReferences` into a description when the definition reads any variable.
pub fn insert_variable_references(out: &mut Map<String, Value>, definition: &str) {
    if let Some(refs) = serde_json::from_str::<Value>(definition)
        .ok()
        .as_ref()
        .and_then(variable_references)
    {
        out.insert("variableReferences".into(), Value::Object(refs));
    }
}

/// DescribeStateMachine's `variableReferences`: for every state (those inside Map and Parallel
/// included, by name), the variables its fields read, sorted; states reading none are left
/// out, and so is the member when no state reads one. As recorded: in JSONPath only fields
/// that are evaluated count (`….$` keys, `…Path` fields other than `ResultPath`, a Choice
/// rule's `Variable`), so `"b": "$bucket"` in a template is text, not a reference; intrinsic
/// functions count each `$name` argument. In JSONata every `{% %}` expression counts, without
/// `$states`, function calls and names bound inside it with `:=`.
pub fn variable_references(definition: &Value) -> Option<Map<String, Value>> {
    let mut out = std::collections::BTreeMap::new();
    let top_jsonata = definition.get("QueryLanguage").and_then(Value::as_str) == Some("JSONata");
    collect_states(definition, top_jsonata, &mut out);
    if out.is_empty() {
        return None;
    }
    Some(
        out.into_iter()
            .map(|(state, vars)| {
                let list: Vec<Value> = vars.into_iter().map(Value::from).collect();
                (state, Value::Array(list))
            })
            .collect(),
    )
}

type RefMap = std::collections::BTreeMap<String, std::collections::BTreeSet<String>>;

/// Walks the `States` of `machine` (a definition, a Map processor or a Parallel branch).
fn collect_states(machine: &Value, jsonata: bool, out: &mut RefMap) {
    let Some(states) = machine.get("States").and_then(Value::as_object) else {
        return;
    };
    for (name, state) in states {
        let state_jsonata = match state.get("QueryLanguage").and_then(Value::as_str) {
            Some(q) => q == "JSONata",
            None => jsonata,
        };
        let mut vars = std::collections::BTreeSet::new();
        if let Value::Object(m) = state {
            for (k, v) in m {
                match k.as_str() {
                    "ItemProcessor" | "Iterator" => collect_states(v, state_jsonata, out),
                    "Branches" => {
                        for b in v.as_array().into_iter().flatten() {
                            collect_states(b, state_jsonata, out);
                        }
                    }
                    _ => field_refs(k, v, state_jsonata, &mut vars),
                }
            }
        }
        if !vars.is_empty() {
            out.entry(name.clone()).or_default().extend(vars);
        }
    }
}

/// The variables read by one field of a state (and what is nested in it).
fn field_refs(key: &str, v: &Value, jsonata: bool, vars: &mut std::collections::BTreeSet<String>) {
    match v {
        Value::String(s) => {
            if jsonata {
                if let Some(expr) = s
                    .trim()
                    .strip_prefix("{%")
                    .and_then(|r| r.strip_suffix("%}"))
                {
                    jsonata_refs(expr, vars);
                }
            } else if key.ends_with(".$")
                || key == "Variable"
                || (key.ends_with("Path") && key != "ResultPath")
            {
                jsonpath_refs(s, vars);
            }
        }
        Value::Object(m) => {
            for (k, child) in m {
                if k != "ResultPath" {
                    field_refs(k, child, jsonata, vars);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|c| field_refs(key, c, jsonata, vars)),
        _ => {}
    }
}

fn ident(rest: &str) -> &str {
    let end = rest
        .char_indices()
        .find(|(_, c)| !(c.is_alphanumeric() || *c == '_'))
        .map_or(rest.len(), |(i, _)| i);
    &rest[..end]
}

fn starts_ident(rest: &str) -> bool {
    rest.chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_')
}

/// `$name…` as a path, or the `$name` arguments of an intrinsic function (outside its quoted
/// strings).
fn jsonpath_refs(s: &str, vars: &mut std::collections::BTreeSet<String>) {
    if let Some(rest) = s.strip_prefix('$') {
        if starts_ident(rest) {
            vars.insert(ident(rest).to_string());
        }
        return;
    }
    if !s.starts_with("States.") {
        return;
    }
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '\'' => quoted = !quoted,
            '$' if !quoted => {
                let rest = &s[i + 1..];
                if starts_ident(rest) {
                    vars.insert(ident(rest).to_string());
                }
            }
            _ => {}
        }
    }
}

/// The free `$name` variables of a JSONata expression.
fn jsonata_refs(expr: &str, vars: &mut std::collections::BTreeSet<String>) {
    let mut found = Vec::new();
    let mut bound = std::collections::BTreeSet::new();
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in expr.char_indices() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '"' | '\'' => quote = Some(c),
            '$' => {
                let rest = &expr[i + 1..];
                if !starts_ident(rest) {
                    continue;
                }
                let name = ident(rest);
                let after = rest[name.len()..].trim_start();
                if after.starts_with(":=") {
                    bound.insert(name.to_string());
                } else if !after.starts_with('(') && name != "states" {
                    found.push(name.to_string());
                }
            }
            _ => {}
        }
    }
    vars.extend(found.into_iter().filter(|n| !bound.contains(n)));
}

/// A state machine ARN that must name a state machine (any qualifier allowed by `qualified`).
pub fn parse_machine_arn(text: &str) -> Result<Arn, ApiError> {
    let arn = Arn::parse(text)?;
    match arn.resource {
        Resource::StateMachine { .. } | Resource::Version { .. } | Resource::Alias { .. } => {
            Ok(arn)
        }
        _ => Err(arn::wrong_type(&arn)),
    }
}

pub fn get_machine(svc: &Service, arn: &str) -> Result<StateMachineRecord, ApiError> {
    svc.store
        .get_state_machine(arn)
        .map_err(|e| or_not_found(e, || does_not_exist(arn)))
}

/// Publishes the machine's current revision, or answers the newest version if it already
/// holds that revision (AWS's idempotent publish).
fn publish(
    svc: &Service,
    sm: &StateMachineRecord,
    description: Option<String>,
) -> Result<VersionRecord, ApiError> {
    let newest = svc
        .store
        .list_versions(&sm.arn, &PageRequest::first(1))
        .map_err(store_failure)?;
    if let Some(v) = newest.items.into_iter().next() {
        if v.revision_id == sm.revision_id && v.definition == sm.definition {
            return Ok(v);
        }
    }
    svc.store
        .publish_version(VersionRecord {
            arn: String::new(),
            state_machine_arn: sm.arn.clone(),
            version: 0,
            definition: sm.definition.clone(),
            role_arn: sm.role_arn.clone(),
            revision_id: sm.revision_id.clone(),
            description,
            creation_date: now_ms(),
        })
        .map_err(|e| or_not_found(e, || does_not_exist(&sm.arn)))
}

pub fn create(svc: &Service, mut input: Input) -> Result<Value, ApiError> {
    let name = input.string("name", true, (1, 80), false)?;
    let definition = input.string("definition", true, (1, DEFINITION_MAX), true)?;
    let role = input.string("roleArn", true, (1, 256), false)?;
    let kind = input.enumeration("type", &["STANDARD", "EXPRESS"])?;
    let logging = read_logging(&mut input)?;
    let tags = read_tags(&mut input, "tags")?;
    let tracing = read_tracing(&mut input)?;
    let publish_it = input.boolean("publish")?.unwrap_or(false);
    let version_description = input.string("versionDescription", false, (0, 256), false)?;
    let encryption = read_encryption(&mut input)?;
    input.finish()?;
    check_version_description(&version_description, publish_it)?;
    let (name, definition, role) = (
        name.unwrap_or_default(),
        definition.unwrap_or_default(),
        role.unwrap_or_default(),
    );
    let kind = match kind.as_deref() {
        Some("EXPRESS") => StateMachineType::Express,
        _ => StateMachineType::Standard,
    };
    if !arn::valid_name(&name) {
        return Err(arn::invalid_name(&name));
    }
    arn::check_role_arn(&role)?;
    check_definition(&definition, kind)?;
    if let Some(l) = &logging {
        check_logging(l)?;
    }
    let now = now_ms();
    let record = StateMachineRecord {
        arn: format!("{}:stateMachine:{name}", svc.arn_prefix()),
        name,
        kind,
        definition: definition.clone(),
        role_arn: role.clone(),
        creation_date: now,
        revision_id: String::new(),
        status: "ACTIVE".into(),
        description: None,
        label: None,
        logging_configuration: json_text(&logging),
        tracing_configuration: json_text(&tracing),
        encryption_configuration: json_text(&encryption),
    };
    let arn = record.arn.clone();
    let mut ops = vec![WriteOp::CreateStateMachine(record)];
    if let Some(tags) = tags.filter(|t| !t.is_empty()) {
        ops.push(WriteOp::TagResource {
            arn: arn.clone(),
            tags,
        });
    }
    if publish_it {
        ops.push(WriteOp::PublishVersion(VersionRecord {
            arn: String::new(),
            state_machine_arn: arn.clone(),
            version: 0,
            definition,
            role_arn: role,
            revision_id: String::new(),
            description: version_description,
            creation_date: now,
        }));
    }
    let mut out = Map::new();
    out.insert("stateMachineArn".into(), Value::from(arn.clone()));
    match svc.store.write(WriteOp::Group(ops)) {
        Ok(outcome) => {
            out.insert("creationDate".into(), ts(now));
            if let WriteOutcome::Group(outs) = outcome {
                for o in outs {
                    if let WriteOutcome::Version(v) = o {
                        out.insert("stateMachineVersionArn".into(), Value::from(v.arn));
                    }
                }
            }
        }
        Err(StoreError::AlreadyExists {
            identical: true, ..
        }) => {
            // An identical repeat answers the existing machine (and its newest version when
            // publishing was asked for).
            let existing = get_machine(svc, &arn)?;
            out.insert("creationDate".into(), ts(existing.creation_date));
            if publish_it {
                let v = publish(svc, &existing, None)?;
                out.insert("stateMachineVersionArn".into(), Value::from(v.arn));
            }
        }
        Err(StoreError::AlreadyExists { .. }) => {
            return Err(ApiError::new(
                "StateMachineAlreadyExists",
                format!("State Machine Already Exists: '{arn}'"),
                400,
            ))
        }
        Err(e) => return Err(store_failure(e)),
    }
    Ok(Value::Object(out))
}

pub fn describe(svc: &Service, mut input: Input) -> Result<Value, ApiError> {
    let arn_text = input.string("stateMachineArn", true, (1, 256), false)?;
    input.enumeration("includedData", &["ALL_DATA", "METADATA_ONLY"])?;
    input.finish()?;
    let arn_text = arn_text.unwrap_or_default();
    let arn = parse_machine_arn(&arn_text)?;
    let base = arn.state_machine_arn().unwrap_or_default();
    let mut out = Map::new();
    match &arn.resource {
        Resource::Version { .. } => {
            let v = svc
                .store
                .get_version(&arn_text)
                .map_err(|e| or_not_found(e, || does_not_exist(&arn_text)))?;
            let sm = get_machine(svc, &base)?;
            out.insert("stateMachineArn".into(), Value::from(v.arn.clone()));
            out.insert("name".into(), Value::from(sm.name.clone()));
            out.insert("status".into(), Value::from(sm.status.clone()));
            out.insert("definition".into(), Value::from(v.definition.clone()));
            out.insert("roleArn".into(), Value::from(v.role_arn.clone()));
            out.insert("type".into(), Value::from(type_str(sm.kind)));
            out.insert("creationDate".into(), ts(v.creation_date));
            configurations(&mut out, &sm);
            insert_variable_references(&mut out, &v.definition);
            if !v.revision_id.is_empty() {
                out.insert("revisionId".into(), Value::from(v.revision_id.clone()));
            }
            if let Some(d) = &v.description {
                out.insert("description".into(), Value::from(d.clone()));
            }
        }
        _ => {
            if matches!(arn.resource, Resource::Alias { .. }) {
                // An alias ARN describes the state machine it belongs to.
                svc.store
                    .get_alias(&arn_text)
                    .map_err(|e| or_not_found(e, || does_not_exist(&arn_text)))?;
            }
            let sm = get_machine(svc, &base)?;
            out.insert("stateMachineArn".into(), Value::from(sm.arn.clone()));
            out.insert("name".into(), Value::from(sm.name.clone()));
            out.insert("status".into(), Value::from(sm.status.clone()));
            out.insert("definition".into(), Value::from(sm.definition.clone()));
            out.insert("roleArn".into(), Value::from(sm.role_arn.clone()));
            out.insert("type".into(), Value::from(type_str(sm.kind)));
            out.insert("creationDate".into(), ts(sm.creation_date));
            configurations(&mut out, &sm);
            insert_variable_references(&mut out, &sm.definition);
            if !sm.revision_id.is_empty() {
                out.insert("revisionId".into(), Value::from(sm.revision_id.clone()));
            }
        }
    }
    Ok(Value::Object(out))
}

/// DescribeStateMachineForExecution's answer from what the execution recorded at its start.
pub fn describe_for_execution(
    svc: &Service,
    exec: &stepwise_store::ExecutionRecord,
) -> Result<Value, ApiError> {
    let mut out = Map::new();
    out.insert(
        "stateMachineArn".into(),
        Value::from(exec.state_machine_arn.clone()),
    );
    let name = exec
        .state_machine_arn
        .rsplit(':')
        .next()
        .unwrap_or_default()
        .to_string();
    out.insert("name".into(), Value::from(name));
    out.insert("definition".into(), Value::from(exec.definition.clone()));
    out.insert("roleArn".into(), Value::from(exec.role_arn.clone()));
    // The machine may be gone since; its configurations then fall back to the defaults.
    let sm = svc.store.get_state_machine(&exec.state_machine_arn).ok();
    // Stepwise keeps no update time per revision: the machine's creation stands in for it.
    let update_date = sm.as_ref().map_or(exec.start_date, |sm| sm.creation_date);
    out.insert("updateDate".into(), ts(update_date));
    match &sm {
        Some(sm) => configurations(&mut out, sm),
        None => {
            out.insert(
                "loggingConfiguration".into(),
                json!({"level": "OFF", "includeExecutionData": false}),
            );
            out.insert("tracingConfiguration".into(), json!({"enabled": false}));
            out.insert("encryptionConfiguration".into(), default_encryption());
        }
    }
    insert_variable_references(&mut out, &exec.definition);
    if !exec.revision_id.is_empty() {
        out.insert("revisionId".into(), Value::from(exec.revision_id.clone()));
    }
    Ok(Value::Object(out))
}

pub fn update(svc: &Service, mut input: Input) -> Result<Value, ApiError> {
    let arn_text = input.string("stateMachineArn", true, (1, 256), false)?;
    let definition = input.string("definition", false, (1, DEFINITION_MAX), true)?;
    let role = input.string("roleArn", false, (1, 256), false)?;
    let logging = read_logging(&mut input)?;
    let tracing = read_tracing(&mut input)?;
    let publish_it = input.boolean("publish")?.unwrap_or(false);
    let version_description = input.string("versionDescription", false, (0, 256), false)?;
    let encryption = read_encryption(&mut input)?;
    input.finish()?;
    check_version_description(&version_description, publish_it)?;
    let arn_text = arn_text.unwrap_or_default();
    let arn = parse_machine_arn(&arn_text)?;
    if !matches!(arn.resource, Resource::StateMachine { .. }) {
        // Versions and aliases cannot be updated (recorded: StateMachineDoesNotExist).
        return Err(does_not_exist(&arn_text));
    }
    if definition.is_none()
        && role.is_none()
        && logging.is_none()
        && tracing.is_none()
        && encryption.is_none()
    {
        return Err(ApiError::new(
            "MissingRequiredParameter",
            "Either the definition, the role ARN, the LoggingConfiguration, or the \
             TracingConfiguration must be specified",
            400,
        ));
    }
    if let Some(r) = &role {
        arn::check_role_arn(r)?;
    }
    let old = get_machine(svc, &arn_text)?;
    if let Some(d) = &definition {
        check_definition(d, old.kind)?;
    }
    if let Some(l) = &logging {
        check_logging(l)?;
    }
    let mut new = old.clone();
    if let Some(d) = definition {
        new.definition = d;
    }
    if let Some(r) = role {
        new.role_arn = r;
    }
    if logging.is_some() {
        new.logging_configuration = json_text(&logging);
    }
    if tracing.is_some() {
        new.tracing_configuration = json_text(&tracing);
    }
    if encryption.is_some() {
        new.encryption_configuration = json_text(&encryption);
    }
    let changed = new != old;
    if changed {
        new.revision_id = uuid::Uuid::new_v4().to_string();
        svc.store
            .update_state_machine(new.clone(), Some(old.revision_id.clone()))
            .map_err(|e| match e {
                StoreError::NotFound(_) => does_not_exist(&arn_text),
                StoreError::Conflict(_) => ApiError::new(
                    "ConflictException",
                    "The state machine was updated concurrently; retry the update.",
                    400,
                ),
                other => store_failure(other),
            })?;
    }
    let mut out = Map::new();
    out.insert("updateDate".into(), ts(now_ms()));
    if !new.revision_id.is_empty() {
        out.insert("revisionId".into(), Value::from(new.revision_id.clone()));
    }
    if publish_it {
        let v = publish(svc, &new, version_description)?;
        out.insert("stateMachineVersionArn".into(), Value::from(v.arn));
    }
    Ok(Value::Object(out))
}

pub fn delete(svc: &Service, mut input: Input) -> Result<Value, ApiError> {
    let arn_text = input.string("stateMachineArn", true, (1, 256), false)?;
    input.finish()?;
    let arn_text = arn_text.unwrap_or_default();
    let arn = parse_machine_arn(&arn_text)?;
    match arn.resource {
        Resource::StateMachine { .. } => {}
        Resource::Version { .. } => return delete_version_arn(svc, &arn_text),
        _ => {
            return Err(ApiError::validation(format!(
                "Deleting an alias through DeleteStateMachine is not supported: '{arn_text}'; \
                 use DeleteStateMachineAlias"
            )))
        }
    }
    // Deleting what is not there succeeds (recorded), as AWS's delete is idempotent.
    match svc.store.delete_state_machine(&arn_text) {
        Ok(()) | Err(StoreError::NotFound(_)) => Ok(json!({})),
        Err(e) => Err(store_failure(e)),
    }
}

pub fn list(svc: &Service, mut input: Input) -> Result<Value, ApiError> {
    let page = page_request(&mut input, 1024)?;
    input.finish()?;
    let p = svc
        .store
        .list_state_machines(&page)
        .map_err(store_failure)?;
    let items: Vec<Value> = p
        .items
        .iter()
        .map(|sm| {
            json!({"stateMachineArn": sm.arn, "name": sm.name, "type": type_str(sm.kind),
                   "creationDate": ts(sm.creation_date)})
        })
        .collect();
    let mut out = Map::new();
    out.insert("stateMachines".into(), Value::Array(items));
    Ok(with_token(out, p.next_token))
}

pub fn publish_version(svc: &Service, mut input: Input) -> Result<Value, ApiError> {
    let arn_text = input.string("stateMachineArn", true, (1, 256), false)?;
    let revision = input.string("revisionId", false, (0, usize::MAX), false)?;
    let description = input.string("description", false, (0, 256), false)?;
    input.finish()?;
    let arn_text = arn_text.unwrap_or_default();
    let arn = parse_machine_arn(&arn_text)?;
    if !matches!(arn.resource, Resource::StateMachine { .. }) {
        return Err(does_not_exist(&arn_text));
    }
    let sm = get_machine(svc, &arn_text)?;
    if let Some(r) = revision {
        if r != sm.revision_id {
            return Err(ApiError::new(
                "ConflictException",
                format!(
                    "Failed to publish the State Machine version for revision {r}. The current \
                     State Machine revision is {}.",
                    sm.revision_id
                ),
                400,
            ));
        }
    }
    let v = publish(svc, &sm, description)?;
    Ok(json!({"creationDate": ts(v.creation_date), "stateMachineVersionArn": v.arn}))
}

pub fn list_versions(svc: &Service, mut input: Input) -> Result<Value, ApiError> {
    let arn_text = input.string("stateMachineArn", true, (1, 256), false)?;
    let page = page_request(&mut input, 1024)?;
    input.finish()?;
    let arn_text = arn_text.unwrap_or_default();
    let arn = parse_machine_arn(&arn_text)?;
    if !matches!(arn.resource, Resource::StateMachine { .. }) {
        return Err(arn::invalid_arn(format!(
            "Expected an unqualified state machine ARN: {arn_text}"
        )));
    }
    let p = svc
        .store
        .list_versions(&arn_text, &page)
        .map_err(store_failure)?;
    let items: Vec<Value> = p
        .items
        .iter()
        .map(|v| json!({"stateMachineVersionArn": v.arn, "creationDate": ts(v.creation_date)}))
        .collect();
    let mut out = Map::new();
    out.insert("stateMachineVersions".into(), Value::Array(items));
    Ok(with_token(out, p.next_token))
}

pub fn delete_version(svc: &Service, mut input: Input) -> Result<Value, ApiError> {
    let arn_text = input.string("stateMachineVersionArn", true, (1, 2000), false)?;
    input.finish()?;
    let arn_text = arn_text.unwrap_or_default();
    let arn = parse_machine_arn(&arn_text)?;
    if !matches!(arn.resource, Resource::Version { .. }) {
        return Err(arn::invalid_arn(format!(
            "Expected a state machine version ARN: {arn_text}"
        )));
    }
    delete_version_arn(svc, &arn_text)
}

/// Deletes a version unless an alias routes to it; a version that is not there is no error
/// (recorded).
fn delete_version_arn(svc: &Service, version_arn: &str) -> Result<Value, ApiError> {
    let base = version_arn
        .rsplit_once(':')
        .map(|(b, _)| b)
        .unwrap_or_default();
    let mut referencing = Vec::new();
    let mut page = PageRequest::first(1000);
    loop {
        let p = svc.store.list_aliases(base, &page).map_err(store_failure)?;
        for a in &p.items {
            if a.routing.iter().any(|r| r.version_arn == version_arn) {
                referencing.push(a.name.clone());
            }
        }
        match p.next_token {
            Some(t) => page.next_token = Some(t),
            None => break,
        }
    }
    if !referencing.is_empty() {
        return Err(ApiError::new(
            "ConflictException",
            format!(
                "Version to be deleted must not be referenced by an alias. Current list of \
                 aliases referencing this version: [{}]",
                referencing.join(", ")
            ),
            400,
        ));
    }
    match svc.store.delete_version(version_arn) {
        Ok(()) | Err(StoreError::NotFound(_)) => Ok(json!({})),
        Err(e) => Err(store_failure(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Config;

    fn call(svc: &Service, action: &str, body: Value) -> Result<Value, ApiError> {
        crate::actions::dispatch(action, body.to_string().as_bytes(), svc)
    }

    fn refs(def: Value) -> Option<Value> {
        variable_references(&def).map(Value::Object)
    }

    #[test]
    fn variable_references_as_recorded() {
        // Recorded (test_sfn_api_variable_references): Choice rules and an Assign.
        let choice = json!({"StartAt": "Setup", "States": {
            "Setup": {"Type": "Pass", "Assign": {"guess": "g", "answer": "a"}, "Next": "CheckAnswer"},
            "CheckAnswer": {"Type": "Choice", "Choices": [{"Variable": "$guess",
                "StringEqualsPath": "$answer", "Next": "Right"}], "Default": "WrongAnswer"},
            "Right": {"Type": "Pass", "End": true},
            "WrongAnswer": {"Type": "Pass", "Assign": {"guess.$": "$answer"}, "Next": "CheckAnswer"}}});
        assert_eq!(
            refs(choice),
            Some(json!({"CheckAnswer": ["answer", "guess"], "WrongAnswer": ["answer"]}))
        );
        // Template text without `.$` is no reference; ResultPath writes.
        let params = json!({"StartAt": "S0", "States": {
            "S0": {"Type": "Pass", "Parameters": {"result": "$result"}, "Next": "S1"},
            "S1": {"Type": "Pass", "ResultPath": "$.result", "Parameters": {"result.$": "$result"},
                   "End": true}}});
        assert_eq!(refs(params), Some(json!({"S1": ["result"]})));
        // Nested Map states by name; intrinsic arguments outside quotes.
        let map = json!({"StartAt": "M", "States": {"M": {"Type": "Map",
            "ItemSelector": {"a.$": "States.Format($tpl, '$notavar', $$.Map.Item.Value)"},
            "MaxConcurrencyPath": "$max",
            "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass",
                "Parameters": {"q.$": "$Question", "a.$": "$.x"}, "End": true}}}, "End": true}}});
        assert_eq!(
            refs(map),
            Some(json!({"M": ["max", "tpl"], "P": ["Question"]}))
        );
        let none = json!({"StartAt": "S", "States": {"S": {"Type": "Pass", "InputPath": "$.a", "End": true}}});
        assert_eq!(refs(none), None);
        let jsonata = json!({"QueryLanguage": "JSONata", "StartAt": "S", "States": {"S": {
            "Type": "Pass", "Output": "{% ($y := $x + 1; $sum([$y, $z, $states.input.a])) %}",
            "End": true}}});
        assert_eq!(refs(jsonata), Some(json!({"S": ["x", "z"]})));
    }

    #[test]
    fn describe_has_default_encryption_and_references() {
        let svc = Service::in_memory(Config::default()).expect("service");
        let def = json!({"StartAt": "A", "States": {
            "A": {"Type": "Pass", "Assign": {"v": 1}, "Next": "B"},
            "B": {"Type": "Pass", "InputPath": "$v", "End": true}}});
        let created = call(
            &svc,
            "CreateStateMachine",
            json!({"name": "m",
            "definition": def.to_string(), "roleArn": "arn:aws:iam::123456789012:role/r"}),
        )
        .unwrap();
        let d = call(
            &svc,
            "DescribeStateMachine",
            json!({"stateMachineArn": created["stateMachineArn"]}),
        )
        .unwrap();
        assert_eq!(
            d["encryptionConfiguration"],
            json!({"type": "AWS_OWNED_KEY"})
        );
        assert_eq!(d["variableReferences"], json!({"B": ["v"]}));
        svc.shutdown();
    }

    #[test]
    fn version_description_needs_publish() {
        let svc = Service::in_memory(Config::default()).expect("service");
        let def = r#"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}"#;
        let e = call(
            &svc,
            "CreateStateMachine",
            json!({"name": "m", "definition": def,
            "roleArn": "arn:aws:iam::123456789012:role/r", "versionDescription": "d"}),
        )
        .unwrap_err();
        assert_eq!(
            (e.code.as_str(), e.message.as_str()),
            (
                "ValidationException",
                "Version description can only be set when publish is true"
            )
        );
        svc.shutdown();
    }
}
