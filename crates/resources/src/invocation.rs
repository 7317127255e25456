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
    /// `$$.Task.Token` of a `.waitForTaskToken` task, or the token a `.sync` call completes.
    pub task_token: Option<String>,
    /// The engine's count of earlier calls to this state in this execution (see
    /// [`TaskRequest::invocation`]); `None` for calls made outside an execution.
    pub invocation: Option<u64>,
}

impl Invocation {
    /// Builds an invocation from the engine's request. The test case selection (state machine
    /// name and test case, a pair) is the request's when it selects one, else `fallback`'s: a
    /// handler built for one test case (the CLI's local run, [`crate::MockHandler`]) serves
    /// it to executions started without one. The execution ARN is the request's unless empty
    /// (TestState, callers outside the runtime).
    pub fn from_request(req: TaskRequest, fallback: &ExecutionContext) -> Invocation {
        let execution_arn = if req.execution_arn.is_empty() {
            fallback.execution_arn.clone()
        } else {
            Some(req.execution_arn)
        };
        let context = match req.test_case {
            Some(tc) => ExecutionContext {
                execution_arn,
                state_machine_name: Some(req.state_machine_name),
                test_case: Some(tc),
            },
            None => ExecutionContext {
                execution_arn,
                ..fallback.clone()
            },
        };
        Invocation {
            state_name: req.state_name,
            resource: req.resource,
            parameters: req.parameters,
            timeout_seconds: req.timeout_seconds,
            heartbeat_seconds: req.heartbeat_seconds,
            context,
            task_token: req.task_token,
            invocation: Some(req.invocation),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(execution_arn: &str, test_case: Option<&str>) -> TaskRequest {
        TaskRequest {
            state_name: "S".into(),
            resource: "arn:aws:states:::sqs:sendMessage".into(),
            parameters: serde_json::json!({}),
            timeout_seconds: None,
            heartbeat_seconds: None,
            task_token: Some("tok".into()),
            execution_arn: execution_arn.into(),
            state_machine_name: "served".into(),
            test_case: test_case.map(Into::into),
            invocation: 0,
        }
    }

    #[test]
    fn the_request_selects_the_test_case_else_the_fallback_does() {
        let fallback = ExecutionContext::test_case("local", "Case");
        let inv = Invocation::from_request(request("arn:x", Some("Happy")), &fallback);
        assert_eq!(inv.context.execution_arn.as_deref(), Some("arn:x"));
        assert_eq!(inv.context.state_machine_name.as_deref(), Some("served"));
        assert_eq!(inv.context.test_case.as_deref(), Some("Happy"));
        assert_eq!(inv.task_token.as_deref(), Some("tok"));
        let inv = Invocation::from_request(request("arn:x", None), &fallback);
        assert_eq!(inv.context.execution_arn.as_deref(), Some("arn:x"));
        assert_eq!(inv.context.state_machine_name.as_deref(), Some("local"));
        assert_eq!(inv.context.test_case.as_deref(), Some("Case"));
        let inv = Invocation::from_request(request("", None), &ExecutionContext::default());
        assert_eq!(inv.context, ExecutionContext::default());
    }

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
