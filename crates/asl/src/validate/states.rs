//! Per-state schema rules: allowed fields per type and query language, field types and
//! ranges, paths and payload templates, Retry/Catch, and the nested containers.

use super::{child, Container, Cx, Lang, INVALID_STATE_NAME};
use crate::jsonpath::{Path, Root};
use serde_json::{Map, Value};

/// Which query language a field belongs to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Only {
    Both,
    JsonPath,
    Jsonata,
}

use Only::{Both, JsonPath as JP, Jsonata as JA};

const COMMON: &[(&str, Only)] = &[("Type", Both), ("Comment", Both), ("QueryLanguage", Both)];

fn fields_of(ty: &str) -> Option<&'static [(&'static str, Only)]> {
    Some(match ty {
        "Pass" => &[
            ("Next", Both),
            ("End", Both),
            ("InputPath", JP),
            ("OutputPath", JP),
            ("ResultPath", JP),
            ("Parameters", JP),
            ("Result", JP),
            ("Assign", Both),
            ("Output", JA),
        ],
        "Task" => &[
            ("Next", Both),
            ("End", Both),
            ("InputPath", JP),
            ("OutputPath", JP),
            ("ResultPath", JP),
            ("Parameters", JP),
            ("ResultSelector", JP),
            ("Resource", Both),
            ("TimeoutSeconds", Both),
            ("TimeoutSecondsPath", JP),
            ("HeartbeatSeconds", Both),
            ("HeartbeatSecondsPath", JP),
            ("Retry", Both),
            ("Catch", Both),
            ("Credentials", Both),
            ("Arguments", JA),
            ("Output", JA),
            ("Assign", Both),
        ],
        "Choice" => &[
            ("InputPath", JP),
            ("OutputPath", JP),
            ("Choices", Both),
            ("Default", Both),
            ("Assign", Both),
            ("Output", JA),
        ],
        "Wait" => &[
            ("Next", Both),
            ("End", Both),
            ("InputPath", JP),
            ("OutputPath", JP),
            ("Seconds", Both),
            ("SecondsPath", JP),
            ("Timestamp", Both),
            ("TimestampPath", JP),
            ("Assign", Both),
            ("Output", JA),
        ],
        "Succeed" => &[("InputPath", JP), ("OutputPath", JP), ("Output", JA)],
        "Fail" => &[
            ("Error", Both),
            ("ErrorPath", JP),
            ("Cause", Both),
            ("CausePath", JP),
        ],
        "Parallel" => &[
            ("Next", Both),
            ("End", Both),
            ("InputPath", JP),
            ("OutputPath", JP),
            ("ResultPath", JP),
            ("Parameters", JP),
            ("ResultSelector", JP),
            ("Branches", Both),
            ("Retry", Both),
            ("Catch", Both),
            ("Arguments", JA),
            ("Output", JA),
            ("Assign", Both),
        ],
        "Map" => &[
            ("Next", Both),
            ("End", Both),
            ("InputPath", JP),
            ("OutputPath", JP),
            ("ResultPath", JP),
            ("Parameters", JP),
            ("ResultSelector", JP),
            ("ItemsPath", JP),
            ("Items", JA),
            ("ItemSelector", Both),
            ("Iterator", Both),
            ("ItemProcessor", Both),
            ("MaxConcurrency", Both),
            ("MaxConcurrencyPath", JP),
            ("ItemReader", Both),
            ("ItemBatcher", Both),
            ("ResultWriter", Both),
            ("ToleratedFailurePercentage", Both),
            ("ToleratedFailurePercentagePath", JP),
            ("ToleratedFailureCount", Both),
            ("ToleratedFailureCountPath", JP),
            ("Label", Both),
            ("Retry", Both),
            ("Catch", Both),
            ("Output", JA),
            ("Assign", Both),
        ],
        _ => return None,
    })
}

/// State names longer than this are rejected (AWS: "exceeds the 80-character limit").
const MAX_STATE_NAME: usize = 80;
/// Map Label limit (AWS docs: up to 40 characters).
const MAX_LABEL: usize = 40;
const MAX_SECONDS: i64 = 99_999_999;

pub(crate) fn check_state(cx: &mut Cx, name: &str, state: &Value, sptr: &str) {
    if name.chars().count() > MAX_STATE_NAME {
        cx.err(
            INVALID_STATE_NAME,
            format!(
                "Invalid State name: State '{name}' exceeds the {MAX_STATE_NAME}-character limit \
                 allowed by the service"
            ),
            sptr,
        );
    }
    let Some(s) = state.as_object() else {
        cx.type_error(state, "Object", sptr);
        return;
    };
    let ty = match s.get("Type") {
        None => {
            cx.schema("These fields are required: [Type]", sptr);
            return;
        }
        Some(Value::String(t)) => t.as_str(),
        Some(other) => {
            cx.type_error(other, "String", &child(sptr, "Type"));
            return;
        }
    };
    let Some(fields) = fields_of(ty) else {
        cx.schema(
            "Value is not a valid enum value. Valid values: [Pass, Task, Choice, Wait, Succeed, \
             Fail, Parallel, Map]",
            child(sptr, "Type"),
        );
        return;
    };

    // Query language: a state may upgrade to JSONata but not downgrade a JSONata machine.
    let mut lang = cx.top_lang;
    if let Some(v) = s.get("QueryLanguage") {
        cx.query_language_value(v, &child(sptr, "QueryLanguage"));
        match v.as_str() {
            Some("JSONPath") => {
                if cx.top_lang == Lang::Jsonata {
                    cx.schema(
                        "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole \
                         state machine",
                        sptr,
                    );
                }
                lang = Lang::JsonPath;
            }
            Some("JSONata") => lang = Lang::Jsonata,
            _ => {}
        }
    }

    for key in s.keys() {
        let spec = COMMON.iter().chain(fields.iter()).find(|(f, _)| f == key);
        match spec {
            None => cx.schema(format!("Field '{key}' is not supported"), sptr),
            Some((_, only)) => {
                let wanted = match only {
                    Both => None,
                    JP => Some(Lang::JsonPath),
                    JA => Some(Lang::Jsonata),
                };
                if let Some(w) = wanted {
                    if w != lang {
                        cx.schema(
                            format!(
                                "The QueryLanguage is set to '{}', but field '{key}' is only \
                                 supported for the '{}' QueryLanguage",
                                lang.name(),
                                w.name()
                            ),
                            sptr,
                        );
                    }
                }
            }
        }
    }
    if let Some(v) = s.get("Comment") {
        cx.expect_string(v, &child(sptr, "Comment"));
    }

    let st = St { s, ptr: sptr, lang };
    if matches!(ty, "Pass" | "Task" | "Wait" | "Parallel" | "Map") {
        next_or_end(cx, &st);
    }
    st.path(cx, "InputPath", PathKind::Plain);
    st.path(cx, "OutputPath", PathKind::Plain);
    st.path(cx, "ResultPath", PathKind::Result);
    for f in ["Parameters", "ResultSelector", "ItemSelector"] {
        if let Some(v) = s.get(f) {
            if lang == Lang::JsonPath {
                template(cx, v, &child(sptr, f));
            }
        }
    }
    if let Some(v) = s.get("Assign") {
        if !v.is_object() {
            cx.type_error(v, "Object", &child(sptr, "Assign"));
        } else if lang == Lang::JsonPath {
            template(cx, v, &child(sptr, "Assign"));
        }
    }
    if let Some(v) = s.get("Retry") {
        retry(cx, v, &child(sptr, "Retry"));
    }
    if let Some(v) = s.get("Catch") {
        catch(cx, v, &child(sptr, "Catch"), lang);
    }

    if lang == Lang::Jsonata {
        jsonata_expressions(cx, s, sptr);
    }

    match ty {
        "Task" => task(cx, &st),
        "Choice" => choice(cx, &st),
        "Wait" => wait(cx, &st),
        "Fail" => fail(cx, &st),
        "Parallel" => parallel(cx, &st),
        "Map" => map(cx, &st),
        _ => {}
    }
}

/// A state being checked: its object, pointer and effective query language.
struct St<'a> {
    s: &'a Map<String, Value>,
    ptr: &'a str,
    lang: Lang,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum PathKind {
    /// InputPath, OutputPath, ItemsPath: any JSONPath, context and variables allowed; null ok.
    Plain,
    /// ResultPath: a reference path into the state input (`$`-rooted, definite); null ok.
    Result,
    /// `…SecondsPath`, `TimestampPath`: a reference path (variables allowed).
    Reference,
    /// Map number `…Path` fields: a reference path, the context object is not allowed.
    NumberRef,
    /// ErrorPath / CausePath: a reference path or an intrinsic function call.
    ReferenceOrIntrinsic,
}

impl St<'_> {
    fn at(&self, f: &str) -> String {
        child(self.ptr, f)
    }

    fn path(&self, cx: &mut Cx, field: &str, kind: PathKind) {
        let Some(v) = self.s.get(field) else { return };
        check_path(cx, v, &self.at(field), kind);
    }

    /// Reports `There should only be one of the following fields: [a, b]` when both appear.
    fn exclusive(&self, cx: &mut Cx, fields: &[&str]) -> bool {
        let n = fields.iter().filter(|f| self.s.contains_key(**f)).count();
        if n > 1 {
            cx.schema(
                format!(
                    "There should only be one of the following fields: [{}]",
                    fields.join(", ")
                ),
                self.ptr,
            );
        }
        n > 1
    }
}

fn check_path(cx: &mut Cx, v: &Value, at: &str, kind: PathKind) {
    let text = match v {
        Value::Null if matches!(kind, PathKind::Plain | PathKind::Result) => return,
        Value::String(t) => t,
        other => {
            cx.type_error(other, "String", at);
            return;
        }
    };
    if kind == PathKind::ReferenceOrIntrinsic && text.starts_with("States.") {
        if let Err(msg) = check_intrinsic(text) {
            cx.schema(msg, at);
        }
        return;
    }
    let Ok(path) = Path::parse(text) else {
        cx.schema("Value must be a valid JSONPath.", at);
        return;
    };
    let reference_ok = match kind {
        PathKind::Plain => true,
        PathKind::Result => *path.root() == Root::Document && path.is_definite(),
        PathKind::Reference | PathKind::ReferenceOrIntrinsic => path.is_definite(),
        PathKind::NumberRef => *path.root() != Root::Context && path.is_definite(),
    };
    if !reference_ok {
        cx.schema("Value is not a Reference Path", at);
    }
}

/// Intrinsic-function syntax check for a `.$` value or a `…Path` that starts with `States.`.
///
/// HOOK FOR THE LEAD: wire `crate::intrinsics::Call::parse(text)` in here (map its error to the
/// message AWS gives). Until then only the outer shape `States.Name(…)` is checked, so a wrong
/// argument list is accepted at validation time and fails at run time instead.
pub(crate) fn check_intrinsic(text: &str) -> Result<(), String> {
    crate::intrinsics::Call::parse(text)
        .map(|_| ())
        .map_err(|e| {
            format!(
                "The value '{text}' is not a valid intrinsic function call: {}",
                e.message
            )
        })
}

/// The fields of a JSONata state whose values may hold `{% … %}` expressions.
const JSONATA_FIELDS: &[&str] = &[
    "Arguments",
    "Output",
    "Assign",
    "Items",
    "ItemSelector",
    "Error",
    "Cause",
    "Seconds",
    "Timestamp",
    "TimeoutSeconds",
    "HeartbeatSeconds",
    "MaxConcurrency",
    "ToleratedFailureCount",
    "ToleratedFailurePercentage",
];

/// Every expression of a JSONata state must parse (AWS checks at definition time).
fn jsonata_expressions(cx: &mut Cx, s: &Map<String, Value>, sptr: &str) {
    let check = |cx: &mut Cx, v: &Value, at: String| {
        if let Err(d) = super::compile_jsonata(v, &at) {
            cx.diags.push(d);
        }
    };
    for f in JSONATA_FIELDS {
        if let Some(v) = s.get(*f) {
            check(cx, v, child(sptr, f));
        }
    }
    for (list, fields) in [
        ("Choices", &["Condition", "Assign", "Output"][..]),
        ("Catch", &["Assign", "Output"][..]),
    ] {
        for (i, r) in s
            .get(list)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            for f in fields {
                if let Some(v) = r.get(*f) {
                    check(cx, v, child(&format!("{}[{i}]", child(sptr, list)), f));
                }
            }
        }
    }
}

/// A JSONata expression string: `{% … %}`.
fn is_jsonata(v: &Value) -> bool {
    v.as_str().is_some_and(|s| {
        let t = s.trim();
        t.starts_with("{%") && t.ends_with("%}")
    })
}

/// Payload template (Parameters, ResultSelector, ItemSelector, Assign in JSONPath mode): every
/// `key.$` must hold a JSONPath or an intrinsic call. AWS locates the error at the object that
/// holds the key.
fn template(cx: &mut Cx, v: &Value, at: &str) {
    match v {
        Value::Object(map) => {
            for (k, val) in map {
                if k.ends_with(".$") {
                    let ok = match val.as_str() {
                        Some(t) if t.starts_with("States.") => check_intrinsic(t).is_ok(),
                        Some(t) => Path::parse(t).is_ok(),
                        None => false,
                    };
                    if !ok {
                        cx.schema(
                            format!(
                                "The value for the field '{k}' must be a valid JSONPath or a valid \
                                 intrinsic function call"
                            ),
                            at,
                        );
                    }
                } else {
                    template(cx, val, &child(at, k));
                }
            }
        }
        Value::Array(items) => {
            for (i, it) in items.iter().enumerate() {
                template(cx, it, &format!("{at}[{i}]"));
            }
        }
        _ => {}
    }
}

fn next_or_end(cx: &mut Cx, st: &St) {
    let next = st.s.get("Next");
    let end = st.s.get("End");
    if let Some(n) = next {
        cx.expect_string(n, &st.at("Next"));
    }
    if let Some(e) = end {
        if !e.is_boolean() {
            cx.type_error(e, "Boolean", &st.at("End"));
        }
    }
    let ends = end == Some(&Value::Bool(true));
    if next.is_some() && ends {
        cx.schema(
            "There should only be one of the following fields: [Next, End]",
            st.ptr,
        );
    } else if next.is_none() && !ends {
        cx.schema("These fields are required: [Next or End]", st.ptr);
    }
}

/// A seconds-like field: a literal integer, or in JSONata a `{% %}` expression.
fn seconds(cx: &mut Cx, st: &St, field: &str, min: i64) {
    let Some(v) = st.s.get(field) else { return };
    if st.lang == Lang::Jsonata && is_jsonata(v) {
        return;
    }
    cx.int_range(v, &st.at(field), min, Some(MAX_SECONDS));
}

fn task(cx: &mut Cx, st: &St) {
    match st.s.get("Resource") {
        None => cx.schema("These fields are required: [Resource]", st.ptr),
        Some(v) => {
            if cx.expect_string(v, &st.at("Resource")) {
                super::resource::check(cx, v.as_str().unwrap_or_default(), &st.at("Resource"));
            }
        }
    }
    st.exclusive(cx, &["TimeoutSeconds", "TimeoutSecondsPath"]);
    st.exclusive(cx, &["HeartbeatSeconds", "HeartbeatSecondsPath"]);
    seconds(cx, st, "TimeoutSeconds", 1);
    seconds(cx, st, "HeartbeatSeconds", 1);
    st.path(cx, "TimeoutSecondsPath", PathKind::Reference);
    st.path(cx, "HeartbeatSecondsPath", PathKind::Reference);
    if let (Some(h), Some(t)) = (
        st.s.get("HeartbeatSeconds").and_then(Value::as_f64),
        st.s.get("TimeoutSeconds").and_then(Value::as_f64),
    ) {
        if h >= t {
            cx.schema(
                "HeartbeatSeconds must be smaller than TimeoutSeconds",
                st.at("HeartbeatSeconds"),
            );
        }
    }
    if let Some(v) = st.s.get("Credentials") {
        if !v.is_object() {
            cx.type_error(v, "Object", &st.at("Credentials"));
        }
    }
    if let Some(v) = st.s.get("Arguments") {
        if !(v.is_object() || is_jsonata(v)) {
            cx.type_error(v, "Object", &st.at("Arguments"));
        }
    }
}

fn choice(cx: &mut Cx, st: &St) {
    match st.s.get("Choices") {
        None => cx.schema("These fields are required: [Choices]", st.ptr),
        Some(Value::Array(a)) if a.is_empty() => {
            cx.schema("Value cannot be empty", st.at("Choices"))
        }
        Some(Value::Array(a)) => choice_rules(cx, a, &st.at("Choices"), st.lang),
        Some(other) => cx.type_error(other, "Array", &st.at("Choices")),
    }
    if let Some(v) = st.s.get("Default") {
        cx.expect_string(v, &st.at("Default"));
    }
}

/// Choice-rule diagnostics.
///
/// HOOK FOR THE LEAD: wire `crate::choice::parse_choices` in here and turn its errors into
/// SCHEMA_VALIDATION_FAILED diagnostics (locations `…/Choices[i]…`). Until then only the outer
/// shape is checked: each top-level rule is an object with a string `Next`, and in JSONata
/// mode a `Condition`.
fn choice_rules(cx: &mut Cx, rules: &[Value], at: &str, lang: Lang) {
    if lang == Lang::JsonPath {
        // JSONPath rules are compiled (and so checked) by the Choice module itself.
        if let Err(diags) = crate::choice::parse_choices(&Value::Array(rules.to_vec()), at) {
            cx.diags.extend(diags);
        }
        return;
    }
    for (i, r) in rules.iter().enumerate() {
        let rptr = format!("{at}[{i}]");
        let Some(rule) = r.as_object() else {
            cx.type_error(r, "Object", &rptr);
            continue;
        };
        match rule.get("Next") {
            None => cx.schema("These fields are required: [Next]", &rptr),
            Some(n) => {
                cx.expect_string(n, &child(&rptr, "Next"));
            }
        }
        if lang == Lang::Jsonata && !rule.contains_key("Condition") {
            cx.schema("These fields are required: [Condition]", &rptr);
        }
        if lang == Lang::JsonPath && rule.contains_key("Condition") {
            cx.schema(
                "The QueryLanguage is set to 'JSONPath', but field 'Condition' is only supported \
                 for the 'JSONata' QueryLanguage",
                &rptr,
            );
        }
        if let Some(v) = rule.get("Assign") {
            if lang == Lang::JsonPath {
                template(cx, v, &child(&rptr, "Assign"));
            }
        }
    }
}

fn wait(cx: &mut Cx, st: &St) {
    let all = ["Seconds", "Timestamp", "SecondsPath", "TimestampPath"];
    let n = all.iter().filter(|f| st.s.contains_key(**f)).count();
    if n == 0 {
        cx.schema(
            "These fields are required: [Seconds or Timestamp or SecondsPath or TimestampPath]",
            st.ptr,
        );
    } else if n > 1 {
        st.exclusive(cx, &all);
    }
    seconds(cx, st, "Seconds", 0);
    st.path(cx, "SecondsPath", PathKind::Reference);
    st.path(cx, "TimestampPath", PathKind::Reference);
    if let Some(v) = st.s.get("Timestamp") {
        if !(st.lang == Lang::Jsonata && is_jsonata(v)) {
            match v.as_str() {
                Some(t) if is_rfc3339(t) => {}
                Some(_) => cx.schema(
                    "String does not match RFC3339 timestamp",
                    st.at("Timestamp"),
                ),
                None => cx.type_error(v, "String", &st.at("Timestamp")),
            }
        }
    }
}

/// RFC 3339 `date-time` as AWS checks it: `T` separator, seconds required, `Z` or `±hh:mm`,
/// and a real calendar date and time of day.
pub(crate) fn is_rfc3339(t: &str) -> bool {
    let b = t.as_bytes();
    let digits = |r: std::ops::Range<usize>| {
        b.get(r.clone())
            .is_some_and(|s| s.iter().all(u8::is_ascii_digit))
    };
    if b.len() < 20
        || !digits(0..4)
        || b[4] != b'-'
        || !digits(5..7)
        || b[7] != b'-'
        || !digits(8..10)
    {
        return false;
    }
    if !matches!(b[10], b'T' | b't')
        || !digits(11..13)
        || b[13] != b':'
        || !digits(14..16)
        || b[16] != b':'
        || !digits(17..19)
    {
        return false;
    }
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    let zone_ok = match b.get(i) {
        Some(b'Z' | b'z') => i + 1 == b.len(),
        Some(b'+' | b'-') => {
            i + 6 == b.len() && digits(i + 1..i + 3) && b[i + 3] == b':' && digits(i + 4..i + 6)
        }
        _ => false,
    };
    if !zone_ok {
        return false;
    }
    let num = |r: std::ops::Range<usize>| {
        t.get(r)
            .and_then(|s| s.parse::<u32>().ok())
            .unwrap_or(u32::MAX)
    };
    let (y, mo, d) = (num(0..4) as i32, num(5..7), num(8..10));
    let (h, mi, s) = (num(11..13), num(14..16), num(17..19));
    chrono::NaiveDate::from_ymd_opt(y, mo, d).is_some() && h < 24 && mi < 60 && s < 61
}

fn fail(cx: &mut Cx, st: &St) {
    st.exclusive(cx, &["Error", "ErrorPath"]);
    st.exclusive(cx, &["Cause", "CausePath"]);
    for f in ["Error", "Cause"] {
        if let Some(v) = st.s.get(f) {
            cx.expect_string(v, &st.at(f));
        }
    }
    st.path(cx, "ErrorPath", PathKind::ReferenceOrIntrinsic);
    st.path(cx, "CausePath", PathKind::ReferenceOrIntrinsic);
}

fn parallel(cx: &mut Cx, st: &St) {
    match st.s.get("Branches") {
        None => cx.schema("These fields are required: [Branches]", st.ptr),
        Some(Value::Array(a)) if a.is_empty() => {
            cx.schema("Value cannot be empty", st.at("Branches"))
        }
        Some(Value::Array(a)) => {
            for (i, b) in a.iter().enumerate() {
                let bptr = format!("{}[{i}]", st.at("Branches"));
                match b.as_object() {
                    Some(b) => cx.machine(b, &bptr, Container::Branch),
                    None => cx.type_error(b, "Object", &bptr),
                }
            }
        }
        Some(other) => cx.type_error(other, "Array", &st.at("Branches")),
    }
}

fn map(cx: &mut Cx, st: &St) {
    let has_proc = st.s.contains_key("ItemProcessor");
    let has_iter = st.s.contains_key("Iterator");
    if !has_proc && !has_iter {
        cx.schema("These fields are required: [ItemProcessor]", st.ptr);
    } else if has_proc && has_iter {
        st.exclusive(cx, &["ItemProcessor", "Iterator"]);
    }
    for (f, kind) in [
        ("ItemProcessor", Container::ItemProcessor),
        ("Iterator", Container::Iterator),
    ] {
        let Some(v) = st.s.get(f) else { continue };
        let pptr = st.at(f);
        let Some(p) = v.as_object() else {
            cx.type_error(v, "Object", &pptr);
            continue;
        };
        if let Some(pc) = p.get("ProcessorConfig") {
            processor_config(cx, pc, &child(&pptr, "ProcessorConfig"));
        }
        cx.machine(p, &pptr, kind);
    }
    st.path(cx, "ItemsPath", PathKind::Plain);
    if let Some(v) = st.s.get("Items") {
        if !(v.is_array() || is_jsonata(v)) {
            cx.type_error(v, "Array", &st.at("Items"));
        }
    }
    for (lit, path, is_pct) in [
        ("MaxConcurrency", "MaxConcurrencyPath", false),
        (
            "ToleratedFailurePercentage",
            "ToleratedFailurePercentagePath",
            true,
        ),
        ("ToleratedFailureCount", "ToleratedFailureCountPath", false),
    ] {
        st.exclusive(cx, &[lit, path]);
        st.path(cx, path, PathKind::NumberRef);
        let Some(v) = st.s.get(lit) else { continue };
        if st.lang == Lang::Jsonata && is_jsonata(v) {
            continue;
        }
        if is_pct {
            cx.num_range(v, &st.at(lit), 0.0, Some(100.0));
        } else {
            cx.int_range(v, &st.at(lit), 0, None);
        }
    }
    if let Some(v) = st.s.get("Label") {
        label(cx, v, &st.at("Label"));
    }
    if let Some(v) = st.s.get("ItemReader") {
        item_reader(cx, v, &st.at("ItemReader"), st.lang);
    }
    if let Some(v) = st.s.get("ItemBatcher") {
        item_batcher(cx, v, &st.at("ItemBatcher"), st.lang);
    }
    if let Some(v) = st.s.get("ResultWriter") {
        if !v.is_object() {
            cx.type_error(v, "Object", &st.at("ResultWriter"));
        }
    }
}

/// Checks ProcessorConfig: Mode INLINE|DISTRIBUTED, ExecutionType STANDARD|EXPRESS.
fn processor_config(cx: &mut Cx, v: &Value, at: &str) {
    let Some(pc) = v.as_object() else {
        cx.type_error(v, "Object", at);
        return;
    };
    for k in pc.keys() {
        if k != "Mode" && k != "ExecutionType" {
            cx.schema(format!("Field '{k}' is not supported"), at);
        }
    }
    if let Some(m) = pc.get("Mode") {
        if !matches!(m.as_str(), Some("INLINE" | "DISTRIBUTED")) {
            cx.schema(
                "Value is not a valid enum value. Valid values: [INLINE, DISTRIBUTED]",
                child(at, "Mode"),
            );
        }
    }
    if let Some(e) = pc.get("ExecutionType") {
        if !matches!(e.as_str(), Some("STANDARD" | "EXPRESS")) {
            cx.schema(
                "Value is not a valid enum value. Valid values: [STANDARD, EXPRESS]",
                child(at, "ExecutionType"),
            );
        }
    }
}

/// Map Label: non-empty, at most 40 characters, none of the characters AWS reserves
/// (whitespace, brackets, wildcards, `"#%\^|~`$&,;:/` and control characters).
fn label(cx: &mut Cx, v: &Value, at: &str) {
    let Some(l) = v.as_str() else {
        cx.type_error(v, "String", at);
        return;
    };
    if l.is_empty() {
        cx.schema("Label cannot be empty", at);
        return;
    }
    if l.chars().count() > MAX_LABEL {
        cx.schema(
            format!("Label exceeds the maximum length of {MAX_LABEL} characters"),
            at,
        );
        return;
    }
    let bad = |c: char| {
        c.is_whitespace()
            || ('\u{0}'..='\u{1f}').contains(&c)
            || ('\u{7f}'..='\u{9f}').contains(&c)
            || "<>{}[]?*\"#%\\^|~`$&,;:/".contains(c)
    };
    if let Some(c) = l.chars().find(|c| bad(*c)) {
        cx.schema(
            format!("Label contains invalid character: '{}'", c.escape_default()),
            at,
        );
    }
}

fn item_reader(cx: &mut Cx, v: &Value, at: &str, lang: Lang) {
    let Some(r) = v.as_object() else {
        cx.type_error(v, "Object", at);
        return;
    };
    for k in r.keys() {
        let ok = match k.as_str() {
            "Resource" | "ReaderConfig" => true,
            "Parameters" => lang == Lang::JsonPath,
            "Arguments" => lang == Lang::Jsonata,
            _ => false,
        };
        if !ok {
            cx.schema(format!("Field '{k}' is not supported"), at);
        }
    }
    match r.get("Resource") {
        None => cx.schema("These fields are required: [Resource]", at),
        Some(res) => {
            cx.expect_string(res, &child(at, "Resource"));
        }
    }
    if let Some(p) = r.get("Parameters") {
        template(cx, p, &child(at, "Parameters"));
    }
    if let Some(rc) = r.get("ReaderConfig") {
        let rcp = child(at, "ReaderConfig");
        let Some(rc) = rc.as_object() else {
            cx.type_error(rc, "Object", &rcp);
            return;
        };
        if rc.contains_key("MaxItems") && rc.contains_key("MaxItemsPath") {
            cx.schema(
                "There should only be one of the following fields: [MaxItems, MaxItemsPath]",
                &rcp,
            );
        }
        if let Some(m) = rc.get("MaxItems") {
            if !(lang == Lang::Jsonata && is_jsonata(m)) {
                cx.int_range(m, &child(&rcp, "MaxItems"), 0, Some(100_000_000));
            }
        }
        if let Some(p) = rc.get("MaxItemsPath") {
            check_path(cx, p, &child(&rcp, "MaxItemsPath"), PathKind::NumberRef);
        }
    }
}

fn item_batcher(cx: &mut Cx, v: &Value, at: &str, lang: Lang) {
    let Some(b) = v.as_object() else {
        cx.type_error(v, "Object", at);
        return;
    };
    for (lit, path) in [
        ("MaxItemsPerBatch", "MaxItemsPerBatchPath"),
        ("MaxInputBytesPerBatch", "MaxInputBytesPerBatchPath"),
    ] {
        if b.contains_key(lit) && b.contains_key(path) {
            cx.schema(
                format!("There should only be one of the following fields: [{lit}, {path}]"),
                at,
            );
        }
        if let Some(p) = b.get(path) {
            check_path(cx, p, &child(at, path), PathKind::NumberRef);
        }
        if let Some(n) = b.get(lit) {
            if !(lang == Lang::Jsonata && is_jsonata(n)) {
                cx.int_range(n, &child(at, lit), 0, None);
            }
        }
    }
    if let Some(bi) = b.get("BatchInput") {
        if !(bi.is_object() || is_jsonata(bi)) {
            cx.type_error(bi, "Object", &child(at, "BatchInput"));
        }
    }
}

/// ErrorEquals: a non-empty list of strings; `States.ALL` only alone.
fn error_equals(cx: &mut Cx, v: Option<&Value>, at: &str) -> bool {
    let Some(v) = v else { return false };
    let eat = child(at, "ErrorEquals");
    let Some(list) = v.as_array() else {
        cx.type_error(v, "Array", &eat);
        return false;
    };
    if list.is_empty() {
        cx.schema("Value cannot be empty", &eat);
        return false;
    }
    for (i, e) in list.iter().enumerate() {
        cx.expect_string(e, &format!("{eat}[{i}]"));
    }
    let has_all = list.iter().any(|e| e.as_str() == Some("States.ALL"));
    if has_all && list.len() > 1 {
        cx.schema("States.ALL must appear alone in ErrorEquals", &eat);
    }
    has_all
}

fn retry(cx: &mut Cx, v: &Value, at: &str) {
    let Some(list) = v.as_array() else {
        cx.type_error(v, "Array", at);
        return;
    };
    for (i, r) in list.iter().enumerate() {
        let rptr = format!("{at}[{i}]");
        let Some(r) = r.as_object() else {
            cx.type_error(r, "Object", &rptr);
            continue;
        };
        const ALLOWED: &[&str] = &[
            "ErrorEquals",
            "IntervalSeconds",
            "MaxAttempts",
            "BackoffRate",
            "MaxDelaySeconds",
            "JitterStrategy",
            "Comment",
        ];
        for k in r.keys() {
            if !ALLOWED.contains(&k.as_str()) {
                cx.schema(format!("Field '{k}' is not supported"), &rptr);
            }
        }
        if !r.contains_key("ErrorEquals") {
            cx.schema("These fields are required: [ErrorEquals]", &rptr);
        }
        if error_equals(cx, r.get("ErrorEquals"), &rptr) && i + 1 != list.len() {
            cx.schema(
                "States.ALL must be the last retrier",
                child(&rptr, "ErrorEquals"),
            );
        }
        if let Some(v) = r.get("IntervalSeconds") {
            cx.int_range(v, &child(&rptr, "IntervalSeconds"), 1, Some(MAX_SECONDS));
        }
        if let Some(v) = r.get("MaxAttempts") {
            cx.int_range(v, &child(&rptr, "MaxAttempts"), 0, Some(MAX_SECONDS));
        }
        if let Some(v) = r.get("MaxDelaySeconds") {
            cx.int_range(v, &child(&rptr, "MaxDelaySeconds"), 1, Some(31_622_400));
        }
        if let Some(v) = r.get("BackoffRate") {
            cx.num_range(v, &child(&rptr, "BackoffRate"), 1.0, None);
        }
        if let Some(v) = r.get("JitterStrategy") {
            if !matches!(v.as_str(), Some("FULL" | "NONE")) {
                cx.schema(
                    "Value is not a valid enum value. Valid values: [FULL, NONE]",
                    child(&rptr, "JitterStrategy"),
                );
            }
        }
    }
}

fn catch(cx: &mut Cx, v: &Value, at: &str, lang: Lang) {
    let Some(list) = v.as_array() else {
        cx.type_error(v, "Array", at);
        return;
    };
    for (i, c) in list.iter().enumerate() {
        let cptr = format!("{at}[{i}]");
        let Some(c) = c.as_object() else {
            cx.type_error(c, "Object", &cptr);
            continue;
        };
        for k in c.keys() {
            let ok = match k.as_str() {
                "ErrorEquals" | "Next" | "Comment" | "Assign" => true,
                "ResultPath" => lang == Lang::JsonPath,
                "Output" => lang == Lang::Jsonata,
                _ => false,
            };
            if !ok {
                cx.schema(format!("Field '{k}' is not supported"), &cptr);
            }
        }
        let missing: Vec<&str> = ["ErrorEquals", "Next"]
            .into_iter()
            .filter(|f| !c.contains_key(*f))
            .collect();
        if !missing.is_empty() {
            cx.schema(
                format!("These fields are required: [{}]", missing.join(", ")),
                &cptr,
            );
        }
        if error_equals(cx, c.get("ErrorEquals"), &cptr) && i + 1 != list.len() {
            cx.schema(
                "States.ALL must be the last catcher",
                child(&cptr, "ErrorEquals"),
            );
        }
        if let Some(n) = c.get("Next") {
            cx.expect_string(n, &child(&cptr, "Next"));
        }
        if let Some(p) = c.get("ResultPath") {
            check_path(cx, p, &child(&cptr, "ResultPath"), PathKind::Result);
        }
        if let Some(a) = c.get("Assign") {
            if lang == Lang::JsonPath {
                template(cx, a, &child(&cptr, "Assign"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339() {
        assert!(is_rfc3339("2016-03-14T01:59:00Z"));
        assert!(is_rfc3339("2016-03-14T01:59:00.123+02:00"));
        for bad in [
            "2016-12-05 21:29:29Z",
            "2016-12-05T21:29:29",
            "2016-13-05T21:29:29Z",
            "2016-12-05T25:29:29Z",
            "05-12-2016T21:29:29Z",
            "{% '2016-03-14T01:59:00Z' %}",
            "2016-02-30T00:00:00Z",
        ] {
            assert!(!is_rfc3339(bad), "{bad}");
        }
    }

    #[test]
    fn intrinsic_shape() {
        assert!(check_intrinsic("States.Format('{}', $.a)").is_ok());
        assert!(check_intrinsic("States.(1)").is_err());
        assert!(check_intrinsic("States.Format(").is_err());
    }
}
