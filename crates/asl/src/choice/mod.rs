//! Choice rules in JSONPath mode: compiled once from the definition, evaluated per execution.
//!
//! Semantics (checked against AWS recordings in the conformance corpus and AWS docs):
//! - A value of the wrong type for the operator (NumericEquals on `"1"`, BooleanEquals on `0`,
//!   TimestampEquals on a non-timestamp string, any comparison on `null`) is simply **false**.
//! - A `Variable` or `…Path` operand that selects nothing fails the state with `States.Runtime`:
//!   `Invalid path '<path>': The choice state's condition path references an invalid value.`
//!   (the engine prefixes AWS's "An error occurred while executing the state …" text).
//!   `IsPresent` is the only operator that tolerates a missing `Variable`; a present `null` is
//!   present.
//! - Numbers compare by value (`1 == 1.0`); integers exactly, otherwise as f64.
//! - Strings order as Java's `compareTo` (UTF-16 code units); timestamps by instant.
//! - `And`/`Or` short-circuit left to right, so a later rule's missing path does not fail the
//!   state when an earlier one already decided.

mod matches;
mod parse;
mod timestamp;

use crate::error::StateError;
use crate::jsonpath::{Path, PathEnv};
use matches::{java_compare, Pattern};
use serde_json::{Number, Value};
use std::borrow::Cow;
use std::cmp::Ordering;

pub use parse::parse_choices;

/// One top-level entry of a Choice state's `Choices`: a rule and its `Next` state name.
///
/// `assign` is the branch's JSONPath-mode `Assign` block, kept verbatim: the engine applies it
/// (with the Choice state's input) only when this branch is taken.
#[derive(Debug, Clone, PartialEq)]
pub struct ChoiceBranch {
    pub rule: ChoiceRule,
    pub next: String,
    pub assign: Option<Value>,
}

/// A compiled (possibly nested And/Or/Not) rule.
#[derive(Debug, Clone, PartialEq)]
pub struct ChoiceRule {
    kind: RuleKind,
}

#[derive(Debug, Clone, PartialEq)]
enum RuleKind {
    And(Vec<ChoiceRule>),
    Or(Vec<ChoiceRule>),
    Not(Box<ChoiceRule>),
    Test { variable: Path, test: Test },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmp {
    Eq,
    Lt,
    Gt,
    Le,
    Ge,
}

impl Cmp {
    fn holds(self, o: Ordering) -> bool {
        match self {
            Cmp::Eq => o == Ordering::Equal,
            Cmp::Lt => o == Ordering::Less,
            Cmp::Gt => o == Ordering::Greater,
            Cmp::Le => o != Ordering::Greater,
            Cmp::Ge => o != Ordering::Less,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    String,
    Numeric,
    Boolean,
    Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TypeTest {
    Present,
    Null,
    Numeric,
    String,
    Boolean,
    Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
enum Operand {
    Literal(Value),
    Path(Path),
}

#[derive(Debug, Clone, PartialEq)]
enum Test {
    Compare {
        family: Family,
        cmp: Cmp,
        operand: Operand,
    },
    Matches(Pattern),
    Is {
        test: TypeTest,
        expected: bool,
    },
}

/// `States.Runtime` for a path that selects nothing, worded as AWS words it.
fn invalid_path(path: &Path) -> StateError {
    StateError::runtime(format!(
        "Invalid path '{}': The choice state's condition path references an invalid value.",
        path.as_str()
    ))
}

impl ChoiceRule {
    /// Compiles one rule. `location` is its JSON pointer. Rules parsed here are nested rules:
    /// a `Next` field is rejected (use [`parse_choices`] for a whole `Choices` array).
    pub fn parse(
        rule: &Value,
        location: &str,
    ) -> Result<ChoiceRule, Vec<crate::diagnostic::Diagnostic>> {
        parse::parse_rule(rule, location)
    }

    /// Evaluates the rule against `env` (`$` is the Choice state's effective input).
    pub fn eval(&self, env: &PathEnv) -> Result<bool, StateError> {
        match &self.kind {
            RuleKind::And(rules) => {
                for r in rules {
                    if !r.eval(env)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            RuleKind::Or(rules) => {
                for r in rules {
                    if r.eval(env)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            RuleKind::Not(r) => Ok(!r.eval(env)?),
            RuleKind::Test { variable, test } => {
                let value = variable.select_env(env);
                if let Test::Is {
                    test: TypeTest::Present,
                    expected,
                } = test
                {
                    return Ok(value.is_some() == *expected);
                }
                let value = value.ok_or_else(|| invalid_path(variable))?;
                test.apply(&value, env)
            }
        }
    }
}

impl Test {
    fn apply(&self, value: &Value, env: &PathEnv) -> Result<bool, StateError> {
        match self {
            Test::Is { test, expected } => Ok(type_test(*test, value) == *expected),
            Test::Matches(p) => Ok(value.as_str().is_some_and(|s| p.matches(s))),
            Test::Compare {
                family,
                cmp,
                operand,
            } => {
                let other: Cow<Value> = match operand {
                    Operand::Literal(v) => Cow::Borrowed(v),
                    Operand::Path(p) => p.select_env(env).ok_or_else(|| invalid_path(p))?,
                };
                Ok(compare(*family, value, &other).is_some_and(|o| cmp.holds(o)))
            }
        }
    }
}

fn type_test(test: TypeTest, v: &Value) -> bool {
    match test {
        TypeTest::Present => true,
        TypeTest::Null => v.is_null(),
        TypeTest::Numeric => v.is_number(),
        TypeTest::String => v.is_string(),
        TypeTest::Boolean => v.is_boolean(),
        TypeTest::Timestamp => v.as_str().is_some_and(|s| timestamp::parse(s).is_some()),
    }
}

/// Orders two values under an operator family; `None` when either is not of the family's type
/// (the rule is then false, never an error).
fn compare(family: Family, a: &Value, b: &Value) -> Option<Ordering> {
    match (family, a, b) {
        (Family::String, Value::String(x), Value::String(y)) => Some(java_compare(x, y)),
        (Family::Numeric, Value::Number(x), Value::Number(y)) => compare_numbers(x, y),
        (Family::Boolean, Value::Bool(x), Value::Bool(y)) => Some(if x == y {
            Ordering::Equal
        } else {
            Ordering::Less
        }),
        (Family::Timestamp, Value::String(x), Value::String(y)) => {
            Some(timestamp::parse(x)?.cmp(&timestamp::parse(y)?))
        }
        _ => None,
    }
}

fn as_int(n: &Number) -> Option<i128> {
    n.as_i64()
        .map(i128::from)
        .or_else(|| n.as_u64().map(i128::from))
}

fn compare_numbers(a: &Number, b: &Number) -> Option<Ordering> {
    match (as_int(a), as_int(b)) {
        (Some(x), Some(y)) => Some(x.cmp(&y)),
        _ => a.as_f64()?.partial_cmp(&b.as_f64()?),
    }
}

/// Runs a Choice state's branches in order: the first whose rule holds gives its index, `None`
/// when none does (the caller then takes `Default` or fails with `States.NoChoiceMatched`).
pub fn first_match(branches: &[ChoiceBranch], env: &PathEnv) -> Result<Option<usize>, StateError> {
    for (i, b) in branches.iter().enumerate() {
        if b.rule.eval(env)? {
            return Ok(Some(i));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests;
