//! Definition validation, as CreateStateMachine / ValidateStateMachineDefinition do it.
//!
//! Two phases, like AWS: first the *schema* (fields, types, value ranges, paths, resources),
//! then — only when the schema is clean — the *graph* (duplicate names, transition targets,
//! terminal states, reachability). AWS reports graph problems only for a structurally valid
//! definition, so a broken schema never produces follow-on transition noise.
//!
//! Codes are AWS's verbatim; messages use AWS's wording where it is known (recorded in the
//! conformance corpus or measured publicly), otherwise a close paraphrase in the same style.
//! Locations are AWS-style pointers: `/States/A/Next`, array items as `Choices[0]` (AWS's own
//! notation), `/` for the root object, empty when AWS gives no location at all.

mod json_syntax;
mod resource;
mod states;

use crate::diagnostic::Diagnostic;
use serde_json::{Map, Value};

/// Which kind of state machine the definition is for: Express forbids some integrations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum MachineType {
    #[default]
    Standard,
    Express,
}

/// Options of a validation run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ValidateOptions {
    pub machine_type: MachineType,
}

pub(crate) const SCHEMA: &str = "SCHEMA_VALIDATION_FAILED";
pub(crate) const MISSING_TRANSITION_TARGET: &str = "MISSING_TRANSITION_TARGET";
pub(crate) const MISSING_END_STATE: &str = "MISSING_END_STATE";
pub(crate) const DUPLICATE_STATE_NAME: &str = "DUPLICATE_STATE_NAME";
pub(crate) const INVALID_STATE_NAME: &str = "INVALID_STATE_NAME";
pub(crate) const INVALID_JSON_DESCRIPTION: &str = "INVALID_JSON_DESCRIPTION";
pub(crate) const INVALID_JSONATA_EXPRESSION: &str = "INVALID_JSONATA_EXPRESSION";

/// Compiles a JSONata-mode field value found at pointer `at`. The one place a JSONata syntax
/// error becomes a diagnostic (AWS: `INVALID_JSONATA_EXPRESSION`, the parser's message without
/// its code, located at the field), used by the validator and the model compiler alike.
pub(crate) fn compile_jsonata(v: &Value, at: &str) -> Result<crate::jsonata::Template, Diagnostic> {
    crate::jsonata::Template::compile(v).map_err(|(inner, e)| {
        let location = if inner.is_empty() {
            at.to_string()
        } else if inner.starts_with('[') {
            format!("{at}{inner}")
        } else {
            format!("{at}/{inner}")
        };
        Diagnostic::error(INVALID_JSONATA_EXPRESSION, e.message, location)
    })
}

/// Whole pipeline from text: JSON syntax (Jackson-style message, as AWS's parser words it),
/// then "must be an object", then [`validate_value`].
pub fn validate_text(text: &str, opts: &ValidateOptions) -> Vec<Diagnostic> {
    if text.trim().is_empty() {
        return vec![not_an_object()];
    }
    match json_syntax::parse_lenient(text) {
        Ok(v) => validate_value(&v, opts),
        Err((message, location)) => {
            vec![Diagnostic::error(
                INVALID_JSON_DESCRIPTION,
                message,
                location,
            )]
        }
    }
}

/// All rules on a parsed definition. Empty = valid. The first diagnostic is the one
/// CreateStateMachine reports first.
pub fn validate_value(def: &Value, opts: &ValidateOptions) -> Vec<Diagnostic> {
    let Some(root) = def.as_object() else {
        return vec![not_an_object()];
    };
    let mut cx = Cx::new(*opts, root);
    cx.machine(root, "", Container::Root);
    if !cx.diags.is_empty() {
        return cx.diags;
    }
    graph(root, &mut cx.diags);
    cx.diags
}

fn not_an_object() -> Diagnostic {
    Diagnostic::error(SCHEMA, "Definition must be a valid JSON object", "")
}

/// The query language a state's expressions are written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lang {
    JsonPath,
    Jsonata,
}

impl Lang {
    fn name(self) -> &'static str {
        match self {
            Lang::JsonPath => "JSONPath",
            Lang::Jsonata => "JSONata",
        }
    }
}

/// What kind of object holds a `StartAt`/`States` pair: their allowed fields differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Container {
    Root,
    Branch,
    ItemProcessor,
    Iterator,
}

/// Validation context: options, the machine-wide query language and the diagnostics so far.
pub(crate) struct Cx {
    pub opts: ValidateOptions,
    /// The top-level `QueryLanguage`: nested states inherit *this*, not their enclosing
    /// Map/Parallel's (measured against AWS).
    pub top_lang: Lang,
    pub diags: Vec<Diagnostic>,
}

impl Cx {
    fn new(opts: ValidateOptions, root: &Map<String, Value>) -> Cx {
        let top_lang = match root.get("QueryLanguage") {
            Some(Value::String(s)) if s == "JSONata" => Lang::Jsonata,
            _ => Lang::JsonPath,
        };
        Cx {
            opts,
            top_lang,
            diags: Vec::new(),
        }
    }

    pub fn err(&mut self, code: &str, message: impl Into<String>, location: impl Into<String>) {
        self.diags.push(Diagnostic::error(code, message, location));
    }

    pub fn schema(&mut self, message: impl Into<String>, location: impl Into<String>) {
        self.err(SCHEMA, message, location);
    }

    /// Checks a `StartAt`/`States` container (the root, a Parallel branch, a Map processor).
    pub fn machine(&mut self, obj: &Map<String, Value>, ptr: &str, kind: Container) {
        let here = loc(ptr);
        let allowed: &[&str] = match kind {
            Container::Root => &[
                "Comment",
                "StartAt",
                "States",
                "Version",
                "TimeoutSeconds",
                "QueryLanguage",
            ],
            Container::Branch => &["Comment", "StartAt", "States"],
            Container::ItemProcessor | Container::Iterator => {
                &["Comment", "StartAt", "States", "ProcessorConfig"]
            }
        };
        for key in obj.keys() {
            if !allowed.contains(&key.as_str()) {
                self.schema(format!("Field '{key}' is not supported"), here.clone());
            }
        }
        // AWS lists the missing fields in this order: `[States, StartAt]`.
        let missing: Vec<&str> = ["States", "StartAt"]
            .into_iter()
            .filter(|f| !obj.contains_key(*f))
            .collect();
        if !missing.is_empty() {
            self.schema(
                format!("These fields are required: [{}]", missing.join(", ")),
                here,
            );
        }
        if let Some(v) = obj.get("Comment") {
            self.expect_string(v, &child(ptr, "Comment"));
        }
        if let Some(v) = obj.get("StartAt") {
            self.expect_string(v, &child(ptr, "StartAt"));
        }
        if kind == Container::Root {
            if let Some(v) = obj.get("Version") {
                self.expect_string(v, "/Version");
            }
            if let Some(v) = obj.get("TimeoutSeconds") {
                self.int_range(v, "/TimeoutSeconds", 0, Some(99_999_999));
            }
            if let Some(v) = obj.get("QueryLanguage") {
                self.query_language_value(v, "/QueryLanguage");
            }
        }
        match obj.get("States") {
            Some(Value::Object(states)) => {
                for (name, state) in states {
                    let sptr = format!("{ptr}/States/{name}");
                    states::check_state(self, name, state, &sptr);
                }
            }
            Some(other) => self.type_error(other, "Object", &child(ptr, "States")),
            None => {}
        }
    }

    pub fn query_language_value(&mut self, v: &Value, at: &str) {
        match v {
            Value::String(s) if s == "JSONPath" || s == "JSONata" => {}
            Value::String(_) => self.schema(
                "Value is not a valid enum value. Valid values: [JSONPath, JSONata]",
                at,
            ),
            other => self.type_error(other, "String", at),
        }
    }

    pub fn expect_string(&mut self, v: &Value, at: &str) -> bool {
        if v.is_string() {
            true
        } else {
            self.type_error(v, "String", at);
            false
        }
    }

    pub fn type_error(&mut self, _v: &Value, expected: &str, at: &str) {
        self.schema(format!("Expected value of type {expected}"), at);
    }

    /// An integer field with an inclusive range; AWS words range failures
    /// "Minimum value is N" / "Maximum value is N".
    pub fn int_range(&mut self, v: &Value, at: &str, min: i64, max: Option<i64>) {
        let Some(n) = as_integer(v) else {
            self.type_error(v, "Integer", at);
            return;
        };
        if n < min as f64 {
            self.schema(format!("Minimum value is {min}"), at);
        } else if let Some(max) = max {
            if n > max as f64 {
                self.schema(format!("Maximum value is {max}"), at);
            }
        }
    }

    /// A number field with an inclusive range, worded with a decimal point like AWS
    /// ("Minimum value is 0.0").
    pub fn num_range(&mut self, v: &Value, at: &str, min: f64, max: Option<f64>) {
        let Some(n) = v.as_f64() else {
            self.type_error(v, "Number", at);
            return;
        };
        if n < min {
            self.schema(format!("Minimum value is {min:?}"), at);
        } else if let Some(max) = max {
            if n > max {
                self.schema(format!("Maximum value is {max:?}"), at);
            }
        }
    }
}

/// An integral JSON number (AWS accepts `3.0` where an integer is expected).
pub(crate) fn as_integer(v: &Value) -> Option<f64> {
    if let Some(i) = v.as_i64() {
        return Some(i as f64);
    }
    if v.as_u64().is_some() {
        return Some(f64::MAX);
    }
    let f = v.as_f64()?;
    (f.fract() == 0.0).then_some(f)
}

/// The location text for an object at `ptr`: AWS writes the root as `/`.
pub(crate) fn loc(ptr: &str) -> String {
    if ptr.is_empty() {
        "/".to_string()
    } else {
        ptr.to_string()
    }
}

pub(crate) fn child(ptr: &str, field: &str) -> String {
    format!("{ptr}/{field}")
}

// ---------------------------------------------------------------------------------------------
// Graph phase
// ---------------------------------------------------------------------------------------------

/// Graph rules over a schema-valid definition: duplicate names (machine-wide), then for each
/// container: missing transition targets, no terminal state, unreachable states.
fn graph(root: &Map<String, Value>, diags: &mut Vec<Diagnostic>) {
    let mut seen = std::collections::HashSet::new();
    duplicates(root, "", &mut seen, diags);
    container_graph(root, "", diags);
}

fn states_of(obj: &Map<String, Value>) -> Option<&Map<String, Value>> {
    obj.get("States").and_then(Value::as_object)
}

/// Every nested container of a state: Parallel branches and the Map processor.
fn nested_containers<'a>(
    state: &'a Map<String, Value>,
    sptr: &str,
) -> Vec<(&'a Map<String, Value>, String)> {
    let mut out = Vec::new();
    if let Some(Value::Array(branches)) = state.get("Branches") {
        for (i, b) in branches.iter().enumerate() {
            if let Some(b) = b.as_object() {
                out.push((b, format!("{sptr}/Branches[{i}]")));
            }
        }
    }
    for f in ["ItemProcessor", "Iterator"] {
        if let Some(Value::Object(p)) = state.get(f) {
            out.push((p, format!("{sptr}/{f}")));
        }
    }
    out
}

fn duplicates(
    obj: &Map<String, Value>,
    ptr: &str,
    seen: &mut std::collections::HashSet<String>,
    diags: &mut Vec<Diagnostic>,
) {
    let Some(states) = states_of(obj) else { return };
    for (name, state) in states {
        let sptr = format!("{ptr}/States/{name}");
        if !seen.insert(name.clone()) {
            diags.push(Diagnostic::error(
                DUPLICATE_STATE_NAME,
                format!("Duplicate State name: {name}"),
                sptr.clone(),
            ));
        }
        if let Some(s) = state.as_object() {
            for (c, cptr) in nested_containers(s, &sptr) {
                duplicates(c, &cptr, seen, diags);
            }
        }
    }
}

/// The transitions out of a state, with the pointer of the field naming each target.
fn transitions(state: &Map<String, Value>, sptr: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Some(Value::String(n)) = state.get("Next") {
        out.push((n.clone(), format!("{sptr}/Next")));
    }
    if let Some(Value::Array(choices)) = state.get("Choices") {
        for (i, c) in choices.iter().enumerate() {
            if let Some(Value::String(n)) = c.get("Next") {
                out.push((n.clone(), format!("{sptr}/Choices[{i}]/Next")));
            }
        }
    }
    if let Some(Value::String(n)) = state.get("Default") {
        out.push((n.clone(), format!("{sptr}/Default")));
    }
    if let Some(Value::Array(catchers)) = state.get("Catch") {
        for (i, c) in catchers.iter().enumerate() {
            if let Some(Value::String(n)) = c.get("Next") {
                out.push((n.clone(), format!("{sptr}/Catch[{i}]/Next")));
            }
        }
    }
    out
}

fn is_terminal(state: &Map<String, Value>) -> bool {
    matches!(
        state.get("Type").and_then(Value::as_str),
        Some("Succeed" | "Fail")
    ) || state.get("End") == Some(&Value::Bool(true))
}

fn container_graph(obj: &Map<String, Value>, ptr: &str, diags: &mut Vec<Diagnostic>) {
    let Some(states) = states_of(obj) else { return };
    let missing = |target: &str, at: String| {
        // AWS says 'Next' for every transition field (StartAt, Default, Catch too).
        Diagnostic::error(
            MISSING_TRANSITION_TARGET,
            format!("Missing 'Next' target: {target}"),
            at,
        )
    };
    if let Some(Value::String(start)) = obj.get("StartAt") {
        if !states.contains_key(start) {
            diags.push(missing(start, format!("{ptr}/StartAt")));
        }
    }
    for (name, state) in states {
        let Some(s) = state.as_object() else { continue };
        for (target, at) in transitions(s, &format!("{ptr}/States/{name}")) {
            if !states.contains_key(&target) {
                diags.push(missing(&target, at));
            }
        }
    }
    if !states
        .values()
        .filter_map(Value::as_object)
        .any(is_terminal)
    {
        // No location at all (CreateStateMachine prints "at null").
        diags.push(Diagnostic::error(
            MISSING_END_STATE,
            "Workflow has no terminal state",
            "",
        ));
    } else {
        let mut reached = std::collections::HashSet::new();
        let mut todo: Vec<&str> = Vec::new();
        if let Some(Value::String(start)) = obj.get("StartAt") {
            todo.push(start);
        }
        while let Some(n) = todo.pop() {
            if !reached.insert(n.to_string()) {
                continue;
            }
            if let Some(Value::Object(s)) = states.get(n) {
                for f in ["Next", "Default"] {
                    if let Some(Value::String(t)) = s.get(f) {
                        todo.push(t);
                    }
                }
                for f in ["Choices", "Catch"] {
                    if let Some(Value::Array(items)) = s.get(f) {
                        for it in items {
                            if let Some(Value::String(t)) = it.get("Next") {
                                todo.push(t);
                            }
                        }
                    }
                }
            }
        }
        for name in states.keys() {
            if !reached.contains(name) {
                diags.push(Diagnostic::error(
                    MISSING_TRANSITION_TARGET,
                    format!("State \"{name}\" is not reachable."),
                    format!("{ptr}/States/{name}"),
                ));
            }
        }
    }
    for (name, state) in states {
        if let Some(s) = state.as_object() {
            for (c, cptr) in nested_containers(s, &format!("{ptr}/States/{name}")) {
                container_graph(c, &cptr, diags);
            }
        }
    }
}
