//! Parser for the Jayway-flavoured JSONPath text AWS accepts.
//!
//! Hand-written recursive descent over a byte cursor: the grammar is small, and owning the
//! parser lets error messages and corner cases (dot names with odd characters, `.[` forms,
//! Jayway's filter operators) follow AWS rather than a generic JSONPath crate.

use super::filter::{CmpOp, Expr, Operand};
use super::{Root, Segment, Selector, Slice};
use serde_json::Value;

/// A parsed path body: segments plus an optional trailing function call.
#[derive(Debug, Clone)]
pub(crate) struct Parsed {
    pub root: Root,
    pub segments: Vec<Segment>,
    pub function: Option<Function>,
}

/// Jayway's path functions; only valid as the last step of a path.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Function {
    Length,
    Size,
    Min,
    Max,
    Avg,
    Sum,
    Stddev,
    Keys,
    First,
    Last,
    Index(i64),
}

impl Function {
    pub fn text(&self) -> String {
        match self {
            Function::Length => "length()".into(),
            Function::Size => "size()".into(),
            Function::Min => "min()".into(),
            Function::Max => "max()".into(),
            Function::Avg => "avg()".into(),
            Function::Sum => "sum()".into(),
            Function::Stddev => "stddev()".into(),
            Function::Keys => "keys()".into(),
            Function::First => "first()".into(),
            Function::Last => "last()".into(),
            Function::Index(i) => format!("index({i})"),
        }
    }
}

/// Recursion cap for nested filters / parentheses, so hostile input cannot blow the stack.
const MAX_DEPTH: usize = 64;

pub(crate) struct Parser<'s> {
    s: &'s str,
    pos: usize,
    depth: usize,
}

/// Where a path is being parsed: filters end dot-names at operator characters.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    TopLevel,
    Filter,
}

type PResult<T> = Result<T, String>;

impl<'s> Parser<'s> {
    pub fn new(s: &'s str) -> Self {
        Parser {
            s,
            pos: 0,
            depth: 0,
        }
    }

    fn peek(&self) -> Option<char> {
        self.s[self.pos..].chars().next()
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.s[self.pos..].chars().nth(n)
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    fn eat_str(&mut self, t: &str) -> bool {
        if self.s[self.pos..].starts_with(t) {
            self.pos += t.len();
            true
        } else {
            false
        }
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(c) if c.is_whitespace()) {
            self.bump();
        }
    }

    fn rest(&self) -> &'s str {
        &self.s[self.pos..]
    }

    fn at_end(&self) -> bool {
        self.pos >= self.s.len()
    }

    fn err<T>(&self, msg: impl Into<String>) -> PResult<T> {
        Err(format!("{} at position {}", msg.into(), self.pos))
    }

    /// Parses a whole top-level path (`$…`, `$$…`, `$name…`).
    pub fn parse_top(mut self) -> PResult<Parsed> {
        if !self.eat('$') {
            return self.err("path must start with '$'");
        }
        let root = if self.eat('$') {
            Root::Context
        } else {
            let start = self.pos;
            while let Some(c) = self.peek() {
                if c == '.' || c == '[' || c == '(' || c.is_whitespace() {
                    break;
                }
                self.bump();
            }
            if self.pos == start {
                Root::Document
            } else {
                let name = &self.s[start..self.pos];
                if !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
                    return Err(format!("invalid variable name '{name}'"));
                }
                Root::Variable(name.to_string())
            }
        };
        let (segments, function) = self.parse_segments(Mode::TopLevel)?;
        if !self.at_end() {
            return self.err(format!(
                "unexpected character '{}'",
                self.peek().unwrap_or(' ')
            ));
        }
        Ok(Parsed {
            root,
            segments,
            function,
        })
    }

    /// Parses segments until a character that cannot continue a path.
    fn parse_segments(&mut self, mode: Mode) -> PResult<(Vec<Segment>, Option<Function>)> {
        let mut segs = Vec::new();
        loop {
            match self.peek() {
                Some('.') => {
                    self.bump();
                    if self.eat('.') {
                        // recursive descent
                        match self.peek() {
                            Some('[') => {
                                self.bump();
                                segs.push(Segment::Descendant(self.parse_bracket()?));
                            }
                            Some('*') => {
                                self.bump();
                                segs.push(Segment::Descendant(Selector::Wildcard));
                            }
                            _ => {
                                let name = self.dot_name(mode)?;
                                if self.peek() == Some('(') {
                                    return self.err("functions cannot follow '..'");
                                }
                                segs.push(Segment::Descendant(Selector::Name(name)));
                            }
                        }
                    } else if self.eat('[') {
                        segs.push(Segment::Child(self.parse_bracket()?));
                    } else if self.eat('*') {
                        segs.push(Segment::Child(Selector::Wildcard));
                    } else {
                        let name = self.dot_name(mode)?;
                        if self.peek() == Some('(') {
                            let f = self.function(&name)?;
                            return Ok((segs, Some(f)));
                        }
                        segs.push(Segment::Child(Selector::Name(name)));
                    }
                }
                Some('[') => {
                    self.bump();
                    segs.push(Segment::Child(self.parse_bracket()?));
                }
                _ => return Ok((segs, None)),
            }
        }
    }

    /// A dot-notation member name. Jayway accepts almost any character here (`-`, `:`, `@`…);
    /// it stops at `.`, `[`, `(` and whitespace, and inside filters also at operators.
    fn dot_name(&mut self, mode: Mode) -> PResult<String> {
        let start = self.pos;
        while let Some(c) = self.peek() {
            let stop = match mode {
                Mode::TopLevel => matches!(c, '.' | '[' | '(') || c.is_whitespace(),
                Mode::Filter => {
                    matches!(
                        c,
                        '.' | '[' | '(' | ')' | ']' | '<' | '>' | '=' | '!' | '&' | '|' | ','
                    ) || c.is_whitespace()
                }
            };
            if stop {
                break;
            }
            self.bump();
        }
        if self.pos == start {
            return if self.at_end() {
                self.err("path must not end with '.' or '..'")
            } else {
                self.err("empty property name")
            };
        }
        Ok(self.s[start..self.pos].to_string())
    }

    fn function(&mut self, name: &str) -> PResult<Function> {
        // at '('
        self.bump();
        self.skip_ws();
        let args_start = self.pos;
        while let Some(c) = self.peek() {
            if c == ')' {
                break;
            }
            self.bump();
        }
        if !self.eat(')') {
            return self.err("unclosed function call");
        }
        let args = self.s[args_start..self.pos - 1].trim();
        let no_args = |f: Function| -> PResult<Function> {
            if args.is_empty() {
                Ok(f)
            } else {
                Err(format!("function {name}() takes no arguments"))
            }
        };
        match name {
            "length" => no_args(Function::Length),
            "size" => no_args(Function::Size),
            "min" => no_args(Function::Min),
            "max" => no_args(Function::Max),
            "avg" => no_args(Function::Avg),
            "sum" => no_args(Function::Sum),
            "stddev" => no_args(Function::Stddev),
            "keys" => no_args(Function::Keys),
            "first" => no_args(Function::First),
            "last" => no_args(Function::Last),
            "index" => args
                .parse::<i64>()
                .map(Function::Index)
                .map_err(|_| "function index() takes one integer argument".to_string()),
            _ => Err(format!("unknown function '{name}'")),
        }
    }

    /// Parses what follows a `[`, through the closing `]`.
    fn parse_bracket(&mut self) -> PResult<Selector> {
        self.skip_ws();
        let sel = match self.peek() {
            Some('*') => {
                self.bump();
                Selector::Wildcard
            }
            Some('?') => {
                self.bump();
                self.skip_ws();
                let e = self.expr()?;
                Selector::Filter(Box::new(e))
            }
            Some(q @ ('\'' | '"')) => {
                let mut names = Vec::new();
                loop {
                    self.skip_ws();
                    match self.peek() {
                        Some(q2 @ ('\'' | '"')) => {
                            self.bump();
                            names.push(self.quoted(q2)?);
                        }
                        _ => return self.err("expected a quoted property name"),
                    }
                    self.skip_ws();
                    if !self.eat(',') {
                        break;
                    }
                }
                let _ = q;
                if names.len() == 1 {
                    Selector::Name(names.pop().unwrap_or_default())
                } else {
                    Selector::Names(names)
                }
            }
            _ => {
                let start = self.pos;
                while let Some(c) = self.peek() {
                    if c == ']' {
                        break;
                    }
                    self.bump();
                }
                let inner = self.s[start..self.pos].trim();
                if inner.contains(':') {
                    Selector::Slice(parse_slice(inner)?)
                } else if inner.contains(',') {
                    let mut idx = Vec::new();
                    for part in inner.split(',') {
                        idx.push(parse_int(part.trim())?);
                    }
                    Selector::Indexes(idx)
                } else if inner.is_empty() {
                    return self.err("empty brackets");
                } else {
                    Selector::Index(parse_int(inner)?)
                }
            }
        };
        self.skip_ws();
        if !self.eat(']') {
            return self.err("expected ']'");
        }
        Ok(sel)
    }

    /// Reads a quoted string after its opening quote `q`. A backslash escapes the quote
    /// character and itself; any other backslash sequence is kept verbatim, which is what AWS
    /// does (a recorded case selects the key `Test\""Name"` with `$['Test\""Name"']`).
    fn quoted(&mut self, q: char) -> PResult<String> {
        let mut out = String::new();
        loop {
            match self.bump() {
                None => return self.err("unterminated string"),
                Some('\\') => match self.peek() {
                    Some(c) if c == q || c == '\\' => {
                        self.bump();
                        out.push(c);
                    }
                    Some(c) => {
                        self.bump();
                        out.push('\\');
                        out.push(c);
                    }
                    None => return self.err("unterminated string"),
                },
                Some(c) if c == q => return Ok(out),
                Some(c) => out.push(c),
            }
        }
    }

    // ---- filter expressions ----

    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.err("expression nested too deeply");
        }
        Ok(())
    }

    fn expr(&mut self) -> PResult<Expr> {
        self.enter()?;
        let mut left = self.and_expr()?;
        loop {
            self.skip_ws();
            if self.eat_str("||") {
                let right = self.and_expr()?;
                left = Expr::Or(Box::new(left), Box::new(right));
            } else {
                break;
            }
        }
        self.depth -= 1;
        Ok(left)
    }

    fn and_expr(&mut self) -> PResult<Expr> {
        let mut left = self.unary()?;
        loop {
            self.skip_ws();
            if self.eat_str("&&") {
                let right = self.unary()?;
                left = Expr::And(Box::new(left), Box::new(right));
            } else {
                break;
            }
        }
        Ok(left)
    }

    fn unary(&mut self) -> PResult<Expr> {
        self.skip_ws();
        if self.peek() == Some('!') && self.peek_at(1) != Some('=') {
            self.bump();
            self.enter()?;
            let e = self.unary()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(e)));
        }
        if self.eat('(') {
            let e = self.expr()?;
            self.skip_ws();
            if !self.eat(')') {
                return self.err("expected ')'");
            }
            return Ok(e);
        }
        self.comparison()
    }

    fn comparison(&mut self) -> PResult<Expr> {
        let left = self.operand()?;
        self.skip_ws();
        let Some(op) = self.cmp_op() else {
            return match left {
                Operand::Path(p) => Ok(Expr::Exists(p)),
                Operand::Literal(Value::Bool(b)) => Ok(Expr::Const(b)),
                _ => self.err("expected a comparison operator"),
            };
        };
        self.skip_ws();
        let right = self.operand()?;
        if matches!(op, CmpOp::Regex) != matches!(right, Operand::Regex(..)) {
            return self.err("'=~' needs a /regex/ on its right-hand side");
        }
        if matches!(left, Operand::Regex(..)) {
            return self.err("a regex can only be the right-hand side of '=~'");
        }
        Ok(Expr::Cmp(left, op, right))
    }

    fn cmp_op(&mut self) -> Option<CmpOp> {
        const SYMS: [(&str, CmpOp); 9] = [
            ("===", CmpOp::StrictEq),
            ("!==", CmpOp::StrictNe),
            ("==", CmpOp::Eq),
            ("!=", CmpOp::Ne),
            ("<=", CmpOp::Le),
            (">=", CmpOp::Ge),
            ("=~", CmpOp::Regex),
            ("<", CmpOp::Lt),
            (">", CmpOp::Gt),
        ];
        for (t, op) in SYMS {
            if self.eat_str(t) {
                return Some(op);
            }
        }
        const WORDS: [(&str, CmpOp); 10] = [
            ("subsetof", CmpOp::SubsetOf),
            ("anyof", CmpOp::AnyOf),
            ("noneof", CmpOp::NoneOf),
            ("contains", CmpOp::Contains),
            ("exists", CmpOp::ExistsOp),
            ("empty", CmpOp::Empty),
            ("size", CmpOp::Size),
            ("nin", CmpOp::Nin),
            ("in", CmpOp::In),
            ("all", CmpOp::All),
        ];
        for (t, op) in WORDS {
            if let Some(after) = self.rest().strip_prefix(t) {
                if !after.starts_with(|c: char| c.is_alphanumeric() || c == '_') {
                    self.pos += t.len();
                    return Some(op);
                }
            }
        }
        None
    }

    fn operand(&mut self) -> PResult<Operand> {
        self.skip_ws();
        match self.peek() {
            Some('@') => {
                self.bump();
                let (segments, function) = self.parse_segments(Mode::Filter)?;
                Ok(Operand::Path(Box::new(super::filter::RelPath {
                    absolute: false,
                    segments,
                    function,
                })))
            }
            Some('$') => {
                self.bump();
                if matches!(self.peek(), Some(c) if c == '$' || c.is_alphanumeric() || c == '_') {
                    return self.err("only '$' and '@' paths are allowed inside filters");
                }
                let (segments, function) = self.parse_segments(Mode::Filter)?;
                Ok(Operand::Path(Box::new(super::filter::RelPath {
                    absolute: true,
                    segments,
                    function,
                })))
            }
            Some('/') => {
                self.bump();
                let mut pat = String::new();
                loop {
                    match self.bump() {
                        None => return self.err("unterminated regex"),
                        Some('\\') => {
                            pat.push('\\');
                            match self.bump() {
                                Some(c) => pat.push(c),
                                None => return self.err("unterminated regex"),
                            }
                        }
                        Some('/') => break,
                        Some(c) => pat.push(c),
                    }
                }
                let mut flags = String::new();
                while let Some(c) = self.peek() {
                    if c.is_ascii_alphabetic() {
                        flags.push(c);
                        self.bump();
                    } else {
                        break;
                    }
                }
                let mut rflags = String::new();
                for f in flags.chars() {
                    match f {
                        'i' | 'm' | 's' | 'x' | 'U' => rflags.push(f),
                        // Java's UNICODE_CASE / UNIX_LINES: no effect for Rust's regex engine.
                        'u' | 'd' => {}
                        _ => return self.err(format!("unknown regex flag '{f}'")),
                    }
                }
                let full = if rflags.is_empty() {
                    format!("^(?:{pat})$")
                } else {
                    format!("(?{rflags})^(?:{pat})$")
                };
                let re = regex::Regex::new(&full).map_err(|e| format!("invalid regex: {e}"))?;
                Ok(Operand::Regex(Box::new(re)))
            }
            Some(q @ ('\'' | '"')) => {
                self.bump();
                Ok(Operand::Literal(Value::String(self.quoted(q)?)))
            }
            Some('[') | Some('{') => Ok(Operand::Literal(self.json_literal()?)),
            Some(c) if c == '-' || c.is_ascii_digit() => Ok(Operand::Literal(self.number()?)),
            _ => {
                for (w, v) in [
                    ("true", Value::Bool(true)),
                    ("false", Value::Bool(false)),
                    ("null", Value::Null),
                ] {
                    if let Some(after) = self.rest().strip_prefix(w) {
                        if !after.starts_with(|c: char| c.is_alphanumeric() || c == '_') {
                            self.pos += w.len();
                            return Ok(Operand::Literal(v));
                        }
                    }
                }
                self.err("expected a filter operand")
            }
        }
    }

    fn number(&mut self) -> PResult<Value> {
        let start = self.pos;
        self.eat('-');
        while let Some(c) = self.peek() {
            let exp_sign = c == '-' && matches!(self.s[..self.pos].chars().last(), Some('e' | 'E'));
            if c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+') || exp_sign {
                self.bump();
            } else {
                break;
            }
        }
        let text = &self.s[start..self.pos];
        if let Ok(i) = text.parse::<i64>() {
            return Ok(Value::from(i));
        }
        match text.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(Value::from(f)),
            _ => Err(format!("invalid number '{text}'")),
        }
    }

    /// A JSON-ish array/object literal (for `in`, `nin`, `subsetof`…). Jayway lets strings in
    /// it use single quotes, so we parse it ourselves rather than handing it to serde_json.
    fn json_literal(&mut self) -> PResult<Value> {
        self.enter()?;
        self.skip_ws();
        let v = match self.peek() {
            Some('[') => {
                self.bump();
                let mut items = Vec::new();
                self.skip_ws();
                if !self.eat(']') {
                    loop {
                        items.push(self.json_literal()?);
                        self.skip_ws();
                        if self.eat(',') {
                            continue;
                        }
                        if self.eat(']') {
                            break;
                        }
                        return self.err("expected ',' or ']' in array literal");
                    }
                }
                Value::Array(items)
            }
            Some('{') => {
                self.bump();
                let mut map = serde_json::Map::new();
                self.skip_ws();
                if !self.eat('}') {
                    loop {
                        self.skip_ws();
                        let key = match self.bump() {
                            Some(q @ ('\'' | '"')) => self.quoted(q)?,
                            _ => return self.err("expected a quoted key in object literal"),
                        };
                        self.skip_ws();
                        if !self.eat(':') {
                            return self.err("expected ':' in object literal");
                        }
                        let v = self.json_literal()?;
                        map.insert(key, v);
                        self.skip_ws();
                        if self.eat(',') {
                            continue;
                        }
                        if self.eat('}') {
                            break;
                        }
                        return self.err("expected ',' or '}' in object literal");
                    }
                }
                Value::Object(map)
            }
            Some(q @ ('\'' | '"')) => {
                self.bump();
                Value::String(self.quoted(q)?)
            }
            Some(c) if c == '-' || c.is_ascii_digit() => self.number()?,
            _ => {
                let mut found = None;
                for (w, v) in [
                    ("true", Value::Bool(true)),
                    ("false", Value::Bool(false)),
                    ("null", Value::Null),
                ] {
                    if self.eat_str(w) {
                        found = Some(v);
                        break;
                    }
                }
                match found {
                    Some(v) => v,
                    None => return self.err("invalid literal"),
                }
            }
        };
        self.depth -= 1;
        Ok(v)
    }
}

fn parse_int(s: &str) -> PResult<i64> {
    let t = s.trim();
    let digits = t.strip_prefix('-').unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("invalid array index '{t}'"));
    }
    t.parse::<i64>()
        .map_err(|_| format!("array index out of range '{t}'"))
}

fn parse_slice(s: &str) -> PResult<Slice> {
    let parts: Vec<&str> = s.split(':').collect();
    if parts.len() > 3 {
        return Err(format!("invalid slice '{s}'"));
    }
    let opt = |p: &str| -> PResult<Option<i64>> {
        let p = p.trim();
        if p.is_empty() {
            Ok(None)
        } else {
            parse_int(p).map(Some)
        }
    };
    let start = opt(parts[0])?;
    let end = opt(parts.get(1).copied().unwrap_or(""))?;
    let step = opt(parts.get(2).copied().unwrap_or(""))?;
    if step == Some(0) {
        return Err("slice step must not be 0".into());
    }
    Ok(Slice { start, end, step })
}
