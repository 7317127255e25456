//! Compares our normalised values with the recorded ones. Recorded placeholders (`<...>`) and
//! the words `date`/`timestamp`/`datetime` are wildcards; every other difference is reported
//! with the JSON path where it sits.

use std::fmt;

use regex::Regex;
use serde_json::Value;

/// One difference between the recording (expected) and our run (actual).
#[derive(Debug, Clone, PartialEq)]
pub struct Diff {
    /// Where: `$.output.a[0]`, `history[3].stateEnteredEventDetails.input`, …
    pub path: String,
    pub expected: String,
    pub actual: String,
}

impl fmt::Display for Diff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: expected {} got {}",
            self.path, self.expected, self.actual
        )
    }
}

const MISSING: &str = "(missing)";
/// What a diff shows for a member the recording does not have.
pub const ABSENT: &str = "(absent)";

/// Compact JSON, cut to a readable length.
pub fn render(v: &Value) -> String {
    let s = v.to_string();
    truncate(&s, 300)
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let cut: String = s.chars().take(max).collect();
        format!("{cut}…")
    }
}

fn placeholder_re() -> &'static Regex {
    static RE: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| Regex::new(r"<[A-Za-z0-9_:.\-]+>").expect("constant regex"))
}

/// Whether a recorded value matches anything (a whole-value placeholder or time word).
pub fn is_wildcard(expected: &Value) -> bool {
    match expected {
        Value::String(s) => {
            matches!(s.as_str(), "date" | "timestamp" | "datetime")
                || placeholder_re()
                    .find(s)
                    .is_some_and(|m| m.start() == 0 && m.end() == s.len())
        }
        _ => false,
    }
}

/// Matches a recorded string that embeds placeholders: each placeholder stands for any text.
fn string_matches(expected: &str, actual: &str) -> bool {
    if expected == actual {
        return true;
    }
    if passthrough_text_matches(expected, actual) {
        return true;
    }
    if placeholder_re().find(expected).is_none() {
        return false;
    }
    let mut pattern = String::from("(?s)^");
    let mut last = 0;
    for m in placeholder_re().find_iter(expected) {
        pattern.push_str(&regex::escape(&expected[last..m.start()]));
        pattern.push_str(".*?");
        last = m.end();
    }
    pattern.push_str(&regex::escape(&expected[last..]));
    pattern.push('$');
    Regex::new(&pattern).is_ok_and(|re| re.is_match(actual))
}

/// JSON text with `", "`/`": "` separators is the caller's own text passed through (AWS keeps
/// the execution input as sent; its own serialisation is compact). In-process runs take the
/// input as a value, so such text is compared by value.
fn passthrough_text_matches(expected: &str, actual: &str) -> bool {
    if !(expected.contains(", ") || expected.contains(": ")) {
        return false;
    }
    match (
        serde_json::from_str::<Value>(expected),
        serde_json::from_str::<Value>(actual),
    ) {
        (Ok(e), Ok(a)) => diff(&e, &a, "").is_empty(),
        _ => false,
    }
}

fn numbers_equal(a: &serde_json::Number, b: &serde_json::Number) -> bool {
    // `1` and `1.0` print differently in an output, so the kind of number counts.
    if a.is_f64() != b.is_f64() {
        return false;
    }
    match (a.as_i64(), b.as_i64(), a.as_u64(), b.as_u64()) {
        (Some(x), Some(y), _, _) => x == y,
        (_, _, Some(x), Some(y)) => x == y,
        _ => a.as_f64() == b.as_f64(),
    }
}

/// Appends the differences between `expected` and `actual` under `path`.
pub fn diff_values(expected: &Value, actual: &Value, path: &str, out: &mut Vec<Diff>) {
    if is_wildcard(expected) {
        return;
    }
    let push = |out: &mut Vec<Diff>| {
        out.push(Diff {
            path: path.to_string(),
            expected: render(expected),
            actual: render(actual),
        })
    };
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                let p = child_path(path, k);
                match a.get(k) {
                    Some(av) => diff_values(ev, av, &p, out),
                    None => out.push(Diff {
                        path: p,
                        expected: render(ev),
                        actual: MISSING.into(),
                    }),
                }
            }
            for (k, av) in a {
                if !e.contains_key(k) {
                    out.push(Diff {
                        path: child_path(path, k),
                        expected: ABSENT.into(),
                        actual: render(av),
                    });
                }
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            if e.len() != a.len() {
                out.push(Diff {
                    path: format!("{path}.length"),
                    expected: e.len().to_string(),
                    actual: a.len().to_string(),
                });
            }
            for (i, (ev, av)) in e.iter().zip(a.iter()).enumerate() {
                diff_values(ev, av, &format!("{path}[{i}]"), out);
            }
        }
        (Value::String(e), Value::String(a)) => {
            if !string_matches(e, a) {
                push(out)
            }
        }
        (Value::Number(e), Value::Number(a)) => {
            if !numbers_equal(e, a) {
                push(out)
            }
        }
        (e, a) => {
            if e != a {
                push(out)
            }
        }
    }
}

fn child_path(path: &str, key: &str) -> String {
    if key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && !key.is_empty() {
        format!("{path}.{key}")
    } else {
        format!("{path}[{}]", Value::String(key.to_string()))
    }
}

/// Differences between two values, from the root `path`.
pub fn diff(expected: &Value, actual: &Value, path: &str) -> Vec<Diff> {
    let mut out = Vec::new();
    diff_values(expected, actual, path, &mut out);
    out
}

fn event_type(e: &Value) -> &str {
    e.get("type").and_then(Value::as_str).unwrap_or("?")
}

/// Compares a normalised history with the recorded one.
///
/// With `parallel_sorted` (README step 6) the recording sorted the events inside Parallel
/// branches and set their ids to `[0]`; it also dropped the Parallel end events there. Events
/// with a real id are then compared by id, the `[0]` ones as a multiset against our remaining
/// events, and our leftover Parallel end/exit events are tolerated.
pub fn compare_history(expected: &[Value], actual: &[Value], parallel_sorted: bool) -> Vec<Diff> {
    if parallel_sorted {
        return compare_history_unordered(expected, actual);
    }
    let mut out = Vec::new();
    let et: Vec<&str> = expected.iter().map(event_type).collect();
    let at: Vec<&str> = actual.iter().map(event_type).collect();
    let first_divergence = et
        .iter()
        .zip(at.iter())
        .position(|(e, a)| e != a)
        .or_else(|| (et.len() != at.len()).then_some(et.len().min(at.len())));
    let aligned = first_divergence.unwrap_or(et.len());
    if let Some(i) = first_divergence {
        let from = i.saturating_sub(1);
        let show = |t: &[&str]| {
            let end = (i + 4).min(t.len());
            let mut s = t.get(from..end).map(|x| x.join(", ")).unwrap_or_default();
            if end < t.len() {
                s.push_str(", …");
            }
            format!("[{} events] …{s}", t.len())
        };
        out.push(Diff {
            path: format!("history.types[{i}]"),
            expected: show(&et),
            actual: show(&at),
        });
    }
    for i in 0..aligned {
        diff_values(&expected[i], &actual[i], &format!("history[{i}]"), &mut out);
    }
    out
}

fn is_floating(e: &Value) -> bool {
    matches!(e.get("id"), Some(Value::Array(_)))
}

fn compare_history_unordered(expected: &[Value], actual: &[Value]) -> Vec<Diff> {
    let mut out = Vec::new();
    let fixed_ids: Vec<u64> = expected
        .iter()
        .filter_map(|e| e.get("id").and_then(Value::as_u64))
        .collect();
    let id_of = |e: &Value| e.get("id").and_then(Value::as_u64);
    // Events with a real id: compared one to one.
    for e in expected.iter().filter(|e| !is_floating(e)) {
        let Some(id) = id_of(e) else { continue };
        match actual.iter().find(|a| id_of(a) == Some(id)) {
            Some(a) => diff_values(e, a, &format!("history[id={id}]"), &mut out),
            None => out.push(Diff {
                path: format!("history[id={id}]"),
                expected: render(e),
                actual: MISSING.into(),
            }),
        }
    }
    // Our other events, made floating as the recording did.
    let mut pool: Vec<Value> = actual
        .iter()
        .filter(|a| id_of(a).is_none_or(|id| !fixed_ids.contains(&id)))
        .map(|a| {
            let mut a = a.clone();
            if let Value::Object(m) = &mut a {
                m.insert("id".into(), serde_json::json!([0]));
                m.insert("previousEventId".into(), Value::from(0));
            }
            a
        })
        .collect();
    for (n, e) in expected.iter().filter(|e| is_floating(e)).enumerate() {
        let path = format!("history.parallel[{n}]({})", event_type(e));
        if let Some(pos) = pool.iter().position(|a| diff(e, a, "").is_empty()) {
            pool.remove(pos);
            continue;
        }
        // Report against the closest candidate of the same type.
        let best = pool
            .iter()
            .enumerate()
            .filter(|(_, a)| event_type(a) == event_type(e))
            .map(|(i, a)| (i, diff(e, a, &path)))
            .min_by_key(|(_, d)| d.len());
        match best {
            Some((i, d)) => {
                pool.remove(i);
                out.extend(d);
            }
            None => out.push(Diff {
                path,
                expected: render(e),
                actual: MISSING.into(),
            }),
        }
    }
    for a in pool {
        let t = event_type(&a);
        let dropped_by_recording = matches!(
            t,
            "ParallelStateSucceeded"
                | "ParallelStateFailed"
                | "ParallelStateAborted"
                | "ParallelStateExited"
        );
        if !dropped_by_recording {
            out.push(Diff {
                path: format!("history.parallel(extra {t})"),
                expected: ABSENT.into(),
                actual: render(&a),
            });
        }
    }
    out
}

/// Renders diffs one per line, at most `max` of them.
pub fn render_diffs(diffs: &[Diff], max: usize) -> String {
    let mut s: Vec<String> = diffs.iter().take(max).map(|d| d.to_string()).collect();
    if diffs.len() > max {
        s.push(format!("… and {} more", diffs.len() - max));
    }
    s.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn wildcards_match_anything() {
        assert!(diff(
            &json!({"timestamp": "timestamp", "d": "date", "u": "<uuid:1>"}),
            &json!({"timestamp": 17.5, "d": "2024", "u": 3}),
            "$"
        )
        .is_empty());
        assert!(diff(
            &json!("arn:<partition>:states:<region>:111111111111:execution:<ArnPart_0idx>:<ExecArnPart_0idx>"),
            &json!("arn:aws:states:us-east-1:111111111111:execution:sm:e-1"),
            "$"
        )
        .is_empty());
        assert!(!diff(
            &json!("arn:<partition>:states"),
            &json!("arn:aws:lambda"),
            "$"
        )
        .is_empty());
    }

    #[test]
    fn differences_carry_their_path() {
        let d = diff(
            &json!({"a": [1, {"b": "x"}], "c": 1}),
            &json!({"a": [1, {"b": "y"}], "e": 2}),
            "$",
        );
        let paths: Vec<&str> = d.iter().map(|d| d.path.as_str()).collect();
        assert_eq!(paths, vec!["$.a[1].b", "$.c", "$.e"]);
        assert_eq!(d[0].expected, "\"x\"");
        assert_eq!(d[1].actual, MISSING);
    }

    #[test]
    fn passthrough_input_text_compares_by_value() {
        assert!(diff(
            &json!("[\"Hello\", \"World\"]"),
            &json!("[\"Hello\",\"World\"]"),
            "$"
        )
        .is_empty());
        assert!(!diff(
            &json!("[\"Hello\",\"World\"]"),
            &json!("[\"Hello\", \"World\"]"),
            "$"
        )
        .is_empty());
        assert!(!diff(&json!("[1, 2]"), &json!("[1,3]"), "$").is_empty());
    }

    #[test]
    fn int_and_float_differ() {
        assert!(!diff(&json!(1.0), &json!(1), "$").is_empty());
        assert!(diff(&json!(1.5), &json!(1.5), "$").is_empty());
    }

    #[test]
    fn history_type_divergence_is_one_diff() {
        let e = vec![json!({"type": "A", "id": 1}), json!({"type": "B", "id": 2})];
        let a = vec![json!({"type": "A", "id": 1}), json!({"type": "C", "id": 2})];
        let d = compare_history(&e, &a, false);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].path, "history.types[1]");
    }

    #[test]
    fn parallel_sorted_histories_match_in_any_order() {
        let e = vec![
            json!({"type": "ParallelStateStarted", "id": 3, "previousEventId": 2}),
            json!({"type": "PassStateEntered", "id": [0], "previousEventId": 0, "d": {"name": "A"}}),
            json!({"type": "PassStateEntered", "id": [0], "previousEventId": 0, "d": {"name": "B"}}),
            json!({"type": "ParallelStateExited", "id": 7, "previousEventId": 6}),
        ];
        let a = vec![
            json!({"type": "ParallelStateStarted", "id": 3, "previousEventId": 2}),
            json!({"type": "PassStateEntered", "id": 4, "previousEventId": 3, "d": {"name": "B"}}),
            json!({"type": "PassStateEntered", "id": 5, "previousEventId": 3, "d": {"name": "A"}}),
            json!({"type": "ParallelStateSucceeded", "id": 6, "previousEventId": 5}),
            json!({"type": "ParallelStateExited", "id": 7, "previousEventId": 6}),
        ];
        assert_eq!(compare_history(&e, &a, true), vec![]);
        let mut wrong = a.clone();
        wrong[1] =
            json!({"type": "PassStateEntered", "id": 4, "previousEventId": 3, "d": {"name": "C"}});
        let d = compare_history(&e, &wrong, true);
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(d[0].path.starts_with("history.parallel["));
    }
}
