//! Evaluation of segments against a document (the general, possibly indefinite, case) and of
//! Jayway's path functions.

use super::parse::Function;
use super::{Segment, Selector, Slice};
use serde_json::Value;

/// True when every segment selects at most one node. A multi-name union as the *last*
/// segment still counts: Jayway merges it into one object (`$['a','b']` → `{"a":…,"b":…}`).
pub(crate) fn is_definite_segments(segs: &[Segment]) -> bool {
    let n = segs.len();
    segs.iter().enumerate().all(|(i, s)| match s {
        Segment::Child(Selector::Name(_) | Selector::Index(_)) => true,
        Segment::Child(Selector::Names(_)) => i + 1 == n,
        _ => false,
    })
}

/// Appends every node `segs` selects from `start` to `out`, in document order. A leaf
/// multi-name union yields its members one by one; callers that want Jayway's merge handle it.
pub(crate) fn eval_segments<'a>(
    segs: &[Segment],
    start: &'a Value,
    root: &'a Value,
    out: &mut Vec<&'a Value>,
) {
    let mut cur: Vec<&'a Value> = vec![start];
    for seg in segs {
        let mut next = Vec::new();
        for v in cur {
            match seg {
                Segment::Child(sel) => select_child(sel, v, root, &mut next),
                Segment::Descendant(sel) => descend(sel, v, root, &mut next),
            }
        }
        cur = next;
        if cur.is_empty() {
            return;
        }
    }
    out.extend(cur);
}

pub(crate) fn resolve_index(i: i64, len: usize) -> Option<usize> {
    let idx = if i < 0 {
        (len as i64).checked_add(i)?
    } else {
        i
    };
    usize::try_from(idx).ok().filter(|&u| u < len)
}

fn select_child<'a>(sel: &Selector, v: &'a Value, root: &'a Value, out: &mut Vec<&'a Value>) {
    match sel {
        Selector::Name(n) => {
            if let Some(x) = v.as_object().and_then(|m| m.get(n)) {
                out.push(x);
            }
        }
        Selector::Names(ns) => {
            if let Some(m) = v.as_object() {
                out.extend(ns.iter().filter_map(|n| m.get(n)));
            }
        }
        Selector::Index(i) => {
            if let Some(a) = v.as_array() {
                if let Some(x) = resolve_index(*i, a.len()).map(|u| &a[u]) {
                    out.push(x);
                }
            }
        }
        Selector::Indexes(is) => {
            if let Some(a) = v.as_array() {
                out.extend(
                    is.iter()
                        .filter_map(|i| resolve_index(*i, a.len()).map(|u| &a[u])),
                );
            }
        }
        Selector::Wildcard => match v {
            Value::Object(m) => out.extend(m.values()),
            Value::Array(a) => out.extend(a.iter()),
            _ => {}
        },
        Selector::Slice(s) => {
            if let Some(a) = v.as_array() {
                for i in slice_indices(s, a.len()) {
                    out.push(&a[i]);
                }
            }
        }
        Selector::Filter(e) => match v {
            Value::Array(a) => out.extend(a.iter().filter(|x| e.test(x, root))),
            // Jayway tests an object itself, not its members.
            Value::Object(_) if e.test(v, root) => out.push(v),
            _ => {}
        },
    }
}

/// `..sel`: applies `sel` to `v` and then to every descendant, pre-order (node first, then
/// its children in order), which is the order Jayway reports.
fn descend<'a>(sel: &Selector, v: &'a Value, root: &'a Value, out: &mut Vec<&'a Value>) {
    match sel {
        // Jayway's deep scan with a filter keeps the objects that pass it.
        Selector::Filter(e) => {
            if v.is_object() && e.test(v, root) {
                out.push(v);
            }
        }
        _ => select_child(sel, v, root, out),
    }
    match v {
        Value::Object(m) => m.values().for_each(|c| descend(sel, c, root, out)),
        Value::Array(a) => a.iter().for_each(|c| descend(sel, c, root, out)),
        _ => {}
    }
}

/// Indices a slice selects. Step 1 (the only step Jayway knows) clamps like Jayway; other
/// steps follow RFC 9535.
pub(crate) fn slice_indices(s: &Slice, len: usize) -> Vec<usize> {
    let len_i = len as i64;
    let step = s.step.unwrap_or(1);
    let norm = |i: i64| if i < 0 { len_i.saturating_add(i) } else { i };
    let mut out = Vec::new();
    if step > 0 {
        let lo = norm(s.start.unwrap_or(0)).clamp(0, len_i);
        let hi = norm(s.end.unwrap_or(len_i)).clamp(0, len_i);
        let mut i = lo;
        while i < hi {
            out.push(i as usize);
            i = i.saturating_add(step);
        }
    } else {
        let hi = s.start.map(norm).unwrap_or(len_i - 1).clamp(-1, len_i - 1);
        let lo = s.end.map(norm).unwrap_or(-1).clamp(-1, len_i - 1);
        let mut i = hi;
        while lo < i {
            out.push(i as usize);
            i = i.saturating_add(step);
        }
    }
    out
}

/// Applies a Jayway path function to what the path before it selected (the single value of a
/// definite path, or the array of matches of an indefinite one).
pub(crate) fn apply_function(f: &Function, input: &Value) -> Result<Value, String> {
    let items = || {
        input
            .as_array()
            .ok_or_else(|| format!("{} needs an array", f.text()))
    };
    match f {
        Function::Length | Function::Size => match input {
            Value::Array(a) => Ok(Value::from(a.len())),
            Value::Object(m) => Ok(Value::from(m.len())),
            Value::String(s) => Ok(Value::from(s.encode_utf16().count())),
            _ => Err(format!(
                "{} can only be applied to an array, object or string",
                f.text()
            )),
        },
        Function::Min | Function::Max | Function::Avg | Function::Sum | Function::Stddev => {
            let nums: Vec<f64> = items()?.iter().filter_map(Value::as_f64).collect();
            if nums.is_empty() {
                return Err(
                    "Aggregation function attempted to calculate value using empty array"
                        .to_string(),
                );
            }
            let n = nums.len() as f64;
            let sum: f64 = nums.iter().sum();
            let r = match f {
                Function::Min => nums.iter().copied().fold(f64::INFINITY, f64::min),
                Function::Max => nums.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                Function::Avg => sum / n,
                Function::Sum => sum,
                _ => {
                    let sq: f64 = nums.iter().map(|x| x * x).sum();
                    (sq / n - (sum / n) * (sum / n)).max(0.0).sqrt()
                }
            };
            // Jayway's aggregates are Java doubles, so `sum()` of integers gives `6.0`.
            serde_json::Number::from_f64(r)
                .map(Value::Number)
                .ok_or_else(|| "aggregate is not a finite number".to_string())
        }
        Function::Keys => match input {
            Value::Object(m) => Ok(Value::Array(m.keys().cloned().map(Value::String).collect())),
            _ => Err("keys() can only be applied to an object".to_string()),
        },
        Function::First | Function::Last | Function::Index(_) => {
            let a = items()?;
            let i = match f {
                Function::First => 0,
                Function::Last => -1,
                Function::Index(i) => *i,
                _ => 0,
            };
            resolve_index(i, a.len())
                .map(|u| a[u].clone())
                .ok_or_else(|| format!("{} found no element", f.text()))
        }
    }
}
