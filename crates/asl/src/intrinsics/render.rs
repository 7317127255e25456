//! How `States.Format` turns a JSON value into text. AWS renders arguments the way Java's
//! `toString` does (recorded: `{Arg1=1, Arg2=[]}` for an object, `null` for null, `1.1` for a
//! float), so this mimics Java rather than JSON.

use serde_json::{Number, Value};

/// Renders a Format argument: strings as-is, everything else Java-style.
pub(super) fn format_arg(v: &Value) -> String {
    let mut out = String::new();
    write_java(&mut out, v);
    out
}

fn write_java(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::String(s) => out.push_str(s),
        Value::Number(n) => out.push_str(&java_number(n)),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_java(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(k);
                out.push('=');
                write_java(out, item);
            }
            out.push('}');
        }
    }
}

/// Integers print as digits; floats like Java's `Double.toString` (`1.0`, `1.0E10`, `1.5E-4`).
pub(super) fn java_number(n: &Number) -> String {
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    if let Some(u) = n.as_u64() {
        return u.to_string();
    }
    java_double(n.as_f64().unwrap_or(0.0))
}

pub(super) fn java_double(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    let a = x.abs();
    if a == 0.0 || (1e-3..1e7).contains(&a) {
        let mut s = format!("{x}");
        if !s.contains('.') {
            s.push_str(".0");
        }
        return s;
    }
    // Rust's `{:e}` gives the shortest round-trip digits: "1e10", "1.2345e-5".
    let s = format!("{x:e}");
    let (mantissa, exp) = s.split_once('e').unwrap_or((s.as_str(), "0"));
    let mantissa = if mantissa.contains('.') {
        mantissa.to_string()
    } else {
        format!("{mantissa}.0")
    };
    format!("{mantissa}E{exp}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn java_doubles() {
        assert_eq!(java_double(1.1), "1.1");
        assert_eq!(java_double(100.0), "100.0");
        assert_eq!(java_double(-0.0), "-0.0");
        assert_eq!(java_double(1e10), "1.0E10");
        assert_eq!(java_double(1.5e-4), "1.5E-4");
        assert_eq!(java_double(1234567.5), "1234567.5");
        assert_eq!(java_double(0.001), "0.001");
    }

    #[test]
    fn java_collections() {
        assert_eq!(
            format_arg(&json!({"Arg1": 1, "Arg2": []})),
            "{Arg1=1, Arg2=[]}"
        );
        assert_eq!(
            format_arg(&json!([1, "a", null, {"k": [true]}])),
            "[1, a, null, {k=[true]}]"
        );
        assert_eq!(format_arg(&json!(null)), "null");
    }
}
