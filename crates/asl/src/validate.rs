//! Definition validation (temporary stand-in; the full implementation is being written).
use crate::diagnostic::Diagnostic;
use serde_json::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum MachineType {
    #[default]
    Standard,
    Express,
}
#[derive(Clone, Debug, Default)]
pub struct ValidateOptions {
    pub machine_type: MachineType,
}
pub fn validate_text(text: &str, _opts: &ValidateOptions) -> Vec<Diagnostic> {
    match serde_json::from_str::<Value>(text) {
        Ok(_) => vec![],
        Err(e) => vec![Diagnostic::error(
            "INVALID_JSON_DESCRIPTION",
            e.to_string(),
            "",
        )],
    }
}
pub fn validate_value(_def: &Value, _opts: &ValidateOptions) -> Vec<Diagnostic> {
    vec![]
}
