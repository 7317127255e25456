//! One task call as the integrations see it: the engine's [`TaskRequest`] plus the execution
//! context that mocks and callbacks need and the engine does not pass (yet).

use serde_json::Value;
use stepwise_engine::TaskRequest;

/// Who is calling: fills what a [`TaskRequest`] lacks. A handler built for one execution (the
/// local runner) carries it; a shared handler gets it per call once the engine passes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecutionContext {
    /// Keys the mock call counters: every execution starts its own response sequences.
    pub execution_arn: Option<String>,
    /// Selects the mock test case, with `test_case` (Step Functions Local's
    /// `stateMachineArn#TestCaseName`).
    pub state_machine_name: Option<String>,
    pub test_case: Option<String>,
}

impl ExecutionContext {
    /// A context selecting a mock test case of a state machine.
    pub fn test_case(state_machine_name: &str, test_case: &str) -> ExecutionContext {
        ExecutionContext {
            execution_arn: None,
            state_machine_name: Some(state_machine_name.to_string()),
            test_case: Some(test_case.to_string()),
        }
    }

    /// Splits Step Functions Local's `arn:…:stateMachine:NAME#TestCase` selector into the
    /// state machine ARN and the test case name.
    pub fn split_test_case_arn(arn: &str) -> (&str, Option<&str>) {
        match arn.split_once('#') {
            Some((sm, tc)) if !tc.is_empty() => (sm, Some(tc)),
            _ => (arn, None),
        }
    }
}

/// A task call.
#[derive(Debug, Clone, Default)]
pub struct Invocation {
    pub state_name: String,
    pub resource: String,
    /// The effective parameters (Parameters / Arguments already evaluated).
    pub parameters: Value,
    pub timeout_seconds: Option<u64>,
    pub heartbeat_seconds: Option<u64>,
    pub context: ExecutionContext,
    /// `$$.Task.Token` of a `.waitForTaskToken` task (callbacks, not handled here yet).
    pub task_token: Option<String>,
}

impl Invocation {
    /// Builds an invocation from the engine's request, with the given context.
    pub fn from_request(req: TaskRequest, context: &ExecutionContext) -> Invocation {
        Invocation {
            state_name: req.state_name,
            resource: req.resource,
            parameters: req.parameters,
            timeout_seconds: req.timeout_seconds,
            heartbeat_seconds: req.heartbeat_seconds,
            context: context.clone(),
            task_token: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_test_case_arns() {
        assert_eq!(
            ExecutionContext::split_test_case_arn("arn:aws:states:r:1:stateMachine:sm#Happy"),
            ("arn:aws:states:r:1:stateMachine:sm", Some("Happy"))
        );
        assert_eq!(
            ExecutionContext::split_test_case_arn("arn:aws:states:r:1:stateMachine:sm"),
            ("arn:aws:states:r:1:stateMachine:sm", None)
        );
        assert_eq!(ExecutionContext::split_test_case_arn("sm#"), ("sm#", None));
    }
}
