//! JSON text as AWS writes it in history events and outputs: compact, key order preserved.

use serde_json::Value;

pub fn to_text(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".to_string())
}
