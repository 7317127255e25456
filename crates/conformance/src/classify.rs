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
    /// API backends only: make the recorded failing call (after the set-up it needs) and
    /// compare the error code and message (create/update/start error kinds).
    ApiCall,
    /// API backends only: replay an `api_scenario` call list and compare every recorded answer.
    Scenario,
    /// Not run; the reason says why (shown in the report's scope table).
    Skip(String),
}

/// The selection knobs: widen these as the engine grows (JSONata, mocked services, …).
#[derive(Debug, Clone)]
pub struct Selection {
    pub allow_jsonata: bool,
    /// `needs` entries a case may have and still run (empty = pure runs only).
    pub allowed_needs: Vec<String>,
    /// The backend is the API: error kinds are judged on the real call and `api_scenario`
    /// cases run ([`Scope::ApiCall`], [`Scope::Scenario`]).
    pub api: bool,
    /// Waits run in real time on this backend: skip executions that could wait longer.
    pub max_real_wait_secs: Option<f64>,
    /// The backend builds the outside world of an execution (nested machines, activities and
    /// workers, fake queues and topics, the test's SendTask* calls; [`crate::actors`]): its
    /// `needs` count as met when the case's plan can be made.
    pub actors: bool,
}

impl Default for Selection {
    /// What the engine runs today: pure executions in either query language.
    fn default() -> Self {
        Selection {
            allow_jsonata: true,
            allowed_needs: Vec::new(),
            api: false,
            max_real_wait_secs: None,
            actors: false,
        }
    }
}

/// External services that `api_scenario` calls may touch and still count as needing none:
/// CloudWatch Logs look-ups whose answers the recording did not keep (only a log group ARN the
/// test passes on, which Stepwise stores without checking).
const LOOKUP_ONLY_SERVICES: &[&str] = &["logs"];

impl Selection {
    /// What the API backend runs: the in-process scope plus the API kinds, with waits capped at
    /// 10 s of real time.
    pub fn api() -> Selection {
        Selection {
            api: true,
            max_real_wait_secs: Some(10.0),
            actors: true,
            ..Selection::default()
        }
    }

    fn api_scope(&self, case: &Case) -> Option<Scope> {
        match case.kind.as_str() {
            "create_state_machine_error"
            | "update_state_machine_error"
            | "start_execution_error" => {
                if let Some(n) = case.needs.iter().find(|n| !self.allowed_needs.contains(n)) {
                    return Some(Scope::Skip(format!("needs {n}")));
                }
                if case.expected.get("api_error").is_none() {
                    return Some(Scope::Skip(
                        "client-side parameter validation (the call never reached AWS)".into(),
                    ));
                }
                Some(Scope::ApiCall)
            }
            "api_scenario" => {
                if let Some(n) = case.needs.iter().find(|n| !self.allowed_needs.contains(n)) {
                    return Some(Scope::Skip(format!("needs {n}")));
                }
                for call in &case.calls {
                    let service = call.get("service").and_then(|s| s.as_str()).unwrap_or("");
                    let recorded = call
                        .get("snapshot_keys")
                        .and_then(|k| k.as_array())
                        .is_some_and(|k| !k.is_empty());
                    if service != "stepfunctions"
                        && (recorded || !LOOKUP_ONLY_SERVICES.contains(&service))
                    {
                        return Some(Scope::Skip(format!("needs {service}")));
                    }
                }
                let text = serde_json::Value::Array(case.calls.clone()).to_string();
                if text.contains("deploy_cfn_template") {
                    return Some(Scope::Skip("needs cloudformation".into()));
                }
                Some(Scope::Scenario)
            }
            _ => None,
        }
    }

    pub fn scope(&self, case: &Case) -> Scope {
        if self.api {
            if let Some(s) = self.api_scope(case) {
                return s;
            }
        }
        match case.kind.as_str() {
            "execution" | "express_sync" => {
                let unmet = case.needs.iter().find(|n| !self.allowed_needs.contains(n));
                let actors_needed = self.actors
                    && (unmet.is_some() || !case.driver_calls.is_empty())
                    && case.needs.iter().all(|n| {
                        self.allowed_needs.contains(n)
                            || crate::actors::ACTOR_NEEDS.contains(&n.as_str())
                    });
                if actors_needed {
                    if let Err(why) = crate::actors::plan(case) {
                        return Scope::Skip(why);
                    }
                } else if let Some(n) = unmet {
                    return Scope::Skip(format!("needs {n}"));
                }
                if !self.allow_jsonata && query_language(case) != QueryLanguage::JsonPath {
                    return Scope::Skip("jsonata".into());
                }
                if let Some(op) = case.driver_calls.first().filter(|_| !actors_needed) {
                    let op = op.get("op").and_then(|o| o.as_str()).unwrap_or("?");
                    return Scope::Skip(format!("driver call {op}"));
                }
                if let Some(max) = self.max_real_wait_secs {
                    let secs = real_wait_estimate(case);
                    if secs > max {
                        return Scope::Skip(format!("waits up to {secs:.0} s in real time"));
                    }
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

/// An upper bound of the seconds a run of `case` spends waiting in real time: Wait states
/// (`Seconds`, or `SecondsPath` read from the input) and the longest retrier's back-offs, summed,
/// capped by the
/// machine's `TimeoutSeconds`. Timestamps are taken as past (the corpus's are).
pub fn real_wait_estimate(case: &Case) -> f64 {
    use serde_json::Value;
    fn input_at<'a>(input: &'a Value, path: &str) -> Option<&'a Value> {
        let rest = path.strip_prefix("$.")?;
        rest.split('.').try_fold(input, |v, k| v.get(k))
    }
    fn walk(v: &Value, input: &Value, total: &mut f64) {
        match v {
            Value::Object(m) => {
                if m.get("Type").and_then(Value::as_str) == Some("Wait") {
                    if let Some(s) = m.get("Seconds").and_then(Value::as_f64) {
                        *total += s;
                    }
                    if let Some(s) = m
                        .get("SecondsPath")
                        .and_then(Value::as_str)
                        .and_then(|p| input_at(input, p))
                        .and_then(Value::as_f64)
                    {
                        *total += s;
                    }
                }
                let mut longest: f64 = 0.0;
                for r in m
                    .get("Retry")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let interval = r
                        .get("IntervalSeconds")
                        .and_then(Value::as_f64)
                        .unwrap_or(1.0);
                    let attempts = r.get("MaxAttempts").and_then(Value::as_f64).unwrap_or(3.0);
                    let rate = r.get("BackoffRate").and_then(Value::as_f64).unwrap_or(2.0);
                    let cap = r
                        .get("MaxDelaySeconds")
                        .and_then(Value::as_f64)
                        .unwrap_or(f64::MAX);
                    let (mut delay, mut sum) = (interval, 0.0);
                    for _ in 0..(attempts.clamp(0.0, 20.0) as u32) {
                        sum += delay.min(cap);
                        delay *= rate;
                    }
                    // One error goes to one retrier: the longest back-off bounds the state.
                    longest = longest.max(sum);
                }
                *total += longest;
                for child in m.values() {
                    walk(child, input, total);
                }
            }
            Value::Array(a) => a.iter().for_each(|c| walk(c, input, total)),
            _ => {}
        }
    }
    let mut total = 0.0;
    walk(&case.definition, &case.input, &mut total);
    match case
        .definition
        .get("TimeoutSeconds")
        .and_then(Value::as_f64)
    {
        Some(t) => total.min(t),
        None => total,
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
    // The outside world a case runs in (API backend, [`crate::actors`]).
    let needs = |n: &str| case.needs.iter().any(|x| x == n);
    if needs("states") {
        push("outside: nested executions".into());
    }
    if needs("activity") {
        push("outside: activities".into());
    }
    if needs("sqs") || needs("sns") {
        push("outside: sqs/sns and callbacks".into());
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
            ..Selection::default()
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
