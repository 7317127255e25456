//! Replays the AWS-recorded corpus through the API (`stepwise_api::actions::dispatch` on an
//! in-memory service per case) and fails on regressions relative to `expectations_api.json`.
//! `STEPWISE_UPDATE_EXPECTATIONS=1` rewrites that file instead.

use std::sync::Arc;

use stepwise_conformance::api::ApiBackend;
use stepwise_conformance::{
    corpus_dir, expectations, expectations_api_path, output_dir, report, run_corpus, Selection,
    API_REPORT_SCOPE, API_REPORT_TITLE,
};

#[test]
fn api_corpus_has_no_regressions() {
    let dir = corpus_dir();
    if !dir.join("cases").is_dir() {
        eprintln!(
            "conformance corpus not found at {}, skipping",
            dir.display()
        );
        return;
    }
    let run = match run_corpus(&dir, &Selection::api(), Arc::new(ApiBackend)) {
        Ok(r) => r,
        Err(e) => panic!("cannot read the corpus at {}: {e:#}", dir.display()),
    };
    assert!(
        run.load_errors.is_empty(),
        "unloadable cases:\n{}",
        run.load_errors.join("\n")
    );
    let out = output_dir().join("api");
    let md = report::markdown_titled(
        &run.results,
        run.cases_total,
        API_REPORT_TITLE,
        API_REPORT_SCOPE,
    );
    match report::write_markdown(&md, &run.results, &out) {
        Ok(md) => println!("{md}"),
        Err(e) => eprintln!("could not write the report under {}: {e:#}", out.display()),
    }
    println!(
        "ran {} cases in {:.2?}; report and failures under {}",
        run.results.len(),
        run.elapsed,
        out.display()
    );
    match expectations::enforce(&run.results, &expectations_api_path(), &out) {
        Ok(notes) => notes.iter().for_each(|n| println!("{n}")),
        Err(msg) => panic!("{msg}"),
    }
}
