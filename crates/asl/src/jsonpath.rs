//! AWS's JSONPath dialect (as Step Functions evaluates it, Jayway-flavoured).
//!
//! A [`Path`] is compiled once at validation time; evaluation never re-parses text.
//! Roots: `$` (the state's input or whatever document the caller passes), `$$` (the context
//! object) and `$name` (a workflow variable, JSONPath-mode access to `Assign`ed values).

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

#[derive(Debug, Clone, PartialEq)]
enum Segment {
    Field(String),
    Index(i64),
}

/// A compiled JSONPath.
#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    src: String,
    root: Root,
    segments: Vec<Segment>,
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

/// Why a value could not be written at a reference path (ResultPath).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetError {
    pub message: String,
}

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
    /// Compiles a path. Accepts `$`, `$$` and `$name` roots.
    pub fn parse(src: &str) -> Result<Path, PathSyntaxError> {
        let err = |m: &str| PathSyntaxError { path: src.to_string(), message: m.to_string() };
        let rest = src.strip_prefix('$').ok_or_else(|| err("must start with '$'"))?;
        let (root, mut rest) = if let Some(r) = rest.strip_prefix('$') {
            (Root::Context, r)
        } else {
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            if end == 0 {
                (Root::Document, rest)
            } else {
                (Root::Variable(rest[..end].to_string()), &rest[end..])
            }
        };
        let mut segments = Vec::new();
        while !rest.is_empty() {
            if let Some(r) = rest.strip_prefix('.') {
                let end = r.find(['.', '[']).unwrap_or(r.len());
                if end == 0 {
                    return Err(err("empty field name"));
                }
                segments.push(Segment::Field(r[..end].to_string()));
                rest = &r[end..];
            } else if let Some(r) = rest.strip_prefix('[') {
                let close = r.find(']').ok_or_else(|| err("unclosed '['"))?;
                let inner = r[..close].trim();
                if let Some(name) =
                    inner.strip_prefix('\'').and_then(|s| s.strip_suffix('\''))
                {
                    segments.push(Segment::Field(name.to_string()));
                } else {
                    let i: i64 = inner.parse().map_err(|_| err("unsupported bracket"))?;
                    segments.push(Segment::Index(i));
                }
                rest = &r[close + 1..];
            } else {
                return Err(err("unexpected character"));
            }
        }
        Ok(Path { src: src.to_string(), root, segments })
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
        self.root == Root::Document && self.segments.is_empty()
    }

    /// True when the path can only select one node (no wildcard, filter, slice, union or
    /// recursive descent). Reference paths (ResultPath) must be definite.
    pub fn is_definite(&self) -> bool {
        true
    }

    /// Evaluates the path's segments against `doc`, ignoring its root. `None` when a definite
    /// path selects nothing. Indefinite paths give an array of their matches (possibly empty).
    pub fn select<'a>(&self, doc: &'a Value) -> Option<Cow<'a, Value>> {
        let mut cur = doc;
        for seg in &self.segments {
            cur = match (seg, cur) {
                (Segment::Field(name), Value::Object(map)) => map.get(name)?,
                (Segment::Index(i), Value::Array(items)) => {
                    let idx = if *i < 0 { items.len() as i64 + *i } else { *i };
                    items.get(usize::try_from(idx).ok()?)?
                }
                _ => return None,
            };
        }
        Some(Cow::Borrowed(cur))
    }

    /// Evaluates the path against its root in `env`.
    pub fn select_env<'a>(&self, env: &PathEnv<'a>) -> Option<Cow<'a, Value>> {
        match &self.root {
            Root::Document => self.select(env.document),
            Root::Context => self.select(env.context),
            Root::Variable(name) => self.select(env.variables.get(name)?),
        }
    }

    /// Writes `value` at this (definite, `$`-rooted) path inside `doc`, creating missing
    /// objects on the way (ResultPath semantics). `$` replaces the whole document.
    pub fn set(&self, doc: &mut Value, value: Value) -> Result<(), SetError> {
        let mut cur = doc;
        for seg in &self.segments {
            cur = match seg {
                Segment::Field(name) => {
                    if cur.is_null() {
                        *cur = Value::Object(Default::default());
                    }
                    match cur {
                        Value::Object(map) => map.entry(name.clone()).or_insert(Value::Null),
                        _ => {
                            return Err(SetError {
                                message: format!("cannot set field '{name}' on a non-object"),
                            })
                        }
                    }
                }
                Segment::Index(i) => match cur {
                    Value::Array(items) if *i >= 0 && (*i as usize) < items.len() => {
                        &mut items[*i as usize]
                    }
                    _ => {
                        return Err(SetError { message: format!("cannot set index {i}") });
                    }
                },
            };
        }
        *cur = value;
        Ok(())
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.src)
    }
}
