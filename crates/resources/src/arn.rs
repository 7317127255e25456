//! Reading a Task's `Resource` ARN: which integration it names and with which pattern.

/// How the task waits for its result (the ARN suffix).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pattern {
    RequestResponse,
    /// `.sync`
    Sync,
    /// `.sync:2`
    Sync2,
    /// `.waitForTaskToken`
    WaitForTaskToken,
}

/// What a Task state's `Resource` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    /// `arn:aws:states:::http:invoke`
    Http { pattern: Pattern },
    /// `arn:aws:states:::lambda:invoke[.waitForTaskToken]`
    LambdaInvoke { pattern: Pattern },
    /// `arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]` (the legacy form: the result
    /// is the function's payload itself).
    LambdaFunction {
        name: String,
        qualifier: Option<String>,
    },
    /// `arn:aws:states:REGION:ACCOUNT:activity:NAME`
    Activity { name: String },
    /// Any other optimized (`arn:aws:states:::sqs:sendMessage`) or SDK
    /// (`arn:aws:states:::aws-sdk:s3:getObject`) integration.
    Service {
        service: String,
        action: String,
        pattern: Pattern,
        sdk: bool,
    },
    /// Not an ARN we know.
    Unknown,
}

fn split_pattern(action: &str) -> (&str, Pattern) {
    if let Some(a) = action.strip_suffix(".sync:2") {
        (a, Pattern::Sync2)
    } else if let Some(a) = action.strip_suffix(".sync") {
        (a, Pattern::Sync)
    } else if let Some(a) = action.strip_suffix(".waitForTaskToken") {
        (a, Pattern::WaitForTaskToken)
    } else {
        (action, Pattern::RequestResponse)
    }
}

/// Classifies a resource ARN (any partition).
pub fn parse(resource: &str) -> Resource {
    let parts: Vec<&str> = resource.split(':').collect();
    if parts.len() < 6 || parts[0] != "arn" {
        return Resource::Unknown;
    }
    match parts[2] {
        "lambda" if parts[5] == "function" && parts.len() >= 7 && !parts[6].is_empty() => {
            Resource::LambdaFunction {
                name: parts[6].to_string(),
                qualifier: parts.get(7).map(|q| q.to_string()),
            }
        }
        "states" if parts[5] == "activity" && parts.len() == 7 => Resource::Activity {
            name: parts[6].to_string(),
        },
        "states" if parts.len() >= 7 => {
            let rest = parts[5..].join(":");
            let (sdk, rest) = match rest.strip_prefix("aws-sdk:") {
                Some(r) => (true, r.to_string()),
                None => (false, rest),
            };
            let Some((service, action)) = rest.split_once(':') else {
                return Resource::Unknown;
            };
            let (action, pattern) = split_pattern(action);
            match (sdk, service, action) {
                (false, "http", "invoke") => Resource::Http { pattern },
                (false, "lambda", "invoke") => Resource::LambdaInvoke { pattern },
                _ => Resource::Service {
                    service: service.to_string(),
                    action: action.to_string(),
                    pattern,
                    sdk,
                },
            }
        }
        _ => Resource::Unknown,
    }
}

/// A Lambda `FunctionName` as `lambda:invoke` accepts it: `name`, `name:qualifier`,
/// `ACCOUNT:function:name[:qualifier]` or a full function ARN. Returns (name, qualifier).
pub fn function_name(text: &str) -> Option<(String, Option<String>)> {
    let parts: Vec<&str> = text.split(':').collect();
    let (name, qualifier) = match parts.as_slice() {
        [name] => (*name, None),
        [name, q] => (*name, Some(*q)),
        [_, "function", name] => (*name, None),
        [_, "function", name, q] => (*name, Some(*q)),
        ["arn", _, "lambda", _, _, "function", name] => (*name, None),
        ["arn", _, "lambda", _, _, "function", name, q] => (*name, Some(*q)),
        _ => return None,
    };
    if name.is_empty() {
        return None;
    }
    Some((
        name.to_string(),
        qualifier.filter(|q| !q.is_empty()).map(str::to_string),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_resources() {
        assert_eq!(
            parse("arn:aws:states:::http:invoke"),
            Resource::Http {
                pattern: Pattern::RequestResponse
            }
        );
        assert_eq!(
            parse("arn:aws:states:::lambda:invoke.waitForTaskToken"),
            Resource::LambdaInvoke {
                pattern: Pattern::WaitForTaskToken
            }
        );
        assert_eq!(
            parse("arn:aws:lambda:us-east-1:111111111111:function:fn:prod"),
            Resource::LambdaFunction {
                name: "fn".into(),
                qualifier: Some("prod".into())
            }
        );
        assert_eq!(
            parse("arn:aws:states:::states:startExecution.sync:2"),
            Resource::Service {
                service: "states".into(),
                action: "startExecution".into(),
                pattern: Pattern::Sync2,
                sdk: false
            }
        );
        assert_eq!(
            parse("arn:aws-cn:states:::aws-sdk:s3:getObject"),
            Resource::Service {
                service: "s3".into(),
                action: "getObject".into(),
                pattern: Pattern::RequestResponse,
                sdk: true
            }
        );
        assert_eq!(
            parse("arn:aws:states:us-east-1:1:activity:work"),
            Resource::Activity {
                name: "work".into()
            }
        );
        assert_eq!(parse("nonsense"), Resource::Unknown);
        assert_eq!(parse("arn:aws:lambda:r:a:function:"), Resource::Unknown);
    }

    #[test]
    fn function_names() {
        assert_eq!(function_name("f"), Some(("f".into(), None)));
        assert_eq!(
            function_name("f:$LATEST"),
            Some(("f".into(), Some("$LATEST".into())))
        );
        assert_eq!(
            function_name("111111111111:function:f"),
            Some(("f".into(), None))
        );
        assert_eq!(
            function_name("arn:aws:lambda:us-east-1:111111111111:function:f:1"),
            Some(("f".into(), Some("1".into())))
        );
        assert_eq!(function_name(""), None);
        assert_eq!(function_name("a:b:c:d:e"), None);
    }
}
