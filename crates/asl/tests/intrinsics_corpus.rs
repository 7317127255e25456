//! Replays the recorded AWS intrinsic cases that need no engine: a definition made of one Pass
//! state with `Parameters`. Every `.$` value is evaluated (intrinsics with our evaluator, plain
//! paths with `Path`), InputPath/ResultPath/OutputPath are applied, and the result is compared
//! with the recorded output.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Map, Value};
use std::path::PathBuf;
use stepwise_asl::error::StateError;
use stepwise_asl::intrinsics::{is_intrinsic, Call};
use stepwise_asl::jsonpath::{Path, PathEnv};

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/localstack/cases")
}

/// The context object with the same placeholder names the recordings were normalised to, so
/// outputs that quote the execution or state machine name compare equal.
fn context(input: &Value) -> Value {
    json!({
        "Execution": {
            "Id": "arn:<partition>:states:<region>:111111111111:execution:<ArnPart_0idx>:<ExecArnPart_0idx>",
            "Input": input,
            "Name": "<ExecArnPart_0idx>",
            "RoleArn": "snf_role_arn",
            "StartTime": "date",
        },
        "StateMachine": {
            "Id": "arn:<partition>:states:<region>:111111111111:stateMachine:<ArnPart_0idx>",
            "Name": "<ArnPart_0idx>",
        },
        "State": {"Name": "State_0", "EnteredTime": "date"},
    })
}

fn build(template: &Value, env: &PathEnv, rng: &mut ChaCha8Rng) -> Result<Value, StateError> {
    Ok(match template {
        Value::Object(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                match (k.strip_suffix(".$"), v.as_str()) {
                    (Some(name), Some(src)) if is_intrinsic(src) => {
                        let call = Call::parse(src)
                            .map_err(|e| StateError::new("SyntaxError", format!("{src}: {e}")))?;
                        out.insert(name.to_string(), call.eval(env, rng)?);
                    }
                    (Some(name), Some(src)) => {
                        let path = Path::parse(src)
                            .map_err(|e| StateError::new("PathSyntax", e.to_string()))?;
                        let v = path
                            .select_env(env)
                            .ok_or_else(|| StateError::runtime(format!("no value at {src}")))?;
                        out.insert(name.to_string(), v.into_owned());
                    }
                    _ => {
                        out.insert(k.clone(), build(v, env, rng)?);
                    }
                }
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| build(v, env, rng))
                .collect::<Result<_, _>>()?,
        ),
        other => other.clone(),
    })
}

fn select(doc: &Value, path: Option<&Value>) -> Option<Value> {
    match path.and_then(Value::as_str) {
        None => Some(doc.clone()),
        Some(p) => Path::parse(p).ok()?.select(doc).map(|c| c.into_owned()),
    }
}

fn run_pass(state: &Value, input: &Value, vars: &Map<String, Value>) -> Result<Value, StateError> {
    let ctx = context(input);
    let effective = select(input, state.get("InputPath"))
        .ok_or_else(|| StateError::runtime("InputPath selected nothing"))?;
    let env = PathEnv {
        document: &effective,
        context: &ctx,
        variables: vars,
    };
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let result = build(&state["Parameters"], &env, &mut rng)?;
    let mut doc = input.clone();
    match state.get("ResultPath").and_then(Value::as_str) {
        None | Some("$") => doc = result,
        Some(p) => Path::parse(p)
            .map_err(|e| StateError::runtime(e.to_string()))?
            .set(&mut doc, result)
            .map_err(|e| StateError::runtime(e.message))?,
    }
    select(&doc, state.get("OutputPath")).ok_or_else(|| StateError::runtime("OutputPath"))
}

/// Recordings replace generated values with markers; accept ours when it has the right shape.
fn matches(ours: &Value, recorded: &Value) -> bool {
    match (ours, recorded) {
        (Value::String(s), Value::String(r))
            if r == "generated-uuid" || r.starts_with("<uuid:") =>
        {
            uuid::Uuid::parse_str(s).is_ok()
        }
        (Value::Number(_), Value::String(r)) if r == "RandomNumberGenerated" => ours.is_i64(),
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(k, v)| b.get(k).is_some_and(|w| matches(v, w)))
        }
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| matches(x, y))
        }
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        _ => ours == recorded,
    }
}

/// The Pass state to check, with the variables in scope: either the only state, or the second
/// of two where the first just `Assign`s constants (variables referenced as `$name`).
fn checkable_pass(definition: &Value) -> Option<(&Value, Map<String, Value>)> {
    let states = definition["States"].as_object()?;
    let is_params_pass = |st: &Value| {
        st["Type"] == "Pass" && st.get("Parameters").is_some() && st.get("Result").is_none()
    };
    match states.len() {
        1 => states
            .values()
            .next()
            .filter(|st| is_params_pass(st))
            .map(|st| (st, Map::new())),
        2 => {
            let first = &states[definition["StartAt"].as_str()?];
            let second = &states[first["Next"].as_str()?];
            let assign = first["Assign"].as_object()?;
            let constant = !serde_json::to_string(assign).ok()?.contains(".$\"");
            let plain = first["Type"] == "Pass"
                && first.get("Parameters").is_none()
                && first.get("Result").is_none();
            (constant && plain && is_params_pass(second)).then(|| (second, assign.clone()))
        }
        _ => None,
    }
}

#[test]
fn corpus_single_pass_intrinsic_cases() {
    let dir = corpus_dir();
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!(
            "skipping: conformance corpus not found at {}",
            dir.display()
        );
        return;
    };
    let mut files: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    files.sort();
    let (mut checked, mut matched, mut skipped) = (0, 0, 0);
    let mut failures = Vec::new();
    for file in files {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        let Ok(case) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        let uses_intrinsics = case["features"].as_array().is_some_and(|f| {
            f.iter()
                .any(|x| x.as_str().is_some_and(|s| s.starts_with("intrinsic:")))
        });
        if !uses_intrinsics {
            continue;
        }
        let Some((state, vars)) = checkable_pass(&case["definition"]) else {
            skipped += 1;
            continue;
        };
        if case["input_is_raw_text"] == true
            || case["kind"] != "execution"
            || case["definition"]["QueryLanguage"] == "JSONata"
        {
            skipped += 1;
            continue;
        }
        let input = case.get("input").cloned().unwrap_or(json!({}));
        let expected = &case["expected"];
        checked += 1;
        let id = case["id"].as_str().unwrap_or("?").to_string();
        let outcome = run_pass(state, &input, &vars);
        let ok = match (&outcome, expected["status"].as_str()) {
            (Ok(out), Some("SUCCEEDED")) => matches(out, &expected["output"]),
            (Err(e), Some("FAILED")) => {
                e.error == expected["error"].as_str().unwrap_or("")
                    && expected["cause"]
                        .as_str()
                        .is_some_and(|c| c.ends_with(&e.cause))
            }
            _ => false,
        };
        if ok {
            matched += 1;
        } else {
            failures.push(format!("{id}: got {outcome:?}, recorded {expected}"));
        }
    }
    eprintln!(
        "intrinsic corpus: {matched}/{checked} single-Pass cases match ({skipped} skipped: need the engine)"
    );
    assert!(failures.is_empty(), "mismatches:\n{}", failures.join("\n"));
}
