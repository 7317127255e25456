//! The functions AWS Step Functions adds to JSONata: `$partition`, `$range`, `$hash`,
//! `$random` (with an optional seed), `$uuid` and `$parse`.
//!
//! Argument errors follow JSONata's own signature errors (T0410, T0411 style) since AWS
//! registers these as ordinary JSONata functions; their exact AWS wording is not recorded.

use std::cell::RefCell;
use std::rc::Rc;

use jsonata_core::evaluator::{Evaluator, EvaluatorError};
use jsonata_core::value::JValue;
use rand::RngCore;
use sha2::Digest as _;

use super::convert;

/// Largest array `$range` builds, as for `States.ArrayRange`.
const RANGE_MAX_ITEMS: f64 = 1000.0;

type Rng = Rc<RefCell<rand_chacha::ChaCha8Rng>>;

fn type_error(code: &str, message: String) -> EvaluatorError {
    EvaluatorError::TypeError(format!("{code}: {message}"))
}

fn mismatch(arg: usize, name: &str) -> EvaluatorError {
    type_error(
        "T0410",
        format!("Argument {arg} of function \"{name}\" does not match function signature"),
    )
}

fn runtime(code: &str, message: String) -> EvaluatorError {
    EvaluatorError::EvaluationError(format!("{code}: {message}"))
}

fn arity(args: &[JValue], min: usize, max: usize, name: &str) -> Result<(), EvaluatorError> {
    if args.len() > max {
        return Err(mismatch(max + 1, name));
    }
    if args.len() < min {
        return Err(mismatch(args.len() + 1, name));
    }
    Ok(())
}

fn integer(v: &JValue, arg: usize, name: &str) -> Result<f64, EvaluatorError> {
    match v {
        JValue::Number(n) if n.is_finite() => Ok(n.trunc()),
        _ => Err(mismatch(arg, name)),
    }
}

/// Registers the AWS functions named in `used` on `ev`.
pub(crate) fn register(
    ev: &mut Evaluator,
    used: impl Fn(&str) -> bool,
    seed_source: &mut dyn RngCore,
) -> Result<(), EvaluatorError> {
    if used("partition") {
        ev.register_fn("partition", partition)?;
    }
    if used("range") {
        ev.register_fn("range", range)?;
    }
    if used("hash") {
        ev.register_fn("hash", hash)?;
    }
    if used("parse") {
        ev.register_fn("parse", parse)?;
    }
    if used("encodeUrl") {
        // jsonata-core leaves spaces unencoded; 2.0.6 uses JavaScript's encodeURI.
        ev.register_fn_override("encodeUrl", encode_url)?;
    }
    if used("random") || used("uuid") {
        // The host functions must own their state, so they draw from a generator seeded
        // by the caller's: still reproducible from the caller's seed.
        use rand::SeedableRng as _;
        let rng: Rng = Rc::new(RefCell::new(rand_chacha::ChaCha8Rng::seed_from_u64(
            seed_source.next_u64(),
        )));
        if used("random") {
            let r = rng.clone();
            ev.register_fn_override("random", move |args: &[JValue]| random(args, &r))?;
        }
        if used("uuid") {
            ev.register_fn("uuid", move |args: &[JValue]| uuid(args, &rng))?;
        }
    }
    Ok(())
}

/// `$partition(array, size)`: chunks of `size` items, the last one possibly shorter.
fn partition(args: &[JValue]) -> Result<JValue, EvaluatorError> {
    arity(args, 2, 2, "partition")?;
    let items: Vec<JValue> = match &args[0] {
        JValue::Array(items) => items.iter().cloned().collect(),
        JValue::Undefined => return Ok(JValue::Undefined),
        // A JSONata `a` parameter takes a single value as a one-item array.
        JValue::Lambda(_) | JValue::Builtin { .. } | JValue::Regex { .. } => {
            return Err(mismatch(1, "partition"))
        }
        other => vec![other.clone()],
    };
    let size = integer(&args[1], 2, "partition")?;
    if size < 1.0 {
        return Err(runtime(
            "D3001",
            "The chunk size argument of $partition must be a positive integer".to_string(),
        ));
    }
    let size = if size >= items.len() as f64 {
        items.len().max(1)
    } else {
        size as usize
    };
    Ok(JValue::array(
        items
            .chunks(size)
            .map(|c| JValue::array(c.to_vec()))
            .collect(),
    ))
}

/// `$range(start, end, step)`: `start`, `start+step`, … up to and including `end`.
fn range(args: &[JValue]) -> Result<JValue, EvaluatorError> {
    arity(args, 3, 3, "range")?;
    let start = integer(&args[0], 1, "range")?;
    let end = integer(&args[1], 2, "range")?;
    let step = integer(&args[2], 3, "range")?;
    if step == 0.0 {
        return Err(runtime(
            "D3001",
            "The step argument of $range must not be zero".to_string(),
        ));
    }
    let count = if (step > 0.0 && start <= end) || (step < 0.0 && start >= end) {
        ((end - start) / step).floor() + 1.0
    } else {
        0.0
    };
    if count > RANGE_MAX_ITEMS {
        return Err(runtime(
            "D3001",
            format!("$range would produce {count} items; at most 1000 are allowed"),
        ));
    }
    let count = count as usize;
    Ok(JValue::array(
        (0..count)
            .map(|i| JValue::Number(start + i as f64 * step))
            .collect(),
    ))
}

/// `$hash(value, algorithm)`: the hex digest of a string.
fn hash(args: &[JValue]) -> Result<JValue, EvaluatorError> {
    arity(args, 2, 2, "hash")?;
    let data = match &args[0] {
        JValue::String(s) => s.to_string(),
        JValue::Undefined => return Ok(JValue::Undefined),
        _ => return Err(mismatch(1, "hash")),
    };
    let JValue::String(algorithm) = &args[1] else {
        return Err(mismatch(2, "hash"));
    };
    let bytes = data.as_bytes();
    let digest = match &**algorithm {
        "MD5" => hex::encode(md5::Md5::digest(bytes)),
        "SHA-1" => hex::encode(sha1::Sha1::digest(bytes)),
        "SHA-256" => hex::encode(sha2::Sha256::digest(bytes)),
        "SHA-384" => hex::encode(sha2::Sha384::digest(bytes)),
        "SHA-512" => hex::encode(sha2::Sha512::digest(bytes)),
        other => {
            return Err(runtime(
                "D3001",
                format!(
                    "The hash algorithm '{other}' is not supported: use one of MD5, SHA-1, SHA-256, SHA-384, SHA-512"
                ),
            ))
        }
    };
    Ok(JValue::from(digest))
}

/// `$random([seed])`: uniform in [0, 1); a seed gives the same number every time
/// (`java.util.Random(seed).nextDouble()`, as the AWS service runs on the JVM).
fn random(args: &[JValue], rng: &Rng) -> Result<JValue, EvaluatorError> {
    arity(args, 0, 1, "random")?;
    match args.first() {
        None | Some(JValue::Undefined) => {
            let bits = rng.borrow_mut().next_u64() >> 11;
            Ok(JValue::Number(bits as f64 / (1u64 << 53) as f64))
        }
        Some(seed) => {
            let seed = integer(seed, 1, "random")?;
            Ok(JValue::Number(JavaRandom::new(seed as i64).next_double()))
        }
    }
}

/// `$uuid()`: a version 4 UUID.
fn uuid(args: &[JValue], rng: &Rng) -> Result<JValue, EvaluatorError> {
    arity(args, 0, 0, "uuid")?;
    let mut bytes = [0u8; 16];
    rng.borrow_mut().fill_bytes(&mut bytes);
    let id = uuid::Builder::from_random_bytes(bytes).into_uuid();
    Ok(JValue::from(id.hyphenated().to_string()))
}

/// `$parse(json)`: the value a JSON text stands for.
fn parse(args: &[JValue]) -> Result<JValue, EvaluatorError> {
    arity(args, 1, 1, "parse")?;
    let text = match &args[0] {
        JValue::String(s) => s.clone(),
        JValue::Undefined => return Ok(JValue::Undefined),
        _ => return Err(mismatch(1, "parse")),
    };
    match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(v) => Ok(convert::to_jvalue(&v)),
        Err(e) => Err(runtime(
            "D3001",
            format!("$parse: the argument is not valid JSON: {e}"),
        )),
    }
}

/// `$encodeUrl(s)`: JavaScript's `encodeURI`.
fn encode_url(args: &[JValue]) -> Result<JValue, EvaluatorError> {
    arity(args, 1, 1, "encodeUrl")?;
    let s = match &args[0] {
        JValue::String(s) => s.clone(),
        JValue::Undefined => return Ok(JValue::Undefined),
        _ => return Err(mismatch(1, "encodeUrl")),
    };
    const KEEP: &[u8] = b";,/?:@&=+$-_.!~*'()#";
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || KEEP.contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    Ok(JValue::from(out))
}

/// `java.util.Random`'s generator, for seeded `$random`.
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

    fn next(&mut self, bits: u32) -> u64 {
        self.seed = self.seed.wrapping_mul(Self::MULTIPLIER).wrapping_add(0xB) & Self::MASK;
        self.seed >> (48 - bits)
    }

    fn next_double(&mut self) -> f64 {
        let hi = self.next(26);
        let lo = self.next(27);
        ((hi << 27) + lo) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_random_next_double_matches_jdk() {
        // `new java.util.Random(42).nextDouble()` and seed 0, printed by a JDK.
        assert_eq!(JavaRandom::new(42).next_double(), 0.7275636800328681);
        assert_eq!(JavaRandom::new(0).next_double(), 0.730967787376657);
    }

    #[test]
    fn partition_and_range() {
        let arr = JValue::array((0..5).map(|i| JValue::Number(i as f64)).collect());
        let p = partition(&[arr, JValue::Number(2.0)]).unwrap();
        assert_eq!(p.to_json_string().unwrap(), "[[0,1],[2,3],[4]]");
        let r = range(&[
            JValue::Number(0.0),
            JValue::Number(10.0),
            JValue::Number(2.0),
        ])
        .unwrap();
        assert_eq!(r.to_json_string().unwrap(), "[0,2,4,6,8,10]");
        let r = range(&[
            JValue::Number(3.0),
            JValue::Number(0.0),
            JValue::Number(-1.0),
        ])
        .unwrap();
        assert_eq!(r.to_json_string().unwrap(), "[3,2,1,0]");
        assert!(range(&[
            JValue::Number(0.0),
            JValue::Number(5000.0),
            JValue::Number(1.0)
        ])
        .is_err());
    }

    #[test]
    fn hash_digests() {
        let h = hash(&[JValue::from("input data"), JValue::from("SHA-1")]).unwrap();
        assert_eq!(
            h.as_str().unwrap(),
            "aaff4a450a104cd177d28d18d74485e8cae074b7"
        );
        assert!(hash(&[JValue::from("x"), JValue::from("SHA-3")]).is_err());
    }
}
