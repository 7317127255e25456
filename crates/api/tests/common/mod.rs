//! Finding a Python that has boto3/botocore, for the tests that check us against them.
//! `STEPWISE_PYTHON` wins (scripts/test.sh points it at its venv), else `python3` on PATH.

use std::process::{Command, Stdio};

pub fn python() -> String {
    std::env::var("STEPWISE_PYTHON")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "python3".into())
}

/// Whether `import <module>` works in [`python`].
pub fn python_has(module: &str) -> bool {
    Command::new(python())
        .args(["-c", &format!("import {module}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}
