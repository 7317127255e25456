//! Maps a diagnostic location back to a line and column in the original definition text, so
//! tools can print `file:line:col`.
//!
//! Locations are AWS-style pointers: `/States/A/Next`, array items as `Choices[0]` (also
//! accepted: `/Choices/0`), `/` or empty for the root. State names are not escaped by AWS, so
//! keys are matched against the pointer text greedily — a name containing `/` still resolves.

/// 1-based (line, column) of the value at `pointer` in `text`, or `None` when the text does
/// not hold it. Columns count characters, not bytes.
pub fn locate(text: &str, pointer: &str) -> Option<(usize, usize)> {
    let mut sc = Scanner {
        b: text.as_bytes(),
        i: 0,
    };
    sc.ws();
    let rest = if pointer == "/" { "" } else { pointer };
    let at = sc.find(rest)?;
    Some(line_col(text, at))
}

fn line_col(text: &str, byte: usize) -> (usize, usize) {
    let before = &text[..byte.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |k| k + 1);
    (line, before[line_start..].chars().count() + 1)
}

struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        self.ws();
        (self.peek()? == c).then(|| self.i += 1)
    }

    /// Reads a JSON string starting at `"`, decoding escapes.
    fn string(&mut self) -> Option<String> {
        if self.peek()? != b'"' {
            return None;
        }
        self.i += 1;
        let mut out = String::new();
        let mut utf16: Vec<u16> = Vec::new();
        loop {
            let c = self.peek()?;
            if c != b'\\' && !utf16.is_empty() {
                out.push_str(&String::from_utf16_lossy(&utf16));
                utf16.clear();
            }
            match c {
                b'"' => {
                    self.i += 1;
                    return Some(out);
                }
                b'\\' => {
                    let e = *self.b.get(self.i + 1)?;
                    self.i += 2;
                    if e == b'u' {
                        let hex = std::str::from_utf8(self.b.get(self.i..self.i + 4)?).ok()?;
                        utf16.push(u16::from_str_radix(hex, 16).ok()?);
                        self.i += 4;
                        continue;
                    }
                    if !utf16.is_empty() {
                        out.push_str(&String::from_utf16_lossy(&utf16));
                        utf16.clear();
                    }
                    out.push(match e {
                        b'n' => '\n',
                        b't' => '\t',
                        b'r' => '\r',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        other => other as char,
                    });
                }
                _ => {
                    // Copy one whole UTF-8 character.
                    let len = match c {
                        0x00..=0x7f => 1,
                        0xc0..=0xdf => 2,
                        0xe0..=0xef => 3,
                        _ => 4,
                    };
                    let s = std::str::from_utf8(self.b.get(self.i..self.i + len)?).ok()?;
                    out.push_str(s);
                    self.i += len;
                }
            }
        }
    }

    fn skip_value(&mut self) -> Option<()> {
        self.ws();
        match self.peek()? {
            b'"' => self.string().map(|_| ()),
            b'{' | b'[' => {
                let mut depth = 0usize;
                loop {
                    match self.peek()? {
                        b'"' => {
                            self.string()?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                self.i += 1;
                                return Some(());
                            }
                        }
                        _ => {}
                    }
                    self.i += 1;
                }
            }
            _ => {
                while !matches!(
                    self.peek(),
                    None | Some(b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t')
                ) {
                    self.i += 1;
                }
                Some(())
            }
        }
    }

    /// At the start of a value: the byte offset of the value `rest` points at inside it.
    fn find(&mut self, rest: &str) -> Option<usize> {
        self.ws();
        if rest.is_empty() {
            return Some(self.i);
        }
        match self.peek()? {
            b'{' => {
                self.i += 1;
                self.ws();
                if self.peek()? == b'}' {
                    return None;
                }
                loop {
                    self.ws();
                    let key = self.string()?;
                    self.eat(b':')?;
                    self.ws();
                    if let Some(r) = match_key(rest, &key) {
                        let save = self.i;
                        if let Some(at) = self.find(r) {
                            return Some(at);
                        }
                        self.i = save;
                    }
                    self.skip_value()?;
                    self.ws();
                    match self.peek()? {
                        b',' => self.i += 1,
                        _ => return None,
                    }
                }
            }
            b'[' => {
                let (idx, r) = split_index(rest)?;
                self.i += 1;
                self.ws();
                if self.peek()? == b']' {
                    return None;
                }
                let mut k = 0;
                loop {
                    if k == idx {
                        return self.find(r);
                    }
                    self.skip_value()?;
                    self.eat(b',')?;
                    k += 1;
                }
            }
            _ => None,
        }
    }
}

/// If `rest` continues with `/key` (raw or RFC 6901-escaped), the remainder after it.
fn match_key<'r>(rest: &'r str, key: &str) -> Option<&'r str> {
    let r = rest.strip_prefix('/')?;
    let escaped = key.replace('~', "~0").replace('/', "~1");
    for k in [key, escaped.as_str()] {
        if let Some(after) = r.strip_prefix(k) {
            if after.is_empty() || after.starts_with('/') || after.starts_with('[') {
                return Some(after);
            }
        }
    }
    None
}

/// `[3]…` or `/3…` → (3, remainder).
fn split_index(rest: &str) -> Option<(usize, &str)> {
    if let Some(r) = rest.strip_prefix('[') {
        let close = r.find(']')?;
        Some((r[..close].trim().parse().ok()?, &r[close + 1..]))
    } else {
        let r = rest.strip_prefix('/')?;
        let end = r.find(['/', '[']).unwrap_or(r.len());
        Some((r[..end].parse().ok()?, &r[end..]))
    }
}

#[cfg(test)]
mod tests {
    use super::locate;

    const DEF: &str = "{\n  \"StartAt\": \"A\",\n  \"States\": {\n    \"A/b \\\"q\\\"\": {\"Type\": \"Pass\", \"Next\": \"B\"},\n    \"C\": {\"Type\": \"Choice\", \"Choices\": [\n      {\"Next\": \"x\"}, {\"Next\": \"é\", \"V\": 1}]}\n  }\n}";

    #[test]
    fn finds_values() {
        assert_eq!(locate(DEF, "/"), Some((1, 1)));
        assert_eq!(locate(DEF, ""), Some((1, 1)));
        assert_eq!(locate(DEF, "/StartAt"), Some((2, 14)));
        assert_eq!(locate(DEF, "/States/A/b \"q\"/Next"), Some((4, 43)));
        assert_eq!(locate(DEF, "/States/C/Choices[1]/Next"), Some((6, 31)));
        assert_eq!(locate(DEF, "/States/C/Choices/1/V"), Some((6, 41)));
        assert_eq!(locate(DEF, "/States/C/Choices[0]"), Some((6, 7)));
        assert_eq!(locate(DEF, "/States/Nope"), None);
        assert_eq!(locate(DEF, "/States/C/Choices[5]"), None);
        assert_eq!(locate("not json", "/a"), None);
    }
}
