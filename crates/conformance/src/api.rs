//! The API backend: every case goes through the real Step Functions API
//! (`stepwise_api::actions::dispatch`, the code the server runs per request, in process), on a
//! fresh in-memory service per case with the corpus's account and region so recorded ARNs line
//! up. Executions run on the server runtime, so Waits take real time: cases run concurrently and
//! [`Selection::api`](crate::Selection::api) skips the ones that could wait longer than 10 s.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use stepwise_api::service::Service;
use stepwise_api::Config;
use stepwise_resources::ServiceIntegration;
use stepwise_store::MemoryStore;

use crate::run::{Backend, DiagnosticInfo, ExecRequest, RunOutput, ACCOUNT, REGION};
use crate::scenario::{run_execution, ApiFailure, ApiSession, EXECUTION_DEADLINE};

/// Drives cases through `stepwise_api::actions::dispatch`.
#[derive(Debug, Default, Clone, Copy)]
pub struct ApiBackend;

/// One in-memory service; its runtime stops when the session is dropped.
pub struct ServiceSession {
    svc: Arc<Service>,
}

impl ServiceSession {
    pub fn new() -> Result<ServiceSession, String> {
        ServiceSession::with_integrations(Vec::new())
    }

    /// A service whose tasks also reach `extra` (the harness's fake services).
    pub fn with_integrations(
        extra: Vec<Arc<dyn ServiceIntegration>>,
    ) -> Result<ServiceSession, String> {
        let svc = Service::with_integrations(
            Config {
                region: REGION.into(),
                account_id: ACCOUNT.into(),
                data_dir: None,
                workers: 1,
                ..Config::default()
            },
            Arc::new(MemoryStore::new()),
            extra,
        )?;
        Ok(ServiceSession { svc })
    }
}

impl Drop for ServiceSession {
    fn drop(&mut self) {
        self.svc.shutdown();
    }
}

impl ApiSession for ServiceSession {
    fn call(&mut self, action: &str, params: &Value) -> Result<Value, ApiFailure> {
        let body = params.to_string();
        stepwise_api::actions::dispatch(action, body.as_bytes(), &self.svc).map_err(|e| {
            ApiFailure {
                code: e.code,
                message: e.message,
                status: e.status,
            }
        })
    }
}

impl Backend for ApiBackend {
    /// A case that needs an outside world (nested machines, activities, queues, actors)
    /// runs in it ([`crate::actors`]); a pure one on a plain service.
    fn run(&self, req: &ExecRequest) -> Result<RunOutput, String> {
        if let Some(plan) = &req.plan {
            return crate::actors::run(req, plan, EXECUTION_DEADLINE);
        }
        let mut s = ServiceSession::new()?;
        run_execution(&mut s, req, EXECUTION_DEADLINE)
    }

    /// ValidateStateMachineDefinition; a rejected request (e.g. an empty definition) becomes
    /// one error diagnostic carrying the API error.
    fn validate(&self, text: &str, express: bool) -> Option<Vec<DiagnosticInfo>> {
        let mut s = ServiceSession::new().ok()?;
        let kind = if express { "EXPRESS" } else { "STANDARD" };
        let params = json!({"definition": text, "type": kind});
        match s.call("ValidateStateMachineDefinition", &params) {
            Ok(v) => Some(
                v.get("diagnostics")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .map(|d| {
                        let f = |k: &str| {
                            d.get(k)
                                .and_then(Value::as_str)
                                .unwrap_or_default()
                                .to_string()
                        };
                        let (code, message, location) = (f("code"), f("message"), f("location"));
                        let aws_text = if location.is_empty() {
                            format!("{code}: {message}")
                        } else {
                            format!("{code}: {message} at {location}")
                        };
                        DiagnosticInfo {
                            is_error: f("severity") == "ERROR",
                            code,
                            message,
                            location,
                            aws_text,
                        }
                    })
                    .collect(),
            ),
            Err(e) => Some(vec![DiagnosticInfo {
                is_error: true,
                aws_text: format!("{}: {}", e.code, e.message),
                code: e.code,
                message: e.message,
                location: String::new(),
            }]),
        }
    }

    fn api_session(&self) -> Option<Box<dyn ApiSession>> {
        ServiceSession::new()
            .ok()
            .map(|s| Box::new(s) as Box<dyn ApiSession>)
    }

    fn parallelism(&self) -> usize {
        16
    }

    fn case_timeout(&self) -> Duration {
        EXECUTION_DEADLINE + Duration::from_secs(5)
    }
}
