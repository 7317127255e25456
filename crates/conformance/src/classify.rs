//! Which cases the harness runs, and how they group in the report.

use crate::case::Case;

/// The query language a case exercises, from its `features`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryLanguage {
    JsonPath,
    Jsonata,
    Mixed,
}

pub fn query_language(case: &Case) -> QueryLanguage {
    let has = |f: &str| case.features.iter().any(|x| x == f);
    if has("query_language:mixed") {
        QueryLanguage::Mixed
    } else if has("jsonata") {
        QueryLanguage::Jsonata
    } else {
        QueryLanguage::JsonPath
    }
}

/// What the harness does with a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Run it in-process and compare result and history.
    Execution,
    /// Validate its definition and compare the first diagnostic.
    DefinitionError,
    /// Not run; the reason says why (shown in the report's scope table).
    Skip(String),
}

/// The selection knobs: widen these as the engine grows (JSONata, mocked services, …).
#[derive(Debug, Clone)]
pub struct Selection {
    pub allow_jsonata: bool,
    /// `needs` entries a case may have and still run (empty = pure runs only).
    pub allowed_needs: Vec<String>,
}

impl Default for Selection {
    /// What the engine runs today: pure executions in either query language.
    fn default() -> Self {
        Selection {
            allow_jsonata: true,
            allowed_needs: Vec::new(),
        }
    }
}

impl Selection {
    pub fn scope(&self, case: &Case) -> Scope {
        match case.kind.as_str() {
            "execution" | "express_sync" => {
                if let Some(n) = case.needs.iter().find(|n| !self.allowed_needs.contains(n)) {
                    return Scope::Skip(format!("needs {n}"));
                }
                if !self.allow_jsonata && query_language(case) != QueryLanguage::JsonPath {
                    return Scope::Skip("jsonata".into());
                }
                if let Some(op) = case.driver_calls.first() {
                    let op = op.get("op").and_then(|o| o.as_str()).unwrap_or("?");
                    return Scope::Skip(format!("driver call {op}"));
                }
                match case.expected_status() {
                    Some("SUCCEEDED" | "FAILED" | "TIMED_OUT" | "ABORTED") => Scope::Execution,
                    Some(s) => Scope::Skip(format!("status {s}")),
                    None => Scope::Skip("no recorded status".into()),
                }
            }
            "create_state_machine_error" | "update_state_machine_error" => {
                let code = case
                    .expected
                    .get("api_error")
                    .and_then(|e| e.get("code"))
                    .and_then(|c| c.as_str());
                if code != Some("InvalidDefinition") {
                    return Scope::Skip(format!("api error {}", code.unwrap_or("(none)")));
                }
                if !self.allow_jsonata && query_language(case) != QueryLanguage::JsonPath {
                    return Scope::Skip("jsonata".into());
                }
                Scope::DefinitionError
            }
            "validate_definition" => {
                if !self.allow_jsonata && query_language(case) == QueryLanguage::Jsonata {
                    return Scope::Skip("jsonata".into());
                }
                Scope::DefinitionError
            }
            k => Scope::Skip(format!("kind {k}")),
        }
    }
}

/// The report's feature groups a case belongs to (a case can be in several).
pub fn feature_groups(case: &Case) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |g: String| {
        if !out.contains(&g) {
            out.push(g);
        }
    };
    for f in &case.features {
        let (head, _) = f.split_once(':').unwrap_or((f.as_str(), ""));
        match head {
            "state" => push(f.clone()),
            "choice" => push("choice".into()),
            "intrinsic" => push("intrinsics".into()),
            "map" => {
                push("map".into());
                if f == "map:distributed" || f == "map:inline" || f == "map:legacy_iterator" {
                    push(f.clone());
                }
            }
            "wait" => push("wait".into()),
            "field" => match f.as_str() {
                "field:Parameters"
                | "field:ResultSelector"
                | "field:ResultPath"
                | "field:InputPath"
                | "field:OutputPath"
                | "field:ItemSelector" => push("paths/templates".into()),
                "field:Assign" | "field:Output" | "field:Arguments" => push(f.clone()),
                _ => {}
            },
            "retry" | "catch" => push("retry/catch".into()),
            "parallel" | "context_object" | "variables" | "express" | "jsonata" => push(f.clone()),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(kind: &str, features: &[&str], needs: &[&str], status: &str) -> Case {
        let v = serde_json::json!({
            "id": "t", "kind": kind, "features": features, "needs": needs,
            "expected": {"status": status},
        });
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn selects_pure_executions() {
        let s = Selection {
            allow_jsonata: false,
            ..Selection::default()
        };
        assert_eq!(
            s.scope(&case("execution", &["jsonpath"], &[], "SUCCEEDED")),
            Scope::Execution
        );
        assert!(matches!(
            s.scope(&case("execution", &["jsonata"], &[], "SUCCEEDED")),
            Scope::Skip(_)
        ));
        assert!(matches!(
            s.scope(&case("execution", &[], &["lambda"], "FAILED")),
            Scope::Skip(_)
        ));
        assert_eq!(
            Selection::default().scope(&case("execution", &["jsonata"], &[], "SUCCEEDED")),
            Scope::Execution
        );
        let wide = Selection {
            allow_jsonata: true,
            allowed_needs: vec!["lambda".into()],
        };
        assert_eq!(
            wide.scope(&case("execution", &["jsonata"], &["lambda"], "FAILED")),
            Scope::Execution
        );
    }

    #[test]
    fn groups_features() {
        let c = case(
            "execution",
            &[
                "state:Pass",
                "choice:StringEquals",
                "intrinsic:States.Array",
                "retry",
                "catch",
            ],
            &[],
            "SUCCEEDED",
        );
        assert_eq!(
            feature_groups(&c),
            vec!["state:Pass", "choice", "intrinsics", "retry/catch"]
        );
    }
}
