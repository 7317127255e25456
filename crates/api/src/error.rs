//! AWS-shaped API errors.
//!
//! The AWS JSON 1.0 protocol puts the error code in the body's `__type` and the text in
//! `message`; botocore reads exactly those two keys (it also accepts `Message`, and cuts a
//! `namespace#` prefix off `__type`), other SDKs prefer the `X-Amzn-ErrorType` header, so we send
//! both. The HTTP status matters to clients beyond display: botocore retries 500/502/503/504
//! (and 429/509) but not 400/413/501, so only a real internal failure uses 500.

use serde_json::{json, Value};

/// One error answer: code, text and HTTP status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The `__type`: a code from the service model (`ValidationException`, `InvalidArn`, …) or
    /// one of AWS's protocol-level codes (`UnknownOperationException`, `SerializationException`).
    pub code: String,
    pub message: String,
    pub status: u16,
}

impl ApiError {
    pub fn new(code: &str, message: impl Into<String>, status: u16) -> Self {
        ApiError {
            code: code.to_string(),
            message: message.into(),
            status,
        }
    }

    /// The X-Amz-Target names no operation of the service (or is missing).
    pub fn unknown_operation(message: impl Into<String>) -> Self {
        Self::new("UnknownOperationException", message, 400)
    }

    /// The body is not JSON, or a member has a JSON type the shape cannot take.
    pub fn serialization(message: impl Into<String>) -> Self {
        Self::new("SerializationException", message, 400)
    }

    /// Constraint violations (required, enum, range, length), AWS's wording.
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new("ValidationException", message, 400)
    }

    /// An action of the service model that Stepwise does not serve yet. 501 says exactly that in
    /// HTTP terms, and no SDK retries it.
    pub fn not_implemented(action: &str) -> Self {
        Self::new(
            "NotImplemented",
            format!("Stepwise does not implement the {action} action yet"),
            501,
        )
    }

    /// The request is over AWS's 1 MB request-size quota.
    pub fn too_large(limit: usize) -> Self {
        Self::new(
            "RequestEntityTooLargeException",
            format!("Request body exceeds the maximum request size of {limit} bytes"),
            413,
        )
    }

    /// A bug on our side (a caught panic); the message says nothing about the request.
    pub fn internal() -> Self {
        Self::new(
            "InternalFailure",
            "The request processing has failed because of an unknown error, exception or failure.",
            500,
        )
    }

    /// The JSON body of the error answer.
    pub fn body(&self) -> Value {
        json!({"__type": self.code, "message": self.message})
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.status, self.message)
    }
}

impl std::error::Error for ApiError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_has_type_and_message() {
        let e = ApiError::validation("bad");
        assert_eq!(
            e.body(),
            json!({"__type": "ValidationException", "message": "bad"})
        );
        assert_eq!(e.status, 400);
    }

    #[test]
    fn statuses_are_not_retryable_except_internal() {
        assert_eq!(ApiError::not_implemented("X").status, 501);
        assert_eq!(ApiError::too_large(1).status, 413);
        assert_eq!(ApiError::internal().status, 500);
        assert_eq!(ApiError::unknown_operation("x").status, 400);
    }
}
