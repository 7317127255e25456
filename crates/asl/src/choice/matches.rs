//! `StringMatches` patterns and Java-ordered string comparison.
//!
//! The States Language: "*" matches any run of characters (possibly empty); the wildcard is
//! escaped as `\*` and a backslash as `\\`; nothing else is special. A backslash before any other
//! character, or a trailing lone backslash, is read as that character literally (lenient: AWS's
//! behaviour for these is not recorded).

use std::cmp::Ordering;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Char(char),
    Star,
}

/// A compiled `StringMatches` pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pattern {
    tokens: Vec<Token>,
}

impl Pattern {
    pub(crate) fn compile(src: &str) -> Pattern {
        let mut tokens = Vec::new();
        let mut chars = src.chars();
        while let Some(c) = chars.next() {
            match c {
                '*' => {
                    // Consecutive stars mean the same as one; collapsing keeps matching linear-ish.
                    if tokens.last() != Some(&Token::Star) {
                        tokens.push(Token::Star);
                    }
                }
                '\\' => tokens.push(Token::Char(chars.next().unwrap_or('\\'))),
                other => tokens.push(Token::Char(other)),
            }
        }
        Pattern { tokens }
    }

    /// Whole-string match. Iterative with single backtrack point: O(len(s) * len(pattern)) worst.
    pub(crate) fn matches(&self, s: &str) -> bool {
        let text: Vec<char> = s.chars().collect();
        let p = &self.tokens;
        let (mut ti, mut pi) = (0usize, 0usize);
        let mut star: Option<(usize, usize)> = None;
        while ti < text.len() {
            match p.get(pi) {
                Some(Token::Char(c)) if *c == text[ti] => {
                    ti += 1;
                    pi += 1;
                }
                Some(Token::Star) => {
                    star = Some((pi, ti));
                    pi += 1;
                }
                _ => match star {
                    Some((sp, st)) => {
                        pi = sp + 1;
                        ti = st + 1;
                        star = Some((sp, st + 1));
                    }
                    None => return false,
                },
            }
        }
        p[pi.min(p.len())..].iter().all(|t| *t == Token::Star)
    }
}

/// String ordering as Java's `String.compareTo` (the docs point to it): lexicographic over UTF-16
/// code units. Differs from Rust's byte/code-point order only for supplementary characters versus
/// BMP characters at U+E000 and above.
pub(crate) fn java_compare(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, s: &str) -> bool {
        Pattern::compile(p).matches(s)
    }

    #[test]
    fn wildcards() {
        assert!(m("log-*.txt", "log-2024.txt"));
        assert!(m("log-*.txt", "log-.txt"));
        assert!(!m("log-*.txt", "log-2024.txt.gz"));
        assert!(m("*", ""));
        assert!(m("*", "anything"));
        assert!(m("", ""));
        assert!(!m("", "a"));
        assert!(m("a*b*c", "aXXbYYc"));
        assert!(m("a*b*c", "abc"));
        assert!(!m("a*b*c", "acb"));
        assert!(m("*a*a*", "banana"));
        assert!(m("**x", "x"));
        assert!(!m("abc", "abcd"));
        assert!(m("é*ü", "éöü"));
    }

    #[test]
    fn escapes() {
        assert!(m("a\\*b", "a*b"));
        assert!(!m("a\\*b", "aXb"));
        assert!(m("a\\\\b", "a\\b"));
        assert!(m("a\\\\*", "a\\anything"));
        assert!(m("\\*\\\\", "*\\"));
        assert!(m("x\\", "x\\"));
        assert!(m("\\q", "q"));
    }

    #[test]
    fn java_order() {
        assert_eq!(java_compare("A", "AB"), Ordering::Less);
        assert_eq!(java_compare("", ""), Ordering::Equal);
        assert_eq!(java_compare("a", "B"), Ordering::Greater);
        // U+FF21 (BMP, high) vs U+1F600 (surrogate pair 0xD83D…): Java puts the emoji first.
        assert_eq!(java_compare("\u{1F600}", "\u{FF21}"), Ordering::Less);
        assert_eq!("\u{1F600}".cmp("\u{FF21}"), Ordering::Greater);
    }
}
