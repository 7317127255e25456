//! Replays the AWS-recorded corpus against the engine and fails on regressions relative to
//! `expectations.json`. `STEPWISE_UPDATE_EXPECTATIONS=1` rewrites that file instead.

use std::sync::Arc;

use stepwise_conformance::engine::EngineBackend;
use stepwise_conformance::expectations::Expectations;
use stepwise_conformance::{
    corpus_dir, expectations_path, output_dir, report, run_corpus, Selection,
};

#[test]
fn corpus_has_no_regressions() {
    let dir = corpus_dir();
    if !dir.join("cases").is_dir() {
        eprintln!(
            "conformance corpus not found at {}, skipping",
            dir.display()
        );
        return;
    }
    let run = match run_corpus(&dir, &Selection::default(), Arc::new(EngineBackend)) {
        Ok(r) => r,
        Err(e) => panic!("cannot read the corpus at {}: {e:#}", dir.display()),
    };
    assert!(
        run.load_errors.is_empty(),
        "unloadable cases:\n{}",
        run.load_errors.join("\n")
    );
    let out = output_dir();
    match report::write_outputs(&run.results, run.cases_total, &out) {
        Ok(md) => println!("{md}"),
        Err(e) => eprintln!("could not write the report under {}: {e:#}", out.display()),
    }
    println!(
        "ran {} cases in {:.2?}; report and failures under {}",
        run.results.len(),
        run.elapsed,
        out.display()
    );

    let path = expectations_path();
    let expectations = Expectations::load(&path).expect("expectations.json must parse");
    if std::env::var("STEPWISE_UPDATE_EXPECTATIONS").is_ok_and(|v| v == "1") {
        let updated = expectations.updated(&run.results);
        updated.save(&path).expect("write expectations.json");
        println!(
            "rewrote {} ({} failing cases listed)",
            path.display(),
            updated.cases.len()
        );
        return;
    }
    let verdict = expectations.check(&run.results);
    for (id, checks) in &verdict.improvements {
        let names: Vec<&str> = checks.iter().map(|c| c.as_str()).collect();
        println!(
            "note: {id} now passes {} (listed as failing; update expectations.json)",
            names.join(", ")
        );
    }
    for id in &verdict.stale {
        println!("note: {id} is listed in expectations.json but was not run");
    }
    if !verdict.regressions.is_empty() {
        let mut msg = format!(
            "{} case(s) fail checks not listed in expectations.json:\n",
            verdict.regressions.len()
        );
        for (id, checks) in &verdict.regressions {
            let names: Vec<&str> = checks.iter().map(|c| c.as_str()).collect();
            msg.push_str(&format!("\n--- {id} [{}]\n", names.join(", ")));
            if let Some(r) = run.results.iter().find(|r| &r.id == id) {
                for (c, o) in &r.checks {
                    if let (true, stepwise_conformance::Outcome::Fail(d)) = (checks.contains(c), o)
                    {
                        let short: Vec<&str> = d.lines().take(6).collect();
                        msg.push_str(&format!("  {}: {}\n", c.as_str(), short.join("\n    ")));
                    }
                }
            }
        }
        msg.push_str(&format!(
            "\nfull diffs: {}/failures/<id>.txt",
            out.display()
        ));
        panic!("{msg}");
    }
}
