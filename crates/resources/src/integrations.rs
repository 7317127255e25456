//! The composite handler: routes each task by its resource ARN to a mock, an HTTP Task or a
//! Lambda function, and fails every other AWS service integration with an error naming the
//! configuration it lacks (Stepwise does not call AWS).

use std::sync::Arc;

use futures::future::LocalBoxFuture;
use serde_json::Value;
use stepwise_asl::error::{names, StateError};
use stepwise_engine::{TaskHandler, TaskRequest};

use crate::arn::{self, Pattern, Resource};
use crate::connections::Connections;
use crate::http_task::HttpTasks;
use crate::invocation::{ExecutionContext, Invocation};
use crate::lambda::{self, InvocationType, LambdaFunctions};
use crate::mock::{MockConfig, MockCounters};

/// The error every "not configured" failure carries: a configuration mistake must end the
/// execution, not be swallowed by a `States.ALL` catcher.
pub const NOT_CONFIGURED: &str = names::RUNTIME;

fn not_configured(inv: &Invocation, what: &str) -> StateError {
    StateError::new(
        NOT_CONFIGURED,
        format!(
            "No integration is configured for resource '{}' (state '{}'): {what}",
            inv.resource, inv.state_name
        ),
    )
}

const MOCK_HINT: &str = "mock the state in a test case of the mock config (--mock-config FILE / SFN_MOCK_CONFIG, selected with stateMachineArn#TestCaseName); Stepwise does not call AWS services";

/// Answers every task with the error naming the missing configuration.
#[derive(Debug, Default, Clone, Copy)]
pub struct Unconfigured;

impl TaskHandler for Unconfigured {
    fn invoke(&self, req: TaskRequest) -> LocalBoxFuture<'_, Result<Value, StateError>> {
        let inv = Invocation::from_request(req, &ExecutionContext::default());
        Box::pin(async move { Err(not_configured(&inv, MOCK_HINT)) })
    }
}

/// An integration provided from outside this crate (the server's own Step Functions API for
/// `states:startExecution` and `aws-sdk:sfn:*`, a test harness's fake service): asked after
/// the mocks, before the built-in routes.
pub trait ServiceIntegration: Send + Sync {
    /// Whether this integration performs `resource`.
    fn handles(&self, resource: &str) -> bool;
    /// Whether a call to `resource` is completed through its task token (see
    /// [`TaskHandler::completes_by_token`]).
    fn completes_by_token(&self, _resource: &str) -> bool {
        false
    }
    /// Performs the call.
    fn call<'a>(&'a self, inv: &'a Invocation) -> LocalBoxFuture<'a, Result<Value, StateError>>;
}

/// Mocks first, then the added service integrations, HTTP Tasks and Lambda functions, then
/// the not-configured error.
#[derive(Default)]
pub struct Integrations {
    mocks: Option<Arc<MockConfig>>,
    counters: MockCounters,
    services: Vec<Arc<dyn ServiceIntegration>>,
    lambda: Option<Arc<LambdaFunctions>>,
    http: HttpTasks,
    context: ExecutionContext,
}

impl Integrations {
    /// HTTP Tasks without connections; nothing else configured.
    pub fn new() -> Integrations {
        Integrations::default()
    }

    pub fn with_mocks(mut self, mocks: Arc<MockConfig>) -> Integrations {
        self.mocks = Some(mocks);
        self
    }

    /// Adds an integration (asked in the order added).
    pub fn with_service(mut self, service: Arc<dyn ServiceIntegration>) -> Integrations {
        self.services.push(service);
        self
    }

    pub fn with_lambda(mut self, functions: Arc<LambdaFunctions>) -> Integrations {
        self.lambda = Some(functions);
        self
    }

    pub fn with_connections(mut self, connections: Arc<Connections>) -> Integrations {
        self.http = HttpTasks::new(connections);
        self
    }

    /// The fallback context for requests that carry none (no execution ARN or no test case):
    /// the CLI's local run, which serves one execution and one mock test case.
    pub fn with_context(mut self, context: ExecutionContext) -> Integrations {
        self.context = context;
        self
    }

    /// Drops an execution's mock call counters (call when it ends).
    pub fn forget_execution(&self, execution_arn: &str) {
        self.counters.forget(execution_arn);
    }

    /// Performs one task call.
    pub fn call(&self, inv: Invocation) -> LocalBoxFuture<'_, Result<Value, StateError>> {
        if let Some(answer) = self
            .mocks
            .as_ref()
            .and_then(|m| m.answer(&self.counters, &inv))
        {
            return Box::pin(async move { answer });
        }
        Box::pin(async move { self.route(inv).await })
    }

    fn service_for(&self, resource: &str) -> Option<&Arc<dyn ServiceIntegration>> {
        self.services.iter().find(|s| s.handles(resource))
    }

    async fn route(&self, inv: Invocation) -> Result<Value, StateError> {
        if let Some(service) = self.service_for(&inv.resource) {
            return service.call(&inv).await;
        }
        match arn::parse(&inv.resource) {
            Resource::Http {
                pattern: Pattern::RequestResponse,
            } => self.http.invoke(&inv.parameters).await,
            // `.waitForTaskToken`: the function is invoked with the token in its payload (put
            // there by the definition); its answer is the TaskSubmitted output, and the task
            // waits for SendTask* (the runtime's part).
            Resource::LambdaInvoke {
                pattern: Pattern::RequestResponse | Pattern::WaitForTaskToken,
            } => self.lambda_invoke(&inv).await,
            Resource::LambdaFunction { name, qualifier } => {
                let functions = self.functions(&inv)?;
                let out = functions
                    .invoke(
                        &name,
                        qualifier.as_deref(),
                        &inv.parameters,
                        InvocationType::RequestResponse,
                    )
                    .await?;
                lambda::check_size(&out.payload, &inv.resource)?;
                Ok(out.payload)
            }
            Resource::Http { .. } | Resource::LambdaInvoke { .. } => Err(not_configured(
                &inv,
                &format!("this integration pattern needs the server's callback support; {MOCK_HINT}"),
            )),
            Resource::Activity { .. } => Err(not_configured(
                &inv,
                "activities are served by the server's activity workers (GetActivityTask), not by this handler",
            )),
            Resource::Service { .. } => Err(not_configured(&inv, MOCK_HINT)),
            Resource::Unknown => Err(not_configured(
                &inv,
                "the resource is not an ARN Stepwise knows",
            )),
        }
    }

    fn functions(&self, inv: &Invocation) -> Result<&LambdaFunctions, StateError> {
        self.lambda.as_deref().ok_or_else(|| {
            not_configured(
                inv,
                "configure Lambda functions (--lambda-config FILE / STEPWISE_LAMBDA_CONFIG, or a LAMBDA_ENDPOINT) or mock the state (--mock-config FILE / SFN_MOCK_CONFIG)",
            )
        })
    }

    async fn lambda_invoke(&self, inv: &Invocation) -> Result<Value, StateError> {
        let functions = self.functions(inv)?;
        let p = &inv.parameters;
        let bad = |m: &str| StateError::new(names::RUNTIME, m.to_string());
        let fname = p
            .get("FunctionName")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("lambda:invoke needs a string 'FunctionName'"))?;
        let (name, mut qualifier) = arn::function_name(fname)
            .ok_or_else(|| bad(&format!("'{fname}' is not a Lambda function name or ARN")))?;
        if let Some(q) = p.get("Qualifier").and_then(Value::as_str) {
            qualifier = Some(q.to_string());
        }
        let kind = match p.get("InvocationType").and_then(Value::as_str) {
            None | Some("RequestResponse") => InvocationType::RequestResponse,
            Some("Event") => InvocationType::Event,
            Some("DryRun") => InvocationType::DryRun,
            Some(other) => {
                return Err(bad(&format!(
                    "InvocationType '{other}' is not RequestResponse, Event or DryRun"
                )))
            }
        };
        let event = match p.get("Payload") {
            Some(v) => v.clone(),
            None => Value::Object(Default::default()),
        };
        let out = functions
            .invoke(&name, qualifier.as_deref(), &event, kind)
            .await?;
        let result = lambda::service_output(&out);
        lambda::check_size(&result, "lambda")?;
        Ok(result)
    }
}

impl TaskHandler for Integrations {
    fn invoke(&self, req: TaskRequest) -> LocalBoxFuture<'_, Result<Value, StateError>> {
        self.call(Invocation::from_request(req, &self.context))
    }

    fn execution_ended(&self, execution_arn: &str) {
        self.forget_execution(execution_arn);
    }

    fn completes_by_token(&self, req: &TaskRequest) -> bool {
        let Some(service) = self.service_for(&req.resource) else {
            return false;
        };
        if !service.completes_by_token(&req.resource) {
            return false;
        }
        // A mocked state is answered by its mock, at once.
        let inv = Invocation::from_request(req.clone(), &self.context);
        !self.mocks.as_ref().is_some_and(|m| m.covers(&inv))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(
        i: &Integrations,
        state: &str,
        resource: &str,
        params: Value,
    ) -> Result<Value, StateError> {
        let inv = Invocation {
            state_name: state.into(),
            resource: resource.into(),
            parameters: params,
            context: i.context.clone(),
            ..Invocation::default()
        };
        futures::executor::block_on(i.call(inv))
    }

    #[test]
    fn unconfigured_services_name_what_is_missing() {
        let i = Integrations::new();
        let e = run(&i, "Send", "arn:aws:states:::sqs:sendMessage", json!({})).expect_err("fails");
        assert_eq!(e.error, NOT_CONFIGURED);
        assert!(
            e.cause.contains("arn:aws:states:::sqs:sendMessage"),
            "{}",
            e.cause
        );
        assert!(e.cause.contains("SFN_MOCK_CONFIG"), "{}", e.cause);
        let e = run(
            &i,
            "L",
            "arn:aws:states:::lambda:invoke",
            json!({"FunctionName": "f"}),
        )
        .expect_err("fails");
        assert!(e.cause.contains("--lambda-config"), "{}", e.cause);
        let e =
            run(&i, "S", "arn:aws:states:::aws-sdk:s3:getObject", json!({})).expect_err("fails");
        assert!(e.cause.contains("aws-sdk:s3:getObject"));
    }

    #[test]
    fn mocks_come_first() {
        let mocks = MockConfig::from_json(&json!({
            "StateMachines": {"M": {"TestCases": {"T": {"Send": "ok"}}}},
            "MockedResponses": {"ok": {"0": {"Return": {"MessageId": "1"}}}}
        }))
        .expect("valid");
        let i = Integrations::new()
            .with_mocks(Arc::new(mocks))
            .with_context(ExecutionContext::test_case("M", "T"));
        assert_eq!(
            run(&i, "Send", "arn:aws:states:::sqs:sendMessage", json!({})),
            Ok(json!({"MessageId": "1"}))
        );
        assert!(run(&i, "Other", "arn:aws:states:::sqs:sendMessage", json!({})).is_err());
    }

    #[test]
    fn unknown_functions_are_resource_not_found() {
        let i = Integrations::new().with_lambda(Arc::new(LambdaFunctions::default()));
        let e = run(
            &i,
            "L",
            "arn:aws:states:::lambda:invoke",
            json!({"FunctionName": "arn:aws:lambda:us-east-1:1:function:nope"}),
        )
        .expect_err("fails");
        assert_eq!(e.error, "Lambda.ResourceNotFoundException");
        let e = run(
            &i,
            "L",
            "arn:aws:lambda:us-east-1:1:function:nope",
            json!({}),
        )
        .expect_err("fails");
        assert_eq!(e.error, "Lambda.ResourceNotFoundException");
        let e = run(&i, "L", "arn:aws:states:::lambda:invoke", json!({})).expect_err("fails");
        assert_eq!(e.error, names::RUNTIME);
    }
}
