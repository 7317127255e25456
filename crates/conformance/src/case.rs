//! The case file format of the recorded corpus (see the corpus README), loaded with serde.
//!
//! Most fields are kept as loose `serde_json::Value`s: the corpus is data we read, not a contract
//! we own, and a field we do not model must never make a case unloadable.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Deserialize;
use serde_json::{Map, Value};

/// One recorded case (`cases/<id>.json`).
#[derive(Debug, Clone, Deserialize)]
pub struct Case {
    pub id: String,
    pub kind: String,
    /// Where the recording came from (`recorded_date`, `last_validated_date`, …).
    #[serde(default)]
    pub source: Value,
    #[serde(default)]
    pub features: Vec<String>,
    /// The ASL object, or a JSON string holding raw text when `definition_is_raw_text`.
    #[serde(default)]
    pub definition: Value,
    #[serde(default)]
    pub definition_is_raw_text: bool,
    #[serde(default)]
    pub input: Value,
    #[serde(default)]
    pub input_is_raw_text: bool,
    #[serde(default)]
    pub state_machine_type: Option<String>,
    /// The recorded outcome; kept as a map because its members depend on the kind and view.
    #[serde(default)]
    pub expected: Map<String, Value>,
    #[serde(default)]
    pub needs: Vec<String>,
    #[serde(default)]
    pub normalize: Normalize,
    #[serde(default)]
    pub problems: Vec<String>,
    #[serde(default)]
    pub validate_params: Option<Value>,
    #[serde(default)]
    pub api_params: Option<Value>,
    #[serde(default)]
    pub localstack_parity_skips: Vec<String>,
    /// Step Functions calls the test made around the execution (StopExecution, SendTask*, …).
    #[serde(default, deserialize_with = "null_as_empty")]
    pub driver_calls: Vec<Value>,
    /// Other state machines the case references (targets of `states:startExecution`), with
    /// their names and definitions.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub related_state_machines: Vec<Value>,
    /// S3/DynamoDB/SQS/SNS calls the test made before running (queues and topics created).
    #[serde(default, deserialize_with = "null_as_empty")]
    pub setup_calls: Vec<Value>,
    /// Helpers that acted during the run (activity workers, callback answerers).
    #[serde(default, deserialize_with = "null_as_empty")]
    pub external_actors: Vec<Value>,
    /// `api_scenario`: the ordered calls (`service`, `op`, `params`, `snapshot_keys`,
    /// `expected_to_fail`); their recorded answers are in `expected.responses`.
    #[serde(default)]
    pub calls: Vec<Value>,
}

/// A list member the corpus may write as `null`: read as empty.
fn null_as_empty<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Value>, D::Error> {
    Ok(Option::<Vec<Value>>::deserialize(d)?.unwrap_or_default())
}

/// How recorded values were normalised (README "How recorded values are normalised").
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Normalize {
    #[serde(default)]
    pub regex_replacements: Vec<(String, String)>,
    #[serde(default)]
    pub then: Vec<(String, String)>,
    #[serde(default)]
    pub masked_fields: Vec<Value>,
    #[serde(default)]
    pub notes: Vec<String>,
}

impl Case {
    /// Parses one case from JSON text.
    pub fn from_json(text: &str) -> Result<Case> {
        Ok(serde_json::from_str(text)?)
    }

    pub fn load(path: &Path) -> Result<Case> {
        let text =
            fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        Case::from_json(&text).with_context(|| format!("parsing {}", path.display()))
    }

    pub fn is_express(&self) -> bool {
        let from_params = |p: &Option<Value>| {
            p.as_ref()
                .and_then(|v| v.get("type"))
                .and_then(Value::as_str)
                .map(|t| t.eq_ignore_ascii_case("EXPRESS"))
        };
        match self.state_machine_type.as_deref() {
            Some(t) => t.eq_ignore_ascii_case("EXPRESS"),
            None => from_params(&self.validate_params)
                .or_else(|| from_params(&self.api_params))
                .unwrap_or(false),
        }
    }

    /// The placeholder-producing literal for `placeholder` in `regex_replacements`
    /// (e.g. the state machine name for `<ArnPart_0idx>`).
    pub fn replacement_source(&self, placeholder: &str) -> Option<&str> {
        self.normalize
            .regex_replacements
            .iter()
            .find(|(_, p)| p == placeholder)
            .map(|(pat, _)| pat.as_str())
    }

    /// The day the recording was last checked against AWS (`YYYY-MM-DD`), when known.
    pub fn recorded_day(&self) -> Option<&str> {
        self.source
            .get("last_validated_date")
            .and_then(Value::as_str)
            .and_then(|d| d.get(..10))
    }

    /// The recorded status (`SUCCEEDED`, `FAILED`, `API_ERROR`, …), if any.
    pub fn expected_status(&self) -> Option<&str> {
        self.expected.get("status").and_then(Value::as_str)
    }

    /// The recorded history, when this case recorded one.
    pub fn expected_history(&self) -> Option<&Vec<Value>> {
        self.expected
            .get("history_events")
            .and_then(Value::as_array)
    }

    /// Whether the recorded history had its Parallel branches sorted (README step 6).
    pub fn parallel_sorted(&self) -> bool {
        self.normalize
            .notes
            .iter()
            .any(|n| n.contains("ParallelStateStarted") && n.contains("sorted"))
    }

    /// The definition as the text the test sent to the API.
    pub fn definition_text(&self) -> String {
        match (&self.definition, self.definition_is_raw_text) {
            (Value::String(s), true) => s.clone(),
            (v, _) => v.to_string(),
        }
    }
}

/// Case files that did not load, with why.
pub type LoadErrors = Vec<(PathBuf, anyhow::Error)>;

/// Loads every `cases/*.json` under `dir`, sorted by id. Unreadable cases are returned as errors
/// beside the good ones so one bad file cannot hide the rest.
pub fn load_corpus(dir: &Path) -> Result<(Vec<Case>, LoadErrors)> {
    let cases_dir = dir.join("cases");
    let mut paths: Vec<PathBuf> = fs::read_dir(&cases_dir)
        .with_context(|| format!("listing {}", cases_dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    let mut cases = Vec::with_capacity(paths.len());
    let mut errors = Vec::new();
    for p in paths {
        match Case::load(&p) {
            Ok(c) => cases.push(c),
            Err(e) => errors.push((p, e)),
        }
    }
    Ok((cases, errors))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_minimal_case() {
        let c = Case::from_json(
            r#"{"id":"x","kind":"execution","definition":{"StartAt":"A","States":{}},
                "input":{},"expected":{"status":"SUCCEEDED"},
                "normalize":{"regex_replacements":[["sm_1","<ArnPart_0idx>"]],"then":[],"masked_fields":[],"notes":[]}}"#,
        )
        .unwrap();
        assert_eq!(c.expected_status(), Some("SUCCEEDED"));
        assert_eq!(c.replacement_source("<ArnPart_0idx>"), Some("sm_1"));
        assert!(!c.is_express());
        assert!(!c.parallel_sorted());
    }
}
