//! Compiling `Choices` from definition JSON, with AWS-style diagnostics.
//!
//! Every problem found is reported (not just the first), each located by JSON pointer.
//! Wording: "These fields are required: [..]", "Field 'X' is not supported",
//! "There should only be one of the following fields: [..]", "Value is not a Reference Path: ..",
//! "String does not match RFC3339 timestamp" and the JSONata-only-field text are AWS's recorded
//! texts; the remaining ones (type mismatches, empty arrays, no operator) are ours, as AWS's
//! wording for them is not recorded.

use super::matches::Pattern;
use super::timestamp;
use super::{ChoiceBranch, ChoiceRule, Cmp, Family, Operand, RuleKind, Test, TypeTest};
use crate::diagnostic::Diagnostic;
use crate::jsonpath::Path;
use serde_json::Value;

const SCHEMA: &str = "SCHEMA_VALIDATION_FAILED";

/// What a comparison-operator field name means.
#[derive(Debug, Clone, Copy)]
enum OpSpec {
    Compare {
        family: Family,
        cmp: Cmp,
        path: bool,
    },
    Matches,
    Is(TypeTest),
}

fn lookup_operator(name: &str) -> Option<OpSpec> {
    let is = |t| Some(OpSpec::Is(t));
    match name {
        "StringMatches" => return Some(OpSpec::Matches),
        "IsPresent" => return is(TypeTest::Present),
        "IsNull" => return is(TypeTest::Null),
        "IsNumeric" => return is(TypeTest::Numeric),
        "IsString" => return is(TypeTest::String),
        "IsBoolean" => return is(TypeTest::Boolean),
        "IsTimestamp" => return is(TypeTest::Timestamp),
        _ => {}
    }
    let (base, path) = match name.strip_suffix("Path") {
        Some(b) => (b, true),
        None => (name, false),
    };
    let (family, rest) = if let Some(r) = base.strip_prefix("String") {
        (Family::String, r)
    } else if let Some(r) = base.strip_prefix("Numeric") {
        (Family::Numeric, r)
    } else if let Some(r) = base.strip_prefix("Boolean") {
        (Family::Boolean, r)
    } else if let Some(r) = base.strip_prefix("Timestamp") {
        (Family::Timestamp, r)
    } else {
        return None;
    };
    let cmp = match rest {
        "Equals" => Cmp::Eq,
        "LessThan" if family != Family::Boolean => Cmp::Lt,
        "GreaterThan" if family != Family::Boolean => Cmp::Gt,
        "LessThanEquals" if family != Family::Boolean => Cmp::Le,
        "GreaterThanEquals" if family != Family::Boolean => Cmp::Ge,
        _ => return None,
    };
    Some(OpSpec::Compare { family, cmp, path })
}

fn diag(message: impl Into<String>, location: &str) -> Diagnostic {
    Diagnostic::error(SCHEMA, message, location)
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "Null",
        Value::Bool(_) => "Boolean",
        Value::Number(_) => "Number",
        Value::String(_) => "String",
        Value::Array(_) => "Array",
        Value::Object(_) => "Object",
    }
}

fn expected_type(want: &str, got: &Value, location: &str) -> Diagnostic {
    diag(
        format!("Expected value of type {want} but got {}", type_name(got)),
        location,
    )
}

/// Compiles a reference path (`Variable`, `…Path` operands): a string that parses as a definite
/// JSONPath with root `$`, `$$` or `$name`.
fn reference_path(v: &Value, location: &str, out: &mut Vec<Diagnostic>) -> Option<Path> {
    let Some(s) = v.as_str() else {
        out.push(expected_type("String", v, location));
        return None;
    };
    match Path::parse(s) {
        Ok(p) if p.is_definite() => Some(p),
        Ok(_) => {
            out.push(diag(
                "Value is not a Reference Path: it selects more than one node",
                location,
            ));
            None
        }
        Err(e) => {
            out.push(diag(
                format!("Value is not a Reference Path: {}", e.message),
                location,
            ));
            None
        }
    }
}

/// Compiles the `Choices` array. `location` is the JSON pointer of that array in the definition
/// (e.g. "/States/MyChoice/Choices") for diagnostics.
pub fn parse_choices(
    choices: &Value,
    location: &str,
) -> Result<Vec<ChoiceBranch>, Vec<Diagnostic>> {
    let Some(items) = choices.as_array() else {
        return Err(vec![expected_type("Array", choices, location)]);
    };
    if items.is_empty() {
        return Err(vec![diag(
            "Array must contain at least one Choice Rule",
            location,
        )]);
    }
    let mut out = Vec::new();
    let mut branches = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let loc = format!("{location}[{i}]");
        if let Some((rule, Some(next), assign)) = rule_at(item, &loc, true, &mut out) {
            branches.push(ChoiceBranch { rule, next, assign });
        }
    }
    if out.is_empty() {
        Ok(branches)
    } else {
        Err(out)
    }
}

/// Compiles a nested rule (one that may not carry `Next`).
pub(super) fn parse_rule(rule: &Value, location: &str) -> Result<ChoiceRule, Vec<Diagnostic>> {
    let mut out = Vec::new();
    let parsed = rule_at(rule, location, false, &mut out);
    match parsed {
        Some((r, _, _)) if out.is_empty() => Ok(r),
        _ => Err(out),
    }
}

type Parsed = (ChoiceRule, Option<String>, Option<Value>);

/// Parses one rule object, pushing diagnostics to `out`. Returns the rule when it could be built
/// (possibly alongside diagnostics for other fields). `top` rules carry `Next` and `Assign`.
fn rule_at(v: &Value, location: &str, top: bool, out: &mut Vec<Diagnostic>) -> Option<Parsed> {
    let Some(obj) = v.as_object() else {
        out.push(expected_type("Object", v, location));
        return None;
    };
    let mut variable: Option<&Value> = None;
    let mut next: Option<String> = None;
    let mut assign: Option<Value> = None;
    let mut ops: Vec<&str> = Vec::new();
    let mut ok = true;
    let mut unknown = false;
    for (key, val) in obj {
        let field_loc = format!("{location}/{key}");
        match key.as_str() {
            "Variable" => variable = Some(val),
            "Comment" => {
                if !val.is_string() {
                    out.push(expected_type("String", val, &field_loc));
                }
            }
            "Next" if top => match val.as_str() {
                Some(s) => next = Some(s.to_string()),
                None => {
                    out.push(expected_type("String", val, &field_loc));
                    ok = false;
                }
            },
            "Assign" if top => match val {
                Value::Object(_) => assign = Some(val.clone()),
                _ => out.push(expected_type("Object", val, &field_loc)),
            },
            "Condition" | "Output" if top => out.push(diag(
                format!(
                    "The QueryLanguage is set to 'JSONPath', but field '{key}' is only supported for the 'JSONata' QueryLanguage"
                ),
                location,
            )),
            "And" | "Or" | "Not" => ops.push(key),
            k if lookup_operator(k).is_some() => ops.push(key),
            _ => {
                unknown = true;
                out.push(diag(format!("Field '{key}' is not supported"), location));
            }
        }
    }

    let mut required: Vec<&str> = Vec::new();
    let rule = match ops.as_slice() {
        // An unsupported field is most likely the intended (misspelt) operator: one report is enough.
        [] if unknown => None,
        [] => {
            out.push(diag(
                "A Choice Rule must contain exactly one comparison operator or And, Or, Not",
                location,
            ));
            None
        }
        [op] => {
            let op = *op;
            let val = &obj[op];
            let op_loc = format!("{location}/{op}");
            match op {
                "And" | "Or" | "Not" => {
                    if variable.is_some() {
                        out.push(diag("Field 'Variable' is not supported", location));
                    }
                    boolean_rule(op, val, &op_loc, out)
                }
                _ => match variable {
                    None => {
                        required.push("Variable");
                        None
                    }
                    Some(var) => {
                        let var = reference_path(var, &format!("{location}/Variable"), out);
                        let test = comparison(op, val, &op_loc, out);
                        match (var, test) {
                            (Some(variable), Some(test)) => Some(ChoiceRule {
                                kind: RuleKind::Test { variable, test },
                            }),
                            _ => None,
                        }
                    }
                },
            }
        }
        many => {
            out.push(diag(
                format!(
                    "There should only be one of the following fields: [{}]",
                    many.join(", ")
                ),
                location,
            ));
            None
        }
    };
    if top && next.is_none() && ok {
        required.push("Next");
    }
    if !required.is_empty() {
        out.push(diag(
            format!("These fields are required: [{}]", required.join(", ")),
            location,
        ));
    }
    rule.map(|r| (r, next, assign))
}

fn boolean_rule(
    op: &str,
    val: &Value,
    op_loc: &str,
    out: &mut Vec<Diagnostic>,
) -> Option<ChoiceRule> {
    if op == "Not" {
        let (inner, _, _) = rule_at(val, op_loc, false, out)?;
        return Some(ChoiceRule {
            kind: RuleKind::Not(Box::new(inner)),
        });
    }
    let Some(items) = val.as_array() else {
        out.push(expected_type("Array", val, op_loc));
        return None;
    };
    if items.is_empty() {
        out.push(diag("Array must contain at least one Choice Rule", op_loc));
        return None;
    }
    let mut rules = Vec::with_capacity(items.len());
    let mut all = true;
    for (i, item) in items.iter().enumerate() {
        match rule_at(item, &format!("{op_loc}[{i}]"), false, out) {
            Some((r, _, _)) => rules.push(r),
            None => all = false,
        }
    }
    if !all {
        return None;
    }
    let kind = if op == "And" {
        RuleKind::And(rules)
    } else {
        RuleKind::Or(rules)
    };
    Some(ChoiceRule { kind })
}

fn comparison(op: &str, val: &Value, op_loc: &str, out: &mut Vec<Diagnostic>) -> Option<Test> {
    match lookup_operator(op)? {
        OpSpec::Is(test) => match val.as_bool() {
            Some(expected) => Some(Test::Is { test, expected }),
            None => {
                out.push(expected_type("Boolean", val, op_loc));
                None
            }
        },
        OpSpec::Matches => match val.as_str() {
            Some(p) => Some(Test::Matches(Pattern::compile(p))),
            None => {
                out.push(expected_type("String", val, op_loc));
                None
            }
        },
        OpSpec::Compare {
            family,
            cmp,
            path: true,
        } => {
            let p = reference_path(val, op_loc, out)?;
            Some(Test::Compare {
                family,
                cmp,
                operand: Operand::Path(p),
            })
        }
        OpSpec::Compare {
            family,
            cmp,
            path: false,
        } => {
            let fits = match family {
                Family::String => val.is_string(),
                Family::Numeric => val.is_number(),
                Family::Boolean => val.is_boolean(),
                Family::Timestamp => val.is_string(),
            };
            if !fits {
                let want = match family {
                    Family::String | Family::Timestamp => "String",
                    Family::Numeric => "Number",
                    Family::Boolean => "Boolean",
                };
                out.push(expected_type(want, val, op_loc));
                return None;
            }
            if family == Family::Timestamp
                && val.as_str().and_then(timestamp::parse_rfc3339).is_none()
            {
                out.push(diag("String does not match RFC3339 timestamp", op_loc));
                return None;
            }
            Some(Test::Compare {
                family,
                cmp,
                operand: Operand::Literal(val.clone()),
            })
        }
    }
}

/// Field names this module understands in a rule object (the operator table, for tests).
#[cfg(test)]
pub(super) fn is_rule_field(name: &str) -> bool {
    matches!(
        name,
        "Variable" | "Next" | "Comment" | "Assign" | "And" | "Or" | "Not"
    ) || lookup_operator(name).is_some()
}
