//! Payload templates: `Parameters`, `ItemSelector`, `ResultSelector` and JSONPath-mode `Assign`.
//!
//! Keys ending in `.$` take their value from a path (`$.x`, `$$.ctx`, `$var`) or an intrinsic
//! call (`States.Format(…)`); the suffix is dropped from the output key. Subtrees without any
//! `.$` key are kept as literals and cloned whole.

use crate::error::StateError;
use crate::intrinsics::{self, Call};
use crate::jsonpath::{Path, PathEnv};
use serde_json::{Map, Value};

#[derive(Debug)]
pub enum Template {
    Literal(Value),
    Path { field: String, path: Path },
    Intrinsic { field: String, call: Call },
    Object(Vec<(String, Template)>),
    Array(Vec<Template>),
}

/// A definition-time problem in a template; `location` is relative to the template's root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    pub message: String,
    pub location: String,
}

impl Template {
    pub fn compile(v: &Value) -> Result<Template, TemplateError> {
        compile_at(v, "")
    }

    /// Builds the payload. `field_context` names the template's field in error messages.
    pub fn eval(&self, env: &PathEnv, rng: &mut dyn rand::RngCore) -> Result<Value, StateError> {
        Ok(match self {
            Template::Literal(v) => v.clone(),
            Template::Path { field, path } => select_for_field(path, env, field)?,
            Template::Intrinsic { call, .. } => call.eval(env, rng)?,
            Template::Object(fields) => {
                let mut m = Map::with_capacity(fields.len());
                for (k, t) in fields {
                    m.insert(k.clone(), t.eval(env, rng)?);
                }
                Value::Object(m)
            }
            Template::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|t| t.eval(env, rng))
                    .collect::<Result<_, _>>()?,
            ),
        })
    }

    /// For `Assign`: evaluates each top-level binding; all see the values from before the state.
    pub fn eval_bindings(
        &self,
        env: &PathEnv,
        rng: &mut dyn rand::RngCore,
    ) -> Result<Map<String, Value>, StateError> {
        match self.eval(env, rng)? {
            Value::Object(m) => Ok(m),
            _ => Ok(Map::new()),
        }
    }
}

fn compile_at(v: &Value, loc: &str) -> Result<Template, TemplateError> {
    if !needs_eval(v) {
        return Ok(Template::Literal(v.clone()));
    }
    match v {
        Value::Object(m) => {
            let mut fields = Vec::with_capacity(m.len());
            for (k, val) in m {
                let kloc = format!("{loc}/{}", crate::model::pointer_escape(k));
                if let Some(name) = k.strip_suffix(".$") {
                    let Some(text) = val.as_str() else {
                        return Err(TemplateError {
                            message: format!(
                                "The value for the field '{k}' must be a STRING that contains a JSONPath but was an {}",
                                json_type_name(val)
                            ),
                            location: kloc,
                        });
                    };
                    let t = if intrinsics::is_intrinsic(text) {
                        let call = Call::parse(text).map_err(|e| TemplateError {
                            message: format!("The value for the field '{k}' must be a valid JSONPath or a valid intrinsic function call: {}", e.message),
                            location: kloc.clone(),
                        })?;
                        Template::Intrinsic {
                            field: k.clone(),
                            call,
                        }
                    } else {
                        let path = Path::parse(text).map_err(|_| TemplateError {
                            message: format!(
                                "The value for the field '{k}' must be a valid JSONPath or a valid intrinsic function call"
                            ),
                            location: kloc.clone(),
                        })?;
                        Template::Path {
                            field: k.clone(),
                            path,
                        }
                    };
                    fields.push((name.to_string(), t));
                } else {
                    fields.push((k.clone(), compile_at(val, &kloc)?));
                }
            }
            Ok(Template::Object(fields))
        }
        Value::Array(items) => Ok(Template::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, x)| compile_at(x, &format!("{loc}/{i}")))
                .collect::<Result<_, _>>()?,
        )),
        _ => Ok(Template::Literal(v.clone())),
    }
}

fn needs_eval(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.iter().any(|(k, v)| k.ends_with(".$") || needs_eval(v)),
        Value::Array(a) => a.iter().any(needs_eval),
        _ => false,
    }
}

/// Selects `path` for a `.$` field, with AWS's error when it matches nothing.
fn select_for_field(path: &Path, env: &PathEnv, field: &str) -> Result<Value, StateError> {
    match path.select_env(env) {
        Some(v) => Ok(v.into_owned()),
        None => {
            // AWS quotes the state's input whatever the path's root.
            let doc = env.document;
            Err(StateError::runtime(format!(
                "The JSONPath '{path}' specified for the field '{field}' could not be found in the input '{}'",
                crate::json::to_text(doc)
            )))
        }
    }
}

pub fn json_type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "NULL",
        Value::Bool(_) => "BOOLEAN",
        Value::Number(_) => "NUMBER",
        Value::String(_) => "STRING",
        Value::Array(_) => "ARRAY",
        Value::Object(_) => "OBJECT",
    }
}
