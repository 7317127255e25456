//! AWS's JSONPath dialect (as Step Functions evaluates it, Jayway-flavoured).
//!
//! A [`Path`] is compiled once at validation time; evaluation never re-parses text.
//! Roots: `$` (the state's input or whatever document the caller passes), `$$` (the context
//! object) and `$name` (a workflow variable, JSONPath-mode access to `Assign`ed values).
//!
//! Semantics follow Jayway JsonPath, which AWS runs, where it differs from RFC 9535:
//! - a *definite* path (only names/indexes, or a name union as last step) yields one value or
//!   an error worded like Jayway's (`No results for path: $['x']`); an *indefinite* one yields
//!   the array of its matches and never fails (`$.items[*]` on `{}` is `[]`, as recorded);
//! - a leaf name union merges into one object: `$['a','b']` → `{"a":…,"b":…}`;
//! - a filter applied to an object tests the object itself, not its members;
//! - `==` compares numbers with numeric strings by value; `=~` must match the whole string;
//! - trailing functions (`length()`, `sum()`, …) apply to the value, or to the match list of
//!   an indefinite path; numeric aggregates are doubles (`sum()` of `[1,2]` is `3.0`).

mod eval;
mod filter;
mod parse;

use parse::{Function, Parser};
use serde_json::Value;
use std::borrow::Cow;
use std::fmt;

/// Where a path starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Root {
    /// `$…`: the document the caller evaluates against (usually the state input).
    Document,
    /// `$$…`: the context object.
    Context,
    /// `$name…`: the variable `name`.
    Variable(String),
}

/// One step of a path.
#[derive(Debug, Clone)]
pub(crate) enum Segment {
    /// `.name`, `[…]`: selects among the current node's children.
    Child(Selector),
    /// `..name`, `..[…]`, `..*`: selects among the node and all its descendants.
    Descendant(Selector),
}

#[derive(Debug, Clone)]
pub(crate) enum Selector {
    Name(String),
    /// `['a','b']`.
    Names(Vec<String>),
    Index(i64),
    /// `[0,2]`.
    Indexes(Vec<i64>),
    Wildcard,
    Slice(Slice),
    Filter(Box<filter::Expr>),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Slice {
    pub start: Option<i64>,
    pub end: Option<i64>,
    pub step: Option<i64>,
}

/// A compiled JSONPath.
#[derive(Debug, Clone)]
pub struct Path {
    src: String,
    root: Root,
    segments: Vec<Segment>,
    function: Option<Function>,
    /// Precomputed: selects at most one node (see [`Path::is_definite`]).
    definite: bool,
    /// Precomputed: only `.name` / `[index]` steps, so selection is a borrow-only walk.
    simple: bool,
}

/// Two paths are equal when compiled from the same text (the compiled form is a function of it).
impl PartialEq for Path {
    fn eq(&self, other: &Self) -> bool {
        self.src == other.src
    }
}

/// A path text that is not valid JSONPath.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathSyntaxError {
    pub path: String,
    pub message: String,
}

impl fmt::Display for PathSyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid JSONPath '{}': {}", self.path, self.message)
    }
}

impl std::error::Error for PathSyntaxError {}

/// Why a value could not be written at a reference path (ResultPath).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetError {
    pub message: String,
}

impl fmt::Display for SetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SetError {}

/// Why a definite path selected nothing. `message` is Jayway's wording where AWS shows it in
/// error causes (`No results for path: $['x']`, `Missing property in path $['a']`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectError {
    pub kind: SelectErrorKind,
    pub message: String,
}

/// The reason class of a [`SelectError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SelectErrorKind {
    /// The last step found nothing (missing leaf property, index out of bounds).
    NoResults,
    /// An intermediate property is missing.
    MissingProperty,
    /// A property step met a non-object.
    NotAnObject,
    /// An index step met a non-array.
    NotAnArray,
    /// An index step met `null`.
    NullValue,
    /// `$name` names no variable in scope.
    UndefinedVariable,
    /// A path function could not be applied (e.g. `sum()` of an empty array).
    Function,
}

impl fmt::Display for SelectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SelectError {}

/// What a path evaluates against: the document for `$`, the context object for `$$`,
/// and variables for `$name`.
pub struct PathEnv<'a> {
    pub document: &'a Value,
    pub context: &'a Value,
    pub variables: &'a dyn Variables,
}

/// Read access to the workflow variables in scope.
pub trait Variables {
    fn get(&self, name: &str) -> Option<&Value>;
}

/// No variables in scope.
pub struct NoVariables;
impl Variables for NoVariables {
    fn get(&self, _name: &str) -> Option<&Value> {
        None
    }
}

impl Variables for serde_json::Map<String, Value> {
    fn get(&self, name: &str) -> Option<&Value> {
        serde_json::Map::get(self, name)
    }
}

impl Path {
    /// Compiles a path. Accepts `$`, `$$` and `$name` roots. Surrounding whitespace is
    /// ignored, as Jayway trims the path text.
    pub fn parse(src: &str) -> Result<Path, PathSyntaxError> {
        let parsed = Parser::new(src.trim())
            .parse_top()
            .map_err(|message| PathSyntaxError {
                path: src.to_string(),
                message,
            })?;
        let definite = eval::is_definite_segments(&parsed.segments);
        let simple = parsed
            .segments
            .iter()
            .all(|s| matches!(s, Segment::Child(Selector::Name(_) | Selector::Index(_))));
        Ok(Path {
            src: src.to_string(),
            root: parsed.root,
            segments: parsed.segments,
            function: parsed.function,
            definite,
            simple,
        })
    }

    /// The text the path was compiled from.
    pub fn as_str(&self) -> &str {
        &self.src
    }

    pub fn root(&self) -> &Root {
        &self.root
    }

    /// True for `$` alone: selecting it is the identity, so callers can move instead of clone.
    pub fn is_identity(&self) -> bool {
        self.root == Root::Document && self.segments.is_empty() && self.function.is_none()
    }

    /// True when the path selects a single value rather than a list of matches: no wildcard,
    /// filter, slice, index union, recursive descent, nor a name union other than as the last
    /// step (Jayway merges that into one object). A trailing function keeps a path definite.
    pub fn is_definite(&self) -> bool {
        self.definite
    }

    /// True for AWS's "reference paths" (ResultPath, ItemsPath, OutputPath…): only `.name`,
    /// `['name']` and `[index]` steps, no operators, no functions.
    pub fn is_reference_path(&self) -> bool {
        self.simple && self.function.is_none()
    }

    /// True when the path ends in a function call such as `.length()`.
    pub fn has_function(&self) -> bool {
        self.function.is_some()
    }

    /// Jayway's normalized bracket form, as AWS quotes paths in error causes:
    /// `$.a.b[0]` → `$['a']['b'][0]`.
    pub fn normalized(&self) -> String {
        self.normalized_prefix(self.segments.len(), true)
    }

    fn normalized_prefix(&self, n: usize, with_function: bool) -> String {
        let mut out = match &self.root {
            Root::Document => "$".to_string(),
            Root::Context => "$$".to_string(),
            Root::Variable(v) => format!("${v}"),
        };
        for seg in &self.segments[..n.min(self.segments.len())] {
            match seg {
                Segment::Child(sel) => write_selector(sel, &mut out),
                Segment::Descendant(sel) => {
                    out.push_str("..");
                    write_selector(sel, &mut out);
                }
            }
        }
        if with_function {
            if let Some(f) = &self.function {
                out.push('.');
                out.push_str(&f.text());
            }
        }
        out
    }

    /// AWS's cause text for a path that selected nothing:
    /// `Invalid path '$.x' : No results for path: $['x']`.
    pub fn invalid_path_cause(&self, err: &SelectError) -> String {
        format!("Invalid path '{}' : {}", self.src, err.message)
    }

    /// Evaluates the path's segments against `doc`, ignoring its root. `None` when a definite
    /// path selects nothing. Indefinite paths give an array of their matches (possibly empty).
    /// A definite path without functions borrows from `doc` and does not allocate.
    pub fn select<'a>(&self, doc: &'a Value) -> Option<Cow<'a, Value>> {
        if self.simple && self.function.is_none() {
            return self
                .walk_simple(doc, self.segments.len(), true)
                .ok()
                .map(Cow::Borrowed);
        }
        self.try_select(doc).ok()
    }

    /// Like [`Path::select`], but says why a definite path selected nothing.
    pub fn try_select<'a>(&self, doc: &'a Value) -> Result<Cow<'a, Value>, SelectError> {
        let base = self.select_base(doc)?;
        match &self.function {
            None => Ok(base),
            Some(f) => eval::apply_function(f, &base)
                .map(Cow::Owned)
                .map_err(|message| SelectError {
                    kind: SelectErrorKind::Function,
                    message,
                }),
        }
    }

    /// Evaluates the path against its root in `env`.
    pub fn select_env<'a>(&self, env: &PathEnv<'a>) -> Option<Cow<'a, Value>> {
        self.select(self.root_value(env).ok()?)
    }

    /// Like [`Path::select_env`], but says why nothing was selected.
    pub fn try_select_env<'a>(&self, env: &PathEnv<'a>) -> Result<Cow<'a, Value>, SelectError> {
        self.try_select(self.root_value(env)?)
    }

    fn root_value<'a>(&self, env: &PathEnv<'a>) -> Result<&'a Value, SelectError> {
        match &self.root {
            Root::Document => Ok(env.document),
            Root::Context => Ok(env.context),
            Root::Variable(name) => env.variables.get(name).ok_or_else(|| SelectError {
                kind: SelectErrorKind::UndefinedVariable,
                message: format!("Undefined variable '${name}'"),
            }),
        }
    }

    /// The selection before any trailing function.
    fn select_base<'a>(&self, doc: &'a Value) -> Result<Cow<'a, Value>, SelectError> {
        let n = self.segments.len();
        if self.simple {
            return self
                .walk_simple(doc, n, true)
                .map(Cow::Borrowed)
                .map_err(|m| self.miss_error(m));
        }
        let merge = matches!(
            self.segments.last(),
            Some(Segment::Child(Selector::Names(_)))
        );
        if self.definite {
            // Only a leaf name union makes a definite path non-simple: merge it.
            let parent = self
                .walk_simple(doc, n - 1, false)
                .map_err(|m| self.miss_error(m))?;
            return match parent {
                Value::Object(_) => Ok(Cow::Owned(self.merge_names(parent).unwrap_or_default())),
                other => Err(self.not_an_object(n - 1, other)),
            };
        }
        let mut out = Vec::new();
        if merge {
            eval::eval_segments(&self.segments[..n - 1], doc, doc, &mut out);
            let merged = out
                .into_iter()
                .filter_map(|v| self.merge_names(v))
                .collect();
            return Ok(Cow::Owned(Value::Array(merged)));
        }
        eval::eval_segments(&self.segments, doc, doc, &mut out);
        Ok(Cow::Owned(Value::Array(out.into_iter().cloned().collect())))
    }

    /// Jayway's leaf name union: an object holding the listed properties that exist.
    fn merge_names(&self, v: &Value) -> Option<Value> {
        let (Some(Segment::Child(Selector::Names(names))), Value::Object(m)) =
            (self.segments.last(), v)
        else {
            return None;
        };
        let mut out = serde_json::Map::new();
        for n in names {
            if let Some(x) = m.get(n) {
                out.insert(n.clone(), x.clone());
            }
        }
        Some(Value::Object(out))
    }

    /// Walks the first `n` segments, which must all be `.name` / `[index]`. `leaf` says the
    /// `n`th segment ends the path (a missing leaf is "No results", a missing intermediate
    /// "Missing property", as Jayway words them). Never allocates: a miss is described only
    /// when a caller turns it into a [`SelectError`].
    fn walk_simple<'a>(&self, doc: &'a Value, n: usize, leaf: bool) -> Result<&'a Value, Miss<'a>> {
        let mut cur = doc;
        for (i, seg) in self.segments[..n].iter().enumerate() {
            let last = leaf && i + 1 == n;
            let miss = |kind| Miss {
                kind,
                at: i,
                found: cur,
            };
            cur = match (seg, cur) {
                (Segment::Child(Selector::Name(name)), Value::Object(m)) => match m.get(name) {
                    Some(v) => v,
                    None if last => return Err(miss(SelectErrorKind::NoResults)),
                    None => return Err(miss(SelectErrorKind::MissingProperty)),
                },
                (Segment::Child(Selector::Name(_)), _) => {
                    return Err(miss(SelectErrorKind::NotAnObject))
                }
                (Segment::Child(Selector::Index(k)), Value::Array(a)) => {
                    match eval::resolve_index(*k, a.len()) {
                        Some(u) => &a[u],
                        None => return Err(miss(SelectErrorKind::NoResults)),
                    }
                }
                (Segment::Child(Selector::Index(_)), Value::Null) => {
                    return Err(miss(SelectErrorKind::NullValue))
                }
                (Segment::Child(Selector::Index(_)), _) => {
                    return Err(miss(SelectErrorKind::NotAnArray))
                }
                // Callers only walk simple prefixes.
                _ => return Err(miss(SelectErrorKind::NoResults)),
            };
        }
        Ok(cur)
    }

    /// Words a [`Miss`] the way Jayway (and so AWS) does.
    fn miss_error(&self, m: Miss<'_>) -> SelectError {
        let message = match m.kind {
            SelectErrorKind::NoResults => format!(
                "No results for path: {}",
                self.normalized_prefix(self.segments.len(), false)
            ),
            SelectErrorKind::MissingProperty => format!(
                "Missing property in path {}",
                self.normalized_prefix(m.at + 1, false)
            ),
            SelectErrorKind::NotAnObject => return self.not_an_object(m.at, m.found),
            SelectErrorKind::NullValue => {
                format!("The path {} is null", self.normalized_prefix(m.at, false))
            }
            _ => {
                let mut sel = String::new();
                if let Some(Segment::Child(s)) = self.segments.get(m.at) {
                    write_selector(s, &mut sel);
                }
                format!(
                    "Filter: {sel} can only be applied to arrays. Current context is: {}",
                    m.found
                )
            }
        };
        SelectError {
            kind: m.kind,
            message,
        }
    }

    /// Segment `i` wanted an object but found `found`.
    fn not_an_object(&self, i: usize, found: &Value) -> SelectError {
        let mut prop = String::new();
        if let Some(Segment::Child(sel)) = self.segments.get(i) {
            write_selector(sel, &mut prop);
        }
        SelectError {
            kind: SelectErrorKind::NotAnObject,
            message: format!(
                "Expected to find an object with property {prop} in path {} but found '{}'. \
                 This is not a json object according to the JsonProvider: \
                 'com.jayway.jsonpath.spi.json.JacksonJsonProvider'.",
                self.normalized_prefix(i, false),
                java_type(found)
            ),
        }
    }

    /// Writes `value` at this (reference, `$`-rooted) path inside `doc`, creating missing
    /// objects on the way (ResultPath semantics). `$` replaces the whole document. Fails —
    /// AWS's `States.ResultPathMatchFailure` — when a step meets a value it cannot descend
    /// into (a field of a non-object, an index of a non-array or out of its bounds).
    pub fn set(&self, doc: &mut Value, value: Value) -> Result<(), SetError> {
        if !self.is_reference_path() {
            return Err(SetError {
                message: format!("'{}' is not a reference path", self.src),
            });
        }
        if self.root != Root::Document {
            return Err(SetError {
                message: format!("'{}' must start with '$.' to be written to", self.src),
            });
        }
        // Check first, so a failing write leaves `doc` untouched.
        self.check_set(doc)?;
        let mut cur = doc;
        for (i, seg) in self.segments.iter().enumerate() {
            cur = match seg {
                Segment::Child(Selector::Name(name)) => {
                    if cur.is_null() {
                        *cur = Value::Object(Default::default());
                    }
                    match cur {
                        Value::Object(map) => map.entry(name.clone()).or_insert(Value::Null),
                        other => {
                            return Err(SetError {
                                message: format!(
                                    "Unable to set property ['{name}'] at path {}: it is {}, not an object",
                                    self.normalized_prefix(i, false),
                                    json_type(other)
                                ),
                            })
                        }
                    }
                }
                Segment::Child(Selector::Index(k)) => match cur {
                    Value::Array(items) => match eval::resolve_index(*k, items.len()) {
                        Some(u) => &mut items[u],
                        None => {
                            return Err(SetError {
                                message: format!(
                                    "Unable to set index [{k}] at path {}: out of bounds for an array of length {}",
                                    self.normalized_prefix(i, false),
                                    items.len()
                                ),
                            })
                        }
                    },
                    other => {
                        return Err(SetError {
                            message: format!(
                                "Unable to set index [{k}] at path {}: it is {}, not an array",
                                self.normalized_prefix(i, false),
                                json_type(other)
                            ),
                        })
                    }
                },
                _ => {
                    return Err(SetError { message: format!("'{}' is not a reference path", self.src) })
                }
            };
        }
        *cur = value;
        Ok(())
    }
}

impl Path {
    /// Dry run of [`Path::set`]: finds the error it would hit without mutating. Once a step
    /// creates a new object, everything after it is created too, so only index steps can fail.
    fn check_set(&self, doc: &Value) -> Result<(), SetError> {
        let mut cur = Some(doc);
        for (i, seg) in self.segments.iter().enumerate() {
            let here = self.normalized_prefix(i, false);
            cur = match (seg, cur) {
                (Segment::Child(Selector::Name(_)), None | Some(Value::Null)) => None,
                (Segment::Child(Selector::Name(name)), Some(Value::Object(m))) => m.get(name),
                (Segment::Child(Selector::Name(name)), Some(other)) => {
                    return Err(SetError {
                        message: format!(
                            "Unable to set property ['{name}'] at path {here}: it is {}, not an object",
                            json_type(other)
                        ),
                    })
                }
                (Segment::Child(Selector::Index(k)), Some(Value::Array(a))) => {
                    match eval::resolve_index(*k, a.len()) {
                        Some(u) => Some(&a[u]),
                        None => {
                            return Err(SetError {
                                message: format!(
                                    "Unable to set index [{k}] at path {here}: out of bounds for an array of length {}",
                                    a.len()
                                ),
                            })
                        }
                    }
                }
                (Segment::Child(Selector::Index(k)), other) => {
                    return Err(SetError {
                        message: format!(
                            "Unable to set index [{k}] at path {here}: it is {}, not an array",
                            other.map_or("missing", json_type)
                        ),
                    })
                }
                _ => {
                    return Err(SetError { message: format!("'{}' is not a reference path", self.src) })
                }
            };
        }
        Ok(())
    }
}

/// Where and why a borrow-only walk stopped.
struct Miss<'a> {
    kind: SelectErrorKind,
    /// Index of the segment that failed.
    at: usize,
    /// The value that segment was applied to.
    found: &'a Value,
}

fn write_selector(sel: &Selector, out: &mut String) {
    use std::fmt::Write;
    match sel {
        Selector::Name(n) => {
            let _ = write!(out, "['{n}']");
        }
        Selector::Names(ns) => {
            out.push('[');
            for (i, n) in ns.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                let _ = write!(out, "'{n}'");
            }
            out.push(']');
        }
        Selector::Index(i) => {
            let _ = write!(out, "[{i}]");
        }
        Selector::Indexes(is) => {
            out.push('[');
            for (j, i) in is.iter().enumerate() {
                if j > 0 {
                    out.push(',');
                }
                let _ = write!(out, "{i}");
            }
            out.push(']');
        }
        Selector::Wildcard => out.push_str("[*]"),
        Selector::Slice(s) => {
            let opt = |v: Option<i64>| v.map(|x| x.to_string()).unwrap_or_default();
            let _ = write!(out, "[{}:{}", opt(s.start), opt(s.end));
            if let Some(st) = s.step {
                let _ = write!(out, ":{st}");
            }
            out.push(']');
        }
        Selector::Filter(_) => out.push_str("[?]"),
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The Java class Jayway would name for a JSON value in its "not a json object" message.
fn java_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "java.lang.Boolean",
        Value::Number(n) if n.is_f64() => "java.lang.Double",
        Value::Number(n) if n.as_i64().is_some_and(|x| i32::try_from(x).is_ok()) => {
            "java.lang.Integer"
        }
        Value::Number(_) => "java.lang.Long",
        Value::String(_) => "java.lang.String",
        Value::Array(_) => "java.util.ArrayList",
        Value::Object(_) => "java.util.LinkedHashMap",
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.src)
    }
}
