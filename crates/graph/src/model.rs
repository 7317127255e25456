//! The graph model: what is drawn, independent of where.
//!
//! Flat arenas (`nodes`, `edges`, `scopes`) indexed by position, so the layout and the
//! renderers can hold parallel vectors instead of pointers. Every state machine level
//! (the machine, each Parallel branch, each Map item processor) is a [`Scope`] with its own
//! Start and End nodes: edges never cross a scope boundary, which lets containers be laid
//! out recursively as opaque boxes.

use serde::Serialize;
use serde_json::{Map, Value};

/// A state machine as a nested graph.
#[derive(Clone, Debug, Serialize)]
pub struct Graph {
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
    /// `scopes[0]` is the machine itself; the others are containers inside Parallel/Map nodes.
    pub scopes: Vec<Scope>,
    /// The definition's top-level `Comment`, used as the drawing's description.
    pub comment: Option<String>,
}

/// One `StartAt`/`States` level.
#[derive(Clone, Debug, Serialize)]
pub struct Scope {
    /// Stable identifier (`s0`, `s1`, …), usable in DOT/Mermaid/SVG ids.
    pub id: String,
    pub kind: ScopeKind,
    /// Caption drawn on the container ("Branch 1", "Item processor", …).
    pub label: String,
    /// The Parallel/Map node holding this scope; `None` for the machine.
    pub owner: Option<usize>,
    /// Nodes directly in this scope, in definition order (Start first, End last).
    pub nodes: Vec<usize>,
    pub start: usize,
    pub end: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum ScopeKind {
    Machine,
    /// A Parallel branch, numbered from 0.
    Branch(usize),
    ItemProcessor,
    /// The pre-2022 spelling of a Map's item processor.
    Iterator,
}

#[derive(Clone, Debug, Serialize)]
pub struct Node {
    /// Stable identifier (`n0`, `n1`, …); state names can hold any character, ids can't.
    pub id: String,
    pub scope: usize,
    pub kind: NodeKind,
    /// Scopes drawn inside this node (Parallel branches, the Map item processor).
    pub children: Vec<usize>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum NodeKind {
    Start,
    End,
    State { name: String, state_type: String },
}

impl Node {
    /// The state name, for states.
    pub fn state_name(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::State { name, .. } => Some(name),
            _ => None,
        }
    }

    /// The ASL `Type`, for states.
    pub fn state_type(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::State { state_type, .. } => Some(state_type),
            _ => None,
        }
    }

    /// Text drawn in the node.
    pub fn label(&self) -> &str {
        match &self.kind {
            NodeKind::Start => "Start",
            NodeKind::End => "End",
            NodeKind::State { name, .. } => name,
        }
    }

    /// Whether this node contains sub-graphs.
    pub fn is_container(&self) -> bool {
        !self.children.is_empty()
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Edge {
    pub from: usize,
    pub to: usize,
    pub kind: EdgeKind,
    /// Full label (Choice rule rendering, Catch error names, "Default").
    pub label: Option<String>,
    pub scope: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum EdgeKind {
    /// Start → StartAt.
    Start,
    Next,
    Choice,
    Default,
    Catch,
    /// `End: true`, Succeed or Fail → the scope's End.
    End,
}

impl EdgeKind {
    /// CSS classes used by the SVG renderer (the console styles these).
    pub fn css_class(self) -> &'static str {
        match self {
            EdgeKind::Start => "edge-next edge-start",
            EdgeKind::Next => "edge-next",
            EdgeKind::Choice => "edge-choice",
            EdgeKind::Default => "edge-default",
            EdgeKind::Catch => "edge-catch",
            EdgeKind::End => "edge-next edge-end",
        }
    }
}

/// Why a definition could not be turned into a graph. Validated definitions never hit these;
/// they exist so a caller that skipped validation gets an error, not a panic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphError {
    #[error("{at}: expected an object with StartAt and States")]
    NotAMachine { at: String },
    #[error("{at}: StartAt/Next names unknown state {name:?}")]
    UnknownState { at: String, name: String },
    #[error("{at}: state has no Type")]
    NoType { at: String },
    #[error("definition is nested too deeply")]
    TooDeep,
}

/// Nesting deeper than this is refused rather than risking the stack.
const MAX_DEPTH: usize = 64;

impl Graph {
    /// Builds the graph of a definition that `validate_value` accepted.
    pub fn from_definition(def: &Value) -> Result<Graph, GraphError> {
        let mut g = Graph {
            nodes: Vec::new(),
            edges: Vec::new(),
            scopes: Vec::new(),
            comment: def
                .get("Comment")
                .and_then(Value::as_str)
                .map(str::to_string),
        };
        g.scope(def, "", ScopeKind::Machine, "State machine".into(), None, 0)?;
        Ok(g)
    }

    fn add_node(&mut self, scope: usize, kind: NodeKind) -> usize {
        let i = self.nodes.len();
        self.nodes.push(Node {
            id: format!("n{i}"),
            scope,
            kind,
            children: Vec::new(),
        });
        self.scopes[scope].nodes.push(i);
        i
    }

    fn add_edge(
        &mut self,
        scope: usize,
        from: usize,
        to: usize,
        kind: EdgeKind,
        label: Option<String>,
    ) {
        self.edges.push(Edge {
            from,
            to,
            kind,
            label,
            scope,
        });
    }

    fn scope(
        &mut self,
        def: &Value,
        ptr: &str,
        kind: ScopeKind,
        label: String,
        owner: Option<usize>,
        depth: usize,
    ) -> Result<usize, GraphError> {
        if depth > MAX_DEPTH {
            return Err(GraphError::TooDeep);
        }
        let not_machine = || GraphError::NotAMachine {
            at: if ptr.is_empty() {
                "/".into()
            } else {
                ptr.into()
            },
        };
        let obj = def.as_object().ok_or_else(not_machine)?;
        let start_at = obj
            .get("StartAt")
            .and_then(Value::as_str)
            .ok_or_else(not_machine)?;
        let states = obj
            .get("States")
            .and_then(Value::as_object)
            .ok_or_else(not_machine)?;
        let sid = self.scopes.len();
        self.scopes.push(Scope {
            id: format!("s{sid}"),
            kind,
            label,
            owner,
            nodes: Vec::new(),
            start: 0,
            end: 0,
        });
        let start = self.add_node(sid, NodeKind::Start);
        self.scopes[sid].start = start;
        // First pass: one node per state so transitions can point forward.
        let mut ids: Vec<(&str, usize)> = Vec::with_capacity(states.len());
        for (name, st) in states {
            let ty = st
                .get("Type")
                .and_then(Value::as_str)
                .ok_or_else(|| GraphError::NoType {
                    at: format!("{ptr}/States/{name}"),
                })?;
            let n = self.add_node(
                sid,
                NodeKind::State {
                    name: name.clone(),
                    state_type: ty.to_string(),
                },
            );
            ids.push((name.as_str(), n));
        }
        let end = self.add_node(sid, NodeKind::End);
        self.scopes[sid].end = end;
        // Linear lookup keeps the order deterministic and is cheap next to layout.
        let find = |name: &str, at: String| -> Result<usize, GraphError> {
            ids.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, i)| *i)
                .ok_or(GraphError::UnknownState {
                    at,
                    name: name.to_string(),
                })
        };
        let first = find(start_at, format!("{ptr}/StartAt"))?;
        self.add_edge(sid, start, first, EdgeKind::Start, None);

        for (name, st) in states {
            let at = format!("{ptr}/States/{name}");
            let from = find(name, at.clone())?;
            let Some(st) = st.as_object() else { continue };
            let ty = st.get("Type").and_then(Value::as_str).unwrap_or("");
            match ty {
                "Parallel" => {
                    if let Some(branches) = st.get("Branches").and_then(Value::as_array) {
                        for (i, b) in branches.iter().enumerate() {
                            let child = self.scope(
                                b,
                                &format!("{at}/Branches/{i}"),
                                ScopeKind::Branch(i),
                                format!("Branch {}", i + 1),
                                Some(from),
                                depth + 1,
                            )?;
                            self.nodes[from].children.push(child);
                        }
                    }
                }
                "Map" => {
                    let (field, kind, caption) = if st.contains_key("ItemProcessor") {
                        ("ItemProcessor", ScopeKind::ItemProcessor, "Item processor")
                    } else {
                        ("Iterator", ScopeKind::Iterator, "Iterator")
                    };
                    if let Some(p) = st.get(field) {
                        let mode = p
                            .get("ProcessorConfig")
                            .and_then(|c| c.get("Mode"))
                            .and_then(Value::as_str);
                        let caption = match mode {
                            Some("DISTRIBUTED") => format!("{caption} (distributed)"),
                            _ => caption.to_string(),
                        };
                        let child = self.scope(
                            p,
                            &format!("{at}/{field}"),
                            kind,
                            caption,
                            Some(from),
                            depth + 1,
                        )?;
                        self.nodes[from].children.push(child);
                    }
                }
                _ => {}
            }
            if ty == "Choice" {
                if let Some(rules) = st.get("Choices").and_then(Value::as_array) {
                    for (i, r) in rules.iter().enumerate() {
                        if let Some(next) = r.get("Next").and_then(Value::as_str) {
                            let to = find(next, format!("{at}/Choices/{i}/Next"))?;
                            self.add_edge(sid, from, to, EdgeKind::Choice, Some(rule_label(r)));
                        }
                    }
                }
                if let Some(d) = st.get("Default").and_then(Value::as_str) {
                    let to = find(d, format!("{at}/Default"))?;
                    self.add_edge(sid, from, to, EdgeKind::Default, Some("Default".into()));
                }
            }
            if let Some(next) = st.get("Next").and_then(Value::as_str) {
                if ty != "Choice" {
                    let to = find(next, format!("{at}/Next"))?;
                    self.add_edge(sid, from, to, EdgeKind::Next, None);
                }
            }
            if let Some(catchers) = st.get("Catch").and_then(Value::as_array) {
                for (i, c) in catchers.iter().enumerate() {
                    if let Some(next) = c.get("Next").and_then(Value::as_str) {
                        let to = find(next, format!("{at}/Catch/{i}/Next"))?;
                        self.add_edge(sid, from, to, EdgeKind::Catch, Some(catch_label(c)));
                    }
                }
            }
            let ends = st.get("End") == Some(&Value::Bool(true)) || ty == "Succeed" || ty == "Fail";
            if ends {
                self.add_edge(sid, from, end, EdgeKind::End, None);
            }
        }
        Ok(sid)
    }

    /// The node of a state by name (first match, searching all scopes in order).
    pub fn state(&self, name: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.state_name() == Some(name))
    }
}

fn catch_label(c: &Value) -> String {
    match c.get("ErrorEquals").and_then(Value::as_array) {
        Some(errs) => errs
            .iter()
            .map(|e| {
                e.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| e.to_string())
            })
            .collect::<Vec<_>>()
            .join(", "),
        None => "Catch".into(),
    }
}

/// A short human rendering of a Choice rule: `$.x == "a"`, `$.n > $.m`, `And(…, …)`, or the
/// JSONata `Condition` text without its `{% %}` delimiters.
pub fn rule_label(rule: &Value) -> String {
    render_rule(rule, 0)
}

fn render_rule(rule: &Value, depth: usize) -> String {
    let Some(obj) = rule.as_object() else {
        return rule.to_string();
    };
    if depth > 16 {
        return "…".into();
    }
    if let Some(c) = obj.get("Condition") {
        return match c.as_str() {
            Some(s) => strip_jsonata(s),
            None => c.to_string(),
        };
    }
    for (op, name) in [("And", "And"), ("Or", "Or")] {
        if let Some(list) = obj.get(op).and_then(Value::as_array) {
            let parts: Vec<String> = list.iter().map(|r| render_rule(r, depth + 1)).collect();
            return format!("{name}({})", parts.join(", "));
        }
    }
    if let Some(inner) = obj.get("Not") {
        return format!("Not({})", render_rule(inner, depth + 1));
    }
    let var = obj.get("Variable").and_then(Value::as_str).unwrap_or("?");
    match comparison(obj) {
        Some((op, value)) => format!("{var} {op} {value}"),
        None => var.to_string(),
    }
}

fn strip_jsonata(s: &str) -> String {
    let t = s.trim();
    match t.strip_prefix("{%").and_then(|t| t.strip_suffix("%}")) {
        Some(inner) => inner.trim().to_string(),
        None => t.to_string(),
    }
}

/// The operator of a comparison rule, as a symbol and right-hand side text.
fn comparison(obj: &Map<String, Value>) -> Option<(&'static str, String)> {
    for (key, value) in obj {
        let (base, is_path) = match key.strip_suffix("Path") {
            Some(b) => (b, true),
            None => (key.as_str(), false),
        };
        let rhs = || {
            if is_path {
                value
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| value.to_string())
            } else {
                value.to_string()
            }
        };
        let sym = match base {
            "StringEquals" | "NumericEquals" | "BooleanEquals" | "TimestampEquals" => "==",
            "StringLessThan" | "NumericLessThan" | "TimestampLessThan" => "<",
            "StringGreaterThan" | "NumericGreaterThan" | "TimestampGreaterThan" => ">",
            "StringLessThanEquals" | "NumericLessThanEquals" | "TimestampLessThanEquals" => "<=",
            "StringGreaterThanEquals"
            | "NumericGreaterThanEquals"
            | "TimestampGreaterThanEquals" => ">=",
            "StringMatches" => "matches",
            "IsNull" | "IsPresent" | "IsNumeric" | "IsString" | "IsBoolean" | "IsTimestamp" => {
                let what = match base {
                    "IsNull" => "null",
                    "IsPresent" => "present",
                    "IsNumeric" => "numeric",
                    "IsString" => "string",
                    "IsBoolean" => "boolean",
                    _ => "timestamp",
                };
                let negated = value == &Value::Bool(false);
                let verb = if negated { "is not" } else { "is" };
                return Some((verb, what.to_string()));
            }
            _ => continue,
        };
        return Some((sym, rhs()));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn choice_labels() {
        assert_eq!(
            rule_label(&json!({"Variable": "$.x", "StringEquals": "a", "Next": "A"})),
            r#"$.x == "a""#
        );
        assert_eq!(
            rule_label(&json!({"Variable": "$.n", "NumericGreaterThan": 3, "Next": "A"})),
            "$.n > 3"
        );
        assert_eq!(
            rule_label(&json!({"Variable": "$.n", "NumericLessThanEqualsPath": "$.m"})),
            "$.n <= $.m"
        );
        assert_eq!(
            rule_label(&json!({"Variable": "$.x", "IsPresent": false})),
            "$.x is not present"
        );
        assert_eq!(
            rule_label(&json!({"Variable": "$.s", "StringMatches": "log-*.txt"})),
            r#"$.s matches "log-*.txt""#
        );
        assert_eq!(
            rule_label(&json!({"And": [
                {"Variable": "$.a", "BooleanEquals": true},
                {"Not": {"Variable": "$.b", "IsNull": true}}
            ], "Next": "X"})),
            "And($.a == true, Not($.b is null))"
        );
        assert_eq!(
            rule_label(&json!({"Condition": "{% $states.input.n > 3 %}", "Next": "X"})),
            "$states.input.n > 3"
        );
    }

    #[test]
    fn edges_of_a_small_machine() {
        let def = json!({"StartAt": "C", "States": {
            "C": {"Type": "Choice", "Choices": [
                {"Variable": "$.x", "StringEquals": "a", "Next": "T"}
            ], "Default": "F"},
            "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true,
                  "Catch": [{"ErrorEquals": ["States.Timeout", "States.TaskFailed"], "Next": "F"}]},
            "F": {"Type": "Fail"}
        }});
        let g = Graph::from_definition(&def).expect("graph");
        let kinds: Vec<(EdgeKind, &str, &str, Option<&str>)> = g
            .edges
            .iter()
            .map(|e| {
                (
                    e.kind,
                    g.nodes[e.from].label(),
                    g.nodes[e.to].label(),
                    e.label.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            kinds,
            vec![
                (EdgeKind::Start, "Start", "C", None),
                (EdgeKind::Choice, "C", "T", Some(r#"$.x == "a""#)),
                (EdgeKind::Default, "C", "F", Some("Default")),
                (
                    EdgeKind::Catch,
                    "T",
                    "F",
                    Some("States.Timeout, States.TaskFailed")
                ),
                (EdgeKind::End, "T", "End", None),
                (EdgeKind::End, "F", "End", None),
            ]
        );
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        assert!(Graph::from_definition(&json!([])).is_err());
        assert!(Graph::from_definition(&json!({"StartAt": "X", "States": {}})).is_err());
        assert!(Graph::from_definition(
            &json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}})
        )
        .is_err());
    }
}
