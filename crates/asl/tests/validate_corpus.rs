//! Validation against the conformance corpus recorded on real AWS:
//! every definition AWS ran must validate clean, and every definition AWS rejected must be
//! rejected with the same code (and ideally the same message).

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use stepwise_asl::diagnostic::Diagnostic;
use stepwise_asl::validate::{validate_text, validate_value, MachineType, ValidateOptions};

fn corpus_dir() -> Option<PathBuf> {
    let dir =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/localstack");
    if dir.join("index.json").exists() {
        Some(dir)
    } else {
        eprintln!(
            "SKIP: conformance corpus not found at {} (needs /work/shared)",
            dir.display()
        );
        None
    }
}

fn cases(dir: &Path, kinds: &[&str]) -> Vec<Value> {
    let index: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("index.json")).unwrap()).unwrap();
    index
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| kinds.contains(&e["kind"].as_str().unwrap_or("")))
        .map(|e| {
            let p = dir
                .join("cases")
                .join(format!("{}.json", e["id"].as_str().unwrap()));
            serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
        })
        .collect()
}

fn opts_for(case: &Value) -> ValidateOptions {
    let express = case["state_machine_type"].as_str() == Some("EXPRESS")
        || case["validate_params"]["type"].as_str() == Some("EXPRESS");
    ValidateOptions {
        machine_type: if express {
            MachineType::Express
        } else {
            MachineType::Standard
        },
    }
}

fn run(case: &Value) -> Vec<Diagnostic> {
    let opts = opts_for(case);
    let def = &case["definition"];
    if case["kind"] == "test_state_error" {
        // TestState validates a lone state inside a machine whose state is named "StateName".
        return validate_value(
            &json!({"StartAt": "StateName", "States": {"StateName": def}}),
            &opts,
        );
    }
    match (case["definition_is_raw_text"].as_bool(), def.as_str()) {
        (Some(true), Some(text)) => validate_text(text, &opts),
        _ => validate_value(def, &opts),
    }
}

#[test]
fn every_definition_aws_ran_is_valid() {
    let Some(dir) = corpus_dir() else { return };
    let mut checked = 0;
    let mut failures = Vec::new();
    for case in cases(&dir, &["execution", "express_sync", "validate_definition"]) {
        if case["kind"] == "validate_definition" && case["expected"]["result"] != "OK" {
            continue;
        }
        let mut defs = vec![(case["definition"].clone(), opts_for(&case))];
        for r in case["related_state_machines"]
            .as_array()
            .into_iter()
            .flatten()
        {
            if r["definition"].is_object() {
                defs.push((r["definition"].clone(), ValidateOptions::default()));
            }
        }
        for (def, opts) in defs {
            if !def.is_object() {
                continue;
            }
            checked += 1;
            let diags = validate_value(&def, &opts);
            if !diags.is_empty() {
                failures.push(format!(
                    "{}: {}",
                    case["id"].as_str().unwrap_or("?"),
                    diags
                        .iter()
                        .map(Diagnostic::aws_text)
                        .collect::<Vec<_>>()
                        .join(" | ")
                ));
            }
        }
    }
    println!(
        "valid definitions checked: {checked}, wrongly rejected: {}",
        failures.len()
    );
    for f in &failures {
        println!("  {f}");
    }
    // Until the full JSONPath parser lands (wildcards, slices, filters: another branch), the
    // placeholder `Path::parse` rejects those paths; tolerate exactly that and nothing else.
    let full_jsonpath = stepwise_asl::jsonpath::Path::parse("$.a[*]").is_ok();
    let pending: Vec<_> = failures
        .iter()
        .filter(|f| !full_jsonpath && f.contains("must be a valid JSONPath"))
        .collect();
    if !pending.is_empty() {
        println!(
            "WARNING: {} rejections wait for the full JSONPath parser",
            pending.len()
        );
    }
    assert!(
        failures.len() == pending.len(),
        "{} valid definitions rejected",
        failures.len() - pending.len()
    );
}

#[test]
fn every_state_teststate_accepted_passes_the_schema() {
    let Some(dir) = corpus_dir() else { return };
    let full_jsonpath = stepwise_asl::jsonpath::Path::parse("$.a[*]").is_ok();
    let mut bad = Vec::new();
    let all = cases(&dir, &["test_state"]);
    for case in &all {
        // TestState takes a lone state (or a whole machine with stateName).
        let def = &case["definition"];
        let machine = if def.get("States").is_some() {
            def.clone()
        } else {
            json!({"StartAt": "StateName", "States": {"StateName": def}})
        };
        let diags: Vec<_> = validate_value(&machine, &opts_for(case))
            .into_iter()
            // A lone state's Next points outside the wrapper machine: graph rules don't apply.
            .filter(|d| d.code == "SCHEMA_VALIDATION_FAILED")
            .filter(|d| full_jsonpath || !d.message.contains("must be a valid JSONPath"))
            .collect();
        if !diags.is_empty() {
            bad.push(format!(
                "{}: {}",
                case["id"].as_str().unwrap_or("?"),
                diags
                    .iter()
                    .map(Diagnostic::aws_text)
                    .collect::<Vec<_>>()
                    .join(" | ")
            ));
        }
    }
    println!(
        "TestState definitions checked: {}, wrongly rejected: {}",
        all.len(),
        bad.len()
    );
    for b in &bad {
        println!("  {b}");
    }
    assert!(bad.is_empty());
}

/// `Invalid State Machine Definition: '<CODE>: <message> at <loc>, …'` → the quoted part.
fn quoted(message: &str) -> Option<&str> {
    message
        .strip_prefix("Invalid State Machine Definition: '")?
        .strip_suffix('\'')
}

#[test]
fn definitions_aws_rejected_are_rejected_alike() {
    let Some(dir) = corpus_dir() else { return };
    let (mut total, mut code_ok, mut msg_ok, mut msg_total) = (0, 0, 0, 0);
    let mut report = Vec::new();
    for case in cases(
        &dir,
        &[
            "create_state_machine_error",
            "update_state_machine_error",
            "test_state_error",
            "validate_definition",
        ],
    ) {
        let id = case["id"].as_str().unwrap_or("?").to_string();
        let exp = &case["expected"];
        // (expected code if known, expected full text if AWS's wording is recorded)
        let (want_code, want_text): (Option<String>, Option<String>) =
            if case["kind"] == "validate_definition" {
                if exp["result"] != "FAIL" {
                    continue;
                }
                let d = &exp["diagnostics"][0];
                let text = match d["location"].as_str() {
                    Some(l) => format!(
                        "{}: {} at {l}",
                        d["code"].as_str().unwrap(),
                        d["message"].as_str().unwrap()
                    ),
                    None => format!(
                        "{}: {}",
                        d["code"].as_str().unwrap(),
                        d["message"].as_str().unwrap()
                    ),
                };
                (d["code"].as_str().map(String::from), Some(text))
            } else {
                if exp["api_error"]["code"] != "InvalidDefinition" {
                    continue;
                }
                let m = exp["api_error"]["message"].as_str().unwrap_or("");
                match quoted(m) {
                    Some(q) => (q.split(':').next().map(String::from), Some(q.to_string())),
                    // Map Label cases: the recording holds LocalStack's own Python error text
                    // ("Error=ValueError Args=[…]"), not AWS's wording: only "rejected" is comparable.
                    None => (None, None),
                }
            };
        total += 1;
        let got = run(&case);
        let got_code = got.first().map(|d| d.code.clone());
        let code_match = match (&want_code, &got_code) {
            (Some(w), Some(g)) => w == g,
            (None, Some(_)) => true,
            _ => false,
        };
        code_ok += code_match as usize;
        // Normalise the recording's `arn:<partition>:` back to what the definition said.
        let got_text = got
            .iter()
            .map(Diagnostic::aws_text)
            .collect::<Vec<_>>()
            .join(", ");
        if let Some(w) = &want_text {
            msg_total += 1;
            let w = w.replace("arn:<partition>:", "arn:aws:");
            let first = got.first().map(Diagnostic::aws_text).unwrap_or_default();
            if w == got_text || (case["kind"] == "validate_definition" && w == first) {
                msg_ok += 1;
            } else {
                report.push(format!(
                    "MESSAGE {id}\n    want: {w:?}\n    got:  {got_text:?}"
                ));
            }
        }
        if !code_match {
            report.push(format!("CODE {id}: want {want_code:?}, got {got_text:?}"));
        }
    }
    for r in &report {
        println!("{r}");
    }
    let code_rate = code_ok as f64 / total.max(1) as f64;
    println!(
        "definition-error cases: {total}; code match {code_ok}/{total} ({:.1}%); message match \
         {msg_ok}/{msg_total}",
        code_rate * 100.0
    );
    assert!(
        code_rate >= 0.9,
        "code-match rate {:.1}% below 90%",
        code_rate * 100.0
    );
}
