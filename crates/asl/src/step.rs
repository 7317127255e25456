//! The semantics of each state type, as pure functions the engine calls in order.
//!
//! A state runs as: effective input (`InputPath`, then `Parameters`/`ItemSelector`), the state's
//! own work (done by the engine for Task/Parallel/Map/Wait), the result (`ResultSelector`), the
//! result placed in the raw input (`ResultPath`), then `OutputPath`. Errors are `StateError`s
//! carrying AWS's error names and cause texts; the engine adds the "An error occurred while
//! executing the state …" prefix for interpreter errors.

use crate::error::{names, StateError};
use crate::json::to_text;
use crate::jsonata::{self, StatesBinding};
use crate::jsonpath::{Path, PathEnv, Variables};
use crate::model::{
    BranchTest, Catcher, Choice, Fail, FloatSource, Jitter, JsonataTemplate, MapState,
    NumberSource, ResultPath, Retrier, State, StateId, TextSource, Wait,
};
use crate::template::Template;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

/// What paths see besides the document: the context object and the variables in scope.
#[derive(Clone, Copy)]
pub struct Scope<'a> {
    pub context: &'a Value,
    pub variables: &'a dyn Variables,
}

impl<'a> Scope<'a> {
    pub fn env(&self, document: &'a Value) -> PathEnv<'a> {
        PathEnv {
            document,
            context: self.context,
            variables: self.variables,
        }
    }
}

fn invalid_path(path: &Path, doc: &Value) -> StateError {
    let _ = doc;
    StateError::runtime(format!(
        "Invalid path '{path}' : No results for path: {}",
        path.normalized()
    ))
}

/// InputPath/OutputPath selected nothing: Jayway's reason when an intermediate property is
/// missing (`Missing property in path $['a']`, as AWS records it), else "No results".
fn invalid_io_path(path: &Path, env: &crate::jsonpath::PathEnv<'_>, doc: &Value) -> StateError {
    match path.try_select_env(env) {
        Err(e) if e.kind == crate::jsonpath::SelectErrorKind::MissingProperty => {
            StateError::runtime(path.invalid_path_cause(&e))
        }
        _ => invalid_path(path, doc),
    }
}

/// `InputPath`: selects the effective input from the raw input.
pub fn apply_input_path(state: &State, raw: &Value, scope: Scope) -> Result<Value, StateError> {
    match &state.input_path {
        None => Ok(Value::Object(Map::new())),
        Some(p) if p.is_identity() => Ok(raw.clone()),
        Some(p) => match p.select_env(&scope.env(raw)) {
            Some(v) => Ok(v.into_owned()),
            None => Err(invalid_io_path(p, &scope.env(raw), raw)),
        },
    }
}

/// `Parameters` / `ItemSelector` / `ResultSelector`: builds a payload from `doc`.
pub fn apply_template(
    template: Option<&Template>,
    doc: Value,
    scope: Scope,
    rng: &mut dyn rand::RngCore,
) -> Result<Value, StateError> {
    match template {
        None => Ok(doc),
        Some(t) => t.eval(&scope.env(&doc), rng),
    }
}

/// `ResultPath`: puts `result` into the raw input.
pub fn apply_result_path(rp: &ResultPath, raw: Value, result: Value) -> Result<Value, StateError> {
    match rp {
        ResultPath::Discard => Ok(raw),
        ResultPath::Path(p) if p.is_identity() => Ok(result),
        ResultPath::Path(p) => {
            let mut doc = raw;
            let before = if doc.is_object() {
                None
            } else {
                Some(to_text(&doc))
            };
            match p.set(&mut doc, result) {
                Ok(()) => Ok(doc),
                Err(_) => Err(StateError::new(
                    names::RESULT_PATH_MATCH_FAILURE,
                    format!(
                        "Unable to apply ResultPath \"{p}\" to input \"{}\"",
                        before.unwrap_or_else(|| to_text(&doc))
                    ),
                )),
            }
        }
    }
}

/// `OutputPath`: selects the state output.
pub fn apply_output_path(state: &State, v: Value, scope: Scope) -> Result<Value, StateError> {
    match &state.output_path {
        None => Ok(Value::Object(Map::new())),
        Some(p) if p.is_identity() => Ok(v),
        Some(p) => match p.select_env(&scope.env(&v)) {
            Some(x) => Ok(x.into_owned()),
            None => Err(invalid_io_path(p, &scope.env(&v), &v)),
        },
    }
}

/// Evaluates an `Assign` block. Every expression sees the variables from before the state.
pub fn eval_assign(
    assign: Option<&Template>,
    doc: &Value,
    scope: Scope,
    rng: &mut dyn rand::RngCore,
) -> Result<Option<Map<String, Value>>, StateError> {
    match assign {
        None => Ok(None),
        Some(t) => {
            let bindings = t.eval_bindings(&scope.env(doc), rng)?;
            check_assign_size(&bindings)?;
            Ok(Some(bindings))
        }
    }
}

/// Pass: the result is `Result` if given, else the (parameterised) effective input.
pub fn pass_result(result: Option<&Value>, effective: Value) -> Value {
    match result {
        Some(r) => r.clone(),
        None => effective,
    }
}

/// Choice: the first matching rule's index, or the Default.
pub fn choose(
    choice: &Choice,
    input: &Value,
    scope: Scope,
) -> Result<(StateId, Option<usize>), StateError> {
    let env = scope.env(input);
    for (i, b) in choice.choices.iter().enumerate() {
        let BranchTest::Rule(rule) = &b.rule else {
            return Err(not_jsonpath());
        };
        if rule.eval(&env)? {
            return Ok((b.next, Some(i)));
        }
    }
    match choice.default {
        Some(d) => Ok((d, None)),
        None => Err(StateError::new(
            names::NO_CHOICE_MATCHED,
            "No Matches!".to_string(),
        )),
    }
}

/// A JSONata field reached a JSONPath-only function: the model never builds that.
fn not_jsonpath() -> StateError {
    StateError::runtime("internal: a JSONata field in a JSONPath state")
}

/// Wait: when the state's timer fires.
pub fn wait_until(
    wait: &Wait,
    input: &Value,
    scope: Scope,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, StateError> {
    match wait {
        Wait::Seconds(s) => Ok(now + chrono::Duration::seconds(*s as i64)),
        Wait::Timestamp(t) => parse_timestamp(t).ok_or_else(|| {
            StateError::runtime(format!(
                "The Timestamp parameter does not reference a valid ISO-8601 extended offset date-time format string: {t}"
            ))
        }),
        Wait::SecondsPath(p) => {
            let v = p.select_env(&scope.env(input)).ok_or_else(|| {
                StateError::runtime(format!(
                    "The SecondsPath parameter does not reference an input value: {p}"
                ))
            })?;
            let n = match v.as_ref() {
                Value::Number(n) if n.is_i64() || n.is_u64() => n.as_i64().unwrap_or(i64::MAX),
                other => {
                    return Err(StateError::runtime(format!(
                        "The SecondsPath parameter cannot be parsed as a long value: {p} == {}",
                        to_text(other)
                    )))
                }
            };
            if n < 0 {
                return Err(StateError::runtime(format!(
                    "The SecondsPath parameter references a negative value: {p} == {n}"
                )));
            }
            Ok(now + chrono::Duration::seconds(n.min(99_999_999)))
        }
        Wait::TimestampPath(p) => {
            let v = p.select_env(&scope.env(input)).ok_or_else(|| {
                StateError::runtime(format!(
                    "The TimestampPath parameter does not reference an input value: {p}"
                ))
            })?;
            v.as_str().and_then(parse_timestamp).ok_or_else(|| {
                StateError::runtime(format!(
                    "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: {p} == {}",
                    match v.as_ref() { Value::String(s) => s.clone(), other => to_text(other) }
                ))
            })
        }
        Wait::SecondsExpr(_) | Wait::TimestampExpr(_) => Err(not_jsonpath()),
    }
}

/// Parses a timestamp as Step Functions accepts it: RFC 3339 with an upper-case `T` and an
/// offset (`Z` or `±hh:mm`).
pub fn parse_timestamp(s: &str) -> Option<DateTime<Utc>> {
    if !s.contains('T') {
        return None;
    }
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

/// Fail: the error and cause (either may be absent).
pub fn fail_error(
    fail: &Fail,
    input: &Value,
    scope: Scope,
) -> Result<(Option<String>, Option<String>), StateError> {
    let text = |src: &Option<TextSource>, field: &str| -> Result<Option<String>, StateError> {
        match src {
            None => Ok(None),
            Some(TextSource::Literal(s)) => Ok(Some(s.clone())),
            Some(TextSource::Path(p)) => match p.select_env(&scope.env(input)) {
                Some(v) => match v.as_ref() {
                    Value::String(s) => Ok(Some(s.clone())),
                    other => Err(StateError::runtime(format!(
                        "The {field}Path field refers to value \"{}\" which is not a valid string: {p}",
                        to_text(other)
                    ))),
                },
                None => Err(StateError::runtime(format!(
                    "The JSONPath '{p}' specified for the field '{field}Path' could not be found in the input '{}'",
                    to_text(input)
                ))),            },
            Some(TextSource::Expr(_)) => Err(not_jsonpath()),
        }
    };
    Ok((text(&fail.error, "Error")?, text(&fail.cause, "Cause")?))
}

/// How a Map state fans out, resolved against its input.
#[derive(Debug, Clone)]
pub struct MapPlan {
    pub items: Vec<Value>,
    /// 0 = no limit.
    pub max_concurrency: usize,
}

/// Map: the items to process and the concurrency limit.
pub fn map_plan(
    map: &MapState,
    effective_input: &Value,
    scope: Scope,
) -> Result<MapPlan, StateError> {
    let max_concurrency = match &map.max_concurrency {
        NumberSource::Literal(n) => *n as usize,
        NumberSource::Path(p) => {
            let v = p
                .select_env(&scope.env(effective_input))
                .ok_or_else(|| invalid_path(p, effective_input))?;
            match v.as_ref() {
                Value::Number(n) if n.is_u64() => n.as_u64().unwrap_or(0) as usize,
                Value::Number(n) if n.is_i64() => {
                    return Err(StateError::runtime(format!(
                        "The MaxConcurrencyPath field refers to value \"{n}\" which is not a valid integer: {p}"
                    )))
                }
                other => {
                    return Err(StateError::runtime(format!(
                        "The MaxConcurrencyPath field refers to value \"{}\" which is not a valid integer: {p}",
                        plain_text(other)
                    )))
                }
            }
        }
        NumberSource::Expr(_) => return Err(not_jsonpath()),
    };
    let items_v = map
        .items_path
        .select_env(&scope.env(effective_input))
        .ok_or_else(|| invalid_path(&map.items_path, effective_input))?;
    let items = match items_v.as_ref() {
        Value::Array(a) => a.clone(),
        other => {
            return Err(StateError::runtime(format!(
                "Invalid path '{}' : The value at the ItemsPath is not a JSON array: {}",
                map.items_path,
                to_text(other)
            )))
        }
    };
    Ok(MapPlan {
        items,
        max_concurrency,
    })
}

/// Map: how many failed items it tolerates (count, percentage) before failing.
pub fn map_tolerance(
    map: &MapState,
    effective_input: &Value,
    scope: Scope,
) -> Result<(Option<u64>, Option<f64>), StateError> {
    let count = match &map.tolerated_failure_count {
        None => None,
        Some(NumberSource::Literal(n)) => Some(*n),
        Some(NumberSource::Path(p)) => {
            let v = p
                .select_env(&scope.env(effective_input))
                .ok_or_else(|| invalid_path(p, effective_input))?;
            match v.as_ref() {
                Value::Number(n) if n.is_u64() => n.as_u64(),
                Value::Number(n) if n.is_i64() => {
                    return Err(StateError::runtime("ToleratedFailureCount cannot be negative."))
                }
                other => {
                    return Err(StateError::runtime(format!(
                        "The ToleratedFailureCountPath field refers to value \"{}\" which is not a valid integer: {p}",
                        plain_text(other)
                    )))
                }
            }
        }
        Some(NumberSource::Expr(_)) => return Err(not_jsonpath()),
    };
    let pct = match &map.tolerated_failure_percentage {
        None => None,
        Some(FloatSource::Literal(x)) => Some(*x),
        Some(FloatSource::Path(p)) => {
            let v = p
                .select_env(&scope.env(effective_input))
                .ok_or_else(|| invalid_path(p, effective_input))?;
            match v.as_ref() {
                Value::Number(n) => {
                    let x = n.as_f64().unwrap_or(0.0);
                    if !(0.0..=100.0).contains(&x) {
                        return Err(StateError::runtime(
                            "ToleratedFailurePercentage must be between 0 and 100.",
                        ));
                    }
                    Some(x)
                }
                other => {
                    return Err(StateError::runtime(format!(
                        "The ToleratedFailurePercentagePath field refers to value \"{}\" which is not a valid float: {p}",
                        plain_text(other)
                    )))
                }
            }
        }
        Some(FloatSource::Expr(_)) => return Err(not_jsonpath()),
    };
    Ok((count, pct))
}

/// Strings as their text, other values as JSON (AWS's style in these causes).
fn plain_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => to_text(other),
    }
}

/// Whether a Map with `failed` of `total` items failed beyond its tolerance.
pub fn map_exceeds_tolerance(
    failed: usize,
    total: usize,
    count: Option<u64>,
    pct: Option<f64>,
) -> bool {
    if failed == 0 {
        return false;
    }
    if count.is_none() && pct.is_none() {
        return true;
    }
    let over_count = count.is_none_or(|c| failed as u64 > c);
    let over_pct = pct.is_none_or(|p| total > 0 && (failed as f64) * 100.0 / (total as f64) > p);
    over_count && over_pct
}

/// Does `ErrorEquals` match this error? `States.ALL` matches everything but `States.Runtime`
/// (AWS's recordings show it catching `States.DataLimitExceeded` from a task's oversized
/// result); `States.TaskFailed` matches a task's own errors, not timeouts or `States.*`.
pub fn error_matches(error_equals: &[String], error: &str) -> bool {
    error_equals.iter().any(|e| {
        e == error
            || (e == names::ALL && error != names::RUNTIME)
            || (e == names::TASK_FAILED
                && error != names::TIMEOUT
                && error != names::HEARTBEAT_TIMEOUT
                && !error.starts_with("States."))
    })
}

/// The retry decision for an error: which retrier matched and the delay before the next
/// attempt, or `None` when the error is not retried (no match, or attempts exhausted).
/// `attempts[i]` counts the retries already made under retrier `i`; `unit` is a uniform random
/// number in [0, 1) for jitter.
pub fn retry_delay(
    retriers: &[Retrier],
    attempts: &[u64],
    error: &str,
    unit: f64,
) -> Option<(usize, f64)> {
    let (idx, r) = retriers
        .iter()
        .enumerate()
        .find(|(_, r)| error_matches(&r.error_equals, error))?;
    let done = attempts.get(idx).copied().unwrap_or(0);
    if done >= r.max_attempts {
        return None;
    }
    let mut delay = r.interval_seconds as f64 * r.backoff_rate.powi(done as i32);
    if let Some(max) = r.max_delay_seconds {
        delay = delay.min(max as f64);
    }
    if r.jitter == Jitter::Full {
        delay *= unit;
    }
    Some((idx, delay))
}

/// The first Catcher matching the error.
pub fn find_catcher<'a>(catchers: &'a [Catcher], error: &str) -> Option<&'a Catcher> {
    catchers
        .iter()
        .find(|c| error_matches(&c.error_equals, error))
}

/// The error output a Catcher passes on: `{"Error": …, "Cause": …}`.
pub fn error_output(err: &StateError) -> Value {
    let mut m = Map::new();
    m.insert("Error".into(), Value::String(err.error.clone()));
    m.insert("Cause".into(), Value::String(err.cause.clone()));
    Value::Object(m)
}

// ---------------------------------------------------------------------------------------------
// JSONata states
//
// A JSONata state has no InputPath/Parameters/ResultSelector/ResultPath/OutputPath: its
// expressions read `$states.input` (the raw state input), `$states.result` (Task/Parallel/Map,
// in Output and Assign), `$states.errorOutput` (in a Catcher's Output and Assign) and
// `$states.context`. Every expression of a state sees the variables from before the state,
// Output included; the engine commits the Assign results only after Output is built.
// ---------------------------------------------------------------------------------------------

/// A failure while evaluating a JSONata state's fields. `location` is the field AWS names in
/// the `EvaluationFailed` event (`Output/result`), when there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalError {
    pub error: StateError,
    pub location: Option<String>,
}

impl EvalError {
    /// A `States.QueryEvaluationError` (the engine records an `EvaluationFailed` event for it).
    pub fn query(cause: impl Into<String>, location: Option<String>) -> EvalError {
        EvalError {
            error: StateError::new(names::QUERY_EVALUATION_ERROR, cause),
            location,
        }
    }

    /// Whether AWS records this one as an `EvaluationFailed` event.
    pub fn is_query_error(&self) -> bool {
        self.error.error == names::QUERY_EVALUATION_ERROR
    }
}

impl From<StateError> for EvalError {
    fn from(error: StateError) -> Self {
        EvalError {
            error,
            location: None,
        }
    }
}

/// What a JSONata state's expressions see besides `$states`: the variables in scope.
pub struct JsonataScope<'a> {
    pub states: StatesBinding<'a>,
    pub variables: &'a dyn crate::jsonpath::Variables,
}

/// `Output/result` from the field and the location inside its template (`result`, `[0]`).
fn field_location(field: &str, inner: &str) -> String {
    if inner.is_empty() {
        field.to_string()
    } else if inner.starts_with('[') {
        format!("{field}{inner}")
    } else {
        format!("{field}/{inner}")
    }
}

/// Evaluates a JSONata template for `field` (`Output`, `Arguments`, `Assign`, …), with AWS's
/// causes for an expression that fails or returns nothing.
pub fn jsonata_eval(
    t: &JsonataTemplate,
    field: &str,
    scope: &JsonataScope,
    rng: &mut dyn rand::RngCore,
) -> Result<Value, EvalError> {
    t.eval(&scope.states, scope.variables, rng)
        .map_err(|(inner, err)| {
            let location = field_location(field, &inner);
            let expr = t.source_at(&inner).unwrap_or_default();
            let cause = match err {
                None => jsonata::undefined_cause(expr, &location),
                Some(e) => jsonata::error_cause(expr, &location, &e),
            };
            EvalError::query(cause, Some(location))
        })
}

/// The expression text AWS quotes for a whole-field value (the literal's JSON if none).
fn field_source(t: &JsonataTemplate, value: &Value) -> String {
    t.source_at("")
        .map(str::to_string)
        .unwrap_or_else(|| to_text(value))
}

/// A value of the wrong type for `field`.
fn unexpected(t: &JsonataTemplate, field: &str, expected: &str, v: &Value) -> EvalError {
    EvalError::query(
        jsonata::unexpected_type_cause(&field_source(t, v), field, expected, v),
        Some(field.to_string()),
    )
}

/// `Output` (or `Arguments`, `ItemSelector`): the evaluated template, `None` when absent so
/// the caller takes the field's default (input, result or error output).
pub fn jsonata_optional(
    t: Option<&JsonataTemplate>,
    field: &str,
    scope: &JsonataScope,
    rng: &mut dyn rand::RngCore,
) -> Result<Option<Value>, EvalError> {
    t.map(|t| jsonata_eval(t, field, scope, rng)).transpose()
}

/// `Assign`: each top-level key is a variable; all expressions see the values from before
/// the state.
pub fn jsonata_assign(
    t: Option<&JsonataTemplate>,
    scope: &JsonataScope,
    rng: &mut dyn rand::RngCore,
) -> Result<Option<Map<String, Value>>, EvalError> {
    match t {
        None => Ok(None),
        Some(t) => match jsonata_eval(t, "Assign", scope, rng)? {
            Value::Object(m) => {
                check_assign_size(&m)?;
                Ok(Some(m))
            }
            _ => Ok(Some(Map::new())),
        },
    }
}

/// The largest value one variable may hold, and all the variables one `Assign` sets together.
pub const VARIABLE_LIMIT: usize = 262_144;

/// Enforces AWS's size limits on what an `Assign` sets: 256 KiB per variable and 256 KiB for
/// the whole block. (The cause wording is ours: no recording of it exists in the corpus.)
pub fn check_assign_size(bindings: &Map<String, Value>) -> Result<(), StateError> {
    let mut total = 0usize;
    for (name, v) in bindings {
        let size = crate::json::text_len(v);
        if size > VARIABLE_LIMIT {
            return Err(StateError::runtime(format!(
                "The variable '{name}' is {size} bytes; a variable may hold at most {VARIABLE_LIMIT} bytes."
            )));
        }
        total += size;
    }
    if total > VARIABLE_LIMIT {
        return Err(StateError::runtime(format!(
            "The variables assigned together are {total} bytes; an Assign may set at most {VARIABLE_LIMIT} bytes."
        )));
    }
    Ok(())
}

/// Choice: the first branch whose `Condition` is true, or the Default. A Condition that is
/// not a boolean is an error.
pub fn jsonata_choose(
    choice: &Choice,
    scope: &JsonataScope,
    rng: &mut dyn rand::RngCore,
) -> Result<(StateId, Option<usize>), EvalError> {
    for (i, b) in choice.choices.iter().enumerate() {
        let BranchTest::Condition(t) = &b.rule else {
            return Err(StateError::runtime("internal: a JSONPath rule in a JSONata state").into());
        };
        match jsonata_eval(t, "Condition", scope, rng)? {
            Value::Bool(true) => return Ok((b.next, Some(i))),
            Value::Bool(false) => {}
            other => return Err(unexpected(t, "Condition", "boolean", &other)),
        }
    }
    match choice.default {
        Some(d) => Ok((d, None)),
        None => Err(StateError::new(names::NO_CHOICE_MATCHED, "No Matches!".to_string()).into()),
    }
}

/// A whole-number field given as an expression (`TimeoutSeconds`, `MaxConcurrency`, …).
fn jsonata_integer(
    t: &JsonataTemplate,
    field: &str,
    scope: &JsonataScope,
    rng: &mut dyn rand::RngCore,
) -> Result<u64, EvalError> {
    let v = jsonata_eval(t, field, scope, rng)?;
    match v.as_f64() {
        Some(x) if x >= 0.0 && x.fract() == 0.0 && x <= u64::MAX as f64 => Ok(x as u64),
        _ => Err(unexpected(t, field, "integer", &v)),
    }
}

/// A number field in a JSONata state: literal, or an expression.
pub fn jsonata_number(
    src: Option<&NumberSource>,
    field: &str,
    scope: &JsonataScope,
    rng: &mut dyn rand::RngCore,
) -> Result<Option<u64>, EvalError> {
    match src {
        None => Ok(None),
        Some(NumberSource::Literal(n)) => Ok(Some(*n)),
        Some(NumberSource::Expr(t)) => jsonata_integer(t, field, scope, rng).map(Some),
        Some(NumberSource::Path(_)) => Err(not_jsonpath().into()),
    }
}

/// Wait in a JSONata state: `Seconds` or `Timestamp`, literal or expression.
pub fn jsonata_wait_until(
    wait: &Wait,
    scope: &JsonataScope,
    rng: &mut dyn rand::RngCore,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, EvalError> {
    let timestamp = |t: &str| {
        parse_timestamp(t).ok_or_else(|| {
            EvalError::query(
                format!(
                    "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: {t}"
                ),
                Some("Timestamp".into()),
            )
        })
    };
    match wait {
        Wait::Seconds(s) => Ok(now + chrono::Duration::seconds(*s as i64)),
        Wait::Timestamp(t) => timestamp(t),
        Wait::SecondsExpr(t) => {
            let n = jsonata_integer(t, "Seconds", scope, rng)?;
            Ok(now + chrono::Duration::seconds(n.min(99_999_999) as i64))
        }
        Wait::TimestampExpr(t) => match jsonata_eval(t, "Timestamp", scope, rng)? {
            Value::String(s) => timestamp(&s),
            other => Err(unexpected(t, "Timestamp", "string", &other)),
        },
        Wait::SecondsPath(_) | Wait::TimestampPath(_) => Err(not_jsonpath().into()),
    }
}

/// Fail in a JSONata state: `Error` and `Cause`, literal or expression (must be strings).
pub fn jsonata_fail_error(
    fail: &Fail,
    scope: &JsonataScope,
    rng: &mut dyn rand::RngCore,
) -> Result<(Option<String>, Option<String>), EvalError> {
    let text = |src: &Option<TextSource>,
                field: &str,
                rng: &mut dyn rand::RngCore|
     -> Result<Option<String>, EvalError> {
        match src {
            None => Ok(None),
            Some(TextSource::Literal(s)) => Ok(Some(s.clone())),
            Some(TextSource::Expr(t)) => match jsonata_eval(t, field, scope, rng)? {
                Value::String(s) => Ok(Some(s)),
                other => Err(unexpected(t, field, "string", &other)),
            },
            Some(TextSource::Path(_)) => Err(not_jsonpath().into()),
        }
    };
    let error = text(&fail.error, "Error", rng)?;
    let cause = text(&fail.cause, "Cause", rng)?;
    Ok((error, cause))
}

/// Map in a JSONata state: the items (`Items`, else the state input, which must then be an
/// array) and the concurrency limit.
pub fn jsonata_map_plan(
    map: &MapState,
    scope: &JsonataScope,
    rng: &mut dyn rand::RngCore,
) -> Result<MapPlan, EvalError> {
    let items = match &map.items {
        Some(t) => match jsonata_eval(t, "Items", scope, rng)? {
            Value::Array(a) => a,
            other => return Err(unexpected(t, "Items", "array", &other)),
        },
        None => match scope.states.input {
            Value::Array(a) => a.clone(),
            other => {
                return Err(EvalError::query(
                    format!(
                        "Map state input must be an array but was: {}",
                        to_text(other)
                    ),
                    None,
                ))
            }
        },
    };
    let max_concurrency = jsonata_number(Some(&map.max_concurrency), "MaxConcurrency", scope, rng)?
        .unwrap_or(0) as usize;
    Ok(MapPlan {
        items,
        max_concurrency,
    })
}

/// Map in a JSONata state: the tolerated failure count and percentage.
pub fn jsonata_map_tolerance(
    map: &MapState,
    scope: &JsonataScope,
    rng: &mut dyn rand::RngCore,
) -> Result<(Option<u64>, Option<f64>), EvalError> {
    let count = jsonata_number(
        map.tolerated_failure_count.as_ref(),
        "ToleratedFailureCount",
        scope,
        rng,
    )?;
    let pct = match &map.tolerated_failure_percentage {
        None => None,
        Some(FloatSource::Literal(x)) => Some(*x),
        Some(FloatSource::Expr(t)) => {
            let v = jsonata_eval(t, "ToleratedFailurePercentage", scope, rng)?;
            match v.as_f64() {
                Some(x) if (0.0..=100.0).contains(&x) => Some(x),
                _ => return Err(unexpected(t, "ToleratedFailurePercentage", "number", &v)),
            }
        }
        Some(FloatSource::Path(_)) => return Err(not_jsonpath().into()),
    };
    Ok((count, pct))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn result_path_creates_nested_objects() {
        let rp = ResultPath::Path(Path::parse("$.a.b").unwrap());
        assert_eq!(
            apply_result_path(&rp, json!({"x": 1}), json!(2)).unwrap(),
            json!({"x": 1, "a": {"b": 2}})
        );
        assert_eq!(
            apply_result_path(&ResultPath::Discard, json!(1), json!(2)).unwrap(),
            json!(1)
        );
    }

    #[test]
    fn retry_backoff_and_cap() {
        let r = Retrier {
            error_equals: vec!["States.ALL".into()],
            interval_seconds: 2,
            max_attempts: 3,
            backoff_rate: 2.0,
            max_delay_seconds: Some(5),
            jitter: Jitter::None,
        };
        let rs = [r];
        assert_eq!(retry_delay(&rs, &[0], "X", 0.5), Some((0, 2.0)));
        assert_eq!(retry_delay(&rs, &[1], "X", 0.5), Some((0, 4.0)));
        assert_eq!(retry_delay(&rs, &[2], "X", 0.5), Some((0, 5.0)));
        assert_eq!(retry_delay(&rs, &[3], "X", 0.5), None);
    }

    #[test]
    fn states_all_catches_data_limit_but_not_runtime() {
        let all = vec!["States.ALL".to_string()];
        assert!(error_matches(&all, "States.DataLimitExceeded"));
        assert!(error_matches(&all, "Custom.Error"));
        assert!(!error_matches(&all, "States.Runtime"));
        let task = vec!["States.TaskFailed".to_string()];
        assert!(error_matches(&task, "Lambda.Unknown"));
        assert!(!error_matches(&task, "States.Timeout"));
    }

    #[test]
    fn assign_size_limits() {
        let mut m = Map::new();
        m.insert("a".into(), json!("x".repeat(1000)));
        assert!(check_assign_size(&m).is_ok());
        m.insert("big".into(), json!("x".repeat(VARIABLE_LIMIT)));
        let e = check_assign_size(&m).expect_err("over the limit");
        assert_eq!(e.error, "States.Runtime");
        assert!(e.cause.contains("'big'"), "{}", e.cause);
        let mut two = Map::new();
        two.insert("a".into(), json!("x".repeat(VARIABLE_LIMIT / 2)));
        two.insert("b".into(), json!("x".repeat(VARIABLE_LIMIT / 2)));
        assert!(check_assign_size(&two)
            .expect_err("together too big")
            .cause
            .contains("together"));
    }

    #[test]
    fn tolerance() {
        assert!(map_exceeds_tolerance(1, 10, None, None));
        assert!(!map_exceeds_tolerance(1, 10, Some(1), None));
        assert!(map_exceeds_tolerance(2, 10, Some(1), None));
        assert!(!map_exceeds_tolerance(1, 10, None, Some(10.0)));
        assert!(map_exceeds_tolerance(2, 10, None, Some(10.0)));
    }

    // --- JSONata -------------------------------------------------------------------------

    use crate::model::{ChoiceBranch, StateKind};
    use crate::StateMachine;
    use rand::SeedableRng;

    fn jt(v: Value) -> JsonataTemplate {
        JsonataTemplate::compile(&v).unwrap()
    }

    fn rng() -> rand_chacha::ChaCha8Rng {
        rand_chacha::ChaCha8Rng::seed_from_u64(7)
    }

    fn scope<'a>(
        input: &'a Value,
        result: Option<&'a Value>,
        vars: &'a Map<String, Value>,
    ) -> JsonataScope<'a> {
        JsonataScope {
            states: StatesBinding {
                input,
                result,
                error_output: None,
                context: &Value::Null,
            },
            variables: vars,
        }
    }

    #[test]
    fn jsonata_output_sees_input_result_and_variables() {
        let vars: Map<String, Value> = json!({"x": 10}).as_object().unwrap().clone();
        let input = json!({"a": 1});
        let result = json!({"r": 2});
        let t = jt(json!({"sum": "{% $states.input.a + $states.result.r + $x %}", "lit": "$.a"}));
        let out = jsonata_eval(
            &t,
            "Output",
            &scope(&input, Some(&result), &vars),
            &mut rng(),
        );
        assert_eq!(out.unwrap(), json!({"sum": 13, "lit": "$.a"}));
    }

    #[test]
    fn jsonata_undefined_and_errors_name_the_field_and_expression() {
        let vars = Map::new();
        let input = json!({});
        let s = scope(&input, None, &vars);
        let t = jt(json!({"result": "{% $doesNotExist %}"}));
        let e = jsonata_eval(&t, "Output", &s, &mut rng()).unwrap_err();
        assert!(e.is_query_error());
        assert_eq!(e.location.as_deref(), Some("Output/result"));
        assert_eq!(
            e.error.cause,
            "The JSONata expression '$doesNotExist' specified for the field 'Output/result' returned nothing (undefined)."
        );
        let t = jt(json!("{% $nope() %}"));
        let e = jsonata_eval(&t, "Arguments", &s, &mut rng()).unwrap_err();
        assert_eq!(e.location.as_deref(), Some("Arguments"));
        assert!(e
            .error
            .cause
            .contains("threw an error during evaluation. T1006"));
        let t = jt(json!(["{% 1 %}", "{% $nope %}"]));
        let e = jsonata_eval(&t, "Items", &s, &mut rng()).unwrap_err();
        assert_eq!(e.location.as_deref(), Some("Items[1]"));
    }

    #[test]
    fn jsonata_assign_sees_the_values_from_before_the_state() {
        let vars: Map<String, Value> = json!({"theAnswer": 42}).as_object().unwrap().clone();
        let input = json!({});
        let t = jt(json!({"theAnswer": 18, "oldAnswer": "{% $theAnswer %}"}));
        let a = jsonata_assign(Some(&t), &scope(&input, None, &vars), &mut rng()).unwrap();
        assert_eq!(
            Value::Object(a.unwrap()),
            json!({"theAnswer": 18, "oldAnswer": 42})
        );
        assert_eq!(
            jsonata_assign(None, &scope(&input, None, &vars), &mut rng()).unwrap(),
            None
        );
    }

    fn machine(def: Value) -> StateMachine {
        StateMachine::from_value(&def).unwrap()
    }

    #[test]
    fn jsonata_condition_must_be_boolean() {
        let m = machine(
            json!({"QueryLanguage": "JSONata", "StartAt": "C", "States": {
            "C": {"Type": "Choice", "Choices": [
                {"Condition": "{% $states.input.v %}", "Next": "A"}], "Default": "B"},
            "A": {"Type": "Succeed"}, "B": {"Type": "Succeed"}}}),
        );
        let StateKind::Choice(c) = &m.body.get(0).kind else {
            panic!("not a choice")
        };
        assert!(matches!(c.choices[0], ChoiceBranch { next: 1, .. }));
        let vars = Map::new();
        let yes = json!({"v": true});
        let no = json!({"v": false});
        let bad = json!({"v": "yes"});
        assert_eq!(
            jsonata_choose(c, &scope(&yes, None, &vars), &mut rng()).unwrap(),
            (1, Some(0))
        );
        assert_eq!(
            jsonata_choose(c, &scope(&no, None, &vars), &mut rng()).unwrap(),
            (2, None)
        );
        let e = jsonata_choose(c, &scope(&bad, None, &vars), &mut rng()).unwrap_err();
        assert_eq!(e.location.as_deref(), Some("Condition"));
        assert!(e
            .error
            .cause
            .contains("Expected 'boolean', but was 'string'"));
    }

    #[test]
    fn jsonata_map_items_must_be_an_array() {
        let def = |items: Value| {
            let mut m = json!({"Type": "Map", "ItemProcessor": {"StartAt": "P",
                "States": {"P": {"Type": "Pass", "End": true}}}, "End": true,
                "MaxConcurrency": "{% 2 %}"});
            if !items.is_null() {
                m["Items"] = items;
            }
            machine(json!({"QueryLanguage": "JSONata", "StartAt": "M", "States": {"M": m}}))
        };
        let vars = Map::new();
        let input = json!({"xs": [1, 2]});
        let m = def(json!("{% $states.input.xs %}"));
        let StateKind::Map(map) = &m.body.get(0).kind else {
            panic!()
        };
        let plan = jsonata_map_plan(map, &scope(&input, None, &vars), &mut rng()).unwrap();
        assert_eq!(
            (plan.items, plan.max_concurrency),
            (vec![json!(1), json!(2)], 2)
        );
        let m = def(json!("{% $states.input %}"));
        let StateKind::Map(map) = &m.body.get(0).kind else {
            panic!()
        };
        let e = jsonata_map_plan(map, &scope(&input, None, &vars), &mut rng()).unwrap_err();
        assert_eq!(
            e.error.cause,
            "The JSONata expression '$states.input' specified for the field 'Items' returned an unexpected result type. Expected 'array', but was 'object' for value: {\"xs\":[1,2]}"
        );
        let m = def(Value::Null);
        let StateKind::Map(map) = &m.body.get(0).kind else {
            panic!()
        };
        let e = jsonata_map_plan(map, &scope(&json!(true), None, &vars), &mut rng()).unwrap_err();
        assert_eq!(e.location, None);
        assert_eq!(
            e.error.cause,
            "Map state input must be an array but was: true"
        );
    }

    #[test]
    fn jsonata_wait_timestamp_and_fail_texts() {
        let m = machine(
            json!({"QueryLanguage": "JSONata", "StartAt": "W", "States": {
            "W": {"Type": "Wait", "Timestamp": "{% $states.input.t %}", "Next": "F"},
            "F": {"Type": "Fail", "Error": "{% $states.input.e %}", "Cause": "literal"}}}),
        );
        let vars = Map::new();
        let now = DateTime::<Utc>::default();
        let StateKind::Wait(w) = &m.body.get(0).kind else {
            panic!()
        };
        let ok = json!({"t": "2016-03-14T01:59:00Z"});
        assert!(jsonata_wait_until(w, &scope(&ok, None, &vars), &mut rng(), now).is_ok());
        let bad = json!({"t": "2016-12-05 21:29:29Z"});
        let e = jsonata_wait_until(w, &scope(&bad, None, &vars), &mut rng(), now).unwrap_err();
        assert_eq!(e.location.as_deref(), Some("Timestamp"));
        assert_eq!(e.error.cause, "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: 2016-12-05 21:29:29Z");
        let StateKind::Fail(f) = &m.body.get(1).kind else {
            panic!()
        };
        let input = json!({"e": "Boom"});
        assert_eq!(
            jsonata_fail_error(f, &scope(&input, None, &vars), &mut rng()).unwrap(),
            (Some("Boom".into()), Some("literal".into()))
        );
        let input = json!({"e": 1});
        assert!(jsonata_fail_error(f, &scope(&input, None, &vars), &mut rng()).is_err());
    }

    #[test]
    fn jsonata_numbers_from_expressions() {
        let vars = Map::new();
        let input = json!({"t": 5, "bad": -1});
        let s = scope(&input, None, &vars);
        let n = NumberSource::Expr(jt(json!("{% $states.input.t %}")));
        assert_eq!(
            jsonata_number(Some(&n), "TimeoutSeconds", &s, &mut rng()).unwrap(),
            Some(5)
        );
        let n = NumberSource::Expr(jt(json!("{% $states.input.bad %}")));
        let e = jsonata_number(Some(&n), "TimeoutSeconds", &s, &mut rng()).unwrap_err();
        assert_eq!(e.location.as_deref(), Some("TimeoutSeconds"));
    }

    #[test]
    fn jsonata_syntax_errors_are_definition_errors() {
        let def = json!({"QueryLanguage": "JSONata", "StartAt": "P", "States": {
            "P": {"Type": "Pass", "Output": {"v": "{% 1 + %}"}, "End": true}}});
        let diags = StateMachine::from_value(&def).unwrap_err();
        assert_eq!(diags[0].code, "INVALID_JSONATA_EXPRESSION");
        assert_eq!(diags[0].location, "/States/P/Output/v");
        // A JSONPath state may hold the same text as a plain string.
        let def = json!({"StartAt": "P", "States": {
            "P": {"Type": "Pass", "Result": {"v": "{% 1 + %}"}, "End": true}}});
        assert!(StateMachine::from_value(&def).is_ok());
    }

    #[test]
    fn nested_states_inherit_the_machines_language() {
        let m = machine(json!({"StartAt": "M", "States": {"M": {"Type": "Map",
            "QueryLanguage": "JSONata", "Items": [1],
            "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}},
            "End": true}}}));
        let StateKind::Map(map) = &m.body.get(0).kind else {
            panic!()
        };
        assert!(m.body.get(0).is_jsonata());
        assert!(!map.processor.get(0).is_jsonata());
    }
}
