//! The response shapes of the integrations whose mocked results TestState checks
//! (`fieldValidationMode` STRICT/PRESENT), taken from the services' API models, with AWS's
//! messages for a field that does not fit. Only the members worth checking are listed: a
//! member the shape does not know is accepted, as AWS accepts it.

use serde_json::Value;

/// A member's type in an API model.
#[derive(Debug)]
pub enum Ty {
    Str,
    /// A string with a length range.
    StrLen(u64, u64),
    Enum(&'static [&'static str]),
    /// An integer with an optional range.
    Int(Option<i64>, Option<i64>),
    /// A long or double: any number.
    Num,
    Bool,
    /// Timestamps come as ISO-8601 text.
    Timestamp,
    /// Base64 text with a length range.
    Blob(u64, u64),
    Any,
    List(&'static Ty),
    /// Members: name, required, type.
    Struct(&'static [(&'static str, bool, Ty)]),
}

const PUT_EVENTS_ENTRY: Ty = Ty::Struct(&[
    ("EventId", false, Ty::Str),
    ("ErrorCode", false, Ty::Str),
    ("ErrorMessage", false, Ty::Str),
]);

const PUT_EVENTS: Ty = Ty::Struct(&[
    ("FailedEntryCount", false, Ty::Int(None, None)),
    ("Entries", false, Ty::List(&PUT_EVENTS_ENTRY)),
]);

const START_EXECUTION: Ty = Ty::Struct(&[
    ("ExecutionArn", true, Ty::Str),
    ("StartDate", true, Ty::Timestamp),
]);

const LAMBDA_INVOKE: Ty = Ty::Struct(&[
    ("StatusCode", false, Ty::Int(None, None)),
    ("FunctionError", false, Ty::Str),
    ("LogResult", false, Ty::Str),
    ("Payload", false, Ty::Any),
    ("ExecutedVersion", false, Ty::StrLen(1, 1024)),
]);

const CAPACITY: Ty = Ty::Struct(&[
    ("CapacityUnits", false, Ty::Num),
    ("ReadCapacityUnits", false, Ty::Num),
    ("WriteCapacityUnits", false, Ty::Num),
]);

const CONSUMED_CAPACITY: Ty = Ty::Struct(&[
    ("TableName", false, Ty::StrLen(1, 1024)),
    ("CapacityUnits", false, Ty::Num),
    ("ReadCapacityUnits", false, Ty::Num),
    ("WriteCapacityUnits", false, Ty::Num),
    ("Table", false, CAPACITY),
]);

const DYNAMODB_ITEM_OUTPUT: Ty = Ty::Struct(&[
    ("Attributes", false, Ty::Any),
    ("ConsumedCapacity", false, CONSUMED_CAPACITY),
    ("ItemCollectionMetrics", false, Ty::Any),
]);

const SQS_SEND_MESSAGE: Ty = Ty::Struct(&[
    ("MD5OfMessageBody", false, Ty::Str),
    ("MD5OfMessageAttributes", false, Ty::Str),
    ("MD5OfMessageSystemAttributes", false, Ty::Str),
    ("MessageId", false, Ty::Str),
    ("SequenceNumber", false, Ty::Str),
]);

const SNS_PUBLISH: Ty = Ty::Struct(&[
    ("MessageId", false, Ty::Str),
    ("SequenceNumber", false, Ty::Str),
]);

const S3_GET_OBJECT: Ty = Ty::Struct(&[
    ("Body", false, Ty::Any),
    ("DeleteMarker", false, Ty::Bool),
    ("AcceptRanges", false, Ty::Str),
    ("LastModified", false, Ty::Timestamp),
    ("ContentLength", false, Ty::Num),
    ("ETag", false, Ty::Str),
    ("MissingMeta", false, Ty::Int(None, None)),
    ("VersionId", false, Ty::Str),
    ("ContentType", false, Ty::Str),
    (
        "ServerSideEncryption",
        false,
        Ty::Enum(&["AES256", "aws:fsx", "aws:kms", "aws:kms:dsse"]),
    ),
    (
        "StorageClass",
        false,
        Ty::Enum(&[
            "STANDARD",
            "REDUCED_REDUNDANCY",
            "STANDARD_IA",
            "ONEZONE_IA",
            "INTELLIGENT_TIERING",
            "GLACIER",
            "DEEP_ARCHIVE",
            "OUTPOSTS",
            "GLACIER_IR",
            "SNOW",
            "EXPRESS_ONEZONE",
            "FSX_OPENZFS",
            "FSX_ONTAP",
        ]),
    ),
    ("PartsCount", false, Ty::Int(None, None)),
    ("TagCount", false, Ty::Int(None, None)),
]);

const LAMBDA_CONFIGURATION: Ty = Ty::Struct(&[
    ("FunctionName", false, Ty::StrLen(1, 256)),
    ("Handler", false, Ty::StrLen(0, 128)),
    ("CodeSize", false, Ty::Num),
    ("Description", false, Ty::StrLen(0, 256)),
    ("Timeout", false, Ty::Int(Some(1), None)),
    // The recorded limit is Lambda's documented 10,240 MB.
    ("MemorySize", false, Ty::Int(Some(128), Some(10240))),
    ("Version", false, Ty::StrLen(1, 1024)),
]);

const LAMBDA_GET_FUNCTION: Ty = Ty::Struct(&[
    ("Configuration", false, LAMBDA_CONFIGURATION),
    ("Tags", false, Ty::Any),
    (
        "Concurrency",
        false,
        Ty::Struct(&[(
            "ReservedConcurrentExecutions",
            false,
            Ty::Int(Some(0), None),
        )]),
    ),
]);

const KMS_ENCRYPT: Ty = Ty::Struct(&[
    ("CiphertextBlob", false, Ty::Blob(1, 6144)),
    ("KeyId", false, Ty::StrLen(1, 2048)),
    (
        "EncryptionAlgorithm",
        false,
        Ty::Enum(&[
            "SYMMETRIC_DEFAULT",
            "RSAES_OAEP_SHA_1",
            "RSAES_OAEP_SHA_256",
            "SM2PKE",
        ]),
    ),
]);

/// The integration a Task resource names (`lambda:invoke`, `aws-sdk:s3:getObject`), without the
/// pattern suffix.
pub fn integration(resource: &str) -> Option<&str> {
    let rest = resource
        .strip_prefix("arn:aws:states:::")
        .or_else(|| resource.split_once(":states:::").map(|(_, r)| r))?;
    Some(
        rest.trim_end_matches(".sync:2")
            .trim_end_matches(".sync")
            .trim_end_matches(".waitForTaskToken"),
    )
}

fn shape_for(integration: &str) -> Option<&'static Ty> {
    Some(match integration {
        "events:putEvents" => &PUT_EVENTS,
        "states:startExecution" => &START_EXECUTION,
        "lambda:invoke" => &LAMBDA_INVOKE,
        "dynamodb:putItem" | "dynamodb:getItem" | "dynamodb:deleteItem" | "dynamodb:updateItem" => {
            &DYNAMODB_ITEM_OUTPUT
        }
        "sqs:sendMessage" => &SQS_SEND_MESSAGE,
        "sns:publish" => &SNS_PUBLISH,
        "aws-sdk:s3:getObject" => &S3_GET_OBJECT,
        "aws-sdk:lambda:getFunction" => &LAMBDA_GET_FUNCTION,
        "aws-sdk:kms:encrypt" => &KMS_ENCRYPT,
        _ => return None,
    })
}

/// Checks `result` against the response shape of `resource`'s integration; `strict` also
/// requires the required members. Unknown integrations pass.
pub fn check(resource: &str, result: &Value, strict: bool) -> Result<(), String> {
    match integration(resource).and_then(shape_for) {
        Some(ty) => check_value("", ty, result, strict),
        None => Ok(()),
    }
}

fn check_value(name: &str, ty: &Ty, v: &Value, strict: bool) -> Result<(), String> {
    let field = |what: &str| format!("Field '{name}' {what}");
    match ty {
        Ty::Any => Ok(()),
        Ty::Str | Ty::Timestamp => match v {
            Value::String(_) => Ok(()),
            _ => Err(field("must be a string")),
        },
        Ty::StrLen(min, max) | Ty::Blob(min, max) => match v {
            Value::String(s) => {
                let n = s.chars().count() as u64;
                if n < *min {
                    Err(field("is smaller than the minimum length"))
                } else if n > *max {
                    Err(field("is larger than the maximum length"))
                } else {
                    Ok(())
                }
            }
            _ => Err(field("must be a string")),
        },
        Ty::Enum(values) => match v {
            Value::String(s) if values.contains(&s.as_str()) => Ok(()),
            Value::String(_) => Err(field("is not an expected value")),
            _ => Err(field("must be a string")),
        },
        Ty::Int(min, max) => match v.as_i64() {
            Some(n) if min.is_some_and(|m| n < m) => Err(field("is less than the minimum value")),
            Some(n) if max.is_some_and(|m| n > m) => Err(field("exceeds the maximum value")),
            Some(_) => Ok(()),
            None if v.is_number() => Err(field("must be an integer")),
            None => Err(field("must be a number")),
        },
        Ty::Num => match v {
            Value::Number(_) => Ok(()),
            _ => Err(field("must be a number")),
        },
        Ty::Bool => match v {
            Value::Bool(_) => Ok(()),
            _ => Err(field("must be a boolean")),
        },
        Ty::List(item) => match v {
            Value::Array(a) => a
                .iter()
                .try_for_each(|x| check_value(name, item, x, strict)),
            _ => Err(field("must be an array")),
        },
        Ty::Struct(members) => {
            let Value::Object(m) = v else {
                return Err(if name.is_empty() {
                    "The mocked result must be a JSON object".to_string()
                } else {
                    field("must be an object")
                });
            };
            for (member, required, mty) in members.iter() {
                match m.get(*member) {
                    None if strict && *required => {
                        return Err(format!("Required field '{member}' is missing"))
                    }
                    None | Some(Value::Null) => {}
                    Some(x) => check_value(member, mty, x, strict)?,
                }
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn messages_as_aws_words_them() {
        let r = "arn:aws:states:::events:putEvents";
        assert_eq!(
            check(r, &json!({"Entries": "x"}), true).unwrap_err(),
            "Field 'Entries' must be an array"
        );
        assert_eq!(
            check(
                r,
                &json!({"Entries": [{"EventId": "a"}, {"EventId": [1]}]}),
                true
            )
            .unwrap_err(),
            "Field 'EventId' must be a string"
        );
        assert!(check(r, &json!({"random": "json"}), true).is_ok());
        let s = "arn:aws:states:::states:startExecution";
        assert_eq!(
            check(s, &json!({}), true).unwrap_err(),
            "Required field 'ExecutionArn' is missing"
        );
        assert!(check(s, &json!({}), false).is_ok());
        assert_eq!(
            check(
                "arn:aws:states:::aws-sdk:lambda:getFunction",
                &json!({"Configuration": {"MemorySize": 127}}),
                false
            )
            .unwrap_err(),
            "Field 'MemorySize' is less than the minimum value"
        );
        assert_eq!(
            integration("arn:aws:states:::sqs:sendMessage.waitForTaskToken"),
            Some("sqs:sendMessage")
        );
    }
}
