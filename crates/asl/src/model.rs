//! The validated, compiled form of a state machine.
//!
//! Built once from the definition JSON (`StateMachine::from_value`): transitions are resolved to
//! indices, paths, templates, intrinsics and Choice rules are compiled, retriers are typed. The
//! runtime never looks at definition text again.

use crate::choice::{self, ChoiceRule};
use crate::diagnostic::Diagnostic;
use crate::jsonpath::Path;
use crate::template::Template;
use crate::validate::{self, ValidateOptions};

/// A JSONata-mode template: a JSON value whose `{% … %}` strings are expressions.
pub type JsonataTemplate = crate::jsonata::Template;

/// The query language a state's fields are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QueryLanguage {
    #[default]
    JsonPath,
    Jsonata,
}
use serde_json::{Map, Value};
use std::collections::HashMap;

/// Index of a state inside its [`States`] block.
pub type StateId = usize;

/// A whole state machine (the top level) or a Parallel branch / Map item processor: a block of
/// states with a start state.
#[derive(Debug)]
pub struct States {
    pub start_at: StateId,
    pub states: Vec<State>,
    pub by_name: HashMap<String, StateId>,
}

impl States {
    pub fn get(&self, id: StateId) -> &State {
        &self.states[id]
    }
}

/// A top-level state machine.
#[derive(Debug)]
pub struct StateMachine {
    pub comment: Option<String>,
    pub timeout_seconds: Option<u64>,
    pub body: States,
    /// The definition as given, for DescribeStateMachine and the context object.
    pub source: Value,
}

#[derive(Debug)]
pub struct State {
    pub name: String,
    pub kind: StateKind,
    /// `InputPath`: `None` means `null` (the effective input is `{}`).
    pub input_path: Option<Path>,
    /// `OutputPath`: `None` means `null` (the output is `{}`).
    pub output_path: Option<Path>,
    pub transition: Transition,
    /// JSONPath `Assign`.
    pub assign: Option<Template>,
    /// Whether any field reads the context object (`$$`, `$states.context`), so the engine
    /// builds it only then.
    pub uses_context: bool,
    /// The state's own `QueryLanguage`, else the machine's (never the enclosing state's).
    pub query_language: QueryLanguage,
    /// JSONata `Output` (absent: the result for Task/Parallel/Map, else the input).
    pub output: Option<JsonataTemplate>,
    /// JSONata `Assign`: one variable per top-level key.
    pub jsonata_assign: Option<JsonataTemplate>,
}

impl State {
    pub fn is_jsonata(&self) -> bool {
        self.query_language == QueryLanguage::Jsonata
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    Next(StateId),
    End,
    /// Choice, Succeed and Fail decide their own way out.
    None,
}

/// `ResultPath`: where the state's result goes in its raw input.
#[derive(Debug)]
pub enum ResultPath {
    /// `null`: discard the result, output = input.
    Discard,
    Path(Path),
}

#[derive(Debug)]
pub enum StateKind {
    Pass(Pass),
    Task(Box<Task>),
    Choice(Choice),
    Wait(Wait),
    Succeed,
    Fail(Fail),
    Parallel(Box<Parallel>),
    Map(Box<MapState>),
}

impl StateKind {
    /// The prefix AWS uses in event type names (`PassStateEntered`, …).
    pub fn event_prefix(&self) -> &'static str {
        match self {
            StateKind::Pass(_) => "Pass",
            StateKind::Task(_) => "Task",
            StateKind::Choice(_) => "Choice",
            StateKind::Wait(_) => "Wait",
            StateKind::Succeed => "Succeed",
            StateKind::Fail(_) => "Fail",
            StateKind::Parallel(_) => "Parallel",
            StateKind::Map(_) => "Map",
        }
    }
}

#[derive(Debug)]
pub struct Pass {
    pub result: Option<Value>,
    pub parameters: Option<Template>,
    pub result_path: ResultPath,
}

/// A number given literally or read from the input through a `…Path` field.
#[derive(Debug, Clone)]
pub enum NumberSource {
    Literal(u64),
    Path(Path),
    /// A JSONata `{% … %}` expression.
    Expr(JsonataTemplate),
}

#[derive(Debug)]
pub struct Task {
    pub resource: String,
    pub parameters: Option<Template>,
    /// JSONata `Arguments` (absent: the state input).
    pub arguments: Option<JsonataTemplate>,
    pub result_selector: Option<Template>,
    pub result_path: ResultPath,
    pub timeout: Option<NumberSource>,
    pub heartbeat: Option<NumberSource>,
    pub retry: Vec<Retrier>,
    pub catch: Vec<Catcher>,
    pub credentials: Option<Value>,
}

#[derive(Debug)]
pub struct ChoiceBranch {
    pub rule: BranchTest,
    pub next: StateId,
    pub assign: Option<Template>,
    /// JSONata rule `Assign`, applied over the state's own.
    pub jsonata_assign: Option<JsonataTemplate>,
    /// JSONata rule `Output`, used instead of the state's own.
    pub output: Option<JsonataTemplate>,
}

/// What decides a Choice branch: a JSONPath rule or a JSONata `Condition`.
#[derive(Debug)]
pub enum BranchTest {
    Rule(ChoiceRule),
    Condition(JsonataTemplate),
}

#[derive(Debug)]
pub struct Choice {
    pub choices: Vec<ChoiceBranch>,
    pub default: Option<StateId>,
}

#[derive(Debug)]
pub enum Wait {
    Seconds(u64),
    Timestamp(String),
    SecondsPath(Path),
    TimestampPath(Path),
    SecondsExpr(JsonataTemplate),
    TimestampExpr(JsonataTemplate),
}

#[derive(Debug)]
pub enum TextSource {
    Literal(String),
    Path(Path),
    Expr(JsonataTemplate),
}

#[derive(Debug)]
pub struct Fail {
    pub error: Option<TextSource>,
    pub cause: Option<TextSource>,
}

#[derive(Debug)]
pub struct Parallel {
    pub branches: Vec<States>,
    pub parameters: Option<Template>,
    pub arguments: Option<JsonataTemplate>,
    pub result_selector: Option<Template>,
    pub result_path: ResultPath,
    pub retry: Vec<Retrier>,
    pub catch: Vec<Catcher>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcessorMode {
    Inline,
    Distributed,
}

#[derive(Debug)]
pub struct MapState {
    pub processor: States,
    pub mode: ProcessorMode,
    pub items_path: Path,
    pub item_selector: Option<Template>,
    /// JSONata `Items` (an array whose members may be expressions, or one expression);
    /// absent: the state input.
    pub items: Option<JsonataTemplate>,
    /// JSONata `ItemSelector`.
    pub jsonata_item_selector: Option<JsonataTemplate>,
    pub max_concurrency: NumberSource,
    pub tolerated_failure_percentage: Option<FloatSource>,
    pub tolerated_failure_count: Option<NumberSource>,
    pub label: Option<String>,
    pub result_selector: Option<Template>,
    pub result_path: ResultPath,
    pub retry: Vec<Retrier>,
    pub catch: Vec<Catcher>,
}

#[derive(Debug, Clone)]
pub enum FloatSource {
    Literal(f64),
    Path(Path),
    Expr(JsonataTemplate),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Jitter {
    Full,
    None,
}

#[derive(Debug, Clone)]
pub struct Retrier {
    pub error_equals: Vec<String>,
    pub interval_seconds: u64,
    pub max_attempts: u64,
    pub backoff_rate: f64,
    pub max_delay_seconds: Option<u64>,
    pub jitter: Jitter,
}

#[derive(Debug)]
pub struct Catcher {
    pub error_equals: Vec<String>,
    pub next: StateId,
    pub result_path: ResultPath,
    pub assign: Option<Template>,
    /// JSONata catcher `Output` (absent: the error output).
    pub output: Option<JsonataTemplate>,
    pub jsonata_assign: Option<JsonataTemplate>,
}

impl StateMachine {
    /// Validates and compiles a definition given as text (the CLI and API entry point).
    pub fn from_text(text: &str, opts: &ValidateOptions) -> Result<StateMachine, Vec<Diagnostic>> {
        let diags = validate::validate_text(text, opts);
        if !diags.is_empty() {
            return Err(diags);
        }
        let value: Value = serde_json::from_str(text).map_err(|e| {
            vec![Diagnostic::error(
                "INVALID_JSON_DESCRIPTION",
                e.to_string(),
                "",
            )]
        })?;
        Self::compile(&value)
    }

    /// Validates and compiles a parsed definition.
    pub fn from_value(def: &Value) -> Result<StateMachine, Vec<Diagnostic>> {
        let diags = validate::validate_value(def, &ValidateOptions::default());
        if !diags.is_empty() {
            return Err(diags);
        }
        Self::compile(def)
    }

    /// Compiles a definition that validation accepted. Still never panics on bad input: what
    /// validation missed comes back as a diagnostic.
    fn compile(def: &Value) -> Result<StateMachine, Vec<Diagnostic>> {
        let obj = def.as_object().ok_or_else(|| {
            vec![Diagnostic::error(
                "SCHEMA_VALIDATION_FAILED",
                "Definition must be a valid JSON object",
                "",
            )]
        })?;
        let top_lang = match obj.get("QueryLanguage").and_then(Value::as_str) {
            Some("JSONata") => QueryLanguage::Jsonata,
            _ => QueryLanguage::JsonPath,
        };
        let mut c = Compiler {
            diags: Vec::new(),
            top_lang,
            lang: top_lang,
        };
        let body = c.states_block(obj, "");
        let timeout_seconds = obj.get("TimeoutSeconds").and_then(Value::as_u64);
        let comment = obj
            .get("Comment")
            .and_then(Value::as_str)
            .map(str::to_string);
        match body {
            Some(body) if c.diags.is_empty() => Ok(StateMachine {
                comment,
                timeout_seconds,
                body,
                source: def.clone(),
            }),
            _ => Err(c.diags),
        }
    }
}

struct Compiler {
    diags: Vec<Diagnostic>,
    /// The machine's language: nested states inherit this, not their enclosing state's.
    top_lang: QueryLanguage,
    /// The language of the state being compiled.
    lang: QueryLanguage,
}

/// Whether a value is a `{% … %}` JSONata expression string.
fn is_expression(v: &Value) -> bool {
    v.as_str()
        .is_some_and(|s| crate::jsonata::as_expression(s).is_some())
}

fn schema(message: impl Into<String>, location: &str) -> Diagnostic {
    let loc = if location.is_empty() { "/" } else { location };
    Diagnostic::error("SCHEMA_VALIDATION_FAILED", message, loc)
}

impl Compiler {
    fn err(&mut self, message: impl Into<String>, location: &str) {
        self.diags.push(schema(message, location));
    }

    fn states_block(&mut self, obj: &Map<String, Value>, loc: &str) -> Option<States> {
        let Some(states) = obj.get("States").and_then(Value::as_object) else {
            self.err("These fields are required: [States]", loc);
            return None;
        };
        let by_name: HashMap<String, StateId> = states
            .keys()
            .enumerate()
            .map(|(i, k)| (k.clone(), i))
            .collect();
        let start_at = match obj.get("StartAt").and_then(Value::as_str) {
            Some(s) => match by_name.get(s) {
                Some(id) => *id,
                None => {
                    self.diags.push(Diagnostic::error(
                        "MISSING_TRANSITION_TARGET",
                        format!("Missing 'Next' target: {s}"),
                        format!("{loc}/StartAt"),
                    ));
                    return None;
                }
            },
            None => {
                self.err("These fields are required: [StartAt]", loc);
                return None;
            }
        };
        let mut compiled = Vec::with_capacity(states.len());
        for (name, s) in states {
            let sloc = format!("{loc}/States/{}", pointer_escape(name));
            if let Some(st) = self.state(name, s, &sloc, &by_name) {
                compiled.push(st);
            }
        }
        if compiled.len() != states.len() {
            return None;
        }
        Some(States {
            start_at,
            states: compiled,
            by_name,
        })
    }

    fn target(
        &mut self,
        name: &Value,
        loc: &str,
        by_name: &HashMap<String, StateId>,
    ) -> Option<StateId> {
        let name = name.as_str().unwrap_or_default();
        match by_name.get(name) {
            Some(id) => Some(*id),
            None => {
                self.diags.push(Diagnostic::error(
                    "MISSING_TRANSITION_TARGET",
                    format!("Missing 'Next' target: {name}"),
                    loc,
                ));
                None
            }
        }
    }

    fn path(&mut self, v: Option<&Value>, loc: &str) -> Option<Option<Path>> {
        match v {
            None => Path::parse("$").ok().map(Some),
            Some(Value::Null) => Some(None),
            Some(Value::String(s)) => match Path::parse(s) {
                Ok(p) => Some(Some(p)),
                Err(e) => {
                    self.err(
                        format!(
                            "The value for the field must be a valid JSONPath: {}",
                            e.message
                        ),
                        loc,
                    );
                    None
                }
            },
            Some(_) => {
                self.err("Expected value of type: String", loc);
                None
            }
        }
    }

    fn required_path(&mut self, v: &Value, loc: &str) -> Option<Path> {
        match self.path(Some(v), loc) {
            Some(Some(p)) => Some(p),
            Some(None) => {
                self.err("Expected value of type: String", loc);
                None
            }
            None => None,
        }
    }

    fn result_path(&mut self, v: Option<&Value>, loc: &str) -> Option<ResultPath> {
        Some(match self.path(v, loc)? {
            None => ResultPath::Discard,
            Some(p) => ResultPath::Path(p),
        })
    }

    fn template(&mut self, v: Option<&Value>, loc: &str) -> Option<Option<Template>> {
        match v {
            None => Some(None),
            Some(v) => match Template::compile(v) {
                Ok(t) => Some(Some(t)),
                Err(e) => {
                    self.err(e.message, &format!("{loc}{}", e.location));
                    None
                }
            },
        }
    }

    /// A JSONata-mode value (template) at `loc`; syntax errors become diagnostics.
    fn jsonata(&mut self, v: Option<&Value>, loc: &str) -> Option<Option<JsonataTemplate>> {
        match v {
            None => Some(None),
            Some(v) => match validate::compile_jsonata(v, loc) {
                Ok(t) => Some(Some(t)),
                Err(d) => {
                    self.diags.push(d);
                    None
                }
            },
        }
    }

    fn is_jsonata(&self) -> bool {
        self.lang == QueryLanguage::Jsonata
    }

    /// A JSONata-only field: compiled in JSONata states, ignored otherwise (the validator
    /// rejects it there).
    fn jsonata_only(&mut self, v: Option<&Value>, loc: &str) -> Option<Option<JsonataTemplate>> {
        if self.is_jsonata() {
            self.jsonata(v, loc)
        } else {
            Some(None)
        }
    }

    fn number(
        &mut self,
        s: &Map<String, Value>,
        field: &str,
        loc: &str,
    ) -> Option<Option<NumberSource>> {
        let path_field = format!("{field}Path");
        if let Some(v) = s
            .get(field)
            .filter(|v| self.is_jsonata() && is_expression(v))
        {
            return self
                .jsonata(Some(v), &format!("{loc}/{field}"))
                .map(|t| t.map(NumberSource::Expr));
        }
        if let Some(v) = s.get(field) {
            return match v.as_u64() {
                Some(n) => Some(Some(NumberSource::Literal(n))),
                None => {
                    self.err(format!("Expected value of type: Integer at /{field}"), loc);
                    None
                }
            };
        }
        if let Some(v) = s.get(&path_field) {
            return self
                .required_path(v, &format!("{loc}/{path_field}"))
                .map(|p| Some(NumberSource::Path(p)));
        }
        Some(None)
    }

    fn retriers(&mut self, v: Option<&Value>, loc: &str) -> Option<Vec<Retrier>> {
        let Some(v) = v else { return Some(Vec::new()) };
        let arr = v.as_array()?;
        let mut out = Vec::with_capacity(arr.len());
        for r in arr {
            let o = r.as_object()?;
            out.push(Retrier {
                error_equals: string_list(o.get("ErrorEquals")),
                interval_seconds: o
                    .get("IntervalSeconds")
                    .and_then(Value::as_u64)
                    .unwrap_or(1),
                max_attempts: o.get("MaxAttempts").and_then(Value::as_u64).unwrap_or(3),
                backoff_rate: o.get("BackoffRate").and_then(Value::as_f64).unwrap_or(2.0),
                max_delay_seconds: o.get("MaxDelaySeconds").and_then(Value::as_u64),
                jitter: match o.get("JitterStrategy").and_then(Value::as_str) {
                    Some("FULL") => Jitter::Full,
                    _ => Jitter::None,
                },
            });
        }
        let _ = loc;
        Some(out)
    }

    fn catchers(
        &mut self,
        v: Option<&Value>,
        loc: &str,
        by_name: &HashMap<String, StateId>,
    ) -> Option<Vec<Catcher>> {
        let Some(v) = v else { return Some(Vec::new()) };
        let arr = v.as_array()?;
        let mut out = Vec::with_capacity(arr.len());
        for (i, c) in arr.iter().enumerate() {
            let o = c.as_object()?;
            let cloc = format!("{loc}/{i}");
            let next = self.target(o.get("Next")?, &format!("{cloc}/Next"), by_name)?;
            let result_path =
                self.result_path(o.get("ResultPath"), &format!("{cloc}/ResultPath"))?;
            let (assign, output, jsonata_assign) = if self.is_jsonata() {
                (
                    None,
                    self.jsonata(o.get("Output"), &format!("{cloc}/Output"))?,
                    self.jsonata(o.get("Assign"), &format!("{cloc}/Assign"))?,
                )
            } else {
                (
                    self.template(o.get("Assign"), &format!("{cloc}/Assign"))?,
                    None,
                    None,
                )
            };
            out.push(Catcher {
                error_equals: string_list(o.get("ErrorEquals")),
                next,
                result_path,
                assign,
                output,
                jsonata_assign,
            });
        }
        Some(out)
    }

    fn state(
        &mut self,
        name: &str,
        v: &Value,
        loc: &str,
        by_name: &HashMap<String, StateId>,
    ) -> Option<State> {
        let Some(s) = v.as_object() else {
            self.err("Expected value of type: Object", loc);
            return None;
        };
        let ty = s.get("Type").and_then(Value::as_str).unwrap_or_default();
        self.lang = match s.get("QueryLanguage").and_then(Value::as_str) {
            Some("JSONata") => QueryLanguage::Jsonata,
            Some("JSONPath") => QueryLanguage::JsonPath,
            _ => self.top_lang,
        };
        let jsonata = self.is_jsonata();
        let transition = if let Some(n) = s.get("Next") {
            Transition::Next(self.target(n, &format!("{loc}/Next"), by_name)?)
        } else if s.get("End").and_then(Value::as_bool) == Some(true) {
            Transition::End
        } else {
            Transition::None
        };
        let input_path = self.path(s.get("InputPath"), &format!("{loc}/InputPath"))?;
        let output_path = self.path(s.get("OutputPath"), &format!("{loc}/OutputPath"))?;
        let f = |k: &str| format!("{loc}/{k}");
        let (assign, output, jsonata_assign) = if jsonata {
            (
                None,
                self.jsonata(s.get("Output"), &f("Output"))?,
                self.jsonata(s.get("Assign"), &f("Assign"))?,
            )
        } else {
            (self.template(s.get("Assign"), &f("Assign"))?, None, None)
        };
        let lang = self.lang;
        let kind = match ty {
            "Pass" => StateKind::Pass(Pass {
                result: s.get("Result").cloned(),
                parameters: self.template(s.get("Parameters"), &f("Parameters"))?,
                result_path: self.result_path(s.get("ResultPath"), &f("ResultPath"))?,
            }),
            "Task" => StateKind::Task(Box::new(Task {
                resource: s
                    .get("Resource")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                parameters: self.template(s.get("Parameters"), &f("Parameters"))?,
                arguments: self.jsonata_only(s.get("Arguments"), &f("Arguments"))?,
                result_selector: self.template(s.get("ResultSelector"), &f("ResultSelector"))?,
                result_path: self.result_path(s.get("ResultPath"), &f("ResultPath"))?,
                timeout: self.number(s, "TimeoutSeconds", loc)?,
                heartbeat: self.number(s, "HeartbeatSeconds", loc)?,
                retry: self.retriers(s.get("Retry"), &f("Retry"))?,
                catch: self.catchers(s.get("Catch"), &f("Catch"), by_name)?,
                credentials: s.get("Credentials").cloned(),
            })),
            "Choice" if jsonata => {
                let raw = s.get("Choices").and_then(Value::as_array);
                let mut choices = Vec::new();
                for (i, r) in raw.into_iter().flatten().enumerate() {
                    let bloc = format!("{loc}/Choices[{i}]");
                    let r = r.as_object()?;
                    let next = self.target(r.get("Next")?, &format!("{bloc}/Next"), by_name)?;
                    let condition = self
                        .jsonata(r.get("Condition"), &format!("{bloc}/Condition"))?
                        .or_else(|| JsonataTemplate::compile(&Value::Bool(false)).ok())?;
                    choices.push(ChoiceBranch {
                        rule: BranchTest::Condition(condition),
                        next,
                        assign: None,
                        jsonata_assign: self.jsonata(r.get("Assign"), &format!("{bloc}/Assign"))?,
                        output: self.jsonata(r.get("Output"), &format!("{bloc}/Output"))?,
                    });
                }
                let default = match s.get("Default") {
                    Some(d) => Some(self.target(d, &f("Default"), by_name)?),
                    None => None,
                };
                StateKind::Choice(Choice { choices, default })
            }
            "Choice" => {
                let raw = s.get("Choices").cloned().unwrap_or(Value::Array(vec![]));
                let parsed = match choice::parse_choices(&raw, &f("Choices")) {
                    Ok(p) => p,
                    Err(d) => {
                        self.diags.extend(d);
                        return None;
                    }
                };
                let mut choices = Vec::with_capacity(parsed.len());
                for (i, b) in parsed.into_iter().enumerate() {
                    let bloc = format!("{loc}/Choices/{i}");
                    let next =
                        self.target(&Value::String(b.next), &format!("{bloc}/Next"), by_name)?;
                    let assign = self.template(
                        raw.get(i).and_then(|r| r.get("Assign")),
                        &format!("{bloc}/Assign"),
                    )?;
                    choices.push(ChoiceBranch {
                        rule: BranchTest::Rule(b.rule),
                        next,
                        assign,
                        jsonata_assign: None,
                        output: None,
                    });
                }
                let default = match s.get("Default") {
                    Some(d) => Some(self.target(d, &f("Default"), by_name)?),
                    None => None,
                };
                StateKind::Choice(Choice { choices, default })
            }
            "Wait" => StateKind::Wait(
                if let Some(n) = s.get("Seconds").filter(|v| jsonata && is_expression(v)) {
                    Wait::SecondsExpr(self.jsonata(Some(n), &f("Seconds"))??)
                } else if let Some(t) = s.get("Timestamp").filter(|v| jsonata && is_expression(v)) {
                    Wait::TimestampExpr(self.jsonata(Some(t), &f("Timestamp"))??)
                } else if let Some(n) = s.get("Seconds") {
                    Wait::Seconds(n.as_u64().unwrap_or(0))
                } else if let Some(t) = s.get("Timestamp") {
                    Wait::Timestamp(t.as_str().unwrap_or_default().to_string())
                } else if let Some(p) = s.get("SecondsPath") {
                    Wait::SecondsPath(self.required_path(p, &f("SecondsPath"))?)
                } else if let Some(p) = s.get("TimestampPath") {
                    Wait::TimestampPath(self.required_path(p, &f("TimestampPath"))?)
                } else {
                    self.err("A Wait state must have one of Seconds, Timestamp, SecondsPath, TimestampPath", loc);
                    return None;
                },
            ),
            "Succeed" => StateKind::Succeed,
            "Fail" => {
                let mut text = |lit: &str, path: &str| -> Option<Option<TextSource>> {
                    if let Some(v) = s.get(lit).filter(|v| jsonata && is_expression(v)) {
                        Some(Some(TextSource::Expr(self.jsonata(Some(v), &f(lit))??)))
                    } else if let Some(v) = s.get(lit) {
                        Some(Some(TextSource::Literal(
                            v.as_str().unwrap_or_default().to_string(),
                        )))
                    } else if let Some(p) = s.get(path) {
                        Some(Some(TextSource::Path(self.required_path(p, &f(path))?)))
                    } else {
                        Some(None)
                    }
                };
                let error = text("Error", "ErrorPath")?;
                let cause = text("Cause", "CausePath")?;
                StateKind::Fail(Fail { error, cause })
            }
            "Parallel" => {
                let mut branches = Vec::new();
                for (i, b) in s
                    .get("Branches")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .enumerate()
                {
                    let bo = b.as_object()?;
                    branches.push(self.states_block(bo, &format!("{loc}/Branches/{i}"))?);
                }
                self.lang = lang;
                StateKind::Parallel(Box::new(Parallel {
                    branches,
                    parameters: self.template(s.get("Parameters"), &f("Parameters"))?,
                    arguments: self.jsonata_only(s.get("Arguments"), &f("Arguments"))?,
                    result_selector: self
                        .template(s.get("ResultSelector"), &f("ResultSelector"))?,
                    result_path: self.result_path(s.get("ResultPath"), &f("ResultPath"))?,
                    retry: self.retriers(s.get("Retry"), &f("Retry"))?,
                    catch: self.catchers(s.get("Catch"), &f("Catch"), by_name)?,
                }))
            }
            "Map" => {
                let (pkey, proc) = match s.get("ItemProcessor") {
                    Some(p) => ("ItemProcessor", p),
                    None => ("Iterator", s.get("Iterator")?),
                };
                let po = proc.as_object()?;
                let mode = match po
                    .get("ProcessorConfig")
                    .and_then(|c| c.get("Mode"))
                    .and_then(Value::as_str)
                {
                    Some("DISTRIBUTED") => ProcessorMode::Distributed,
                    _ => ProcessorMode::Inline,
                };
                let processor = self.states_block(po, &f(pkey))?;
                self.lang = lang;
                let selector_key = if s.contains_key("ItemSelector") {
                    "ItemSelector"
                } else {
                    "Parameters"
                };
                let max_concurrency = self
                    .number(s, "MaxConcurrency", loc)?
                    .unwrap_or(NumberSource::Literal(0));
                let tolerated_failure_percentage = if let Some(v) = s
                    .get("ToleratedFailurePercentage")
                    .filter(|v| jsonata && is_expression(v))
                {
                    Some(FloatSource::Expr(
                        self.jsonata(Some(v), &f("ToleratedFailurePercentage"))??,
                    ))
                } else if let Some(v) = s.get("ToleratedFailurePercentage") {
                    Some(FloatSource::Literal(v.as_f64().unwrap_or(0.0)))
                } else if let Some(p) = s.get("ToleratedFailurePercentagePath") {
                    Some(FloatSource::Path(
                        self.required_path(p, &f("ToleratedFailurePercentagePath"))?,
                    ))
                } else {
                    None
                };
                StateKind::Map(Box::new(MapState {
                    processor,
                    mode,
                    items_path: self
                        .path(s.get("ItemsPath"), &f("ItemsPath"))?
                        .or_else(|| Path::parse("$").ok())?,
                    item_selector: if jsonata {
                        None
                    } else {
                        self.template(s.get(selector_key), &f(selector_key))?
                    },
                    items: self.jsonata_only(s.get("Items"), &f("Items"))?,
                    jsonata_item_selector: self
                        .jsonata_only(s.get("ItemSelector"), &f("ItemSelector"))?,
                    max_concurrency,
                    tolerated_failure_percentage,
                    tolerated_failure_count: self.number(s, "ToleratedFailureCount", loc)?,
                    label: s.get("Label").and_then(Value::as_str).map(str::to_string),
                    result_selector: self
                        .template(s.get("ResultSelector"), &f("ResultSelector"))?,
                    result_path: self.result_path(s.get("ResultPath"), &f("ResultPath"))?,
                    retry: self.retriers(s.get("Retry"), &f("Retry"))?,
                    catch: self.catchers(s.get("Catch"), &f("Catch"), by_name)?,
                }))
            }
            other => {
                self.err(format!("Unsupported state type: {other}"), &f("Type"));
                return None;
            }
        };
        let text = crate::json::to_text(v);
        // `$now()`/`$millis()` read the state's entered time from the context object.
        let uses_context = text.contains("$$")
            || (jsonata
                && (text.contains("context") || text.contains("$now") || text.contains("$millis")));
        Some(State {
            name: name.to_string(),
            kind,
            input_path,
            output_path,
            transition,
            assign,
            uses_context,
            query_language: lang,
            output,
            jsonata_assign,
        })
    }
}

fn string_list(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Escapes a key for use in a JSON pointer (RFC 6901).
pub fn pointer_escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}
