//! Filter expressions (`[?(…)]`) with Jayway's operators and comparison rules.

use super::eval::{apply_function, eval_segments, is_definite_segments};
use super::parse::Function;
use super::Segment;
use serde_json::Value;
use std::borrow::Cow;
use std::cmp::Ordering;

/// A path inside a filter: `@…` (relative to the tested item) or `$…` (the document root).
#[derive(Debug, Clone)]
pub(crate) struct RelPath {
    pub absolute: bool,
    pub segments: Vec<Segment>,
    pub function: Option<Function>,
}

#[derive(Debug, Clone)]
pub(crate) enum Operand {
    Path(Box<RelPath>),
    Literal(Value),
    /// Compiled and anchored: Jayway matches the whole string.
    Regex(Box<regex::Regex>),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    StrictEq,
    StrictNe,
    Lt,
    Le,
    Gt,
    Ge,
    Regex,
    In,
    Nin,
    SubsetOf,
    AnyOf,
    NoneOf,
    Contains,
    All,
    Size,
    Empty,
    ExistsOp,
}

#[derive(Debug, Clone)]
pub(crate) enum Expr {
    Or(Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Exists(Box<RelPath>),
    Const(bool),
    Cmp(Operand, CmpOp, Operand),
}

impl RelPath {
    /// Evaluates to the selected value, `None` when nothing is there ("undefined").
    /// An indefinite path gives the array of its matches, as Jayway does.
    fn eval<'a>(&self, item: &'a Value, root: &'a Value) -> Option<Cow<'a, Value>> {
        let start = if self.absolute { root } else { item };
        let definite = is_definite_segments(&self.segments);
        let mut out = Vec::new();
        eval_segments(&self.segments, start, root, &mut out);
        let base: Cow<'a, Value> = if definite {
            Cow::Borrowed(*out.first()?)
        } else {
            Cow::Owned(Value::Array(out.into_iter().cloned().collect()))
        };
        match &self.function {
            None => Some(base),
            Some(f) => apply_function(f, &base).ok().map(Cow::Owned),
        }
    }
}

impl Expr {
    pub fn test(&self, item: &Value, root: &Value) -> bool {
        match self {
            Expr::Or(a, b) => a.test(item, root) || b.test(item, root),
            Expr::And(a, b) => a.test(item, root) && b.test(item, root),
            Expr::Not(e) => !e.test(item, root),
            Expr::Const(b) => *b,
            Expr::Exists(p) => match p.eval(item, root) {
                None => false,
                // An indefinite path "exists" only when it matched something.
                Some(v) => {
                    p.function.is_some()
                        || is_definite_segments(&p.segments)
                        || v.as_array().is_some_and(|a| !a.is_empty())
                }
            },
            Expr::Cmp(l, op, r) => {
                let lv = operand_value(l, item, root);
                if let (CmpOp::Regex, Operand::Regex(re)) = (op, r) {
                    return match lv.as_deref() {
                        Some(Value::String(s)) => re.is_match(s),
                        Some(Value::Bool(b)) => re.is_match(if *b { "true" } else { "false" }),
                        Some(Value::Number(n)) => re.is_match(&n.to_string()),
                        _ => false,
                    };
                }
                let rv = operand_value(r, item, root);
                compare(lv.as_deref(), *op, rv.as_deref())
            }
        }
    }
}

fn operand_value<'a>(o: &'a Operand, item: &'a Value, root: &'a Value) -> Option<Cow<'a, Value>> {
    match o {
        Operand::Path(p) => p.eval(item, root),
        Operand::Literal(v) => Some(Cow::Borrowed(v)),
        Operand::Regex(..) => None,
    }
}

fn compare(l: Option<&Value>, op: CmpOp, r: Option<&Value>) -> bool {
    match op {
        // A missing operand ("undefined") equals only another missing one.
        CmpOp::Eq => opt_eq(l, r, loose_eq),
        CmpOp::Ne => !opt_eq(l, r, loose_eq),
        CmpOp::StrictEq => opt_eq(l, r, strict_eq),
        CmpOp::StrictNe => !opt_eq(l, r, strict_eq),
        CmpOp::Lt => ordering(l, r) == Some(Ordering::Less),
        CmpOp::Le => matches!(ordering(l, r), Some(Ordering::Less | Ordering::Equal)),
        CmpOp::Gt => ordering(l, r) == Some(Ordering::Greater),
        CmpOp::Ge => matches!(ordering(l, r), Some(Ordering::Greater | Ordering::Equal)),
        CmpOp::Regex => false,
        CmpOp::In => match (l, r) {
            (Some(a), Some(Value::Array(list))) => list.iter().any(|x| loose_eq(a, x)),
            _ => false,
        },
        CmpOp::Nin => match (l, r) {
            (Some(a), Some(Value::Array(list))) => !list.iter().any(|x| loose_eq(a, x)),
            (None, Some(Value::Array(_))) => true,
            _ => false,
        },
        CmpOp::SubsetOf => match (l, r) {
            (Some(Value::Array(a)), Some(Value::Array(b))) => {
                a.iter().all(|x| b.iter().any(|y| loose_eq(x, y)))
            }
            _ => false,
        },
        CmpOp::AnyOf => match (l, r) {
            (Some(Value::Array(a)), Some(Value::Array(b))) => {
                a.iter().any(|x| b.iter().any(|y| loose_eq(x, y)))
            }
            _ => false,
        },
        CmpOp::NoneOf => match (l, r) {
            (Some(Value::Array(a)), Some(Value::Array(b))) => {
                !a.iter().any(|x| b.iter().any(|y| loose_eq(x, y)))
            }
            _ => false,
        },
        CmpOp::All => match (l, r) {
            (Some(Value::Array(a)), Some(Value::Array(b))) => {
                b.iter().all(|y| a.iter().any(|x| loose_eq(x, y)))
            }
            _ => false,
        },
        CmpOp::Contains => match (l, r) {
            (Some(Value::String(a)), Some(Value::String(b))) => a.contains(b.as_str()),
            (Some(Value::Array(a)), Some(b)) => a.iter().any(|x| loose_eq(x, b)),
            _ => false,
        },
        CmpOp::Size => {
            let n = match l {
                // Java string length counts UTF-16 units.
                Some(Value::String(s)) => s.encode_utf16().count(),
                Some(Value::Array(a)) => a.len(),
                _ => return false,
            };
            matches!(r, Some(Value::Number(x)) if x.as_f64() == Some(n as f64))
        }
        CmpOp::Empty => {
            let empty = match l {
                Some(Value::String(s)) => s.is_empty(),
                Some(Value::Array(a)) => a.is_empty(),
                _ => return false,
            };
            matches!(r, Some(Value::Bool(b)) if *b == empty)
        }
        CmpOp::ExistsOp => matches!(r, Some(Value::Bool(b)) if *b == l.is_some()),
    }
}

fn opt_eq(l: Option<&Value>, r: Option<&Value>, eq: fn(&Value, &Value) -> bool) -> bool {
    match (l, r) {
        (Some(a), Some(b)) => eq(a, b),
        (None, None) => true,
        _ => false,
    }
}

/// Numeric value of a number, or of a string that reads as one (Jayway compares a number and
/// a numeric string as numbers).
fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        _ => None,
    }
}

fn numeric_text(s: &str) -> Option<f64> {
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    t.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// Jayway's `==`: numbers by value (also against numeric strings), deep equality otherwise.
pub(crate) fn loose_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(_), Value::String(s)) | (Value::String(s), Value::Number(_)) => {
            let n = num(a).or_else(|| num(b));
            matches!((n, numeric_text(s)), (Some(x), Some(y)) if x == y)
        }
        _ => strict_eq(a, b),
    }
}

/// Type-exact equality; numbers compare by value (`1 == 1.0`).
pub(crate) fn strict_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => num_eq(x, y),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| strict_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| strict_eq(v, w)))
        }
        _ => a == b,
    }
}

fn num_eq(x: &serde_json::Number, y: &serde_json::Number) -> bool {
    if let (Some(a), Some(b)) = (x.as_i64(), y.as_i64()) {
        return a == b;
    }
    if let (Some(a), Some(b)) = (x.as_u64(), y.as_u64()) {
        return a == b;
    }
    x.as_f64() == y.as_f64()
}

fn ordering(l: Option<&Value>, r: Option<&Value>) -> Option<Ordering> {
    match (l?, r?) {
        (Value::Number(a), Value::Number(b)) => {
            if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
                return Some(x.cmp(&y));
            }
            a.as_f64()?.partial_cmp(&b.as_f64()?)
        }
        (Value::String(a), Value::String(b)) => {
            // Java's String.compareTo orders by UTF-16 code unit.
            Some(a.encode_utf16().cmp(b.encode_utf16()))
        }
        _ => None,
    }
}
