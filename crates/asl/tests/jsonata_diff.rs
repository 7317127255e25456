//! Differential test: every expression in `tests/jsonata_ref/expressions.txt` is evaluated
//! with our adapter and with reference JSONata 2.0.6 (the version AWS Step Functions runs)
//! under node, and the results and error codes are compared.
//!
//! Needs `node` and `npm ci --prefix crates/asl/tests/jsonata_ref` (scripts/test.sh does it);
//! without them the test says so and passes. Known disagreements are listed, with the reason,
//! in `tests/jsonata_ref/known_disagreements.txt`; any other disagreement fails the test.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use rand::SeedableRng as _;
use serde_json::{json, Value};
use stepwise_asl::jsonata::{Expression, JsonataError, StatesBinding};

fn ref_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/jsonata_ref")
}

/// One side's outcome, in a form both sides can produce.
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    Value(Value),
    Undefined,
    Function,
    NonFinite,
    Syntax(Option<String>, String),
    Error(Option<String>, String),
}

impl Outcome {
    fn code(&self) -> Option<&str> {
        match self {
            Outcome::Syntax(c, _) | Outcome::Error(c, _) => c.as_deref(),
            _ => None,
        }
    }
    fn message(&self) -> Option<&str> {
        match self {
            Outcome::Syntax(_, m) | Outcome::Error(_, m) => Some(m),
            _ => None,
        }
    }
    fn is_error(&self) -> bool {
        matches!(self, Outcome::Syntax(..) | Outcome::Error(..))
    }
}

fn reference_outcome(v: &Value) -> Outcome {
    let err = |e: &Value| {
        (
            e.get("code").and_then(Value::as_str).map(str::to_string),
            e.get("message")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
        )
    };
    if let Some(v) = v.get("value") {
        Outcome::Value(v.clone())
    } else if v.get("undefined").is_some() {
        Outcome::Undefined
    } else if v.get("function").is_some() {
        Outcome::Function
    } else if v.get("nonfinite").is_some() {
        Outcome::NonFinite
    } else if let Some(e) = v.get("syntax") {
        let (c, m) = err(e);
        Outcome::Syntax(c, m)
    } else {
        let (c, m) = err(v.get("error").unwrap_or(&Value::Null));
        Outcome::Error(c, m)
    }
}

fn our_outcome(src: &str, doc: &Value) -> Outcome {
    let e = match Expression::compile(src) {
        Ok(e) => e,
        Err(e) => return Outcome::Syntax(e.code, e.message),
    };
    let vars = doc["vars"].as_object().cloned().unwrap_or_default();
    let states = StatesBinding {
        input: &doc["input"],
        result: None,
        error_output: None,
        context: &doc["context"],
    };
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    match e.eval(&states, &vars, &mut rng) {
        Ok(Some(v)) => Outcome::Value(v),
        Ok(None) => Outcome::Undefined,
        Err(e) if e.code == JsonataError::UNSUPPORTED_RESULT => Outcome::Function,
        Err(e) if e.code == "D1001" => Outcome::NonFinite,
        Err(e) => Outcome::Error(Some(e.code).filter(|c| !c.is_empty()), e.message),
    }
}

/// Numbers compare by value (one side may print `2` where the other has `2.0`).
fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_value(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((ka, va), (kb, vb))| ka == kb && same_value(va, vb))
        }
        _ => a == b,
    }
}

fn agree(ours: &Outcome, theirs: &Outcome) -> bool {
    match (ours, theirs) {
        (Outcome::Value(a), Outcome::Value(b)) => same_value(a, b),
        (a, b) if a.is_error() && b.is_error() => a.code() == b.code(),
        (a, b) => a == b,
    }
}

fn read_lines(name: &str) -> Vec<String> {
    std::fs::read_to_string(ref_dir().join(name))
        .unwrap_or_default()
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

#[test]
fn agrees_with_reference_jsonata_2_0_6() {
    let dir = ref_dir();
    if !dir.join("node_modules/jsonata/package.json").exists() {
        eprintln!(
            "SKIPPED jsonata_diff: reference JSONata not installed; run `npm ci --prefix crates/asl/tests/jsonata_ref`"
        );
        return;
    }
    if Command::new("node").arg("--version").output().is_err() {
        eprintln!("SKIPPED jsonata_diff: node not found");
        return;
    }
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("input.json")).unwrap()).unwrap();
    let exprs = read_lines("expressions.txt");
    let cases: Vec<Value> = exprs
        .iter()
        .map(|e| json!({"expr": e, "input": doc["input"], "vars": doc["vars"]}))
        .collect();
    let file =
        std::env::temp_dir().join(format!("stepwise-jsonata-diff-{}.json", std::process::id()));
    std::fs::write(
        &file,
        json!({"context": doc["context"], "cases": cases}).to_string(),
    )
    .unwrap();
    let out = Command::new("node")
        .arg(dir.join("eval.js"))
        .arg(&file)
        .output()
        .expect("run node");
    let _ = std::fs::remove_file(&file);
    assert!(
        out.status.success(),
        "node failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(results.len(), exprs.len());

    let known: BTreeMap<String, ()> = read_lines("known_disagreements.txt")
        .into_iter()
        .filter_map(|l| {
            l.split_once(" ## ")
                .map(|(e, _)| (e.to_string(), ()))
                .or(Some((l, ())))
        })
        .collect();

    let (mut agreed, mut msg_total, mut msg_agreed) = (0, 0, 0);
    let mut unexpected = Vec::new();
    let mut known_seen = Vec::new();
    let mut message_diffs = Vec::new();
    for (src, r) in exprs.iter().zip(&results) {
        let theirs = reference_outcome(r);
        let ours = our_outcome(src, &doc);
        if agree(&ours, &theirs) {
            agreed += 1;
            if let (Some(a), Some(b)) = (ours.message(), theirs.message()) {
                msg_total += 1;
                if a == b {
                    msg_agreed += 1;
                } else {
                    message_diffs.push(format!("  {src}\n    ours: {a}\n    ref:  {b}"));
                }
            }
            if known.contains_key(src) {
                eprintln!("NOTE: now agrees, remove from known_disagreements.txt: {src}");
            }
        } else if known.contains_key(src) {
            known_seen.push(format!("  {src}\n    ours: {ours:?}\n    ref:  {theirs:?}"));
        } else {
            unexpected.push(format!("  {src}\n    ours: {ours:?}\n    ref:  {theirs:?}"));
        }
    }
    println!(
        "jsonata_diff: {agreed}/{} expressions agree with JSONata 2.0.6 (results and error codes); \
         {msg_agreed}/{msg_total} error messages identical; {} known disagreements",
        exprs.len(),
        known_seen.len()
    );
    if !known_seen.is_empty() {
        println!("known disagreements:\n{}", known_seen.join("\n"));
    }
    if !message_diffs.is_empty() {
        println!(
            "error message differences (same code):\n{}",
            message_diffs.join("\n")
        );
    }
    assert!(
        unexpected.is_empty(),
        "{} unexpected disagreements with JSONata 2.0.6:\n{}",
        unexpected.len(),
        unexpected.join("\n")
    );
}
