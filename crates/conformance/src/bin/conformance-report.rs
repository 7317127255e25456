//! Prints the conformance figures as markdown (for the README's compatibility section) and
//! writes `target/conformance/report.md` plus per-case failure files.

use std::process::ExitCode;
use std::sync::Arc;

use stepwise_conformance::engine::EngineBackend;
use stepwise_conformance::{corpus_dir, output_dir, report, run_corpus, Selection};

fn main() -> ExitCode {
    let dir = corpus_dir();
    if !dir.join("cases").is_dir() {
        eprintln!(
            "conformance corpus not found at {} (set STEPWISE_CONFORMANCE_DIR)",
            dir.display()
        );
        return ExitCode::FAILURE;
    }
    let run = match run_corpus(&dir, &Selection::default(), Arc::new(EngineBackend)) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot read the corpus at {}: {e:#}", dir.display());
            return ExitCode::FAILURE;
        }
    };
    for e in &run.load_errors {
        eprintln!("unloadable case: {e}");
    }
    let out = output_dir();
    let md = match report::write_outputs(&run.results, run.cases_total, &out) {
        Ok(md) => md,
        Err(e) => {
            eprintln!("could not write under {}: {e:#}", out.display());
            report::markdown(&run.results, run.cases_total)
        }
    };
    println!("{md}");
    eprintln!(
        "{} cases in {:.2?}; failures under {}/failures",
        run.results.len(),
        run.elapsed,
        out.display()
    );
    ExitCode::SUCCESS
}
