//! Figures: per kind and per feature group, as markdown (for the README's compatibility
//! section) plus one failure file per case for triage.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use anyhow::{Context, Result};

use crate::classify::Scope;
use crate::run::{CaseResult, Check, Outcome};

#[derive(Default, Clone, Copy)]
struct Tally {
    pass: usize,
    total: usize,
}

impl Tally {
    fn add(&mut self, v: Option<bool>) {
        if let Some(p) = v {
            self.total += 1;
            if p {
                self.pass += 1;
            }
        }
    }

    fn cell(&self) -> String {
        if self.total == 0 {
            "–".into()
        } else {
            format!(
                "{}/{} ({:.1}%)",
                self.pass,
                self.total,
                100.0 * self.pass as f64 / self.total as f64
            )
        }
    }
}

#[derive(Default)]
struct Row {
    cases: usize,
    full: Tally,
    checks: BTreeMap<Check, Tally>,
}

impl Row {
    fn add(&mut self, r: &CaseResult) {
        self.cases += 1;
        let judged = r.checks.values().any(|o| !matches!(o, Outcome::Skipped(_)));
        if judged {
            self.full.add(Some(r.failing().is_empty()));
        }
        for c in [
            Check::Result,
            Check::History,
            Check::Code,
            Check::Message,
            Check::Responses,
        ] {
            self.checks.entry(c).or_default().add(r.passed(c));
        }
    }

    fn cell(&self, c: Check) -> String {
        self.checks
            .get(&c)
            .map(Tally::cell)
            .unwrap_or_else(|| "–".into())
    }
}

/// A short, value-free signature of a case's first failure, to count failure categories.
pub fn failure_signature(r: &CaseResult) -> Option<String> {
    r.checks.iter().find_map(|(c, o)| match o {
        Outcome::Fail(d) => {
            let line = d.lines().next().unwrap_or("");
            let sig = if let Some(rest) = line.strip_prefix("run failed: ") {
                format!("run failed: {}", rest.chars().take(70).collect::<String>())
            } else if let Some((path, _)) = line.split_once(": expected ") {
                // Keep the event type for history divergences, drop indices.
                let p: String = path.chars().filter(|ch| !ch.is_ascii_digit()).collect();
                if p.starts_with("history.types") {
                    // `… A, B, C` after the `…` marker: A is the last common event, B diverges.
                    let exp = line.split(" got ").next().unwrap_or("");
                    let at = exp
                        .split("] …")
                        .nth(1)
                        .unwrap_or("")
                        .split(", ")
                        .nth(1)
                        .unwrap_or("(end)");
                    format!("{p} (expected {at} next)")
                } else {
                    p
                }
            } else {
                line.chars().take(80).collect()
            };
            Some(format!("{}: {sig}", c.as_str()))
        }
        _ => None,
    })
}

/// The report as markdown (the in-process engine backend).
pub fn markdown(results: &[CaseResult], corpus_total: usize) -> String {
    markdown_titled(
        results,
        corpus_total,
        "Conformance against the AWS-recorded corpus",
        "pure executions, JSONPath and JSONata, and definition errors",
    )
}

/// The report as markdown under `title`; `scope` says in words what was in scope.
pub fn markdown_titled(
    results: &[CaseResult],
    corpus_total: usize,
    title: &str,
    scope: &str,
) -> String {
    let mut kinds: BTreeMap<&str, Row> = BTreeMap::new();
    let mut groups: BTreeMap<&str, Row> = BTreeMap::new();
    let mut skipped: BTreeMap<String, usize> = BTreeMap::new();
    let mut all = Row::default();
    for r in results {
        match &r.scope {
            Scope::Skip(why) => {
                let k = why.split(':').next().unwrap_or(why).to_string();
                *skipped.entry(format!("{} — {k}", r.kind)).or_default() += 1;
            }
            scope => {
                kinds.entry(&r.kind).or_default().add(r);
                all.add(r);
                if *scope == Scope::Execution {
                    for g in &r.groups {
                        groups.entry(g).or_default().add(r);
                    }
                }
            }
        }
    }
    let in_scope: usize = kinds.values().map(|r| r.cases).sum();
    let mut s = String::new();
    let _ = writeln!(s, "## {title}\n");
    let _ = writeln!(
        s,
        "{in_scope} of {corpus_total} recorded cases in scope ({scope}).\n"
    );
    // The API responses column only where some case has that check (API backends).
    let responses = all
        .checks
        .get(&Check::Responses)
        .is_some_and(|t| t.total > 0);
    let (code, message) = if responses {
        ("error code", "error message")
    } else {
        ("diagnostic code", "diagnostic message")
    };
    let _ = write!(
        s,
        "| kind | cases | fully passing | status + output | full history | {code} | {message} |"
    );
    let _ = writeln!(s, "{}", if responses { " API responses |" } else { "" });
    let _ = write!(s, "| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    let _ = writeln!(s, "{}", if responses { " ---: |" } else { "" });
    let mut line = |name: &str, r: &Row| {
        let _ = write!(
            s,
            "| {name} | {} | {} | {} | {} | {} | {} |",
            r.cases,
            r.full.cell(),
            r.cell(Check::Result),
            r.cell(Check::History),
            r.cell(Check::Code),
            r.cell(Check::Message)
        );
        if responses {
            let _ = write!(s, " {} |", r.cell(Check::Responses));
        }
        let _ = writeln!(s);
    };
    for (k, r) in &kinds {
        line(k, r);
    }
    line("**all**", &all);
    let _ = writeln!(s, "\n### By feature (execution cases)\n");
    let _ = writeln!(s, "| feature | cases | status + output | full history |");
    let _ = writeln!(s, "| --- | ---: | ---: | ---: |");
    let mut gs: Vec<(&&str, &Row)> = groups.iter().collect();
    gs.sort_by(|a, b| b.1.cases.cmp(&a.1.cases).then(a.0.cmp(b.0)));
    for (g, r) in gs {
        if r.checks.get(&Check::Result).is_some_and(|t| t.total > 0) {
            let _ = writeln!(
                s,
                "| {g} | {} | {} | {} |",
                r.cases,
                r.cell(Check::Result),
                r.cell(Check::History)
            );
        }
    }
    let mut sigs: BTreeMap<String, usize> = BTreeMap::new();
    for r in results {
        if let Some(sig) = failure_signature(r) {
            *sigs.entry(sig).or_default() += 1;
        }
    }
    if !sigs.is_empty() {
        let _ = writeln!(s, "\n### Top failure categories (first failing check)\n");
        let _ = writeln!(s, "| cases | signature |");
        let _ = writeln!(s, "| ---: | --- |");
        let mut v: Vec<_> = sigs.into_iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        for (sig, n) in v.into_iter().take(25) {
            let _ = writeln!(
                s,
                "| {n} | `{}` |",
                sig.replace('|', "\\|").replace('`', "'")
            );
        }
    }
    let _ = writeln!(s, "\n### Not run\n");
    let _ = writeln!(s, "| kind — reason | cases |");
    let _ = writeln!(s, "| --- | ---: |");
    let mut sk: Vec<_> = skipped.into_iter().collect();
    sk.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    for (k, n) in sk {
        let _ = writeln!(s, "| {k} | {n} |");
    }
    s
}

/// Writes `report.md` and `failures/<id>.txt` under `dir` (old failure files are removed).
pub fn write_outputs(results: &[CaseResult], corpus_total: usize, dir: &Path) -> Result<String> {
    write_markdown(&markdown(results, corpus_total), results, dir)
}

/// Writes `md` as `report.md` and the failure files of `results` under `dir`.
pub fn write_markdown(md: &str, results: &[CaseResult], dir: &Path) -> Result<String> {
    let md = md.to_string();
    let failures = dir.join("failures");
    if failures.exists() {
        fs::remove_dir_all(&failures)
            .with_context(|| format!("clearing {}", failures.display()))?;
    }
    fs::create_dir_all(&failures).with_context(|| format!("creating {}", failures.display()))?;
    fs::write(dir.join("report.md"), &md)?;
    for r in results.iter().filter(|r| !r.failing().is_empty()) {
        fs::write(failures.join(format!("{}.txt", r.id)), r.failure_text())?;
    }
    Ok(md)
}
