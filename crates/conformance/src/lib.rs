//! Conformance harness: replays the AWS-recorded corpus (`../shared/conformance/localstack`)
//! against Stepwise, normalises our results into the recorded form, compares, and reports.
//!
//! Layout: [`case`] loads the corpus, [`classify`] picks what runs, [`normalize`] and
//! [`compare`] judge, [`run`] guards each case, [`expectations`] tracks known failures,
//! [`report`] gives the figures, [`engine`] plugs in the real engine, [`api`] the real API
//! (with [`scenario`] replaying recorded API calls).
//!
//! Use: `cargo test -p stepwise-conformance` (fails on cases failing checks not listed in
//! `expectations.json`; `STEPWISE_UPDATE_EXPECTATIONS=1` rewrites that file keeping reasons),
//! `cargo run -p stepwise-conformance --bin conformance-report` (markdown figures). Both write
//! `target/conformance/report.md` and `target/conformance/failures/<id>.txt`. The corpus is
//! found at `$STEPWISE_CONFORMANCE_DIR` or `<workspace>/../shared/conformance/localstack`.
//!
//! Through the API: `tests/api_corpus.rs` replays the corpus with [`api::ApiBackend`] and
//! [`Selection::api`] (executions via Create/Start/Describe/GetExecutionHistory, Express sync
//! runs, the create/update/start error kinds on the real call, ValidateStateMachineDefinition,
//! and `api_scenario` call lists needing no external service), against
//! `expectations_api.json` with the same regression rule; its report goes to
//! `target/conformance/api/`. Executions that need an outside world run in one the harness
//! builds from the case ([`actors`]): nested executions' target machines, activities with
//! their ASL workers, fake SQS/SNS ([`fakes`]), and the test's or helper's SendTask* answers. The report binary prints both sections (`--engine`/`--api` for
//! one).

use std::path::PathBuf;

pub mod actors;
pub mod api;
pub mod case;
pub mod classify;
pub mod compare;
pub mod engine;
pub mod expectations;
pub mod fakes;
pub mod normalize;
pub mod report;
pub mod run;
pub mod scenario;

pub use case::{load_corpus, Case};
pub use classify::{Scope, Selection};
pub use run::{evaluate_all, Backend, CaseResult, Check, Outcome};

/// The workspace root (two levels above this crate).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("..")
}

/// The corpus: `$STEPWISE_CONFORMANCE_DIR`, else `<workspace>/../shared/conformance/localstack`.
pub fn corpus_dir() -> PathBuf {
    match std::env::var_os("STEPWISE_CONFORMANCE_DIR") {
        Some(d) => PathBuf::from(d),
        None => workspace_root()
            .join("..")
            .join("shared")
            .join("conformance")
            .join("localstack"),
    }
}

/// Where the report goes: `<target>/conformance`.
pub fn output_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    target.join("conformance")
}

/// The checked-in expectations file.
pub fn expectations_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("expectations.json")
}

/// The checked-in expectations of the API backend (same format and rules).
pub fn expectations_api_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("expectations_api.json")
}

/// Title and scope words of the API backend's report section.
pub const API_REPORT_TITLE: &str = "Conformance through the API";
pub const API_REPORT_SCOPE: &str = "executions (with nested executions, activities and their \
workers, fake SQS/SNS and the tests' callback answers played by the harness), Express sync runs, \
create/update/start errors, definitions validated, and api_scenario call lists needing no \
external service, all through `stepwise_api::actions::dispatch`";

/// One run over the corpus.
pub struct CorpusRun {
    pub dir: PathBuf,
    /// Cases loaded (in scope or not).
    pub cases_total: usize,
    pub results: Vec<CaseResult>,
    /// Case files that did not load, with why.
    pub load_errors: Vec<String>,
    pub elapsed: std::time::Duration,
}

/// Loads the corpus at `dir` and evaluates every case with `backend`.
pub fn run_corpus(
    dir: &std::path::Path,
    selection: &Selection,
    backend: std::sync::Arc<dyn Backend>,
) -> anyhow::Result<CorpusRun> {
    let start = std::time::Instant::now();
    let (cases, errors) = load_corpus(dir)?;
    let results = evaluate_all(&cases, selection, backend);
    Ok(CorpusRun {
        dir: dir.to_path_buf(),
        cases_total: cases.len(),
        results,
        load_errors: errors
            .into_iter()
            .map(|(p, e)| format!("{}: {e:#}", p.display()))
            .collect(),
        elapsed: start.elapsed(),
    })
}
