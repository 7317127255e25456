//! Pictures of state machines.
//!
//! The web console and `stepwise graph` must draw the same thing, so the model and the layout
//! live here, in Rust, and the console only paints what [`layout()`] returns (or the SVG
//! [`svg::to_svg`] writes). DOT and Mermaid are exports for other tools; they share the
//! model but leave layout to Graphviz/Mermaid.
//!
//! ```
//! let def = serde_json::json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}});
//! let svg = stepwise_graph::render_definition(
//!     &def, &Default::default(), stepwise_graph::Format::Svg).unwrap();
//! assert!(svg.contains(r#"data-state="A""#));
//! ```

pub mod dot;
pub mod layout;
pub mod mermaid;
pub mod model;
pub mod svg;

pub use layout::{layout, EdgeRoute, LabelBox, Layout, NodeBox, Point, Rect};
pub use model::{Edge, EdgeKind, Graph, GraphError, Node, NodeKind, Scope, ScopeKind};

use serde_json::Value;
use stepwise_asl::diagnostic::Diagnostic;
use stepwise_asl::validate::{validate_value, ValidateOptions};

/// Output formats of `stepwise graph`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Svg,
    Dot,
    Mermaid,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "svg" => Ok(Format::Svg),
            "dot" | "gv" | "graphviz" => Ok(Format::Dot),
            "mermaid" | "mmd" => Ok(Format::Mermaid),
            _ => Err(format!("unknown format {s:?} (svg, dot, mermaid)")),
        }
    }
}

/// Why [`render_definition`] drew nothing.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The definition is not valid ASL: the validator's diagnostics.
    #[error("invalid definition ({} diagnostics)", .0.len())]
    Invalid(Vec<Diagnostic>),
    #[error(transparent)]
    Graph(#[from] GraphError),
}

/// Draws an already built graph.
pub fn render(g: &Graph, format: Format) -> String {
    match format {
        Format::Svg => svg::to_svg(g),
        Format::Dot => dot::to_dot(g),
        Format::Mermaid => mermaid::to_mermaid(g),
    }
}

/// Validates, builds and draws a definition.
pub fn render_definition(
    def: &Value,
    opts: &ValidateOptions,
    format: Format,
) -> Result<String, RenderError> {
    let diags = validate_value(def, opts);
    if !diags.is_empty() {
        return Err(RenderError::Invalid(diags));
    }
    Ok(render(&Graph::from_definition(def)?, format))
}
