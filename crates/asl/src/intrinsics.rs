//! Intrinsic functions (temporary stand-in; the full implementation is being written).
use crate::error::StateError;
use crate::jsonpath::PathEnv;
use serde_json::Value;

#[derive(Debug)]
pub struct Call {
    src: String,
}
#[derive(Debug)]
pub struct IntrinsicSyntaxError {
    pub message: String,
}
pub fn is_intrinsic(src: &str) -> bool {
    src.starts_with("States.")
}
impl Call {
    pub fn parse(src: &str) -> Result<Call, IntrinsicSyntaxError> {
        Ok(Call {
            src: src.to_string(),
        })
    }
    pub fn eval(&self, _env: &PathEnv, _rng: &mut dyn rand::RngCore) -> Result<Value, StateError> {
        Err(StateError::intrinsic_failure(format!(
            "not available yet: {}",
            self.src
        )))
    }
}
