//! The real backend: Stepwise's in-process engine and validator.

use stepwise_asl::diagnostic::{Diagnostic, Severity};
use stepwise_asl::validate::{validate_text, MachineType, ValidateOptions};
use stepwise_asl::StateMachine;
use stepwise_engine::{run_local, RunOptions};

use crate::run::{Backend, DiagnosticInfo, ExecRequest, RunOutput};

/// Runs cases with `stepwise_engine::run_local` (virtual time, history on, fixed seed).
#[derive(Debug, Default, Clone, Copy)]
pub struct EngineBackend;

fn info(d: &Diagnostic) -> DiagnosticInfo {
    DiagnosticInfo {
        is_error: d.severity == Severity::Error,
        code: d.code.clone(),
        message: d.message.clone(),
        location: d.location.clone(),
        aws_text: d.aws_text(),
    }
}

/// Whether the real validator is in: the stand-in accepted any JSON, `{}` included.
fn validator_ready() -> bool {
    !validate_text("{}", &ValidateOptions::default()).is_empty()
}

impl Backend for EngineBackend {
    fn run(&self, req: &ExecRequest) -> Result<RunOutput, String> {
        let machine = StateMachine::from_value(&req.definition).map_err(|diags| {
            let texts: Vec<String> = diags.iter().map(Diagnostic::aws_text).collect();
            format!("definition rejected: {}", texts.join("; "))
        })?;
        let opts = RunOptions {
            state_machine_arn: req.state_machine_arn.clone(),
            state_machine_name: req.state_machine_name.clone(),
            execution_arn: req.execution_arn.clone(),
            execution_name: req.execution_name.clone(),
            role_arn: req.role_arn.clone(),
            seed: 0,
            record_history: true,
            skip_waits: true,
            express: req.express,
            synchronous: req.synchronous,
            ..RunOptions::default()
        };
        let out = run_local(&machine, req.input.clone(), &opts);
        Ok(RunOutput {
            status: out.status.as_str().to_string(),
            output: out.output,
            error: out.error,
            cause: out.cause,
            history: out.history.iter().map(|e| e.to_json()).collect(),
        })
    }

    fn validate(&self, text: &str, express: bool) -> Option<Vec<DiagnosticInfo>> {
        if !validator_ready() {
            return None;
        }
        let machine_type = if express {
            MachineType::Express
        } else {
            MachineType::Standard
        };
        Some(
            validate_text(text, &ValidateOptions { machine_type })
                .iter()
                .map(info)
                .collect(),
        )
    }
}
