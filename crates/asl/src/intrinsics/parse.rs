//! The intrinsic call grammar: `States.Name(arg, ...)` where an argument is a single-quoted
//! string (escapes `\'` `\{` `\}` `\\` only), a number, `true`/`false`/`null`, a JSONPath
//! (`$…`, `$$…`, `$var…`) or a nested call.

use super::{Arg, Function, IntrinsicSyntaxError, Node, Piece};
use crate::jsonpath::Path;
use serde_json::{Number, Value};

/// AWS documents "up to 10 intrinsic functions within a field".
pub const MAX_NESTING: usize = 10;

/// Why a literal Format template with unbalanced braces fails (reported at run time, as AWS
/// does, and only when the literal is actually used as a template).
const UNMATCHED_OPEN: &str = "matching '}' not found for '{'.";
const UNMATCHED_CLOSE: &str = "matching '{' not found for '}'.";

pub(super) fn parse(src: &str) -> Result<Node, IntrinsicSyntaxError> {
    let text = src.trim();
    let mut p = Parser { src: text, pos: 0 };
    let node = p.call(1)?;
    p.skip_ws();
    if p.pos != text.len() {
        return Err(p.err("unexpected text after the closing ')'"));
    }
    Ok(node)
}

struct Parser<'a> {
    src: &'a str,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn err(&self, what: &str) -> IntrinsicSyntaxError {
        IntrinsicSyntaxError {
            message: format!(
                "invalid intrinsic function call '{}' at position {}: {}",
                self.src, self.pos, what
            ),
        }
    }

    fn rest(&self) -> &'a str {
        self.src.get(self.pos..).unwrap_or("")
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
    }

    fn call(&mut self, depth: usize) -> Result<Node, IntrinsicSyntaxError> {
        if depth > MAX_NESTING {
            return Err(self.err(&format!(
                "intrinsic functions can be nested at most {MAX_NESTING} deep"
            )));
        }
        let start = self.pos;
        if !self.rest().starts_with("States.") {
            return Err(self.err("expected an intrinsic function name 'States.<Name>'"));
        }
        self.pos += "States.".len();
        while self.peek().is_some_and(|c| c.is_ascii_alphanumeric()) {
            self.bump();
        }
        let name = &self.src[start..self.pos];
        let func = Function::from_name(name)
            .ok_or_else(|| self.err(&format!("unknown intrinsic function '{name}'")))?;
        self.skip_ws();
        if self.bump() != Some('(') {
            return Err(self.err("expected '(' after the function name"));
        }
        self.skip_ws();
        let mut args = Vec::new();
        if self.peek() == Some(')') {
            self.bump();
        } else {
            loop {
                self.skip_ws();
                args.push(self.arg(depth)?);
                self.skip_ws();
                match self.bump() {
                    Some(',') => continue,
                    Some(')') => break,
                    Some(_) => return Err(self.err("expected ',' or ')' after an argument")),
                    None => return Err(self.err("missing ')'")),
                }
            }
        }
        Ok(Node {
            func,
            args,
            src: self.src[start..self.pos].to_string(),
        })
    }

    fn arg(&mut self, depth: usize) -> Result<Arg, IntrinsicSyntaxError> {
        match self.peek() {
            Some('\'') => self.string(),
            Some('$') => self.path(),
            Some(c) if c == '-' || c.is_ascii_digit() => self.number(),
            Some(_) if self.rest().starts_with("States.") => {
                Ok(Arg::Call(Box::new(self.call(depth + 1)?)))
            }
            Some(_) => {
                for (word, value) in [
                    ("true", Value::Bool(true)),
                    ("false", Value::Bool(false)),
                    ("null", Value::Null),
                ] {
                    if let Some(after) = self.rest().strip_prefix(word) {
                        let ends = after
                            .chars()
                            .next()
                            .is_none_or(|c| c == ',' || c == ')' || c.is_whitespace());
                        if ends {
                            self.pos += word.len();
                            return Ok(Arg::Literal(value));
                        }
                    }
                }
                Err(self.err("expected a string, number, boolean, null, path or function call"))
            }
            None => Err(self.err("missing argument")),
        }
    }

    fn string(&mut self) -> Result<Arg, IntrinsicSyntaxError> {
        self.bump(); // opening quote
        let mut value = String::new();
        let mut pieces: Vec<Piece> = Vec::new();
        let mut template_err: Option<&str> = None;
        let mut text = String::new();
        loop {
            let Some(c) = self.bump() else {
                return Err(self.err("unterminated string literal"));
            };
            match c {
                '\'' => break,
                '\\' => match self.bump() {
                    Some(e @ ('\'' | '{' | '}' | '\\')) => {
                        value.push(e);
                        text.push(e);
                    }
                    _ => {
                        return Err(self.err(
                            "invalid escape in string literal (only \\', \\{, \\} and \\\\ are allowed)",
                        ))
                    }
                },
                '{' if self.peek() == Some('}') => {
                    self.bump();
                    value.push_str("{}");
                    if !text.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut text)));
                    }
                    pieces.push(Piece::Placeholder);
                }
                '{' => {
                    value.push(c);
                    text.push(c);
                    template_err.get_or_insert(UNMATCHED_OPEN);
                }
                '}' => {
                    value.push(c);
                    text.push(c);
                    template_err.get_or_insert(UNMATCHED_CLOSE);
                }
                _ => {
                    value.push(c);
                    text.push(c);
                }
            }
        }
        if !text.is_empty() {
            pieces.push(Piece::Text(text));
        }
        let template = match template_err {
            Some(e) => Err(e.to_string()),
            None => Ok(pieces),
        };
        Ok(Arg::Str { value, template })
    }

    /// A path runs to the next top-level `,`, `)` or whitespace; brackets (with quoted names
    /// and filter expressions) may contain any of those.
    fn path(&mut self) -> Result<Arg, IntrinsicSyntaxError> {
        let start = self.pos;
        let mut brackets = 0usize;
        let mut parens = 0usize;
        let mut quote: Option<char> = None;
        while let Some(c) = self.peek() {
            if let Some(q) = quote {
                if c == '\\' {
                    self.bump();
                } else if c == q {
                    quote = None;
                }
                self.bump();
                continue;
            }
            let inside = brackets > 0 || parens > 0;
            match c {
                '\'' | '"' if inside => quote = Some(c),
                '[' => brackets += 1,
                ']' if brackets > 0 => brackets -= 1,
                '(' if brackets > 0 => parens += 1,
                ')' if parens > 0 => parens -= 1,
                ',' | ')' if !inside => break,
                c if c.is_whitespace() && !inside => break,
                _ => {}
            }
            self.bump();
        }
        let text = &self.src[start..self.pos];
        Path::parse(text)
            .map(Arg::Path)
            .map_err(|e| self.err(&format!("invalid path argument '{text}': {}", e.message)))
    }

    fn number(&mut self) -> Result<Arg, IntrinsicSyntaxError> {
        let start = self.pos;
        if self.peek() == Some('-') {
            self.bump();
        }
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'))
        {
            self.bump();
        }
        let text = &self.src[start..self.pos];
        let bad = || self.err(&format!("invalid number '{text}'"));
        // Same shape as a JSON number (no leading '+', no bare '.5').
        let body = text.strip_prefix('-').unwrap_or(text);
        if !body.starts_with(|c: char| c.is_ascii_digit()) {
            return Err(bad());
        }
        let is_integer = !text.contains(['.', 'e', 'E']);
        if is_integer {
            if let Ok(i) = text.parse::<i64>() {
                return Ok(Arg::Literal(Value::from(i)));
            }
        }
        let f: f64 = text.parse().map_err(|_| bad())?;
        let n = Number::from_f64(f).ok_or_else(bad)?;
        Ok(Arg::Literal(Value::Number(n)))
    }
}
