//! Intrinsic functions (`States.Format(...)` and friends) for JSONPath states.
//!
//! A `.$` value is compiled once with [`Call::parse`] (definition time: syntax, unknown function
//! names, bad escapes, nesting depth) and evaluated per state run with [`Call::eval`].
//! Argument *counts and types* are checked at run time, because that is where AWS reports them
//! (`States.Runtime`, "Invalid arguments in States.X").
//!
//! Runtime causes are the part AWS prints after its state prefix; the engine prepends
//! `An error occurred while executing the state '<name>' (entered at the event id #<n>). `.

mod functions;
mod parse;
mod render;

use crate::error::StateError;
use crate::jsonpath::{Path, PathEnv, Root};
use serde_json::Value;
use std::fmt;

pub use parse::MAX_NESTING;

/// The 18 intrinsic functions of JSONPath mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    Format,
    StringToJson,
    JsonToString,
    Array,
    ArrayPartition,
    ArrayContains,
    ArrayRange,
    ArrayGetItem,
    ArrayLength,
    ArrayUnique,
    Base64Encode,
    Base64Decode,
    Hash,
    JsonMerge,
    MathRandom,
    MathAdd,
    StringSplit,
    Uuid,
}

impl Function {
    const ALL: [(Function, &'static str); 18] = [
        (Function::Format, "States.Format"),
        (Function::StringToJson, "States.StringToJson"),
        (Function::JsonToString, "States.JsonToString"),
        (Function::Array, "States.Array"),
        (Function::ArrayPartition, "States.ArrayPartition"),
        (Function::ArrayContains, "States.ArrayContains"),
        (Function::ArrayRange, "States.ArrayRange"),
        (Function::ArrayGetItem, "States.ArrayGetItem"),
        (Function::ArrayLength, "States.ArrayLength"),
        (Function::ArrayUnique, "States.ArrayUnique"),
        (Function::Base64Encode, "States.Base64Encode"),
        (Function::Base64Decode, "States.Base64Decode"),
        (Function::Hash, "States.Hash"),
        (Function::JsonMerge, "States.JsonMerge"),
        (Function::MathRandom, "States.MathRandom"),
        (Function::MathAdd, "States.MathAdd"),
        (Function::StringSplit, "States.StringSplit"),
        (Function::Uuid, "States.UUID"),
    ];

    /// Looks up a full name such as `States.ArrayRange` (case-sensitive, as in AWS).
    pub fn from_name(name: &str) -> Option<Function> {
        Self::ALL.iter().find(|(_, n)| *n == name).map(|(f, _)| *f)
    }

    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(f, _)| *f == self)
            .map(|(_, n)| *n)
            .unwrap_or("States.?")
    }
}

/// A piece of a `States.Format` template.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Piece {
    Text(String),
    Placeholder,
}

/// One argument of a call, as written.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Arg {
    /// `true`, `false`, `null`, or a number.
    Literal(Value),
    /// A single-quoted string. Escaped braces are plain text but unescaped `{}` is a
    /// placeholder, so a literal Format template keeps its parsed pieces (or why it is invalid).
    Str {
        value: String,
        template: Result<Vec<Piece>, String>,
    },
    Path(Path),
    Call(Box<Node>),
}

/// A call with its source text (AWS quotes the failing call in its error cause).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub func: Function,
    pub args: Vec<Arg>,
    pub src: String,
}

/// A compiled intrinsic function call.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    root: Node,
}

/// Why a `.$` value is not a valid intrinsic call (a definition-time error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntrinsicSyntaxError {
    pub message: String,
}

impl fmt::Display for IntrinsicSyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for IntrinsicSyntaxError {}

/// True when a `.$` value should be treated as an intrinsic call rather than a path.
pub fn is_intrinsic(src: &str) -> bool {
    src.trim_start().starts_with("States.")
}

impl Call {
    /// Compiles `States.X(...)` text. Errors are definition-time errors.
    pub fn parse(src: &str) -> Result<Call, IntrinsicSyntaxError> {
        parse::parse(src).map(|root| Call { root })
    }

    /// Evaluates against the state's input/context/variables. Randomness (UUID, MathRandom
    /// without seed) comes from `rng` so runs are reproducible.
    pub fn eval(&self, env: &PathEnv, rng: &mut dyn rand::RngCore) -> Result<Value, StateError> {
        eval_node(&self.root, env, rng)
    }

    /// The function at the top of the call tree.
    pub fn function(&self) -> Function {
        self.root.func
    }

    /// The text the call was compiled from (trimmed).
    pub fn as_str(&self) -> &str {
        &self.root.src
    }
}

impl fmt::Display for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.root.src)
    }
}

/// Prefix AWS puts before every intrinsic evaluation failure, naming the failing call.
fn cause_prefix(node: &Node) -> String {
    format!(
        "There was an error while evaluating the intrinsic function: {}.",
        node.src
    )
}

/// The generic AWS failure for wrong argument count, type or range.
pub(crate) fn invalid_args(node: &Node) -> StateError {
    StateError::runtime(format!(
        "{} Invalid arguments in {}",
        cause_prefix(node),
        node.func.name()
    ))
}

/// Like [`invalid_args`] with AWS's extra explanation after a colon.
pub(crate) fn invalid_args_because(node: &Node, why: &str) -> StateError {
    StateError::runtime(format!(
        "{} Invalid arguments in {}: {}",
        cause_prefix(node),
        node.func.name(),
        why
    ))
}

fn eval_node(node: &Node, env: &PathEnv, rng: &mut dyn rand::RngCore) -> Result<Value, StateError> {
    let mut values = Vec::with_capacity(node.args.len());
    for arg in &node.args {
        values.push(eval_arg(node, arg, env, rng)?);
    }
    functions::apply(node, values, env, rng)
}

fn eval_arg(
    node: &Node,
    arg: &Arg,
    env: &PathEnv,
    rng: &mut dyn rand::RngCore,
) -> Result<Value, StateError> {
    match arg {
        Arg::Literal(v) => Ok(v.clone()),
        Arg::Str { value, .. } => Ok(Value::String(value.clone())),
        Arg::Call(inner) => eval_node(inner, env, rng),
        Arg::Path(path) => match path.select_env(env) {
            Some(v) => Ok(v.into_owned()),
            None => {
                let input = match path.root() {
                    Root::Context => env.context,
                    Root::Document | Root::Variable(_) => env.document,
                };
                let input_text = serde_json::to_string(input).unwrap_or_default();
                Err(StateError::runtime(format!(
                    "{} The JsonPath argument for the field '{}' could not be found in the input '{}'",
                    cause_prefix(node),
                    path.as_str(),
                    input_text
                )))
            }
        },
    }
}

#[cfg(test)]
mod tests;
