//! Helpers for spawning the real `stepwise` binary the way a user would.
//!
//! Plain `std::process::Command` and temp files under `std::env::temp_dir()`: the tests need
//! nothing more, and fewer dev-dependencies keep the shared build machine's load down.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// What one run of the binary produced.
#[derive(Debug)]
pub struct Output {
    /// Exit status; `None` when killed by a signal.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Output {
    /// stdout parsed as JSON; panics with the whole output so a failure explains itself.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n--- stdout\n{}\n--- stderr\n{}",
                self.stdout, self.stderr
            )
        })
    }

    /// Asserts the exit status, showing both streams when it differs.
    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code,
            Some(code),
            "unexpected exit status\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        self
    }
}

/// A `Command` for the binary under test.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_stepwise"))
}

/// Runs `stepwise ARGS...` to completion.
pub fn stepwise<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let start = Instant::now();
    let out = bin()
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("spawn stepwise");
    Output {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: start.elapsed(),
    }
}

/// Test files live in a per-process directory, so parallel tests and concurrent `cargo test`
/// runs never share a name.
fn scratch_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("stepwise-cli-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// Writes `text` to a fresh file named after `hint` and returns its path.
pub fn write_text(hint: &str, text: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let path = scratch_dir().join(format!("{n:04}-{hint}"));
    std::fs::write(&path, text).expect("write temp file");
    path
}

/// Writes a JSON value pretty-printed (one member per line, so diagnostics' LINE:COL point at
/// distinct places) and returns the path.
pub fn write_json(hint: &str, v: &Value) -> PathBuf {
    write_text(
        hint,
        &serde_json::to_string_pretty(v).expect("serialise test JSON"),
    )
}

/// The repository's `examples/` directory.
pub fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

/// Parses a JSON text that the binary produced (e.g. the `output` member of `--history`,
/// which is JSON text as in DescribeExecution).
pub fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// The `type` of every history event, in order.
pub fn event_types(run: &Value) -> Vec<String> {
    run["history"]
        .as_array()
        .expect("history is an array")
        .iter()
        .map(|e| e["type"].as_str().expect("event type").to_string())
        .collect()
}
