//! Step Functions ARNs: building them the way AWS does and telling apart what a caller passed
//! (a state machine, one of its versions or aliases, an activity, an execution).
//!
//! AWS answers a malformed ARN with `InvalidArn` before looking anything up, with messages like
//! `Invalid Arn: 'Invalid ARN prefix: not_an_arn'` (recorded) or
//! `Invalid Arn: 'Resource type not valid in this context: activity'`.

use crate::error::ApiError;

/// What an ARN names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    StateMachine {
        name: String,
    },
    /// `stateMachine:<name>:<n>`: a published version.
    Version {
        name: String,
        version: u64,
    },
    /// `stateMachine:<name>:<alias>`: an alias (its name always has a non-digit).
    Alias {
        name: String,
        alias: String,
    },
    Activity {
        name: String,
    },
    Execution {
        state_machine: String,
        name: String,
    },
    /// `express:<state machine>:<name>:<id>`: an Express execution (not kept in the store).
    Express {
        state_machine: String,
        name: String,
    },
    /// `mapRun:<state machine>/<label>:<id>`.
    MapRun,
}

impl Resource {
    /// The resource type segment as AWS names it in messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Resource::StateMachine { .. } | Resource::Version { .. } | Resource::Alias { .. } => {
                "stateMachine"
            }
            Resource::Activity { .. } => "activity",
            Resource::Execution { .. } => "execution",
            Resource::Express { .. } => "express",
            Resource::MapRun => "mapRun",
        }
    }
}

/// A parsed `arn:<partition>:states:<region>:<account>:<type>:<parts>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arn {
    /// `arn:<partition>:states:<region>:<account>`, kept to rebuild related ARNs.
    pub prefix: String,
    pub resource: Resource,
}

pub fn invalid_arn(detail: impl std::fmt::Display) -> ApiError {
    ApiError::new("InvalidArn", format!("Invalid Arn: '{detail}'"), 400)
}

/// The InvalidArn for an ARN of the wrong kind for the action.
pub fn wrong_type(arn: &Arn) -> ApiError {
    invalid_arn(format!(
        "Resource type not valid in this context: {}",
        arn.resource.type_name()
    ))
}

fn is_partition(p: &str) -> bool {
    matches!(p, "aws" | "aws-cn" | "aws-us-gov" | "aws-iso" | "aws-iso-b")
}

impl Arn {
    pub fn parse(text: &str) -> Result<Arn, ApiError> {
        let bad_prefix = || invalid_arn(format!("Invalid ARN prefix: {text}"));
        let parts: Vec<&str> = text.splitn(7, ':').collect();
        if parts.len() < 7
            || parts[0] != "arn"
            || !is_partition(parts[1])
            || parts[2] != "states"
            || parts[3].is_empty()
            || parts[4].len() != 12
            || !parts[4].bytes().all(|b| b.is_ascii_digit())
        {
            return Err(bad_prefix());
        }
        let prefix = parts[..5].join(":");
        let rest: Vec<&str> = parts[6].split(':').collect();
        let malformed = || invalid_arn(format!("Invalid ARN: {text}"));
        if rest.iter().any(|p| p.is_empty()) {
            return Err(malformed());
        }
        let resource = match (parts[5], rest.as_slice()) {
            ("stateMachine", [name]) => Resource::StateMachine {
                name: name.to_string(),
            },
            ("stateMachine", [name, q]) => {
                if q.bytes().all(|b| b.is_ascii_digit()) {
                    match q.parse::<u64>() {
                        Ok(version) => Resource::Version {
                            name: name.to_string(),
                            version,
                        },
                        Err(_) => return Err(malformed()),
                    }
                } else {
                    Resource::Alias {
                        name: name.to_string(),
                        alias: q.to_string(),
                    }
                }
            }
            ("activity", [name]) => Resource::Activity {
                name: name.to_string(),
            },
            ("execution", [sm, name]) => Resource::Execution {
                state_machine: sm.to_string(),
                name: name.to_string(),
            },
            ("express", [sm, name, _id]) => Resource::Express {
                state_machine: sm.to_string(),
                name: name.to_string(),
            },
            ("mapRun", [_, _]) => Resource::MapRun,
            ("stateMachine" | "activity" | "execution" | "express" | "mapRun", _) => {
                return Err(malformed())
            }
            (other, _) => {
                return Err(invalid_arn(format!(
                    "Resource type not valid in this context: {other}"
                )))
            }
        };
        Ok(Arn { prefix, resource })
    }

    /// The unqualified state machine ARN of a state machine, version or alias ARN.
    pub fn state_machine_arn(&self) -> Option<String> {
        match &self.resource {
            Resource::StateMachine { name }
            | Resource::Version { name, .. }
            | Resource::Alias { name, .. } => Some(format!("{}:stateMachine:{name}", self.prefix)),
            _ => None,
        }
    }
}

/// `arn:aws:states:<region>:<account>`: the prefix of every ARN this server hands out.
pub fn prefix(region: &str, account: &str) -> String {
    format!("arn:aws:states:{region}:{account}")
}

/// AWS's name rule for state machines, executions and activities: no white space, brackets,
/// wildcards, the listed special characters or control characters (the length is a model
/// constraint, checked before).
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.chars().all(|c| {
            !c.is_whitespace()
                && !c.is_control()
                && !matches!(
                    c,
                    '<' | '>'
                        | '{'
                        | '}'
                        | '['
                        | ']'
                        | '?'
                        | '*'
                        | '"'
                        | '#'
                        | '%'
                        | '\\'
                        | '^'
                        | '|'
                        | '~'
                        | '`'
                        | '$'
                        | '&'
                        | ','
                        | ';'
                        | ':'
                        | '/'
                        | '\u{FFFE}'
                        | '\u{FFFF}'
                )
        })
}

pub fn invalid_name(name: &str) -> ApiError {
    ApiError::new("InvalidName", format!("Invalid Name: '{name}'"), 400)
}

/// The alias name pattern of the model, `^(?=.*[a-zA-Z_\-\.])[a-zA-Z0-9_\-\.]+$`: word
/// characters, dots and dashes, not only digits (so an alias ARN never looks like a version).
pub fn valid_alias_name(name: &str) -> bool {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.');
    !name.is_empty() && name.chars().all(allowed) && !name.chars().all(|c| c.is_ascii_digit())
}

pub const ALIAS_NAME_PATTERN: &str = r"^(?=.*[a-zA-Z_\-\.])[a-zA-Z0-9_\-\.]+$";

/// An IAM role ARN: `arn:<partition>:iam::<account>:role/<name>`.
pub fn check_role_arn(text: &str) -> Result<(), ApiError> {
    let parts: Vec<&str> = text.splitn(6, ':').collect();
    let ok_prefix = parts.len() == 6
        && parts[0] == "arn"
        && is_partition(parts[1])
        && parts[2] == "iam"
        && parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit());
    if !ok_prefix {
        return Err(invalid_arn(format!("Invalid ARN prefix: {text}")));
    }
    match parts[5].split_once('/') {
        Some(("role", name)) if !name.is_empty() => Ok(()),
        _ => Err(invalid_arn(format!(
            "Resource type not valid in this context: {}",
            parts[5].split('/').next().unwrap_or_default()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: &str = "arn:aws:states:us-east-1:123456789012";

    #[test]
    fn kinds() {
        let sm = Arn::parse(&format!("{P}:stateMachine:m")).unwrap();
        assert_eq!(sm.resource, Resource::StateMachine { name: "m".into() });
        let v = Arn::parse(&format!("{P}:stateMachine:m:12")).unwrap();
        assert_eq!(
            v.resource,
            Resource::Version {
                name: "m".into(),
                version: 12
            }
        );
        assert_eq!(
            v.state_machine_arn().unwrap(),
            format!("{P}:stateMachine:m")
        );
        let a = Arn::parse(&format!("{P}:stateMachine:m:PROD")).unwrap();
        assert!(matches!(a.resource, Resource::Alias { .. }));
        let e = Arn::parse(&format!("{P}:execution:m:e")).unwrap();
        assert!(matches!(e.resource, Resource::Execution { .. }));
        let x = Arn::parse(&format!("{P}:express:m:e:id")).unwrap();
        assert!(matches!(x.resource, Resource::Express { .. }));
    }

    #[test]
    fn invalid_arns_as_aws_words_them() {
        let e = Arn::parse("invalid_state_machine_arn").unwrap_err();
        assert_eq!(
            (e.code.as_str(), e.message.as_str()),
            (
                "InvalidArn",
                "Invalid Arn: 'Invalid ARN prefix: invalid_state_machine_arn'"
            )
        );
        let e = Arn::parse(&format!("{P}:bucket:x")).unwrap_err();
        assert!(e.message.contains("Resource type not valid"), "{e}");
        assert!(Arn::parse(&format!("{P}:stateMachine:")).is_err());
        assert!(Arn::parse(&format!("{P}:stateMachine:a:b:c")).is_err());
        assert!(Arn::parse("arn:aws:states:us-east-1:12:stateMachine:a").is_err());
    }

    #[test]
    fn names() {
        assert!(valid_name("Hello-World_1.2"));
        for bad in [
            "a b", "a[b", "a/b", "\u{0}a", "a\u{7f}", "a\u{1f}", "a:b", "a~b", "a\"b",
        ] {
            assert!(!valid_name(bad), "{bad:?}");
        }
        assert!(valid_alias_name("PROD-1"));
        assert!(!valid_alias_name("123"));
        assert!(!valid_alias_name("A B"));
        assert!(!valid_alias_name("ALIAS@"));
    }

    #[test]
    fn role_arns() {
        check_role_arn("arn:aws:iam::111111111111:role/sfn-role").unwrap();
        check_role_arn("arn:aws:iam::111111111111:role/path/to/r").unwrap();
        assert!(check_role_arn("not-a-role").is_err());
        assert!(check_role_arn("arn:aws:iam::111111111111:user/u").is_err());
    }
}
