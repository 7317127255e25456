//! The functions themselves. Argument checks follow what AWS does, which is not always what its
//! docs say: fractional numbers are truncated toward zero (ArrayRange, ArrayPartition,
//! ArrayGetItem, MathRandom) except in MathAdd, which rounds half up; every failure is
//! `States.Runtime` "Invalid arguments in States.X".

use super::render::format_arg;
use super::{invalid_args, invalid_args_because, Arg, Function, Node, Piece};
use crate::error::StateError;
use crate::jsonpath::PathEnv;
use base64::Engine as _;
use md5::Digest as _;
use serde_json::{Map, Value};

/// AWS: "The new array can contain up to 1000 elements."
pub const ARRAY_RANGE_MAX_ITEMS: i64 = 1000;
/// AWS: input strings of Base64Encode/Base64Decode/Hash may have up to 10,000 characters.
pub const MAX_STRING_CHARS: usize = 10_000;

pub(super) fn apply(
    node: &Node,
    args: Vec<Value>,
    _env: &PathEnv,
    rng: &mut dyn rand::RngCore,
) -> Result<Value, StateError> {
    let bad = || invalid_args(node);
    let arity = |n: usize| {
        if args.len() == n {
            Ok(())
        } else {
            Err(invalid_args(node))
        }
    };
    match node.func {
        Function::Format => format(node, &args),
        Function::StringToJson => {
            arity(1)?;
            let s = args[0].as_str().ok_or_else(bad)?;
            let t = s.trim();
            if t.is_empty() {
                return Ok(Value::Null);
            }
            let mut v: Value = serde_json::from_str(t).map_err(|_| bad())?;
            // Java parses `-0` as the integer 0; serde_json gives the float -0.0.
            if !t.contains("-0.") && !t.contains("-0e") && !t.contains("-0E") {
                negative_zero_to_int(&mut v);
            }
            Ok(v)
        }
        Function::JsonToString => {
            arity(1)?;
            serde_json::to_string(&args[0])
                .map(Value::String)
                .map_err(|_| bad())
        }
        Function::Array => Ok(Value::Array(args)),
        Function::ArrayPartition => {
            arity(2)?;
            let items = args[0].as_array().ok_or_else(bad)?;
            let size = truncated_int(&args[1]).ok_or_else(bad)?;
            if size < 1 {
                return Err(bad());
            }
            let size = usize::try_from(size).unwrap_or(usize::MAX);
            Ok(Value::Array(
                items
                    .chunks(size)
                    .map(|c| Value::Array(c.to_vec()))
                    .collect(),
            ))
        }
        Function::ArrayContains => {
            arity(2)?;
            let items = args[0].as_array().ok_or_else(bad)?;
            Ok(Value::Bool(items.iter().any(|v| json_eq(v, &args[1]))))
        }
        Function::ArrayRange => {
            arity(3)?;
            let start = int32(&args[0], truncated_int).ok_or_else(bad)?;
            let end = int32(&args[1], truncated_int).ok_or_else(bad)?;
            let step = int32(&args[2], truncated_int).ok_or_else(bad)?;
            if step == 0 {
                return Err(bad());
            }
            let count = if (step > 0 && start <= end) || (step < 0 && start >= end) {
                (end - start) / step + 1
            } else {
                0
            };
            if count > ARRAY_RANGE_MAX_ITEMS {
                return Err(bad());
            }
            Ok(Value::Array(
                (0..count).map(|i| Value::from(start + i * step)).collect(),
            ))
        }
        Function::ArrayGetItem => {
            arity(2)?;
            let items = args[0].as_array().ok_or_else(bad)?;
            let index = truncated_int(&args[1]).ok_or_else(bad)?;
            // Recorded AWS quirk: any index into an empty array gives null.
            if items.is_empty() && index >= 0 {
                return Ok(Value::Null);
            }
            usize::try_from(index)
                .ok()
                .and_then(|i| items.get(i))
                .cloned()
                .ok_or_else(bad)
        }
        Function::ArrayLength => {
            arity(1)?;
            Ok(Value::from(args[0].as_array().ok_or_else(bad)?.len()))
        }
        Function::ArrayUnique => {
            arity(1)?;
            let items = args[0].as_array().ok_or_else(bad)?;
            let mut out: Vec<Value> = Vec::with_capacity(items.len());
            for v in items {
                if !out.iter().any(|seen| json_eq(seen, v)) {
                    out.push(v.clone());
                }
            }
            Ok(Value::Array(out))
        }
        Function::Base64Encode => {
            arity(1)?;
            let s = limited_str(&args[0]).ok_or_else(bad)?;
            Ok(Value::String(
                base64::engine::general_purpose::STANDARD.encode(s.as_bytes()),
            ))
        }
        Function::Base64Decode => {
            arity(1)?;
            let s = limited_str(&args[0]).ok_or_else(bad)?;
            let bytes = lenient_base64_decode(s);
            Ok(Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        }
        Function::Hash => {
            arity(2)?;
            // AWS hashes non-string data by its text form rather than rejecting it.
            let data = match &args[0] {
                Value::String(s) => s.clone(),
                other => serde_json::to_string(other).map_err(|_| bad())?,
            };
            if utf16_len(&data) > MAX_STRING_CHARS {
                return Err(bad());
            }
            let algorithm = args[1].as_str().ok_or_else(bad)?;
            let bytes = data.as_bytes();
            let digest = match algorithm {
                "MD5" => hex::encode(md5::Md5::digest(bytes)),
                "SHA-1" => hex::encode(sha1::Sha1::digest(bytes)),
                "SHA-256" => hex::encode(sha2::Sha256::digest(bytes)),
                "SHA-384" => hex::encode(sha2::Sha384::digest(bytes)),
                "SHA-512" => hex::encode(sha2::Sha512::digest(bytes)),
                _ => return Err(bad()),
            };
            Ok(Value::String(digest))
        }
        Function::JsonMerge => {
            arity(3)?;
            let (Some(a), Some(b), Some(deep)) =
                (args[0].as_object(), args[1].as_object(), args[2].as_bool())
            else {
                return Err(bad());
            };
            // AWS supports only the shallow mode: the flag must be false.
            if deep {
                return Err(bad());
            }
            let mut merged: Map<String, Value> = a.clone();
            for (k, v) in b {
                merged.insert(k.clone(), v.clone());
            }
            Ok(Value::Object(merged))
        }
        Function::MathRandom => {
            if args.len() != 2 && args.len() != 3 {
                return Err(bad());
            }
            let start = int32(&args[0], truncated_int).ok_or_else(bad)?;
            let end = int32(&args[1], truncated_int).ok_or_else(bad)?;
            if start >= end {
                return Err(bad());
            }
            let bound = i32::try_from(end - start).map_err(|_| bad())?;
            let offset = match args.get(2) {
                Some(seed) => {
                    let seed = truncated_int(seed).ok_or_else(bad)?;
                    JavaRandom::new(seed).next_int(bound)
                }
                None => {
                    use rand::Rng as _;
                    rng.gen_range(0..bound)
                }
            };
            Ok(Value::from(start + i64::from(offset)))
        }
        Function::MathAdd => {
            arity(2)?;
            let a = int32(&args[0], rounded_int).ok_or_else(bad)?;
            let b = int32(&args[1], rounded_int).ok_or_else(bad)?;
            let sum = a + b;
            if i32::try_from(sum).is_err() {
                return Err(bad());
            }
            Ok(Value::from(sum))
        }
        Function::StringSplit => {
            arity(2)?;
            let (Some(s), Some(delims)) = (args[0].as_str(), args[1].as_str()) else {
                return Err(bad());
            };
            Ok(Value::Array(
                split_on_any(s, delims)
                    .into_iter()
                    .map(Value::String)
                    .collect(),
            ))
        }
        Function::Uuid => {
            arity(0)?;
            let mut bytes = [0u8; 16];
            rng.fill_bytes(&mut bytes);
            let id = uuid::Builder::from_random_bytes(bytes).into_uuid();
            Ok(Value::String(id.hyphenated().to_string()))
        }
    }
}

fn format(node: &Node, args: &[Value]) -> Result<Value, StateError> {
    let Some(first) = args.first() else {
        return Err(invalid_args(node));
    };
    let pieces: Vec<Piece> = match node.args.first() {
        // A literal template keeps escaped braces as text.
        Some(Arg::Str { template, .. }) => match template {
            Ok(p) => p.clone(),
            Err(why) => {
                return Err(StateError::runtime(format!(
                    "{} Invalid template in {}: {}",
                    super::cause_prefix(node),
                    node.func.name(),
                    why
                )))
            }
        },
        _ => {
            let s = first.as_str().ok_or_else(|| invalid_args(node))?;
            template_from_value(s)
        }
    };
    let placeholders = pieces
        .iter()
        .filter(|p| matches!(p, Piece::Placeholder))
        .count();
    let values = &args[1..];
    if placeholders != values.len() {
        return Err(invalid_args_because(
            node,
            "number of arguments do not match the occurrences of {}.",
        ));
    }
    let mut out = String::new();
    let mut next = values.iter();
    for p in &pieces {
        match p {
            Piece::Text(t) => out.push_str(t),
            Piece::Placeholder => {
                if let Some(v) = next.next() {
                    out.push_str(&format_arg(v));
                }
            }
        }
    }
    Ok(Value::String(out))
}

fn negative_zero_to_int(v: &mut Value) {
    match v {
        Value::Number(n) if n.as_f64().is_some_and(|f| f == 0.0 && f.is_sign_negative()) => {
            *v = Value::from(0)
        }
        Value::Array(items) => items.iter_mut().for_each(negative_zero_to_int),
        Value::Object(map) => map.values_mut().for_each(negative_zero_to_int),
        _ => {}
    }
}

/// A template read from data (not a literal): every `{}` is a placeholder, the rest is text.
fn template_from_value(s: &str) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut parts = s.split("{}").peekable();
    while let Some(part) = parts.next() {
        if !part.is_empty() {
            pieces.push(Piece::Text(part.to_string()));
        }
        if parts.peek().is_some() {
            pieces.push(Piece::Placeholder);
        }
    }
    pieces
}

/// AWS splits on *any* character of the delimiter string and drops empty pieces
/// (recorded: `", , ,"` split by `","` gives `[" ", " "]`).
fn split_on_any(s: &str, delims: &str) -> Vec<String> {
    if delims.is_empty() {
        return if s.is_empty() {
            Vec::new()
        } else {
            vec![s.to_string()]
        };
    }
    s.split(|c: char| delims.contains(c))
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

/// Deep JSON equality where numbers compare by value (`1` equals `1.0`).
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            if let (Some(i), Some(j)) = (x.as_i64(), y.as_i64()) {
                i == j
            } else if let (Some(i), Some(j)) = (x.as_u64(), y.as_u64()) {
                i == j
            } else {
                x.as_f64() == y.as_f64()
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

/// A JSON number as an integer, truncating any fraction toward zero (Java `intValue`).
fn truncated_int(v: &Value) -> Option<i64> {
    let n = v.as_number()?;
    if let Some(i) = n.as_i64() {
        return Some(i);
    }
    if n.is_u64() {
        return None;
    }
    let f = n.as_f64()?.trunc();
    (f.is_finite() && f.abs() < 9.2e18).then_some(f as i64)
}

/// A JSON number rounded half up to an integer (Java `Math.round`).
fn rounded_int(v: &Value) -> Option<i64> {
    let n = v.as_number()?;
    if let Some(i) = n.as_i64() {
        return Some(i);
    }
    if n.is_u64() {
        return None;
    }
    let f = (n.as_f64()? + 0.5).floor();
    (f.is_finite() && f.abs() < 9.2e18).then_some(f as i64)
}

/// Converts with `conv`, then requires the 32-bit signed range AWS documents.
fn int32(v: &Value, conv: fn(&Value) -> Option<i64>) -> Option<i64> {
    conv(v).filter(|i| i32::try_from(*i).is_ok())
}

fn utf16_len(s: &str) -> usize {
    s.encode_utf16().count()
}

/// A string argument within the 10,000-character limit.
fn limited_str(v: &Value) -> Option<&str> {
    v.as_str().filter(|s| utf16_len(s) <= MAX_STRING_CHARS)
}

/// AWS decodes malformed Base64 instead of failing (recorded: `'abc'`, `'!!!invalid!!!'` and
/// surrounding spaces all decode): characters outside the alphabet are skipped, decoding stops
/// at the first `=`, and a trailing partial group yields the whole bytes it holds.
fn lenient_base64_decode(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len() / 4 * 3 + 2);
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => break,
            _ => continue,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

/// `java.util.Random`, so a seeded `States.MathRandom` can give the number the AWS (Java)
/// service gives for the same seed.
struct JavaRandom {
    seed: u64,
}

impl JavaRandom {
    const MULTIPLIER: u64 = 0x5_DEEC_E66D;
    const MASK: u64 = (1 << 48) - 1;

    fn new(seed: i64) -> Self {
        JavaRandom {
            seed: (seed as u64 ^ Self::MULTIPLIER) & Self::MASK,
        }
    }

    fn next(&mut self, bits: u32) -> i32 {
        self.seed = self.seed.wrapping_mul(Self::MULTIPLIER).wrapping_add(0xB) & Self::MASK;
        (self.seed >> (48 - bits)) as i32
    }

    /// Uniform in `0..bound`; `bound` must be positive.
    fn next_int(&mut self, bound: i32) -> i32 {
        let mut r = self.next(31);
        let m = bound - 1;
        if bound & m == 0 {
            return ((i64::from(bound) * i64::from(r)) >> 31) as i32;
        }
        let mut u = r;
        loop {
            r = u % bound;
            if u.wrapping_sub(r).wrapping_add(m) >= 0 {
                return r;
            }
            u = self.next(31);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_random_matches_jdk() {
        // Expected values printed by the JDK's java.util.Random.
        assert_eq!(JavaRandom::new(42).next_int(100), 30);
        assert_eq!(JavaRandom::new(1).next_int(1000), 985);
        assert_eq!(JavaRandom::new(7).next_int(16), 11);
        assert_eq!(JavaRandom::new(-10).next_int(9), 0);
        assert_eq!(JavaRandom::new(3).next_int(999), 239);
    }

    #[test]
    fn lenient_base64() {
        assert_eq!(lenient_base64_decode("aGVsbG8="), b"hello");
        assert_eq!(lenient_base64_decode(" YWJjZA== "), b"abcd");
        assert_eq!(lenient_base64_decode("abc"), vec![0x69, 0xb7]);
        assert_eq!(lenient_base64_decode(""), b"");
    }

    #[test]
    fn split_any() {
        assert_eq!(split_on_any(", , ,", ","), vec![" ", " "]);
        assert_eq!(
            split_on_any("This.is+a,test=string", ".+,="),
            vec!["This", "is", "a", "test", "string"]
        );
        assert!(split_on_any(",,,,", ",").is_empty());
    }
}
