//! Validation diagnostics in the shape of ValidateStateMachineDefinition's answer.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Severity {
    Error,
    Warning,
}

/// One problem found in a definition. `code` is AWS's code verbatim (`SCHEMA_VALIDATION_FAILED`,
/// `MISSING_END_STATE`, …); `location` is a JSON pointer into the definition (`/States/A/Next`),
/// empty for the whole document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    pub code: String,
    pub message: String,
    pub location: String,
}

impl Diagnostic {
    pub fn error(code: &str, message: impl Into<String>, location: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code: code.to_string(),
            message: message.into(),
            location: location.into(),
        }
    }

    /// The text CreateStateMachine puts after `Invalid State Machine Definition: ` —
    /// `'CODE: message at /location'` — for the API's InvalidDefinition error.
    pub fn aws_text(&self) -> String {
        if self.location.is_empty() {
            // AWS prints the missing location as `null`.
            format!("{}: {} at null", self.code, self.message)
        } else {
            format!("{}: {} at {}", self.code, self.message, self.location)
        }
    }
}
