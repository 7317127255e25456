//! Error messages as JSONata 2.0.6 words them.
//!
//! AWS puts the JSONata message into the `States.QueryEvaluationError` cause, so the text
//! matters. `jsonata-core` keeps the codes but words some messages its own way; the
//! differential test (`tests/jsonata_diff.rs`) finds those, and the common ones are
//! rewritten here.

use std::sync::OnceLock;

use regex::Regex;

fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).unwrap_or_else(|_| Regex::new("$^").unwrap()))
}

/// Rewrites `message` (for `code`) into 2.0.6's wording. `function` is the name of the
/// only built-in function the expression calls, if it calls exactly one: signature errors
/// name the function in 2.0.6, and the library's message does not say which.
pub(crate) fn normalize(code: &str, message: &str, function: Option<&str>) -> String {
    static OPERATOR: OnceLock<Regex> = OnceLock::new();
    static CAST: OnceLock<Regex> = OnceLock::new();
    static ARG_TYPE: OnceLock<Regex> = OnceLock::new();
    static ARG_ARRAY: OnceLock<Regex> = OnceLock::new();
    static RADIX: OnceLock<Regex> = OnceLock::new();
    match code {
        // `The left side of the + operator …` → `… the "+" operator …`
        "T2001" | "T2002" => re(&OPERATOR, r"the (\S+) operator")
            .replace(message, "the \"$1\" operator")
            .into_owned(),
        // 2.0.6 does not name the value that is not a function.
        "T1006" => "Attempted to invoke a non-function".to_string(),
        "D3030" => match re(&CAST, r"^Cannot convert '(.*)' to number$").captures(message) {
            Some(c) => format!(
                "Unable to cast value to a number: {}",
                serde_json::Value::String(c[1].to_string())
            ),
            None => message.to_string(),
        },
        "D3138" | "D3139" => match message.find(" (") {
            Some(i) if message.ends_with(')') => message[..i].to_string(),
            _ => message.to_string(),
        },
        "D3100" => {
            match re(&RADIX, r"^Radix must be between 2 and 36, got (.*)$").captures(message) {
                Some(c) => format!(
                "The radix of the formatBase function must be between 2 and 36.  It was given {}",
                &c[1]
            ),
                None => message.to_string(),
            }
        }
        "D3001" if message.starts_with("Attempting to invoke string function with non-finite") => {
            "Attempting to invoke string function on Infinity or NaN".to_string()
        }
        "D3010" if message == "Pattern cannot be empty" => {
            "Second argument of replace function cannot be an empty string".to_string()
        }
        "S0103" => match message.strip_prefix("Unsupported escape sequence: \\") {
            Some(c) if c.chars().count() == 1 => {
                format!("Unsupported escape sequence: \\\"{c}\"")
            }
            _ => message.to_string(),
        },
        "T0410" | "T0412" => {
            let Some(f) = function else {
                return message.to_string();
            };
            if let Some(c) =
                re(&ARG_ARRAY, r"^Argument (\d+) must be an array of (\w+)$").captures(message)
            {
                let plural = match &c[2] {
                    "Number" => "numbers",
                    "String" => "strings",
                    "Boolean" => "booleans",
                    "Object" => "objects",
                    "Function" => "functions",
                    "Array" => "arrays",
                    _ => return message.to_string(),
                };
                return format!(
                    "Argument {} of function \"{f}\" must be an array of \"{plural}\"",
                    &c[1]
                );
            }
            match re(&ARG_TYPE, r"^Argument (\d+) must be ").captures(message) {
                Some(c) => format!(
                    "Argument {} of function \"{f}\" does not match function signature",
                    &c[1]
                ),
                None => message.to_string(),
            }
        }
        _ => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn rewrites_to_2_0_6_wording() {
        assert_eq!(
            normalize(
                "T2001",
                "The left side of the + operator must evaluate to a number",
                None
            ),
            "The left side of the \"+\" operator must evaluate to a number"
        );
        assert_eq!(
            normalize("T1006", "Attempted to invoke a non-function: $f", None),
            "Attempted to invoke a non-function"
        );
        assert_eq!(
            normalize("D3030", "Cannot convert 'abc' to number", None),
            "Unable to cast value to a number: \"abc\""
        );
        assert_eq!(
            normalize("T0410", "Argument 1 must be String", Some("length")),
            "Argument 1 of function \"length\" does not match function signature"
        );
        assert_eq!(
            normalize(
                "T0412",
                "Argument 1 must be an array of Number",
                Some("sum")
            ),
            "Argument 1 of function \"sum\" must be an array of \"numbers\""
        );
        assert_eq!(
            normalize("T0410", "Argument 1 must be String", None),
            "Argument 1 must be String"
        );
        assert_eq!(
            normalize("S0103", "Unsupported escape sequence: \\'", None),
            "Unsupported escape sequence: \\\"'\""
        );
    }
}
