//! `expectations.json`: the in-scope cases known not to fully pass, with the failing checks and
//! a one-line reason. The corpus test fails only on changes for the worse.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::classify::Scope;
use crate::run::{CaseResult, Check};

pub const TODO_REASON: &str = "TODO: triage";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Expectation {
    pub fails: BTreeSet<Check>,
    pub reason: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Expectations {
    #[serde(default, rename = "_about", skip_serializing_if = "String::is_empty")]
    pub about: String,
    #[serde(default)]
    pub cases: BTreeMap<String, Expectation>,
}

const ABOUT: &str = "Cases in scope that do not fully pass, with the failing checks and why. \
Regenerate with STEPWISE_UPDATE_EXPECTATIONS=1 cargo test -p stepwise-conformance (reasons are kept).";

impl Expectations {
    pub fn load(path: &Path) -> Result<Expectations> {
        if !path.exists() {
            return Ok(Expectations::default());
        }
        let text =
            fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        let mut text = serde_json::to_string_pretty(self)?;
        text.push('\n');
        fs::write(path, text).with_context(|| format!("writing {}", path.display()))
    }

    /// The file as it should be after this run: every failing case listed with its checks;
    /// reasons of cases already listed are kept, new ones get `TODO: triage: <first diff>`.
    pub fn updated(&self, results: &[CaseResult]) -> Expectations {
        let mut cases = BTreeMap::new();
        for r in results {
            let fails = r.failing();
            if fails.is_empty() {
                continue;
            }
            let reason = match self.cases.get(&r.id) {
                Some(e) if !e.reason.starts_with(TODO_REASON) => e.reason.clone(),
                _ => format!("{TODO_REASON}: {}", first_line_of_failure(r)),
            };
            cases.insert(r.id.clone(), Expectation { fails, reason });
        }
        Expectations {
            about: if self.about.is_empty() {
                ABOUT.into()
            } else {
                self.about.clone()
            },
            cases,
        }
    }

    /// Compares a run with the listed expectations.
    pub fn check(&self, results: &[CaseResult]) -> Verdict {
        let mut v = Verdict::default();
        let mut seen = BTreeSet::new();
        for r in results {
            if matches!(r.scope, Scope::Skip(_)) {
                continue;
            }
            seen.insert(r.id.clone());
            let fails = r.failing();
            let listed = self
                .cases
                .get(&r.id)
                .map(|e| e.fails.clone())
                .unwrap_or_default();
            let new: BTreeSet<Check> = fails.difference(&listed).copied().collect();
            let fixed: BTreeSet<Check> = listed.difference(&fails).copied().collect();
            if !new.is_empty() {
                v.regressions.push((r.id.clone(), new));
            }
            if !fixed.is_empty() {
                v.improvements.push((r.id.clone(), fixed));
            }
        }
        v.stale = self
            .cases
            .keys()
            .filter(|k| !seen.contains(*k))
            .cloned()
            .collect();
        v
    }
}

/// The outcome of checking a run against the expectations.
#[derive(Debug, Default)]
pub struct Verdict {
    /// Cases failing checks that are not listed: the test fails on these.
    pub regressions: Vec<(String, BTreeSet<Check>)>,
    /// Listed failing checks that now pass: worth a note (and an update of the file).
    pub improvements: Vec<(String, BTreeSet<Check>)>,
    /// Listed cases that were not run (renamed, removed, or out of scope now).
    pub stale: Vec<String>,
}

/// Applies the regression rule of the corpus tests to `results` and the expectations file at
/// `path`: with `STEPWISE_UPDATE_EXPECTATIONS=1` rewrites the file; otherwise returns notes
/// (improvements, stale entries) or, on regressions, the message to fail with.
pub fn enforce(results: &[CaseResult], path: &Path, out: &Path) -> Result<Vec<String>, String> {
    let expectations =
        Expectations::load(path).map_err(|e| format!("{} must parse: {e:#}", path.display()))?;
    if std::env::var("STEPWISE_UPDATE_EXPECTATIONS").is_ok_and(|v| v == "1") {
        let updated = expectations.updated(results);
        updated
            .save(path)
            .map_err(|e| format!("writing {}: {e:#}", path.display()))?;
        return Ok(vec![format!(
            "rewrote {} ({} failing cases listed)",
            path.display(),
            updated.cases.len()
        )]);
    }
    let verdict = expectations.check(results);
    let file = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut notes = Vec::new();
    for (id, checks) in &verdict.improvements {
        let names: Vec<&str> = checks.iter().map(|c| c.as_str()).collect();
        notes.push(format!(
            "note: {id} now passes {} (listed as failing; update {file})",
            names.join(", ")
        ));
    }
    for id in &verdict.stale {
        notes.push(format!("note: {id} is listed in {file} but was not run"));
    }
    if verdict.regressions.is_empty() {
        return Ok(notes);
    }
    let mut msg = format!(
        "{} case(s) fail checks not listed in {file}:\n",
        verdict.regressions.len()
    );
    for (id, checks) in &verdict.regressions {
        let names: Vec<&str> = checks.iter().map(|c| c.as_str()).collect();
        msg.push_str(&format!("\n--- {id} [{}]\n", names.join(", ")));
        if let Some(r) = results.iter().find(|r| &r.id == id) {
            for (c, o) in &r.checks {
                if let (true, crate::run::Outcome::Fail(d)) = (checks.contains(c), o) {
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
    Err(msg)
}

fn first_line_of_failure(r: &CaseResult) -> String {
    r.checks
        .values()
        .find_map(|o| match o {
            crate::run::Outcome::Fail(d) => d.lines().next().map(|l| l.chars().take(160).collect()),
            _ => None,
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::Outcome;
    use std::time::Duration;

    fn result(id: &str, fail: &[Check]) -> CaseResult {
        let mut checks = BTreeMap::new();
        checks.insert(Check::Result, Outcome::Pass);
        checks.insert(Check::History, Outcome::Pass);
        for c in fail {
            checks.insert(*c, Outcome::Fail("x: expected 1 got 2".into()));
        }
        CaseResult {
            id: id.into(),
            kind: "execution".into(),
            scope: Scope::Execution,
            groups: vec![],
            checks,
            duration: Duration::ZERO,
        }
    }

    #[test]
    fn regressions_and_improvements() {
        let mut e = Expectations::default();
        e.cases.insert(
            "a".into(),
            Expectation {
                fails: [Check::History].into(),
                reason: "known".into(),
            },
        );
        e.cases.insert(
            "gone".into(),
            Expectation {
                fails: [Check::Result].into(),
                reason: "old".into(),
            },
        );
        let v = e.check(&[result("a", &[]), result("b", &[Check::Result])]);
        assert_eq!(
            v.regressions,
            vec![("b".to_string(), [Check::Result].into())]
        );
        assert_eq!(
            v.improvements,
            vec![("a".to_string(), [Check::History].into())]
        );
        assert_eq!(v.stale, vec!["gone".to_string()]);
    }

    #[test]
    fn update_keeps_reasons() {
        let mut e = Expectations::default();
        e.cases.insert(
            "a".into(),
            Expectation {
                fails: [Check::History].into(),
                reason: "known".into(),
            },
        );
        let u = e.updated(&[
            result("a", &[Check::History, Check::Result]),
            result("b", &[Check::Result]),
            result("c", &[]),
        ]);
        assert_eq!(u.cases["a"].reason, "known");
        assert_eq!(u.cases["a"].fails, [Check::Result, Check::History].into());
        assert!(u.cases["b"].reason.starts_with(TODO_REASON));
        assert!(!u.cases.contains_key("c"));
        let text = serde_json::to_string(&u).unwrap();
        assert_eq!(serde_json::from_str::<Expectations>(&text).unwrap(), u);
    }
}
