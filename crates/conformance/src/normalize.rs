//! Brings OUR result into the recorded form (corpus README, "How recorded values are
//! normalised", steps 1–5), so that differences left after comparison are real ones.
//!
//! The recording's own normalisation was done on the raw API responses; we rebuild the same
//! response shapes (`{"events": [...]}` for history, `{"output", "error", "cause"}` for the
//! result) so the case's masks (`$..events..output`, `$..output.StartDate`) land where they did.

use std::collections::HashMap;

use regex::Regex;
use serde_json::{json, Map, Value};

use crate::case::Case;

/// Keys whose epoch/ISO values the recording replaced by `"datetime"`.
const DATETIME_KEYS: &[&str] = &[
    "startDate",
    "stopDate",
    "creationDate",
    "updateDate",
    "redriveDate",
];

/// A date-time as the recording recognised it: `T` separator, a zone, and valid fields (the
/// recording left `2016-13-05T21:29:29Z` and zone-less text alone).
fn iso_re() -> &'static Regex {
    static RE: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})")
            .expect("constant regex")
    })
}

fn valid_fields(c: &regex::Captures<'_>) -> bool {
    let f = |i: usize| {
        c.get(i)
            .and_then(|m| m.as_str().parse::<u32>().ok())
            .unwrap_or(99)
    };
    (1..=12).contains(&f(2)) && (1..=31).contains(&f(3)) && f(4) < 24 && f(5) < 60 && f(6) < 61
}

/// Whether the whole string is a valid ISO-8601 date-time.
fn is_iso_datetime(s: &str) -> bool {
    iso_re().captures(s).is_some_and(|c| {
        c.get(0)
            .is_some_and(|m| m.start() == 0 && m.end() == s.len())
            && valid_fields(&c)
    })
}

/// Replaces valid date-times inside longer text (e.g. a JSON-text variable value) by `date`.
fn replace_embedded_dates(s: &str) -> Option<String> {
    let mut out = String::new();
    let mut last = 0;
    for c in iso_re().captures_iter(s) {
        let Some(m) = c.get(0) else { continue };
        if valid_fields(&c) {
            out.push_str(&s[last..m.start()]);
            out.push_str("date");
            last = m.end();
        }
    }
    if last == 0 {
        return None;
    }
    out.push_str(&s[last..]);
    Some(out)
}

fn uuid_re() -> &'static Regex {
    static RE: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"^(?i)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
            .expect("constant regex")
    })
}

fn json_input_re() -> &'static Regex {
    static RE: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| Regex::new(r"(?s)'\{.*\}'").expect("constant regex"))
}

/// README step 1: every string value of an object that starts with `{` and parses as JSON is
/// replaced by the parsed value, once: strings inside a decoded value stay strings.
pub fn decode_json_text_once(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for (_, child) in m.iter_mut() {
                if let Value::String(s) = child {
                    if s.starts_with('{') {
                        if let Ok(parsed) = serde_json::from_str::<Value>(s) {
                            *child = parsed;
                        }
                    }
                } else {
                    decode_json_text_once(child);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(decode_json_text_once),
        _ => {}
    }
}

#[derive(Debug, Clone)]
struct Seg {
    descendant: bool,
    key: String,
}

#[derive(Debug, Clone)]
struct Mask {
    path: Vec<Seg>,
    replacement: String,
    reference: bool,
}

/// Parses the simple JSONPaths the corpus masks use (`$..a.b`, `$..events..x.y`).
fn parse_mask_path(p: &str) -> Option<Vec<Seg>> {
    let rest = p.strip_prefix('$')?;
    let mut segs = Vec::new();
    let mut i = 0;
    let b = rest.as_bytes();
    while i < b.len() {
        let descendant = if rest[i..].starts_with("..") {
            i += 2;
            true
        } else if rest[i..].starts_with('.') {
            i += 1;
            false
        } else {
            return None;
        };
        let start = i;
        while i < b.len() && b[i] != b'.' {
            i += 1;
        }
        if start == i {
            return None;
        }
        segs.push(Seg {
            descendant,
            key: rest[start..i].to_string(),
        });
    }
    Some(segs)
}

/// Numbers values for `<name:N>` references in order of first appearance.
#[derive(Debug, Default)]
struct Refs {
    seen: HashMap<String, HashMap<String, usize>>,
}

impl Refs {
    fn reference(&mut self, name: &str, value: &str) -> String {
        let table = self.seen.entry(name.to_string()).or_default();
        let next = table.len() + 1;
        let n = *table.entry(value.to_string()).or_insert(next);
        format!("<{name}:{n}>")
    }
}

/// Normalises one case's results; keep one per case so `<x:N>` numbering is shared.
pub struct Normaliser {
    replacements: Vec<(Regex, String)>,
    then: Vec<(String, String)>,
    masks: Vec<Mask>,
    refs: Refs,
}

impl Normaliser {
    pub fn new(case: &Case) -> Normaliser {
        let replacements = case
            .normalize
            .regex_replacements
            .iter()
            .filter(|(pat, _)| !pat.is_empty())
            .filter_map(|(pat, rep)| {
                // The patterns are nearly all literals; a few are real regexes. One that does not
                // compile is taken literally.
                let re = Regex::new(pat)
                    .or_else(|_| Regex::new(&regex::escape(pat)))
                    .ok()?;
                Some((re, rep.clone()))
            })
            .collect();
        let mut masks = Vec::new();
        for m in &case.normalize.masked_fields {
            let kind = m.get("type").and_then(Value::as_str).unwrap_or("");
            let replacement = m
                .get("replacement")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let reference = m
                .get("replace_reference")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let path = match kind {
                "jsonpath" => m
                    .get("jsonpath")
                    .and_then(Value::as_str)
                    .and_then(parse_mask_path),
                "key_value" => m.get("key").and_then(Value::as_str).map(|k| {
                    vec![Seg {
                        descendant: true,
                        key: k.to_string(),
                    }]
                }),
                // `utility` masks belong to service integrations, out of scope for now.
                _ => None,
            };
            if let Some(path) = path {
                masks.push(Mask {
                    path,
                    replacement,
                    reference,
                });
            }
        }
        Normaliser {
            replacements,
            then: case.normalize.then.clone(),
            masks,
            refs: Refs::default(),
        }
    }

    /// Normalises GetExecutionHistory events (as `HistoryEvent::to_json` gives them).
    pub fn history(&mut self, events: Vec<Value>) -> Vec<Value> {
        let mut doc = Value::Object(Map::from_iter([(
            "events".to_string(),
            Value::Array(events),
        )]));
        decode_json_text_once(&mut doc);
        self.apply(&mut doc);
        match doc {
            Value::Object(mut m) => match m.remove("events") {
                Some(Value::Array(a)) => a,
                _ => Vec::new(),
            },
            _ => Vec::new(),
        }
    }

    /// Normalises the execution result. `output` is JSON text (decoded fully, as the recording's
    /// `expected.output` is); `error`/`cause` get the once-decoding of step 1.
    ///
    /// The recorded result was read from the history's end event, so the masks written for the
    /// history (`$..events..executionSucceededEventDetails.output.X`) applied to it too: the
    /// result is normalised inside that same shape.
    pub fn result(
        &mut self,
        output: Option<&str>,
        error: Option<&str>,
        cause: Option<&str>,
    ) -> Map<String, Value> {
        let mut failed = Map::new();
        if let Some(e) = error {
            failed.insert("error".into(), Value::String(e.to_string()));
        }
        if let Some(c) = cause {
            failed.insert("cause".into(), Value::String(c.to_string()));
        }
        let mut failed = Value::Object(failed);
        decode_json_text_once(&mut failed);
        let mut end = Map::new();
        if let Some(o) = output {
            let parsed = serde_json::from_str(o).unwrap_or_else(|_| Value::String(o.to_string()));
            end.insert(
                "executionSucceededEventDetails".into(),
                json!({ "output": parsed }),
            );
        }
        end.insert("executionFailedEventDetails".into(), failed);
        let mut doc = json!({ "events": [Value::Object(end)] });
        self.apply(&mut doc);
        let mut out = Map::new();
        if let Some(Value::Object(end)) = doc.get_mut("events").and_then(|e| e.get_mut(0)) {
            if let Some(o) = end
                .get_mut("executionSucceededEventDetails")
                .and_then(|d| d.get_mut("output"))
            {
                out.insert("output".into(), o.take());
            }
            if let Some(Value::Object(f)) = end.get_mut("executionFailedEventDetails") {
                for (k, v) in std::mem::take(f) {
                    out.insert(k, v);
                }
            }
        }
        out
    }

    /// Binds the masks whose value the recording read from the run itself
    /// (`regex_of_runtime_value` with `value_from: resp['Key']…`), looking them up in our output.
    pub fn bind_runtime_values(&mut self, case: &Case, output: Option<&str>) {
        let Some(out) = output.and_then(|o| serde_json::from_str::<Value>(o).ok()) else {
            return;
        };
        for m in &case.normalize.masked_fields {
            if m.get("type").and_then(Value::as_str) != Some("regex_of_runtime_value") {
                continue;
            }
            let (Some(from), Some(rep)) = (
                m.get("value_from").and_then(Value::as_str),
                m.get("replacement").and_then(Value::as_str),
            ) else {
                continue;
            };
            let Some(keys) = from.strip_prefix("resp") else {
                continue;
            };
            let mut v = &out;
            let mut ok = true;
            for k in keys.split("']").filter(|k| !k.is_empty()) {
                match k.strip_prefix("['").and_then(|k| v.get(k)) {
                    Some(next) => v = next,
                    None => ok = false,
                }
                if !ok {
                    break;
                }
            }
            if let (true, Value::String(lit)) = (ok, v) {
                if let Ok(re) = Regex::new(&regex::escape(lit)) {
                    self.replacements.insert(0, (re, rep.to_string()));
                }
            }
        }
    }

    /// Steps 2–5 on an already decoded document.
    pub fn apply(&mut self, doc: &mut Value) {
        let masks = self.masks.clone();
        for m in &masks {
            let refs = &mut self.refs;
            let mut f = |v: &mut Value| {
                let new = if m.reference {
                    let key = match &*v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    Value::String(refs.reference(&m.replacement, &key))
                } else {
                    Value::String(m.replacement.clone())
                };
                *v = new;
            };
            apply_mask(doc, &m.path, &mut f);
        }
        self.walk(doc, "");
    }

    fn walk(&mut self, v: &mut Value, key: &str) {
        match v {
            Value::Object(m) => {
                let keys: Vec<String> = m.keys().cloned().collect();
                for k in keys {
                    if let Some(child) = m.get_mut(&k) {
                        self.walk(child, &k);
                    }
                }
            }
            Value::Array(a) => {
                for c in a.iter_mut() {
                    self.walk(c, key);
                }
            }
            Value::String(s) => {
                let new = self.string(key, s);
                *s = new;
            }
            Value::Number(_) => {
                if DATETIME_KEYS.contains(&key) {
                    *v = Value::String("datetime".into());
                } else if key.to_ascii_lowercase().contains("timestamp") {
                    *v = Value::String("timestamp".into());
                }
            }
            _ => {}
        }
    }

    /// Normalises one string value found under `key`.
    pub fn string(&mut self, key: &str, s: &str) -> String {
        // Already normalised: keeps the normaliser idempotent on the recorded form.
        if matches!(s, "date" | "timestamp" | "datetime") {
            return s.to_string();
        }
        let mut out = s.to_string();
        for (re, rep) in &self.replacements {
            if re.is_match(&out) {
                out = re.replace_all(&out, regex::NoExpand(rep)).into_owned();
            }
        }
        for (lit, rep) in &self.then {
            if !lit.is_empty() && out.contains(lit.as_str()) {
                out = out.replace(lit.as_str(), rep);
            }
        }
        let lower = key.to_ascii_lowercase();
        if DATETIME_KEYS.contains(&key) {
            return "datetime".into();
        }
        if is_iso_datetime(&out) {
            return "date".into();
        }
        if let Some(replaced) = replace_embedded_dates(&out) {
            out = replaced;
        }
        if lower.contains("timestamp") {
            return "timestamp".into();
        }
        if lower.ends_with("id") && uuid_re().is_match(&out) {
            return self.refs.reference("uuid", &out);
        }
        if lower.ends_with("cause") {
            if let Some(m) = json_input_re().find(&out) {
                let inner = &out[m.start() + 1..m.end() - 1];
                if serde_json::from_str::<Value>(inner).is_ok() {
                    let r = self.refs.reference("json-input", inner);
                    out = format!("{}'{}'{}", &out[..m.start()], r, &out[m.end()..]);
                }
            }
        }
        out
    }
}

/// Removes what the JSONPaths `paths` (the corpus's `$..a.b` form) select from `doc`: the
/// case's `localstack_parity_skips`, taken out of both sides before comparing.
pub fn remove_paths(doc: &mut Value, paths: &[String]) {
    for p in paths {
        if let Some(segs) = parse_mask_path(p) {
            remove_at(doc, &segs);
        }
    }
}

fn remove_at(v: &mut Value, segs: &[Seg]) {
    let Some((seg, rest)) = segs.split_first() else {
        return;
    };
    match v {
        Value::Object(m) => {
            if rest.is_empty() {
                m.remove(&seg.key);
            }
            for (k, child) in m.iter_mut() {
                if *k == seg.key {
                    remove_at(child, rest);
                }
                if seg.descendant {
                    remove_at(child, segs);
                }
            }
        }
        Value::Array(a) if seg.descendant => {
            for c in a.iter_mut() {
                remove_at(c, segs);
            }
        }
        _ => {}
    }
}

fn apply_mask(v: &mut Value, segs: &[Seg], f: &mut dyn FnMut(&mut Value)) {
    let Some((seg, rest)) = segs.split_first() else {
        f(v);
        return;
    };
    match v {
        Value::Object(m) => {
            for (k, child) in m.iter_mut() {
                if *k == seg.key {
                    apply_mask(child, rest, f);
                    if seg.descendant && !rest.is_empty() {
                        apply_mask(child, segs, f);
                    }
                } else if seg.descendant {
                    apply_mask(child, segs, f);
                }
            }
        }
        Value::Array(a) if seg.descendant => {
            for c in a.iter_mut() {
                apply_mask(c, segs, f);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case_with(normalize: Value) -> Case {
        serde_json::from_value(json!({"id": "t", "kind": "execution", "normalize": normalize}))
            .unwrap()
    }

    #[test]
    fn decodes_object_text_once() {
        let mut v = json!({"a": "{\"b\": \"{\\\"c\\\": 1}\"}", "arr": "[1,2]", "n": {"x": "{}"}});
        decode_json_text_once(&mut v);
        assert_eq!(
            v,
            json!({"a": {"b": "{\"c\": 1}"}, "arr": "[1,2]", "n": {"x": {}}})
        );
    }

    #[test]
    fn dates_as_the_recording_saw_them() {
        assert!(is_iso_datetime("2016-03-05T21:29:29.243167252Z"));
        assert!(is_iso_datetime("2024-02-07T13:49:36+00:00"));
        assert!(!is_iso_datetime("2016-13-05T21:29:29Z"));
        assert!(!is_iso_datetime("2016-12-05T25:29:29Z"));
        assert!(!is_iso_datetime("2016-12-05T21:29:29"));
        assert!(!is_iso_datetime("2016-12-05 21:29:29Z"));
        assert_eq!(
            replace_embedded_dates("\"2024-11-06T09:42:03Z\"").as_deref(),
            Some("\"date\"")
        );
        assert_eq!(replace_embedded_dates("x == 2016-13-05T21:29:29Z"), None);
    }

    #[test]
    fn removes_skipped_paths() {
        let mut v = json!({"events": [{"a": {"cause": 1, "b": {"Sdk": 2, "c": 3}}}], "cause": 4});
        remove_paths(&mut v, &["$..cause".into(), "$..b.Sdk".into()]);
        assert_eq!(v, json!({"events": [{"a": {"b": {"c": 3}}}]}));
        remove_paths(&mut v, &["$..events".into()]);
        assert_eq!(v, json!({}));
    }

    #[test]
    fn parses_mask_paths() {
        let p = parse_mask_path("$..events..executionSucceededEventDetails.output.FunctionResult")
            .unwrap();
        assert_eq!(p.len(), 4);
        assert!(p[0].descendant && p[1].descendant && !p[2].descendant);
        assert!(parse_mask_path("$..Headers.x-amz-apigw-id").is_some());
        assert!(parse_mask_path("Headers").is_none());
    }

    #[test]
    fn applies_literals_timestamps_uuids_and_masks() {
        let c = case_with(json!({
            "regex_replacements": [["arn:aws:iam::111111111111:role/r1", "snf_role_arn"], ["sm_1", "<ArnPart_0idx>"]],
            "then": [["us-east-1", "<region>"], ["arn:aws:", "arn:<partition>:"]],
            "masked_fields": [
                {"type": "jsonpath", "jsonpath": "$..output.StartDate", "replacement": "start-date", "replace_reference": false},
                {"type": "jsonpath", "jsonpath": "$..TaskToken", "replacement": "task_token", "replace_reference": true}
            ],
            "notes": []
        }));
        let mut n = Normaliser::new(&c);
        let r = n.result(
            Some(r#"{"StartDate":"x","Arn":"arn:aws:states:us-east-1:111111111111:stateMachine:sm_1","RequestId":"0a1b2c3d-0000-4000-8000-000000000000","When":"2024-02-07T13:49:36.123Z","TaskToken":"abc","t":{"TaskToken":"abc"}}"#),
            None,
            Some("The Parameters '{\"a\":1}' could not be used"),
        );
        assert_eq!(
            Value::Object(r),
            json!({
                "cause": "The Parameters '<json-input:1>' could not be used",
                "output": {
                    "StartDate": "start-date",
                    "Arn": "arn:<partition>:states:<region>:111111111111:stateMachine:<ArnPart_0idx>",
                    "RequestId": "<uuid:1>",
                    "When": "date",
                    "TaskToken": "<task_token:1>",
                    "t": {"TaskToken": "<task_token:1>"}
                }
            })
        );
    }

    #[test]
    fn history_timestamps_and_role() {
        let c = case_with(
            json!({"regex_replacements": [["arn:aws:iam::111111111111:role/r1", "snf_role_arn"]]}),
        );
        let mut n = Normaliser::new(&c);
        let h = n.history(vec![json!({
            "timestamp": 1707313776.123, "type": "ExecutionStarted", "id": 1, "previousEventId": 0,
            "executionStartedEventDetails": {"input": "{\"a\":\"{}\"}", "inputDetails": {"truncated": false}, "roleArn": "arn:aws:iam::111111111111:role/r1"}
        })]);
        assert_eq!(
            h[0],
            json!({
                "timestamp": "timestamp", "type": "ExecutionStarted", "id": 1, "previousEventId": 0,
                "executionStartedEventDetails": {"input": {"a": "{}"}, "inputDetails": {"truncated": false}, "roleArn": "snf_role_arn"}
            })
        );
    }
}
