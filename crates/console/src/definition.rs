//! A definition as the console shows it: source text, diagnostics located in that text, and
//! the graph laid out in Rust (the same picture `stepwise graph` writes).

use crate::{error, required_arn, AppStateRef, ArnQuery, Fail};
use axum::http::{header, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use stepwise_asl::diagnostic::Severity;
use stepwise_asl::validate::{validate_text, MachineType, ValidateOptions};
use stepwise_graph::{Graph, NodeKind};
use stepwise_store::{Error as StoreError, StateMachineType, Store};

/// The definition text behind an ARN and the machine type it is validated for.
pub(crate) struct Source {
    pub text: String,
    pub machine_type: MachineType,
    /// `stateMachine`, `version` or `execution`.
    pub kind: &'static str,
}

fn machine_type(t: StateMachineType) -> MachineType {
    match t {
        StateMachineType::Standard => MachineType::Standard,
        StateMachineType::Express => MachineType::Express,
    }
}

/// Looks the ARN up as a state machine, a version, then an execution (whose definition is the
/// one it started with, not the machine's current one).
pub(crate) fn source_of(store: &dyn Store, arn: &str) -> Result<Source, StoreError> {
    match store.get_state_machine(arn) {
        Ok(sm) => {
            return Ok(Source {
                text: sm.definition,
                machine_type: machine_type(sm.kind),
                kind: "stateMachine",
            })
        }
        Err(StoreError::NotFound(_)) => {}
        Err(e) => return Err(e),
    }
    match store.get_version(arn) {
        Ok(v) => {
            let t = store
                .get_state_machine(&v.state_machine_arn)
                .map(|sm| machine_type(sm.kind))
                .unwrap_or_default();
            return Ok(Source {
                text: v.definition,
                machine_type: t,
                kind: "version",
            });
        }
        Err(StoreError::NotFound(_)) => {}
        Err(e) => return Err(e),
    }
    let ex = store.get_execution(arn)?;
    Ok(Source {
        text: ex.definition,
        machine_type: MachineType::Standard,
        kind: "execution",
    })
}

/// The text shown to the user. Definitions sent by SDKs are often one long line
/// (`json.dumps`); those are pretty-printed so that lines and diagnostics mean something.
/// Multi-line text is shown as written, so locations match the user's own file.
pub fn display_text(text: &str) -> String {
    if text.trim_end().contains('\n') {
        return text.to_string();
    }
    match serde_json::from_str::<Value>(text) {
        Ok(v) => serde_json::to_string_pretty(&v).unwrap_or_else(|_| text.to_string()),
        Err(_) => text.to_string(),
    }
}

/// Everything the machine and execution pages draw from a definition.
pub fn describe(text: &str, machine_type: MachineType) -> Value {
    let source = display_text(text);
    let diags = validate_text(&source, &ValidateOptions { machine_type });
    let diagnostics: Vec<Value> = diags
        .iter()
        .map(|d| {
            let at = stepwise_asl::locate::locate(&source, &d.location);
            json!({
                "severity": match d.severity { Severity::Error => "ERROR", Severity::Warning => "WARNING" },
                "code": d.code,
                "message": d.message,
                "location": d.location,
                "line": at.map(|a| a.0),
                "column": at.map(|a| a.1),
            })
        })
        .collect();
    let mut out = json!({
        "source": source,
        "diagnostics": diagnostics,
        "svg": null,
        "states": [],
        "edges": [],
        "graphError": null,
    });
    let graph = serde_json::from_str::<Value>(&source)
        .map_err(|e| e.to_string())
        .and_then(|v| Graph::from_definition(&v).map_err(|e| e.to_string()));
    match graph {
        Ok(g) => {
            let layout = stepwise_graph::layout(&g);
            out["svg"] = Value::from(stepwise_graph::svg::to_svg_with(&g, &layout));
            out["states"] = graph_states(&g);
            out["edges"] = g
                .edges
                .iter()
                .map(|e| {
                    json!({
                        "from": g.nodes[e.from].label(),
                        "to": g.nodes[e.to].label(),
                        "kind": format!("{:?}", e.kind),
                        "label": e.label,
                    })
                })
                .collect();
        }
        Err(e) => out["graphError"] = Value::from(e),
    }
    out
}

/// The states with their type and the state that contains them (Parallel/Map), for the
/// execution page's iteration picker and panel.
fn graph_states(g: &Graph) -> Value {
    g.nodes
        .iter()
        .filter_map(|n| match &n.kind {
            NodeKind::State { name, state_type } => {
                let parent = g
                    .scopes
                    .get(n.scope)
                    .and_then(|s| s.owner)
                    .map(|o| g.nodes[o].label().to_string());
                Some(json!({"name": name, "type": state_type, "parent": parent}))
            }
            _ => None,
        })
        .collect()
}

fn lookup(state: &AppStateRef, arn: &str) -> Result<Source, Fail> {
    source_of(&*state.store, arn).map_err(|e| match e {
        StoreError::NotFound(_) => Fail(
            StatusCode::NOT_FOUND,
            "ResourceNotFound",
            format!("No state machine, version or execution {arn}"),
        ),
        other => Fail(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalFailure",
            other.to_string(),
        ),
    })
}

pub async fn definition(state: AppStateRef, uri: Uri) -> Response {
    let q = ArnQuery::from_uri(&uri);
    let arn = match required_arn(&q) {
        Ok(a) => a,
        Err(r) => return r.into_response(),
    };
    // Store reads and layout are blocking CPU/IO work: keep them off the reactor.
    let res = tokio::task::spawn_blocking(move || {
        let src = lookup(&state, &arn)?;
        let mut v = describe(&src.text, src.machine_type);
        v["arn"] = Value::from(arn);
        v["kind"] = Value::from(src.kind);
        Ok::<_, Fail>(v)
    })
    .await;
    match res {
        Ok(Ok(v)) => json_response(&v),
        Ok(Err(r)) => r.into_response(),
        Err(_) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalFailure",
            "layout failed",
        ),
    }
}

pub async fn graph_svg(state: AppStateRef, uri: Uri) -> Response {
    let q = ArnQuery::from_uri(&uri);
    let arn = match required_arn(&q) {
        Ok(a) => a,
        Err(r) => return r.into_response(),
    };
    let res = tokio::task::spawn_blocking(move || {
        let src = lookup(&state, &arn)?;
        let v = serde_json::from_str::<Value>(&src.text).map_err(|e| {
            Fail(
                StatusCode::UNPROCESSABLE_ENTITY,
                "InvalidDefinition",
                e.to_string(),
            )
        })?;
        let g = Graph::from_definition(&v).map_err(|e| {
            Fail(
                StatusCode::UNPROCESSABLE_ENTITY,
                "InvalidDefinition",
                e.to_string(),
            )
        })?;
        Ok::<_, Fail>(stepwise_graph::svg::to_svg(&g))
    })
    .await;
    match res {
        Ok(Ok(svg)) => {
            let mut resp = svg.into_response();
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("image/svg+xml"),
            );
            resp
        }
        Ok(Err(r)) => r.into_response(),
        Err(_) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalFailure",
            "layout failed",
        ),
    }
}

pub(crate) fn json_response(v: &Value) -> Response {
    let mut resp = v.to_string().into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_definitions_are_pretty_printed_and_located() {
        let text = r#"{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"Nowhere"}}}"#;
        let v = describe(text, MachineType::Standard);
        assert!(v["source"].as_str().is_some_and(|s| s.lines().count() > 3));
        let d = &v["diagnostics"][0];
        assert_eq!(d["code"], "MISSING_TRANSITION_TARGET");
        assert_eq!(d["severity"], "ERROR");
        // `"Next": "Nowhere"` sits on line 6 of the pretty text.
        assert_eq!(d["line"], 6, "{v}");
        // A graph is still drawn where it can be; here it cannot (unknown target).
        assert!(v["svg"].is_null());
        assert!(v["graphError"].is_string());
    }

    #[test]
    fn valid_definitions_have_a_graph_with_states_and_edges() {
        let text = "{\n \"StartAt\": \"A\",\n \"States\": {\n  \"A\": {\"Type\": \"Choice\", \"Choices\": [{\"Variable\": \"$.x\", \"IsPresent\": true, \"Next\": \"B\"}], \"Default\": \"C\"},\n  \"B\": {\"Type\": \"Succeed\"},\n  \"C\": {\"Type\": \"Fail\"}\n }\n}";
        let v = describe(text, MachineType::Standard);
        assert_eq!(v["source"], text, "multi-line text is kept as written");
        assert_eq!(v["diagnostics"], json!([]));
        let svg = v["svg"].as_str().unwrap_or_default();
        assert!(svg.contains(r#"data-state="A""#));
        assert_eq!(v["states"].as_array().map(Vec::len), Some(3));
        let edges = v["edges"].as_array().cloned().unwrap_or_default();
        assert!(edges
            .iter()
            .any(|e| e["from"] == "A" && e["to"] == "C" && e["kind"] == "Default"));
        assert!(edges
            .iter()
            .any(|e| e["from"] == "A" && e["to"] == "B" && e["kind"] == "Choice"));
    }

    #[test]
    fn not_json_is_a_diagnostic_not_a_failure() {
        let v = describe("{nope", MachineType::Standard);
        assert_eq!(v["diagnostics"].as_array().map(Vec::len), Some(1));
        assert!(v["graphError"].is_string());
    }

    #[test]
    fn nested_states_know_their_container() {
        let text = r#"{"StartAt":"M","States":{"M":{"Type":"Map","ItemProcessor":{"StartAt":"I","States":{"I":{"Type":"Pass","End":true}}},"End":true}}}"#;
        let v = describe(text, MachineType::Standard);
        let states = v["states"].as_array().cloned().unwrap_or_default();
        assert!(states
            .iter()
            .any(|s| s["name"] == "I" && s["parent"] == "M"));
        assert!(states
            .iter()
            .any(|s| s["name"] == "M" && s["parent"].is_null()));
    }
}
