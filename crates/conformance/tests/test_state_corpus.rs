//! TestState against the recorded corpus (`test_state` and `test_state_error` cases): each case's
//! request is rebuilt from `definition`, `input` and `test_state_params`, answered by
//! `stepwise_engine::test_state`, brought into the recorded form and compared on status,
//! output, error, cause, nextState and inspectionData; rejected calls are compared on the
//! error code (and the message is counted).
//!
//! The recorded requests omit `roleArn`; where the recorded context object shows a role, the
//! test passed one, so we pass one too. Cases the client rejected before sending
//! (`api_error_recorded` without `api_error`) are not TestState answers and are left out.
//! `STEPWISE_TEST_STATE_VERBOSE=1` prints every difference.

use serde_json::{Map, Value};
use stepwise_conformance::compare::{diff, render_diffs};
use stepwise_conformance::normalize::{decode_json_text_once, Normaliser};
use stepwise_conformance::{corpus_dir, Case};
use stepwise_engine::test_state::{
    test_state, FieldValidationMode, InspectionLevel, Mock, MockError, StateConfiguration,
    TestStateRequest,
};

const ROLE: &str = "arn:aws:iam::111111111111:role/stepwise-test-state-role";

struct Loaded {
    case: Case,
    params: Map<String, Value>,
    expected: Map<String, Value>,
}

fn load() -> Option<Vec<Loaded>> {
    let dir = corpus_dir().join("cases");
    if !dir.is_dir() {
        eprintln!(
            "conformance corpus not found at {}, skipping",
            dir.display()
        );
        return None;
    }
    let mut out = Vec::new();
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("corpus dir lists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    for p in paths {
        let Ok(text) = std::fs::read_to_string(&p) else {
            continue;
        };
        let Ok(raw) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        let kind = raw.get("kind").and_then(Value::as_str).unwrap_or("");
        if kind != "test_state" && kind != "test_state_error" {
            continue;
        }
        let case = Case::from_json(&text).expect("case parses");
        let params = raw
            .get("test_state_params")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let expected = case.expected.clone();
        out.push(Loaded {
            case,
            params,
            expected,
        });
    }
    Some(out)
}

fn text_member(p: &Map<String, Value>, k: &str) -> Option<String> {
    match p.get(k) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => Some(other.to_string()),
    }
}

fn request(l: &Loaded) -> TestStateRequest {
    let p = &l.params;
    let input = if l.case.input_is_raw_text {
        l.case.input.as_str().map(str::to_string)
    } else {
        Some(l.case.input.to_string())
    };
    let mock = p.get("mock").and_then(Value::as_object).map(|m| Mock {
        result: text_member(m, "result"),
        error_output: m
            .get("errorOutput")
            .and_then(Value::as_object)
            .map(|e| MockError {
                error: text_member(e, "error"),
                cause: text_member(e, "cause"),
            }),
        field_validation_mode: m
            .get("fieldValidationMode")
            .and_then(Value::as_str)
            .and_then(FieldValidationMode::parse)
            .unwrap_or_default(),
    });
    let cfg = p
        .get("stateConfiguration")
        .and_then(Value::as_object)
        .map(|c| StateConfiguration {
            retrier_retry_count: c.get("retrierRetryCount").and_then(Value::as_u64),
            error_caused_by_state: text_member(c, "errorCausedByState"),
            map_iteration_failure_count: c.get("mapIterationFailureCount").and_then(Value::as_u64),
            map_item_reader_data: text_member(c, "mapItemReaderData"),
        });
    let shows_role = l
        .expected
        .get("output")
        .is_some_and(|o| o.to_string().contains(":role/"));
    TestStateRequest {
        definition: l.case.definition_text(),
        role_arn: text_member(p, "roleArn").or_else(|| shows_role.then(|| ROLE.to_string())),
        input,
        inspection_level: p
            .get("inspectionLevel")
            .and_then(Value::as_str)
            .and_then(InspectionLevel::parse)
            .unwrap_or_default(),
        reveal_secrets: p
            .get("revealSecrets")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        variables: text_member(p, "variables"),
        state_name: text_member(p, "stateName"),
        mock,
        context: text_member(p, "context"),
        state_configuration: cfg,
        ..Default::default()
    }
}

const COMPARED: [&str; 6] = [
    "status",
    "output",
    "error",
    "cause",
    "nextState",
    "inspectionData",
];

/// Our answer in the recorded form (README steps 1–5).
fn normalised_answer(case: &Case, wire: Value) -> Value {
    let mut doc = wire;
    decode_json_text_once(&mut doc);
    if let Some(o) = doc.get_mut("output") {
        if let Value::String(s) = o {
            if let Ok(v) = serde_json::from_str::<Value>(s) {
                *o = v;
            }
        }
    }
    let mut n = Normaliser::new(case);
    n.apply(&mut doc);
    let mut m = Map::new();
    for k in COMPARED {
        if let Some(v) = doc.get(k) {
            m.insert(k.into(), v.clone());
        }
    }
    Value::Object(m)
}

fn expected_doc(l: &Loaded) -> Value {
    let mut m = Map::new();
    for k in COMPARED {
        if let Some(v) = l.expected.get(k) {
            m.insert(k.into(), v.clone());
        }
    }
    let mut doc = Value::Object(m);
    // Normalising the recorded form again is a no-op except for masks the recording skipped
    // (a null `RoleArn`): both sides then agree on them.
    Normaliser::new(&l.case).apply(&mut doc);
    doc
}

#[derive(Default)]
struct Tally {
    total: usize,
    passed: usize,
    failures: Vec<String>,
}

impl Tally {
    fn record(&mut self, id: &str, ok: Result<(), String>) {
        self.total += 1;
        match ok {
            Ok(()) => self.passed += 1,
            Err(why) => self.failures.push(format!("{id}: {why}")),
        }
    }
    fn rate(&self) -> f64 {
        if self.total == 0 {
            1.0
        } else {
            self.passed as f64 / self.total as f64
        }
    }
}

#[test]
fn test_state_corpus() {
    let Some(cases) = load() else { return };
    let verbose = std::env::var_os("STEPWISE_TEST_STATE_VERBOSE").is_some();
    let mut pure = Tally::default();
    let mut with_needs = Tally::default();
    let mut errors = Tally::default();
    let mut messages = Tally::default();
    let mut client_side = 0;
    for l in &cases {
        let id = l.case.id.trim_start_matches("v2__test_state__");
        let req = request(l);
        let answer = std::panic::catch_unwind(|| test_state(&req));
        let Ok(answer) = answer else {
            panic!("{id}: test_state panicked");
        };
        if let Some(api) = l.expected.get("api_error") {
            let code = api.get("code").and_then(Value::as_str).unwrap_or("");
            let msg = api.get("message").and_then(Value::as_str).unwrap_or("");
            match &answer {
                Err(e) => {
                    errors.record(
                        id,
                        if e.code == code {
                            Ok(())
                        } else {
                            Err(format!("code {} (expected {code}): {}", e.code, e.message))
                        },
                    );
                    messages.record(
                        id,
                        if e.message == msg {
                            Ok(())
                        } else {
                            Err(format!("message {:?}, expected {msg:?}", e.message))
                        },
                    );
                }
                Ok(r) => {
                    let why = format!("answered {} (expected {code}: {msg})", r.status.as_str());
                    errors.record(id, Err(why.clone()));
                    messages.record(id, Err(why));
                }
            }
            continue;
        }
        if l.expected.get("status").and_then(Value::as_str) == Some("API_ERROR") {
            client_side += 1;
            continue;
        }
        let verdict = match answer {
            Err(e) => Err(format!("rejected: {e}")),
            Ok(r) => {
                let ours = normalised_answer(&l.case, r.to_json());
                let expected = expected_doc(l);
                let diffs = diff(&expected, &ours, "$");
                // The comparison must be live: dropping a recorded member is seen.
                for k in ["inspectionData", "output", "nextState"] {
                    if expected.get(k).is_some() {
                        let mut cut = ours.clone();
                        if let Value::Object(m) = &mut cut {
                            m.remove(k);
                        }
                        assert!(
                            !diff(&expected, &cut, "$").is_empty(),
                            "{id}: {k} not compared"
                        );
                    }
                }
                if diffs.is_empty() {
                    Ok(())
                } else {
                    Err(render_diffs(&diffs, if verbose { 50 } else { 3 }))
                }
            }
        };
        if l.case.needs.is_empty() {
            pure.record(id, verdict);
        } else {
            with_needs.record(id, verdict);
        }
    }
    let report = |name: &str, t: &Tally| {
        eprintln!(
            "{name}: {}/{} ({:.1} %)",
            t.passed,
            t.total,
            t.rate() * 100.0
        );
        for f in &t.failures {
            eprintln!("  FAIL {f}");
        }
    };
    report("test_state (no external service)", &pure);
    report(
        "test_state (needs a service; no integration here)",
        &with_needs,
    );
    report("test_state_error (code)", &errors);
    report("test_state_error (message)", &messages);
    eprintln!("client-side rejections left out: {client_side}");
    assert!(pure.total > 0, "no test_state cases found");
    assert!(
        pure.rate() >= 0.9,
        "test_state cases below 90 %: {}/{}",
        pure.passed,
        pure.total
    );
    assert!(
        errors.rate() >= 0.9,
        "test_state_error codes below 90 %: {}/{}",
        errors.passed,
        errors.total
    );
}
