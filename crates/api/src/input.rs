//! Reading an action's input members the way AWS's front end does.
//!
//! Two kinds of failure, as AWS reports them:
//! * a member whose JSON type the shape cannot take (a number for a string, an object for an
//!   integer) fails *deserialisation*: `SerializationException`, with the Jackson-token wording
//!   AWS's JSON front end uses (`NUMBER_VALUE can not be converted to a String`);
//! * a well-typed value that breaks a model constraint (required, enum, min/max, length) is a
//!   `ValidationException`, all violations in one message:
//!   `2 validation errors detected: Value null at 'definition' failed to satisfy constraint:
//!   Member must not be null; Value '200' at 'maxResults' failed to satisfy constraint: Member
//!   must have value less than or equal to 100`.
//!
//! JSON `null` counts as absent and unknown members are ignored, as AWS does. Values of
//! members the model marks `sensitive` (definitions, inputs) are left out of messages.

use crate::error::ApiError;
use serde_json::{Map, Value};

/// The parsed body of one request.
#[derive(Debug)]
pub struct Input {
    members: Map<String, Value>,
    violations: Vec<String>,
}

fn token(v: &Value) -> &'static str {
    match v {
        Value::Null => "NULL_VALUE",
        Value::Bool(true) => "TRUE_VALUE",
        Value::Bool(false) => "FALSE_VALUE",
        Value::Number(_) => "NUMBER_VALUE",
        Value::String(_) => "STRING_VALUE",
        Value::Array(_) => "START_ARRAY",
        Value::Object(_) => "START_OBJECT",
    }
}

/// The SerializationException for a value of the wrong JSON type; `target` is the Java-ish
/// type name AWS prints ("a String", "an Integer").
fn wrong_type(v: &Value, target: &str) -> ApiError {
    match v {
        Value::Object(_) => {
            ApiError::serialization("Start of structure or map found where not expected.")
        }
        Value::Array(_) => ApiError::serialization("Start of list found where not expected"),
        other => {
            ApiError::serialization(format!("{} can not be converted to {target}", token(other)))
        }
    }
}

impl Input {
    /// Parses a request body. An empty body is an empty structure (SDKs send `{}`, but raw
    /// clients may send nothing for actions without required members).
    pub fn parse(body: &[u8]) -> Result<Input, ApiError> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Input::from_map(Map::new()));
        }
        let v: Value = serde_json::from_slice(body)
            .map_err(|e| ApiError::serialization(format!("Malformed JSON request body: {e}")))?;
        match v {
            Value::Object(m) => Ok(Input::from_map(m)),
            other => Err(wrong_type(&other, "a Structure")),
        }
    }

    pub fn from_map(members: Map<String, Value>) -> Input {
        Input {
            members,
            violations: Vec::new(),
        }
    }

    fn get(&self, name: &str) -> Option<&Value> {
        self.members.get(name).filter(|v| !v.is_null())
    }

    fn violation(&mut self, value: Option<&str>, name: &str, constraint: &str) {
        let value = match value {
            Some(v) => format!("Value '{v}' at"),
            None => "Value at".to_string(),
        };
        self.violations.push(format!(
            "{value} '{name}' failed to satisfy constraint: Member must {constraint}"
        ));
    }

    /// A string member, with the model's length bounds (counted in characters).
    pub fn string(
        &mut self,
        name: &str,
        required: bool,
        len: (usize, usize),
        sensitive: bool,
    ) -> Result<Option<String>, ApiError> {
        let Some(v) = self.get(name) else {
            if required {
                self.violations.push(format!(
                    "Value null at '{name}' failed to satisfy constraint: Member must not be null"
                ));
            }
            return Ok(None);
        };
        let Some(s) = v.as_str() else {
            return Err(wrong_type(v, "a String"));
        };
        let s = s.to_string();
        let n = s.chars().count();
        let shown = (!sensitive).then_some(s.as_str());
        if n < len.0 {
            let c = format!("have length greater than or equal to {}", len.0);
            self.violation(shown, name, &c);
        } else if n > len.1 {
            let c = format!("have length less than or equal to {}", len.1);
            self.violation(shown, name, &c);
        }
        Ok(Some(s))
    }

    /// A string member restricted to the model's enum values.
    pub fn enumeration(
        &mut self,
        name: &str,
        allowed: &[&str],
    ) -> Result<Option<String>, ApiError> {
        let Some(v) = self.get(name) else {
            return Ok(None);
        };
        let Some(s) = v.as_str() else {
            return Err(wrong_type(v, "a String"));
        };
        let s = s.to_string();
        if !allowed.contains(&s.as_str()) {
            let c = format!("satisfy enum value set: [{}]", allowed.join(", "));
            self.violation(Some(&s), name, &c);
        }
        Ok(Some(s))
    }

    /// An integer member with the model's range.
    pub fn integer(&mut self, name: &str, range: (i64, i64)) -> Result<Option<i64>, ApiError> {
        let Some(v) = self.get(name) else {
            return Ok(None);
        };
        let n = match v {
            Value::Number(n) => match n.as_i64() {
                Some(i) if i32::try_from(i).is_ok() => i,
                // AWS truncates a fractional number rather than rejecting it.
                _ => match n.as_f64() {
                    Some(f) if f.is_finite() && f.abs() < 2_147_483_648.0 => f.trunc() as i64,
                    _ => return Err(wrong_type(v, "an Integer")),
                },
            },
            other => return Err(wrong_type(other, "an Integer")),
        };
        if n < range.0 {
            let c = format!("have value greater than or equal to {}", range.0);
            self.violation(Some(&n.to_string()), name, &c);
        } else if n > range.1 {
            let c = format!("have value less than or equal to {}", range.1);
            self.violation(Some(&n.to_string()), name, &c);
        }
        Ok(Some(n))
    }

    /// A boolean member.
    pub fn boolean(&mut self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(v) => Err(wrong_type(v, "a Boolean")),
        }
    }

    /// A structure member, as its JSON object (its members are checked by the caller).
    pub fn object(&mut self, name: &str) -> Result<Option<Map<String, Value>>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Object(m)) => Ok(Some(m.clone())),
            Some(Value::Array(_)) => Err(ApiError::serialization(
                "Start of list found where not expected",
            )),
            Some(v) => Err(wrong_type(v, "a Structure")),
        }
    }

    /// A list member with the model's length bounds; items are checked by the caller.
    pub fn list(
        &mut self,
        name: &str,
        required: bool,
        len: (usize, usize),
    ) -> Result<Option<Vec<Value>>, ApiError> {
        self.list_of(name, required, len, None)
    }

    /// A list of structures of the model shape `shape`: a length violation prints the items
    /// as AWS's Java front end does, `Shape(member=value, …)` (recorded for
    /// `RoutingConfigurationListItem`).
    pub fn list_of(
        &mut self,
        name: &str,
        required: bool,
        len: (usize, usize),
        shape: Option<&str>,
    ) -> Result<Option<Vec<Value>>, ApiError> {
        let Some(v) = self.get(name) else {
            if required {
                self.violations.push(format!(
                    "Value null at '{name}' failed to satisfy constraint: Member must not be null"
                ));
            }
            return Ok(None);
        };
        let Value::Array(items) = v else {
            return Err(match v {
                Value::Object(_) => wrong_type(v, "a List"),
                other => ApiError::serialization(format!(
                    "{} can not be converted to a List",
                    token(other)
                )),
            });
        };
        let items = items.clone();
        if items.len() < len.0 {
            let c = format!("have length greater than or equal to {}", len.0);
            self.violation(Some(&render(&items, shape)), name, &c);
        } else if items.len() > len.1 {
            let c = format!("have length less than or equal to {}", len.1);
            self.violation(Some(&render(&items, shape)), name, &c);
        }
        Ok(Some(items))
    }

    /// A string member that must also match a pattern (`matches` is the check, `pattern` the
    /// model's regular expression as AWS prints it).
    pub fn check_pattern(&mut self, name: &str, value: &str, ok: bool, pattern: &str) {
        if !ok {
            let c = format!("satisfy regular expression pattern: {pattern}");
            self.violation(Some(value), name, &c);
        }
    }

    /// A violation found by the caller in a nested member (`tags.1.member.key`).
    pub fn push_violation(&mut self, value: Option<&str>, path: &str, constraint: &str) {
        self.violation(value, path, constraint);
    }

    /// Whether a violation was already recorded (to skip checks that would only pile on).
    pub fn has_violations(&self) -> bool {
        !self.violations.is_empty()
    }

    /// Ends reading: all constraint violations together, or nothing.
    pub fn finish(self) -> Result<(), ApiError> {
        match self.violations.len() {
            0 => Ok(()),
            1 => Err(ApiError::validation(format!(
                "1 validation error detected: {}",
                self.violations[0]
            ))),
            n => Err(ApiError::validation(format!(
                "{n} validation errors detected: {}",
                self.violations.join("; ")
            ))),
        }
    }
}

/// A list as AWS's Java front end prints it in messages: `[a, b]`, structures of a named
/// shape as `Shape(member=value, …)`.
fn render(items: &[Value], shape: Option<&str>) -> String {
    fn scalar(v: &Value) -> String {
        match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    }
    let parts: Vec<String> = items
        .iter()
        .map(|v| match (v, shape) {
            (Value::Object(m), Some(shape)) => {
                let members: Vec<String> = m
                    .iter()
                    .map(|(k, v)| format!("{k}={}", scalar(v)))
                    .collect();
                format!("{shape}({})", members.join(", "))
            }
            (other, _) => scalar(other),
        })
        .collect();
    format!("[{}]", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(text: &str) -> Input {
        Input::parse(text.as_bytes()).expect("parses")
    }

    #[test]
    fn malformed_json_is_serialization() {
        let e = Input::parse(b"{\"definition\": ").unwrap_err();
        assert_eq!(e.code, "SerializationException");
        let e = Input::parse(b"[1]").unwrap_err();
        assert_eq!(e.code, "SerializationException");
        assert_eq!(e.message, "Start of list found where not expected");
    }

    #[test]
    fn empty_body_is_empty_structure() {
        let mut i = input("  ");
        assert_eq!(i.integer("x", (0, 1)).unwrap(), None);
        assert!(i.finish().is_ok());
    }

    #[test]
    fn wrong_types_are_serialization_errors() {
        let mut i = input(r#"{"definition": 5, "maxResults": "3", "type": {}}"#);
        let e = i.string("definition", true, (1, 10), true).unwrap_err();
        assert_eq!(
            (e.code.as_str(), e.message.as_str()),
            (
                "SerializationException",
                "NUMBER_VALUE can not be converted to a String"
            )
        );
        let e = i.integer("maxResults", (0, 100)).unwrap_err();
        assert_eq!(e.message, "STRING_VALUE can not be converted to an Integer");
        let e = i.enumeration("type", &["A"]).unwrap_err();
        assert_eq!(
            e.message,
            "Start of structure or map found where not expected."
        );
    }

    #[test]
    fn constraint_violations_are_collected() {
        let mut i = input(r#"{"maxResults": 200, "type": "FOO", "definition": null}"#);
        i.string("definition", true, (1, 10), true).unwrap();
        i.enumeration("type", &["STANDARD", "EXPRESS"]).unwrap();
        i.integer("maxResults", (0, 100)).unwrap();
        let e = i.finish().unwrap_err();
        assert_eq!(e.code, "ValidationException");
        assert_eq!(
            e.message,
            "3 validation errors detected: \
             Value null at 'definition' failed to satisfy constraint: Member must not be null; \
             Value 'FOO' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD, EXPRESS]; \
             Value '200' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 100"
        );
    }

    #[test]
    fn sensitive_values_are_not_echoed() {
        let mut i = input(r#"{"definition": ""}"#);
        i.string("definition", true, (1, 10), true).unwrap();
        let e = i.finish().unwrap_err();
        assert_eq!(
            e.message,
            "1 validation error detected: Value at 'definition' failed to satisfy constraint: \
             Member must have length greater than or equal to 1"
        );
    }

    #[test]
    fn structure_lists_print_as_aws_does() {
        // Recorded: CreateStateMachineAlias with three routing entries.
        let mut i = input(
            r#"{"routingConfiguration": [{"stateMachineVersionArn": "a:1", "weight": 50},
                {"stateMachineVersionArn": "a:2", "weight": 30}, {"stateMachineVersionArn": "a:3", "weight": 20}]}"#,
        );
        i.list_of(
            "routingConfiguration",
            true,
            (1, 2),
            Some("RoutingConfigurationListItem"),
        )
        .unwrap();
        assert_eq!(
            i.finish().unwrap_err().message,
            "1 validation error detected: Value '[RoutingConfigurationListItem(stateMachineVersionArn=a:1, weight=50), \
             RoutingConfigurationListItem(stateMachineVersionArn=a:2, weight=30), \
             RoutingConfigurationListItem(stateMachineVersionArn=a:3, weight=20)]' at 'routingConfiguration' \
             failed to satisfy constraint: Member must have length less than or equal to 2"
        );
    }

    #[test]
    fn fractional_and_huge_integers() {
        let mut i = input(r#"{"a": 5.7, "b": 1e300, "c": -1}"#);
        assert_eq!(i.integer("a", (0, 100)).unwrap(), Some(5));
        assert!(i.integer("b", (0, 100)).is_err());
        assert_eq!(i.integer("c", (0, 100)).unwrap(), Some(-1));
        assert!(i.finish().is_err());
    }
}
