//! Moving values between `serde_json::Value` (the engine's representation) and the
//! library's `JValue`.
//!
//! The library cannot borrow our documents, so every value an expression sees must be
//! converted. To keep that cheap, conversion follows a [`Need`] tree computed from the
//! expression: only the parts of `$states` and of the workflow variables the expression can
//! reach are converted (for `$states.input.id` only `input.id` is, however big the input).

use std::collections::BTreeMap;

use indexmap::IndexMap;
use jsonata_core::value::{JArray, JValue};
use serde_json::{Map, Number, Value};

/// Which parts of a value an expression may read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Need {
    /// The whole value.
    All,
    /// Only these members of an object (anything else is read whole).
    Fields(BTreeMap<String, Need>),
}

impl Need {
    /// Widens `self` so it also covers `path` followed by the whole value there.
    pub(crate) fn add_path(&mut self, path: &[String]) {
        match self {
            Need::All => {}
            Need::Fields(fields) => match path.split_first() {
                None => *self = Need::All,
                Some((head, rest)) => fields
                    .entry(head.clone())
                    .or_insert_with(|| Need::Fields(BTreeMap::new()))
                    .add_path(rest),
            },
        }
    }

    pub(crate) fn merge(&mut self, other: &Need) {
        match (&mut *self, other) {
            (Need::All, _) => {}
            (_, Need::All) => *self = Need::All,
            (Need::Fields(mine), Need::Fields(theirs)) => {
                for (k, n) in theirs {
                    match mine.get_mut(k) {
                        Some(m) => m.merge(n),
                        None => {
                            mine.insert(k.clone(), n.clone());
                        }
                    }
                }
            }
        }
    }
}

/// Converts the parts of `v` that `need` selects.
pub(crate) fn to_jvalue_pruned(v: &Value, need: &Need) -> JValue {
    match (need, v) {
        (Need::Fields(fields), Value::Object(map)) => {
            let mut out = IndexMap::with_capacity(fields.len());
            // Keep the document's own member order for the members that are kept.
            for (k, child) in map {
                if let Some(n) = fields.get(k) {
                    out.insert(k.clone(), to_jvalue_pruned(child, n));
                }
            }
            JValue::object(out)
        }
        // Arrays map a path over their items, and scalars are whole anyway.
        _ => to_jvalue(v),
    }
}

/// Converts the whole value.
pub(crate) fn to_jvalue(v: &Value) -> JValue {
    match v {
        Value::Null => JValue::Null,
        Value::Bool(b) => JValue::Bool(*b),
        Value::Number(n) => JValue::Number(n.as_f64().unwrap_or(0.0)),
        Value::String(s) => JValue::string(s.as_str()),
        Value::Array(items) => {
            let flat = !items.iter().any(Value::is_array);
            JValue::Array(JArray::new_flat(
                items.iter().map(to_jvalue).collect(),
                flat,
            ))
        }
        Value::Object(map) => JValue::object(
            map.iter()
                .map(|(k, v)| (k.clone(), to_jvalue(v)))
                .collect::<IndexMap<_, _>>(),
        ),
    }
}

/// Why a result cannot be a JSON value.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Unrepresentable {
    /// A function or regex: AWS reports "returned an unsupported result type".
    Function,
    /// NaN or an infinity: JSONata's D1001.
    NonFinite,
}

/// Converts a result back. `Ok(None)` is JSONata's undefined. Undefined members of objects
/// and items of arrays are dropped, as `JSON.stringify` drops them.
pub(crate) fn from_jvalue(v: &JValue) -> Result<Option<Value>, Unrepresentable> {
    Ok(Some(match v {
        JValue::Undefined => return Ok(None),
        JValue::Null => Value::Null,
        JValue::Bool(b) => Value::Bool(*b),
        JValue::Number(n) => Value::Number(number(*n).ok_or(Unrepresentable::NonFinite)?),
        JValue::String(s) => Value::String(s.to_string()),
        JValue::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items.iter() {
                if let Some(v) = from_jvalue(item)? {
                    out.push(v);
                }
            }
            Value::Array(out)
        }
        JValue::Object(map) => {
            let mut out = Map::with_capacity(map.len());
            for (k, item) in map.iter() {
                if let Some(v) = from_jvalue(item)? {
                    out.insert(k.clone(), v);
                }
            }
            Value::Object(out)
        }
        _ => return Err(Unrepresentable::Function),
    }))
}

/// A JSONata number as JSON: integral values print without a fraction (and `-0` as `0`,
/// as AWS prints `$parse("-0")`), others in shortest round-trip form.
pub(crate) fn number(n: f64) -> Option<Number> {
    if !n.is_finite() {
        return None;
    }
    // 2^53: beyond it an f64 is still integral, but JavaScript prints it in exponent form
    // past 1e21; i64 covers the range where both print plain digits.
    if n.fract() == 0.0 && n.abs() < 1e21 && n.abs() <= i64::MAX as f64 {
        return Some(Number::from(n as i64));
    }
    Number::from_f64(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pruned_conversion_keeps_only_needed_members() {
        let doc = json!({"a": {"x": 1, "y": 2}, "b": [1, 2], "c": "big"});
        let mut need = Need::Fields(BTreeMap::new());
        need.add_path(&["a".into(), "x".into()]);
        need.add_path(&["b".into(), "z".into()]);
        let j = to_jvalue_pruned(&doc, &need);
        assert_eq!(
            from_jvalue(&j).unwrap().unwrap(),
            json!({"a": {"x": 1}, "b": [1, 2]})
        );
        let mut all = need.clone();
        all.merge(&Need::All);
        assert_eq!(all, Need::All);
    }

    #[test]
    fn numbers_print_like_javascript() {
        assert_eq!(number(-0.0).unwrap().to_string(), "0");
        assert_eq!(number(3.0).unwrap().to_string(), "3");
        assert_eq!(number(1.5).unwrap().to_string(), "1.5");
        assert!(number(f64::NAN).is_none());
        assert!(from_jvalue(&JValue::Undefined).unwrap().is_none());
    }
}
