//! Replays the Choice decisions recorded against real AWS (LocalStack's conformance corpus).
//!
//! For each successful execution whose start state is a JSONPath Choice, the rules are evaluated
//! on the case input, the chosen `Next` (or `Default`) is followed, and when that target is a
//! terminal Pass state whose output is knowable without running data flow (a literal `Result`,
//! or no data-flow fields at all, meaning output = input) the recorded output is compared.

use serde_json::{json, Value};
use std::path::PathBuf;
use stepwise_asl::choice::{first_match, parse_choices};
use stepwise_asl::jsonpath::{NoVariables, PathEnv};

const DATA_FLOW_FIELDS: &[&str] = &[
    "InputPath",
    "OutputPath",
    "ResultPath",
    "Parameters",
    "ResultSelector",
    "Assign",
    "Output",
    "Arguments",
    "QueryLanguage",
];

fn corpus_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/conformance/localstack/cases");
    dir.is_dir().then_some(dir)
}

/// Equality under the corpus normalisation: recorded `"date"`, `"timestamp"`, `"datetime"` and
/// `<placeholder>` strings stand for any string.
fn normalised_eq(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::String(e), Value::String(_))
            if e == "date" || e == "timestamp" || e == "datetime" || e.starts_with('<') =>
        {
            true
        }
        (Value::Object(e), Value::Object(a)) => {
            e.len() == a.len()
                && e.iter()
                    .all(|(k, ev)| a.get(k).is_some_and(|av| normalised_eq(ev, av)))
        }
        (Value::Array(e), Value::Array(a)) => {
            e.len() == a.len() && e.iter().zip(a).all(|(x, y)| normalised_eq(x, y))
        }
        (Value::Number(e), Value::Number(a)) => e.as_f64() == a.as_f64(),
        _ => expected == actual,
    }
}

enum Outcome {
    Match,
    Mismatch(String),
    NotCheckable(&'static str),
}

fn check_case(case: &Value) -> Outcome {
    if case["kind"] != "execution" || case["expected"]["status"] != "SUCCEEDED" {
        return Outcome::NotCheckable("not a successful execution");
    }
    let def = &case["definition"];
    if def.get("QueryLanguage").is_some_and(|q| q != "JSONPath") {
        return Outcome::NotCheckable("JSONata");
    }
    let Some(start) = def["StartAt"].as_str() else {
        return Outcome::NotCheckable("no StartAt");
    };
    let states = &def["States"];
    let choice = &states[start];
    if choice["Type"] != "Choice" {
        return Outcome::NotCheckable("start state is not a Choice");
    }
    if ["InputPath", "OutputPath", "QueryLanguage"]
        .iter()
        .any(|f| choice.get(*f).is_some())
    {
        return Outcome::NotCheckable("Choice state has its own data flow");
    }
    let loc = format!("/States/{start}/Choices");
    let branches = match parse_choices(&choice["Choices"], &loc) {
        Ok(b) => b,
        Err(d) => return Outcome::Mismatch(format!("did not compile: {d:?}")),
    };
    let input = &case["input"];
    let context = json!({"Execution": {"Input": input}, "State": {"Name": start}});
    let env = PathEnv {
        document: input,
        context: &context,
        variables: &NoVariables,
    };
    let target = match first_match(&branches, &env) {
        Ok(Some(i)) => branches[i].next.clone(),
        Ok(None) => match choice["Default"].as_str() {
            Some(d) => d.to_string(),
            None => return Outcome::Mismatch("no branch matched and no Default".into()),
        },
        Err(e) => return Outcome::Mismatch(format!("evaluation failed: {e}")),
    };
    let state = &states[&target];
    if state["Type"] != "Pass" || state["End"] != true {
        return Outcome::NotCheckable("target is not a terminal Pass");
    }
    if DATA_FLOW_FIELDS.iter().any(|f| state.get(*f).is_some()) {
        return Outcome::NotCheckable("target Pass has data flow");
    }
    let produced = state.get("Result").unwrap_or(input);
    let expected = &case["expected"]["output"];
    if normalised_eq(expected, produced) {
        Outcome::Match
    } else {
        Outcome::Mismatch(format!(
            "took {target}: produced {produced}, recorded {expected}"
        ))
    }
}

#[test]
fn recorded_choice_decisions_match() {
    let Some(dir) = corpus_dir() else {
        eprintln!("SKIPPED: conformance corpus not found beside the repository (shared/conformance/localstack)");
        return;
    };
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .expect("corpus dir readable")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    entries.sort();
    let (mut matched, mut operators_matched, mut skipped) = (0, 0, 0);
    let mut failures = Vec::new();
    for path in entries {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        if !text.contains("\"Choice\"") {
            continue;
        }
        let Ok(case) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        let id = case["id"].as_str().unwrap_or_default().to_string();
        match check_case(&case) {
            Outcome::Match => {
                matched += 1;
                if id.contains("choice_operators") {
                    operators_matched += 1;
                }
            }
            Outcome::Mismatch(why) => failures.push(format!("{id}: {why}")),
            Outcome::NotCheckable(why) => {
                if id.contains("choice_operators") {
                    failures.push(format!("{id}: choice_operators case not checkable: {why}"));
                }
                skipped += 1;
            }
        }
    }
    eprintln!(
        "choice corpus: {matched} matched ({operators_matched} choice_operators), {} mismatched, {skipped} not checkable",
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        operators_matched >= 354,
        "expected all 354 choice_operators cases, got {operators_matched}"
    );
}
