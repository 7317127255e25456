//! What Task states call, locally: HTTP Tasks (`arn:aws:states:::http:invoke`) with
//! authentication from a connections file, Lambda functions configured by name (an HTTP
//! endpoint, a command, or a Lambda-API-compatible server), and mocked integrations in Step
//! Functions Local's MockConfigFile format.
//!
//! Everything plugs into the engine through its [`stepwise_engine::TaskHandler`] trait:
//! [`Integrations`] routes by resource ARN (mocks first), [`MockHandler`] serves one mock test
//! case for one execution. Network and process IO runs on a runtime of this crate's own (see
//! `io`), so handlers work from the engine's timer-only, current-thread runtimes.

pub mod arn;
pub mod connections;
pub mod http_task;
pub mod integrations;
pub mod invocation;
mod io;
pub mod lambda;
pub mod mock;

pub use connections::Connections;
pub use http_task::HttpTasks;
pub use integrations::{Integrations, ServiceIntegration, Unconfigured, NOT_CONFIGURED};
pub use invocation::{ExecutionContext, Invocation};
pub use lambda::{FunctionSpec, InvocationType, LambdaFunctions};
pub use mock::{MockConfig, MockConfigError, MockHandler};
