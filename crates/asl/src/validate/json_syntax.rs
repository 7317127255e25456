//! JSON syntax errors worded the way AWS reports them (its parser is Jackson): the message,
//! then `\n at [Source: (String)"…"; line: L, column: C]`, and that bracket as the location.
//!
//! A small scanner of our own finds the first error; serde_json does the real parsing.
//! Like Jackson's default, content after the first complete root value is ignored.

use serde_json::Value;

/// Where the first syntax error is, and how Jackson words it.
struct SyntaxError {
    message: String,
    /// Index (in chars) just past the point Jackson reports.
    at: usize,
}

struct Scanner<'a> {
    chars: Vec<char>,
    i: usize,
    text: &'a str,
}

/// Jackson shows at most this many characters of the source.
const MAX_SOURCE: usize = 500;

fn describe(c: char) -> String {
    if (c as u32) < 0x20 {
        format!("(CTRL-CHAR, code {})", c as u32)
    } else {
        format!("('{c}' (code {}))", c as u32)
    }
}

impl Scanner<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.i).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t' | '\n' | '\r')) {
            self.i += 1;
        }
    }

    fn fail<T>(&self, message: String, at: usize) -> Result<T, SyntaxError> {
        Err(SyntaxError { message, at })
    }

    /// Reads the character at `i` and reports it as unexpected (Jackson points past it).
    fn unexpected<T>(&self, what: &str) -> Result<T, SyntaxError> {
        let c = self.peek().unwrap_or(' ');
        self.fail(
            format!("Unexpected character {}: {what}", describe(c)),
            self.i + 1,
        )
    }

    fn eof_close<T>(&self, kind: &str, start: usize) -> Result<T, SyntaxError> {
        let (l, c) = line_col(&self.chars, start);
        self.fail(
            format!(
                "Unexpected end-of-input: expected close marker for {kind} (start marker at {})",
                source(self.text, l, c)
            ),
            self.i,
        )
    }

    fn value(&mut self) -> Result<(), SyntaxError> {
        self.ws();
        match self.peek() {
            None => self.fail("No content to map due to end-of-input".into(), self.i),
            Some('{') => self.object(),
            Some('[') => self.array(),
            Some('"') => self.string(),
            Some(c) if c == '-' || c.is_ascii_digit() => self.number(),
            Some(c) if c.is_alphanumeric() || c == '_' || c == '$' => self.token(),
            Some(_) => self.unexpected("expected a value"),
        }
    }

    fn token(&mut self) -> Result<(), SyntaxError> {
        let start = self.i;
        while self
            .peek()
            .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$')
        {
            self.i += 1;
        }
        let tok: String = self.chars[start..self.i].iter().collect();
        if matches!(tok.as_str(), "true" | "false" | "null") {
            return Ok(());
        }
        self.fail(
            format!(
                "Unrecognized token '{tok}': was expecting (JSON String, Number, Array, Object or \
                 token 'null', 'true' or 'false')"
            ),
            self.i,
        )
    }

    fn number(&mut self) -> Result<(), SyntaxError> {
        if self.peek() == Some('-') {
            self.i += 1;
            if !self.peek().is_some_and(|c| c.is_ascii_digit()) {
                return match self.peek() {
                    None => self.fail("Unexpected end-of-input in numeric value".into(), self.i),
                    Some(_) => self.unexpected(
                        "expected digit (0-9) to follow minus sign, for valid numeric value",
                    ),
                };
            }
        }
        if self.peek() == Some('0')
            && self
                .chars
                .get(self.i + 1)
                .is_some_and(|c| c.is_ascii_digit())
        {
            return self.fail(
                "Invalid numeric value: Leading zeroes not allowed".into(),
                self.i + 2,
            );
        }
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'))
        {
            self.i += 1;
        }
        Ok(())
    }

    fn string(&mut self) -> Result<(), SyntaxError> {
        self.i += 1;
        loop {
            match self.peek() {
                None => {
                    return self.fail(
                        "Unexpected end-of-input: was expecting closing quote for a string value"
                            .into(),
                        self.i,
                    )
                }
                Some('"') => {
                    self.i += 1;
                    return Ok(());
                }
                Some('\\') => {
                    self.i += 1;
                    match self.peek() {
                        Some('"' | '\\' | '/' | 'b' | 'f' | 'n' | 'r' | 't') => self.i += 1,
                        Some('u') => {
                            self.i += 1;
                            for _ in 0..4 {
                                match self.peek() {
                                    Some(c) if c.is_ascii_hexdigit() => self.i += 1,
                                    Some(_) => {
                                        return self.unexpected(
                                            "expected a hex-digit for character escape sequence",
                                        )
                                    }
                                    None => break,
                                }
                            }
                        }
                        Some(c) => {
                            return self.fail(
                                format!(
                                    "Unrecognized character escape {}",
                                    describe(c).trim_matches(|c| c == '(' || c == ')')
                                ),
                                self.i + 1,
                            )
                        }
                        None => {}
                    }
                }
                Some(c) if (c as u32) < 0x20 => {
                    return self.fail(
                        format!(
                            "Illegal unquoted character ({}): has to be escaped using backslash \
                             to be included in string value",
                            describe(c)
                        ),
                        self.i + 1,
                    )
                }
                Some(_) => self.i += 1,
            }
        }
    }

    fn object(&mut self) -> Result<(), SyntaxError> {
        let start = self.i;
        self.i += 1;
        self.ws();
        if self.peek() == Some('}') {
            self.i += 1;
            return Ok(());
        }
        loop {
            self.ws();
            match self.peek() {
                None => return self.eof_close("Object", start),
                Some('"') => self.string()?,
                Some(_) => {
                    return self.unexpected("was expecting double-quote to start field name")
                }
            }
            self.ws();
            match self.peek() {
                None => return self.eof_close("Object", start),
                Some(':') => self.i += 1,
                Some(_) => {
                    return self
                        .unexpected("was expecting a colon to separate field name and value")
                }
            }
            self.ws();
            if self.peek().is_none() {
                return self.eof_close("Object", start);
            }
            self.value()?;
            self.ws();
            match self.peek() {
                None => return self.eof_close("Object", start),
                Some(',') => self.i += 1,
                Some('}') => {
                    self.i += 1;
                    return Ok(());
                }
                Some(_) => {
                    return self.unexpected("was expecting comma to separate Object entries")
                }
            }
        }
    }

    fn array(&mut self) -> Result<(), SyntaxError> {
        let start = self.i;
        self.i += 1;
        self.ws();
        if self.peek() == Some(']') {
            self.i += 1;
            return Ok(());
        }
        loop {
            self.ws();
            if self.peek().is_none() {
                return self.eof_close("Array", start);
            }
            self.value()?;
            self.ws();
            match self.peek() {
                None => return self.eof_close("Array", start),
                Some(',') => self.i += 1,
                Some(']') => {
                    self.i += 1;
                    return Ok(());
                }
                Some(_) => return self.unexpected("was expecting comma to separate Array entries"),
            }
        }
    }
}

/// 1-based line and column of char index `i` (Jackson's columns are 1-based too).
fn line_col(chars: &[char], i: usize) -> (usize, usize) {
    let mut line = 1;
    let mut line_start = 0;
    for (k, c) in chars.iter().enumerate().take(i) {
        if *c == '\n' {
            line += 1;
            line_start = k + 1;
        }
    }
    (line, i - line_start + 1)
}

fn source(text: &str, line: usize, col: usize) -> String {
    let n = text.chars().count();
    let shown: String = text.chars().take(MAX_SOURCE).collect();
    let truncated = if n > MAX_SOURCE {
        format!("[truncated {} chars]", n - MAX_SOURCE)
    } else {
        String::new()
    };
    format!("[Source: (String)\"{shown}\"{truncated}; line: {line}, column: {col}]")
}

/// Parses the first JSON value of `text` the way Jackson's default reader does: trailing
/// content after a complete root value is ignored. `Err((message, location))` on bad syntax.
pub(crate) fn parse_lenient(text: &str) -> Result<Value, (String, String)> {
    let mut sc = Scanner {
        chars: text.chars().collect(),
        i: 0,
        text,
    };
    let err = match sc.value() {
        Ok(()) => {
            let end: usize = sc.chars[..sc.i].iter().map(|c| c.len_utf8()).sum();
            match serde_json::from_str::<Value>(&text[..end]) {
                Ok(v) => return Ok(v),
                // Our scanner is looser than serde on numbers; word what serde found.
                Err(e) => SyntaxError {
                    message: format!("Invalid numeric value: {e}"),
                    at: sc.i,
                },
            }
        }
        Err(e) => e,
    };
    let (l, c) = line_col(&sc.chars, err.at);
    let src = source(text, l, c);
    Err((format!("{}\n at {src}", err.message), src))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unrecognized_token_like_aws() {
        let (m, l) = parse_lenient("not a definition").unwrap_err();
        assert_eq!(
            l,
            "[Source: (String)\"not a definition\"; line: 1, column: 4]"
        );
        assert_eq!(
            m,
            "Unrecognized token 'not': was expecting (JSON String, Number, Array, Object or token \
             'null', 'true' or 'false')\n at [Source: (String)\"not a definition\"; line: 1, column: 4]"
        );
    }

    #[test]
    fn other_errors() {
        let (m, _) = parse_lenient("{\"a\": 1,}").unwrap_err();
        assert!(m.starts_with("Unexpected character ('}' (code 125)): was expecting double-quote"));
        let (m, l) = parse_lenient("{\n \"a\": [1, 2").unwrap_err();
        assert!(
            m.starts_with("Unexpected end-of-input: expected close marker for Array"),
            "{m}"
        );
        assert!(l.ends_with("line: 2, column: 12]"), "{l}");
        assert!(parse_lenient("{\"a\": 1} trailing").is_ok());
        assert!(parse_lenient("{\"a\": \"x\ty\"}").is_err());
    }
}
