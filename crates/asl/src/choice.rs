//! Choice rules (temporary stand-in; the full implementation is being written).
use crate::diagnostic::Diagnostic;
use crate::error::StateError;
use crate::jsonpath::{Path, PathEnv};
use serde_json::Value;

#[derive(Debug)]
pub struct ChoiceBranch {
    pub rule: ChoiceRule,
    pub next: String,
}
#[derive(Debug)]
pub struct ChoiceRule {
    raw: Value,
}
pub fn parse_choices(
    choices: &Value,
    _location: &str,
) -> Result<Vec<ChoiceBranch>, Vec<Diagnostic>> {
    Ok(choices
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| ChoiceBranch {
            rule: ChoiceRule { raw: c.clone() },
            next: c
                .get("Next")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
        })
        .collect())
}
impl ChoiceRule {
    pub fn eval(&self, env: &PathEnv) -> Result<bool, StateError> {
        eval(&self.raw, env)
    }
}
fn eval(r: &Value, env: &PathEnv) -> Result<bool, StateError> {
    if let Some(a) = r.get("And").and_then(Value::as_array) {
        return a.iter().try_fold(true, |acc, x| Ok(acc && eval(x, env)?));
    }
    if let Some(a) = r.get("Or").and_then(Value::as_array) {
        return a.iter().try_fold(false, |acc, x| Ok(acc || eval(x, env)?));
    }
    if let Some(n) = r.get("Not") {
        return Ok(!eval(n, env)?);
    }
    let var = r.get("Variable").and_then(Value::as_str).unwrap_or("$");
    let path = Path::parse(var).map_err(|e| StateError::runtime(e.to_string()))?;
    let val = path.select_env(env).map(|c| c.into_owned());
    for op in ["StringEquals", "NumericEquals", "BooleanEquals"] {
        if let Some(x) = r.get(op) {
            return Ok(val.as_ref() == Some(x));
        }
    }
    if let Some(x) = r.get("IsPresent") {
        return Ok(Some(val.is_some()) == x.as_bool());
    }
    Ok(false)
}
