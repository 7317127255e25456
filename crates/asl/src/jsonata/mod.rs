//! JSONata for `QueryLanguage: "JSONata"` states, as AWS Step Functions runs it
//! (JSONata 2.0.6 plus AWS's functions, `$states` and workflow variables).
//!
//! The evaluation library (`jsonata-core`) stays behind this module's API so it could be
//! swapped: callers see `serde_json::Value`s and JSONata error codes only.
//!
//! Evaluation is pure: randomness comes from the caller's generator and `$now()`/`$millis()`
//! read a timestamp given by the caller (see [`Expression::eval_at`]).

mod analyze;
mod convert;
mod functions;
mod messages;

use std::fmt;

use jsonata_core::ast::AstNode;
use jsonata_core::evaluator::{Context, Evaluator, EvaluatorError};
use jsonata_core::value::JValue;
use serde_json::{Map, Value};

use crate::jsonpath::Variables;
use analyze::Analysis;
use convert::Unrepresentable;

/// A compiled JSONata expression (the text between `{%` and `%}`).
#[derive(Clone)]
pub struct Expression {
    src: String,
    ast: AstNode,
    analysis: Analysis,
}

impl fmt::Debug for Expression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Expression").field(&self.src).finish()
    }
}

/// What `$states` holds during one evaluation. Absent members are left out of `$states`.
#[derive(Debug, Clone, Copy)]
pub struct StatesBinding<'a> {
    pub input: &'a Value,
    pub result: Option<&'a Value>,
    pub error_output: Option<&'a Value>,
    pub context: &'a Value,
}

/// An expression that does not compile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonataSyntaxError {
    pub message: String,
    /// Character offset into the expression, when the parser gives one.
    pub position: Option<usize>,
    /// The JSONata error code (`S0201`, …) when there is one.
    pub code: Option<String>,
}

impl fmt::Display for JsonataSyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.code {
            Some(code) => write!(f, "{code}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for JsonataSyntaxError {}

/// An expression that failed while evaluating.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonataError {
    /// The JSONata error code (`T2001`, `D3001`, …), or one of the codes below.
    pub code: String,
    /// The message without the code.
    pub message: String,
}

impl JsonataError {
    /// The result was a function (or regex): AWS's "returned an unsupported result type".
    pub const UNSUPPORTED_RESULT: &'static str = "UnsupportedResultType";

    /// `function`: the only built-in the expression calls, to name in signature errors.
    fn from_library(e: &EvaluatorError, function: Option<&str>) -> JsonataError {
        let full = e.message();
        match e.code() {
            Some(code) => JsonataError {
                code: code.to_string(),
                message: messages::normalize(code, full[code.len() + 1..].trim_start(), function),
            },
            None => JsonataError {
                code: String::new(),
                message: full.to_string(),
            },
        }
    }
}

impl fmt::Display for JsonataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.code.is_empty() || self.code == Self::UNSUPPORTED_RESULT {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.code, self.message)
        }
    }
}

impl std::error::Error for JsonataError {}

/// `{% expr %}` detection: the string must start with `{%` and end with `%}` exactly; the
/// text between, trimmed, is the expression.
pub fn as_expression(s: &str) -> Option<&str> {
    let inner = s.strip_prefix("{%")?.strip_suffix("%}")?;
    Some(inner.trim())
}

/// AWS's cause for an expression that returned nothing.
pub fn undefined_cause(expr: &str, field: &str) -> String {
    format!(
        "The JSONata expression '{expr}' specified for the field '{field}' returned nothing (undefined)."
    )
}

/// AWS's cause for an expression that failed (or returned a function).
pub fn error_cause(expr: &str, field: &str, e: &JsonataError) -> String {
    if e.code == JsonataError::UNSUPPORTED_RESULT {
        return format!(
            "The JSONata expression '{expr}' specified for the field '{field}' returned an unsupported result type."
        );
    }
    format!(
        "The JSONata expression '{expr}' specified for the field '{field}' threw an error during evaluation. {e}"
    )
}

/// AWS's cause for a result of the wrong type, e.g. `Items` not an array
/// (`expected` is `array`, `number`, …).
pub fn unexpected_type_cause(expr: &str, field: &str, expected: &str, value: &Value) -> String {
    format!(
        "The JSONata expression '{expr}' specified for the field '{field}' returned an unexpected result type. Expected '{expected}', but was '{}' for value: {value}",
        type_name(value)
    )
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

impl Expression {
    /// Compiles an expression at definition time.
    pub fn compile(src: &str) -> Result<Expression, JsonataSyntaxError> {
        let mut ast = jsonata_core::parser::parse(src).map_err(|e| {
            let full = e.to_string();
            match jsonata_core::evaluator::error_code_prefix(&full) {
                Some(code) => JsonataSyntaxError {
                    code: Some(code.to_string()),
                    message: messages::normalize(code, full[code.len() + 1..].trim_start(), None),
                    position: None,
                },
                None => JsonataSyntaxError {
                    code: None,
                    message: full,
                    position: None,
                },
            }
        })?;
        let analysis = analyze::prepare(&mut ast).map_err(|u| JsonataSyntaxError {
            message: u.message,
            position: None,
            code: u.code.map(str::to_string),
        })?;
        Ok(Expression {
            src: src.to_string(),
            ast,
            analysis,
        })
    }

    pub fn source(&self) -> &str {
        &self.src
    }

    /// Evaluates with `$states` bound and the workflow variables in scope. `Ok(None)` means
    /// the expression returned nothing (undefined), which AWS reports at the field.
    ///
    /// `$now()`/`$millis()` read the context object's `State.EnteredTime` (else
    /// `Execution.StartTime`, else the epoch); use [`Expression::eval_at`] to give the time.
    pub fn eval(
        &self,
        states: &StatesBinding,
        variables: &dyn Variables,
        rng: &mut dyn rand::RngCore,
    ) -> Result<Option<Value>, JsonataError> {
        self.eval_at(states, variables, rng, now_from_context(states.context))
    }

    /// [`Expression::eval`] with "now" given in epoch milliseconds.
    pub fn eval_at(
        &self,
        states: &StatesBinding,
        variables: &dyn Variables,
        rng: &mut dyn rand::RngCore,
        now_millis: i64,
    ) -> Result<Option<Value>, JsonataError> {
        let bindings = Bindings::new(&self.analysis, states, variables, now_millis);
        self.eval_bound(&bindings, rng)
    }

    fn eval_bound(
        &self,
        bindings: &Bindings,
        rng: &mut dyn rand::RngCore,
    ) -> Result<Option<Value>, JsonataError> {
        let mut ctx = Context::new();
        for (name, value) in &bindings.values {
            if self.analysis.roots.contains_key(name) || name == analyze::NOW_VAR {
                ctx.bind(name.clone(), value.clone());
            }
        }
        let mut ev = Evaluator::with_context(ctx);
        let names = &self.analysis.names;
        functions::register(&mut ev, |n| names.contains(n) && !bindings.has(n), rng)
            .map_err(|e| JsonataError::from_library(&e, None))?;
        let calls = &self.analysis.builtin_calls;
        let only_call = match calls.len() {
            1 => calls.iter().next().map(String::as_str),
            _ => None,
        };
        // AWS gives expressions no context value: `$` and bare field names are undefined.
        let result = ev
            .evaluate(&self.ast, &JValue::Undefined)
            .map_err(|e| JsonataError::from_library(&e, only_call))?;
        convert::from_jvalue(&result).map_err(|u| match u {
            Unrepresentable::Function => JsonataError {
                code: JsonataError::UNSUPPORTED_RESULT.to_string(),
                message: "returned an unsupported result type".to_string(),
            },
            Unrepresentable::NonFinite => JsonataError {
                code: "D1001".to_string(),
                message: "Number out of range".to_string(),
            },
        })
    }
}

/// The converted root values for one evaluation (shared by a template's expressions).
struct Bindings {
    values: Vec<(String, JValue)>,
}

impl Bindings {
    fn new(
        analysis: &Analysis,
        states: &StatesBinding,
        variables: &dyn Variables,
        now_millis: i64,
    ) -> Bindings {
        let mut values = Vec::new();
        for name in analysis.roots.keys() {
            let Some(need) = analysis.need(name) else {
                continue;
            };
            if name == "states" {
                values.push((name.clone(), states_value(states, &need)));
            } else if name == analyze::NOW_VAR {
                values.push((name.clone(), JValue::Number(now_millis as f64)));
            } else if let Some(v) = variables.get(name) {
                values.push((name.clone(), convert::to_jvalue_pruned(v, &need)));
            }
        }
        Bindings { values }
    }

    fn has(&self, name: &str) -> bool {
        self.values.iter().any(|(n, _)| n == name)
    }
}

/// Builds `$states` from the members `need` selects.
fn states_value(states: &StatesBinding, need: &convert::Need) -> JValue {
    let members: [(&str, Option<&Value>); 4] = [
        ("input", Some(states.input)),
        ("result", states.result),
        ("errorOutput", states.error_output),
        ("context", Some(states.context)),
    ];
    let mut out = indexmap::IndexMap::new();
    for (name, value) in members {
        let Some(value) = value else { continue };
        let child = match need {
            convert::Need::All => Some(convert::Need::All),
            convert::Need::Fields(f) => f.get(name).cloned(),
        };
        if let Some(child) = child {
            out.insert(name.to_string(), convert::to_jvalue_pruned(value, &child));
        }
    }
    JValue::object(out)
}

/// "Now" for `$now()`: when the state was entered, as the context object records it.
fn now_from_context(context: &Value) -> i64 {
    let at = |a: &str, b: &str| context.get(a)?.get(b)?.as_str();
    at("State", "EnteredTime")
        .or_else(|| at("Execution", "StartTime"))
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.timestamp_millis())
        .unwrap_or(0)
}

/// A JSON template (the value of `Arguments`, `Output`, `Assign`, …) whose strings may be
/// `{% … %}` expressions; everything else is literal.
#[derive(Debug, Clone)]
pub struct Template {
    node: Node,
    analysis: Analysis,
}

#[derive(Debug, Clone)]
enum Node {
    Literal(Value),
    Expr(Box<Expression>, String),
    Object(Vec<(String, Node)>),
    Array(Vec<Node>),
}

impl Template {
    /// Compiles every `{% … %}` string; an error carries the field location, like AWS's
    /// `Output/result`, relative to the template (the caller prefixes the field name).
    pub fn compile(v: &Value) -> Result<Template, (String, JsonataSyntaxError)> {
        let mut analysis = Analysis::default();
        let node = compile_node(v, "", &mut analysis)?;
        Ok(Template { node, analysis })
    }

    /// Whether the template holds any expression (else it is a constant).
    pub fn is_literal(&self) -> bool {
        matches!(&self.node, Node::Literal(_))
    }

    /// The source of the expression at `location` (as an evaluation error names it), for
    /// AWS's causes, which quote the expression.
    pub fn source_at(&self, location: &str) -> Option<&str> {
        fn find<'a>(node: &'a Node, location: &str) -> Option<&'a str> {
            match node {
                Node::Literal(_) => None,
                Node::Expr(e, at) => (at == location).then_some(e.source()),
                Node::Object(fields) => fields.iter().find_map(|(_, n)| find(n, location)),
                Node::Array(items) => items.iter().find_map(|n| find(n, location)),
            }
        }
        find(&self.node, location)
    }

    /// Evaluates every expression; literals stay. The error names the location of the
    /// failing expression; `None` means it returned nothing (undefined).
    pub fn eval(
        &self,
        states: &StatesBinding,
        vars: &dyn Variables,
        rng: &mut dyn rand::RngCore,
    ) -> Result<Value, (String, Option<JsonataError>)> {
        self.eval_at(states, vars, rng, now_from_context(states.context))
    }

    /// [`Template::eval`] with "now" given in epoch milliseconds.
    pub fn eval_at(
        &self,
        states: &StatesBinding,
        vars: &dyn Variables,
        rng: &mut dyn rand::RngCore,
        now_millis: i64,
    ) -> Result<Value, (String, Option<JsonataError>)> {
        if let Node::Literal(v) = &self.node {
            return Ok(v.clone());
        }
        // One conversion for all of the template's expressions.
        let bindings = Bindings::new(&self.analysis, states, vars, now_millis);
        eval_node(&self.node, &bindings, rng)
    }
}

fn join(location: &str, key: &str) -> String {
    if location.is_empty() {
        key.to_string()
    } else {
        format!("{location}/{key}")
    }
}

fn compile_node(
    v: &Value,
    location: &str,
    analysis: &mut Analysis,
) -> Result<Node, (String, JsonataSyntaxError)> {
    Ok(match v {
        Value::String(s) => match as_expression(s) {
            Some(src) => {
                let e = Expression::compile(src).map_err(|e| (location.to_string(), e))?;
                analysis.merge(&e.analysis);
                Node::Expr(Box::new(e), location.to_string())
            }
            None => Node::Literal(v.clone()),
        },
        Value::Object(map) => {
            let mut fields = Vec::with_capacity(map.len());
            for (k, child) in map {
                fields.push((
                    k.clone(),
                    compile_node(child, &join(location, k), analysis)?,
                ));
            }
            if fields.iter().all(|(_, n)| matches!(n, Node::Literal(_))) {
                Node::Literal(v.clone())
            } else {
                Node::Object(fields)
            }
        }
        Value::Array(items) => {
            let mut nodes = Vec::with_capacity(items.len());
            for (i, child) in items.iter().enumerate() {
                nodes.push(compile_node(child, &format!("{location}[{i}]"), analysis)?);
            }
            if nodes.iter().all(|n| matches!(n, Node::Literal(_))) {
                Node::Literal(v.clone())
            } else {
                Node::Array(nodes)
            }
        }
        _ => Node::Literal(v.clone()),
    })
}

fn eval_node(
    node: &Node,
    bindings: &Bindings,
    rng: &mut dyn rand::RngCore,
) -> Result<Value, (String, Option<JsonataError>)> {
    Ok(match node {
        Node::Literal(v) => v.clone(),
        Node::Expr(e, location) => match e.eval_bound(bindings, rng) {
            Ok(Some(v)) => v,
            Ok(None) => return Err((location.clone(), None)),
            Err(err) => return Err((location.clone(), Some(err))),
        },
        Node::Object(fields) => {
            let mut out = Map::with_capacity(fields.len());
            for (k, child) in fields {
                out.insert(k.clone(), eval_node(child, bindings, rng)?);
            }
            Value::Object(out)
        }
        Node::Array(items) => Value::Array(
            items
                .iter()
                .map(|n| eval_node(n, bindings, rng))
                .collect::<Result<_, _>>()?,
        ),
    })
}

#[cfg(test)]
mod tests;
