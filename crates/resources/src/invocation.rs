//! One task call as the integrations see it: the engine's [`TaskRequest`] with its execution
//! context (which execution, which mock test case), as mocks and callbacks need it.

use serde_json::Value;
use stepwise_engine::TaskRequest;

/// Who is calling. The engine passes it with every request; a handler built for one execution
/// (the local runner) may carry one as the fallback for requests that name none.
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
    /// Builds an invocation from the engine's request. The request names its execution; where
    /// it does not (an empty ARN or name: TestState, or a caller outside the runtime) or selects
    /// no test case, `fallback` fills in (the CLI's local run carries its context there).
    pub fn from_request(req: TaskRequest, fallback: &ExecutionContext) -> Invocation {
        let pick = |s: String, f: &Option<String>| {
            if s.is_empty() {
                f.clone()
            } else {
                Some(s)
            }
        };
        let context = ExecutionContext {
            execution_arn: pick(req.execution_arn, &fallback.execution_arn),
            state_machine_name: pick(req.state_machine_name, &fallback.state_machine_name),
            test_case: req.test_case.or_else(|| fallback.test_case.clone()),
        };
        Invocation {
            state_name: req.state_name,
            resource: req.resource,
            parameters: req.parameters,
            timeout_seconds: req.timeout_seconds,
            heartbeat_seconds: req.heartbeat_seconds,
            context,
            task_token: req.task_token,
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
