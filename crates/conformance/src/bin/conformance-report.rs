//! Prints the conformance figures as markdown (for the README's compatibility section), first
//! for the in-process engine, then through the API, and writes `target/conformance/report.md`
//! and `target/conformance/api/report.md` plus per-case failure files. `--engine` or `--api`
//! prints only that one.

use std::process::ExitCode;
use std::sync::Arc;

use stepwise_conformance::api::ApiBackend;
use stepwise_conformance::engine::EngineBackend;
use stepwise_conformance::{
    corpus_dir, output_dir, report, run_corpus, Backend, Selection, API_REPORT_SCOPE,
    API_REPORT_TITLE,
};

fn section(dir: &std::path::Path, api: bool) -> Result<String, String> {
    let (selection, backend): (Selection, Arc<dyn Backend>) = if api {
        (Selection::api(), Arc::new(ApiBackend))
    } else {
        (Selection::default(), Arc::new(EngineBackend))
    };
    let run = run_corpus(dir, &selection, backend)
        .map_err(|e| format!("cannot read the corpus at {}: {e:#}", dir.display()))?;
    for e in &run.load_errors {
        eprintln!("unloadable case: {e}");
    }
    let (out, md) = if api {
        let md = report::markdown_titled(
            &run.results,
            run.cases_total,
            API_REPORT_TITLE,
            API_REPORT_SCOPE,
        );
        (output_dir().join("api"), md)
    } else {
        (
            output_dir(),
            report::markdown(&run.results, run.cases_total),
        )
    };
    if let Err(e) = report::write_markdown(&md, &run.results, &out) {
        eprintln!("could not write under {}: {e:#}", out.display());
    }
    eprintln!(
        "{} cases in {:.2?}; failures under {}/failures",
        run.results.len(),
        run.elapsed,
        out.display()
    );
    Ok(md)
}

fn main() -> ExitCode {
    let dir = corpus_dir();
    if !dir.join("cases").is_dir() {
        eprintln!(
            "conformance corpus not found at {} (set STEPWISE_CONFORMANCE_DIR)",
            dir.display()
        );
        return ExitCode::FAILURE;
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let only_engine = args.iter().any(|a| a == "--engine");
    let only_api = args.iter().any(|a| a == "--api");
    let mut sections = Vec::new();
    if !only_api {
        sections.push(false);
    }
    if !only_engine {
        sections.push(true);
    }
    for (i, api) in sections.into_iter().enumerate() {
        match section(&dir, api) {
            Ok(md) => {
                if i > 0 {
                    println!();
                }
                println!("{md}");
            }
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}
